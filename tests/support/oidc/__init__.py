"""A real OpenID Provider for the single sign-on tests: the certified ``oidc-provider`` npm package run with Node.

:func:`running_provider` installs the package with ``npm ci`` when ``node_modules`` is missing or the
lock file changed (under a file lock, so parallel test workers do not race), starts ``provider.mjs``
on a free loopback port, waits for its discovery document and stops it afterwards. Without node or
npm the tests are skipped locally and FAIL in CI (``CI=true``).
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urljoin

import httpx
import pytest

from tests.support.npm import npm_ci

HERE = Path(__file__).resolve().parent
CLIENT_ID = "banso-test"
CLIENT_SECRET = "banso-test-client-secret-0123456789abcdef"
REDIRECT_URI = "http://testserver/login/sso/callback"
ID_TOKEN_TTL_SECONDS = 60


def install() -> None:
    """Run ``npm ci`` unless node_modules already matches package-lock.json (``tests.support.npm``)."""
    npm_ci(HERE, "the OpenID Provider")


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Provider:
    """The running provider: its issuer and the one client banso is registered as."""

    issuer: str
    port: int
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def sign_in(self, authorize_url: str, account: str, *, amr: str | None = None, acr: str | None = None) -> str:
        """Follow banso's authorization URL through the provider's scripted login; return the callback URL.

        ``amr`` (comma-separated, "" for none) and ``acr`` override the account's defaults.
        """
        form = {"account": account}
        if amr is not None:
            form["amr"] = amr
        if acr is not None:
            form["acr"] = acr
        url, logged_in = authorize_url, False
        with httpx.Client(follow_redirects=False, timeout=10) as http:
            for _ in range(10):
                if url.startswith(REDIRECT_URI):
                    return url
                if "/interaction/" in url and not logged_in:
                    page = http.get(url)
                    assert page.status_code == 200 and page.json()["prompt"] == "login", page.text[:300]
                    response = http.post(url.rstrip("/") + "/login", data=form)
                    logged_in = True
                else:
                    response = http.get(url)
                assert response.status_code in (302, 303), f"{url}: {response.status_code} {response.text[:500]}"
                url = urljoin(url, response.headers["location"])
        raise AssertionError(f"the provider never redirected back to banso (last: {url})")

    def redeem(self, code: str, *, code_verifier: str | None = None) -> httpx.Response:
        """POST an authorization code to the provider's token endpoint as banso's client would."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        return httpx.post(f"{self.issuer}/token", data=form, auth=(self.client_id, self.client_secret), timeout=10)


@contextmanager
def running_provider() -> Iterator[Provider]:
    """Install (if needed) and run the OpenID Provider on a free loopback port until the block ends."""
    install()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": CLIENT_ID, "CLIENT_SECRET": CLIENT_SECRET,
           "REDIRECT_URIS": REDIRECT_URI, "ID_TOKEN_TTL": str(ID_TOKEN_TTL_SECONDS)}
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(["node", str(HERE / "provider.mjs")], cwd=HERE, env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
        try:
            _wait_for_discovery(issuer, process, log)
            yield Provider(issuer=issuer, port=port)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_for_discovery(issuer: str, process: subprocess.Popen[bytes], log: IO[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    log.seek(0)
    pytest.fail(f"the OpenID Provider did not start (exit {process.poll()}):\n{log.read()[-3000:]}")
