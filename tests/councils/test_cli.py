"""``banso councils list|show|evaluate`` as an operator runs them: a real process on a seeded database."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from banso.config import DEFAULT_SECRET_KEY
from banso.db.engine import make_engine
from banso.demo import seed
from banso.demo.councils import seed_councils
from banso.kit.crypto import SecretBox
from banso.migrations import migrate
from banso.sealed import store as sealed
from tests.support.cli import banso


@pytest.mark.slow
def test_list_show_evaluate(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'banso.db'}")
    migrate.upgrade(engine)
    now = datetime.now(UTC)
    with Session(engine) as db:
        seed.seed(db, box=SecretBox(DEFAULT_SECRET_KEY), now=now)
        assert seed_councils(db, now=now, store=sealed.fake_deps()) == 4
        db.commit()
    engine.dispose()

    listed = banso(["councils", "list"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    for word in ("proposed", "active", "dissolved", "海洋無人機技術"):
        assert word in listed.stdout
    shown = banso(["councils", "show", "1"], tmp_path)
    assert shown.returncode == 0 and "consents" in shown.stdout and "pending" in shown.stdout
    missing = banso(["councils", "show", "999"], tmp_path)
    assert missing.returncode == 1 and "not found" in missing.stderr
    evaluated = banso(["councils", "evaluate"], tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "reminders due" in evaluated.stdout
