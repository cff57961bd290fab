"""Install a test helper's npm packages from its lock file (``npm ci``), once, under a file lock.

Used by the OpenID Provider (``tests.support.oidc``) and axe-core (``tests.support.axe``). Without node
and npm, or when the registry cannot be reached, the tests that need the packages are skipped locally
and FAIL in CI (``CI=true``), where ``scripts/test.sh`` has installed node and npm.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def missing_tool(message: str) -> None:
    """Fail in CI (the tool is part of the suite there), skip on a developer's machine."""
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def npm_ci(directory: Path, why: str) -> None:
    """Run ``npm ci`` in ``directory`` unless node_modules already matches its package-lock.json."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        missing_tool(f"node and npm are needed for {why} (scripts/test.sh installs them)")
    stamp = directory / "node_modules" / ".banso-lock-sha256"
    digest = hashlib.sha256((directory / "package-lock.json").read_bytes()).hexdigest()
    name = hashlib.sha256(str(directory).encode()).hexdigest()[:16]
    lock_path = Path(tempfile.gettempdir()) / f"banso-npm-{name}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one npm ci at a time; the others wait and then find it done
        if stamp.exists() and stamp.read_text().strip() == digest:
            return
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=directory,
                              capture_output=True, text=True, timeout=600, check=False)
        if done.returncode != 0:
            missing_tool(f"npm ci failed in {directory} (offline?):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        stamp.write_text(digest)
