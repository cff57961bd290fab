"""`banso tokens issue` and `banso users reset-password` from the outside (a real process, issue 11)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import banso


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated data folder with one person with TOTP and one without."""
    folder = tmp_path_factory.mktemp("cli-tokens")
    assert banso(["db", "upgrade"], folder).returncode == 0
    for email, extra in (("totp@cao.example.jp", ["--with-totp"]), ("plain@cao.example.jp", [])):
        made = banso(["users", "create", "--email", email, "--name-ja", "試験 太郎", "--org", "内閣府",
                      "--org-kind", "ministry", "--role", "officer", "--password", "a very long test password",
                      *extra], folder)
        assert made.returncode == 0, made.stderr
    return folder


def test_operator_decides_whether_a_token_counts_as_a_second_factor(data: Path) -> None:
    plain = banso(["tokens", "issue", "totp@cao.example.jp"], data)
    assert plain.returncode == 0, plain.stderr
    assert "does not count as a second factor" in plain.stderr
    vouched = banso(["tokens", "issue", "totp@cao.example.jp", "--second-factor"], data)
    assert vouched.returncode == 0, vouched.stderr
    assert "counts as a second factor" in vouched.stderr and "does not" not in vouched.stderr
    refused = banso(["tokens", "issue", "plain@cao.example.jp", "--second-factor"], data)
    assert refused.returncode == 1 and "no second factor enrolled" in refused.stderr
    assert not refused.stdout.strip().startswith("bns_")


def test_expiry_defaults_to_the_maximum_and_more_is_refused(data: Path) -> None:
    issued = banso(["tokens", "issue", "plain@cao.example.jp"], data)
    assert issued.returncode == 0 and "expires" in issued.stderr
    too_long = banso(["tokens", "issue", "plain@cao.example.jp", "--expires-in-days", "91"], data)
    assert too_long.returncode == 1 and "between 1 and 90 days" in too_long.stderr


def test_password_reset_revokes_every_token(data: Path) -> None:
    assert banso(["tokens", "issue", "plain@cao.example.jp"], data).returncode == 0
    reset = banso(["users", "reset-password", "plain@cao.example.jp", "--password", "another long passphrase"],
                  data)
    assert reset.returncode == 0, reset.stderr
    listed = banso(["tokens", "list", "plain@cao.example.jp"], data)
    revoked_cells = [line.split("│")[-2].strip() for line in listed.stdout.splitlines() if "│ cli" in line]
    assert revoked_cells and "—" not in revoked_cells  # every token shows when it was revoked
