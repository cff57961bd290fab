"""The `banso` command from the outside: a real process, a real data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import banso


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli")
    result = banso(["db", "upgrade"], folder)
    assert result.returncode == 0, result.stderr
    return folder


def test_db_check_after_upgrade(data: Path) -> None:
    result = banso(["db", "check"], data)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "agree" in result.stdout


def test_bootstrap_admin_and_token(data: Path) -> None:
    created = banso(["users", "create", "--email", "root@cao.example.jp", "--name-ja", "管理 太郎",
                     "--org", "内閣府", "--org-kind", "ministry", "--role", "admin",
                     "--password", "a very long admin password", "--with-totp"], data)
    assert created.returncode == 0, created.stderr
    assert "TOTP secret" in created.stdout and "otpauth://totp/" in created.stdout
    token = banso(["tokens", "issue", "root@cao.example.jp", "--name", "ci"], data)
    assert token.returncode == 0, token.stderr
    raw = token.stdout.strip()
    assert raw.startswith("bns_") and len(raw) > 40
    listed = banso(["tokens", "list", "root@cao.example.jp"], data)
    assert raw.split("_")[1] in listed.stdout  # the prefix is shown, the secret never
    assert raw.split("_", 2)[2] not in listed.stdout


def test_bad_input_exits_non_zero_with_message(data: Path) -> None:
    weak = banso(["users", "create", "--email", "weak@x.example.jp", "--name-ja", "弱", "--org", "内閣府",
                  "--password", "short"], data)
    assert weak.returncode == 1 and "at least" in weak.stderr
    no_org = banso(["users", "create", "--email", "a@x.example.jp", "--name-ja", "甲", "--org", "存在しない",
                    "--password", "a very long password"], data)
    assert no_org.returncode == 1 and "does not exist" in no_org.stderr
    bad_kind = banso(["users", "create", "--email", "b@x.example.jp", "--name-ja", "乙", "--org", "新組織",
                      "--org-kind", "castle", "--password", "a very long password"], data)
    assert bad_kind.returncode == 1 and "unknown organisation kind" in bad_kind.stderr
    unknown = banso(["tokens", "issue", "nobody@x.example.jp"], data)
    assert unknown.returncode == 1 and "no user" in unknown.stderr
    no_password = banso(["users", "create", "--email", "c@x.example.jp", "--name-ja", "丙", "--org", "内閣府"], data,
                        input_text="")
    assert no_password.returncode == 2 and "--password" in no_password.stderr


def test_serve_refuses_unmigrated_database(tmp_path: Path) -> None:
    result = banso(["serve", "--port", "1"], tmp_path)
    assert result.returncode == 1 and "banso db upgrade" in result.stdout


def test_serve_passes_the_proxy_options_to_uvicorn(data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--proxy-headers`` and ``--forwarded-allow-ips`` reach uvicorn's Config (were hard-coded off);
    uvicorn itself is not started: ``_run_server`` is replaced by a recorder."""
    import uvicorn
    from typer.testing import CliRunner

    from banso.app import commands
    from banso.app.cli import _mount, app
    from banso.config import get_settings

    passed: list[dict[str, Any]] = []
    monkeypatch.setattr(commands, "_run_server", lambda *args: passed.append(args[4]))
    monkeypatch.setenv("BANSO_DATA_DIR", str(data))
    monkeypatch.setenv("BANSO_MODE", "development")
    _mount()  # the commands are mounted when the program starts
    get_settings.cache_clear()
    try:
        behind = CliRunner().invoke(app, ["serve", "--proxy-headers", "--forwarded-allow-ips", "10.0.0.5"])
        plain = CliRunner().invoke(app, ["serve"])
    finally:
        get_settings.cache_clear()
    assert behind.exit_code == 0 and plain.exit_code == 0, behind.output + plain.output
    configs = [uvicorn.Config("banso.app.commands:app_from_environment", **options) for options in passed]
    assert (configs[0].proxy_headers, configs[0].forwarded_allow_ips) == (True, "10.0.0.5")
    assert (configs[1].proxy_headers, configs[1].forwarded_allow_ips) == (False, "127.0.0.1")


def test_a_command_mounts_only_its_own_group_and_help_lists_them_all(tmp_path: Path) -> None:
    """`banso analyze …` no longer imports the councils, the web app, pandas and matplotlib before it starts
    (seconds per call, session 11); `banso --help` still lists every group and an unknown word is refused."""
    import subprocess
    import sys

    probe = ("import sys\nfrom banso.app import cli\ncli._mount(cli._first_word(sys.argv[1:]))\n"
             "print(sorted(m for m in ('pandas', 'matplotlib', 'banso.councils.service', 'fastapi') if m in sys.modules))")
    analyze = subprocess.run([sys.executable, "-c", probe, "analyze", "ingest", "--help"], capture_output=True,
                             text=True, timeout=120, check=True)
    assert analyze.stdout.strip() == "[]", analyze.stdout
    everything = banso(["--help"], tmp_path)
    assert everything.returncode == 0
    for group in ("db", "users", "tokens", "audit", "analyze", "councils", "programme", "information", "leak",
                  "keys", "serve", "demo", "backup", "restore"):
        assert group in everything.stdout, group
    assert "ingest" in banso(["analyze", "--help"], tmp_path).stdout
    assert "councils" in banso(["--help", "db"], tmp_path).stdout  # the root's help, whole (outside tester)
    unknown = banso(["nosuch"], tmp_path)
    assert unknown.returncode == 2 and "nosuch" in unknown.stdout + unknown.stderr
