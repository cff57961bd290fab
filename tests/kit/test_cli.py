"""The CLI's unit of work: an unmigrated database is a message, not a SQLAlchemy traceback (outside tester, session 12)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from banso.kit.cli import unit_of_work


@dataclass
class _Source:
    sessions: sessionmaker[Session]


def test_an_unmigrated_database_is_answered_with_what_to_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'banso.db'}")
    source = _Source(sessionmaker(engine))
    with pytest.raises(typer.Exit) as exit_, unit_of_work(source) as db:
        db.execute(text("SELECT id FROM users"))
    assert exit_.value.exit_code == 1
    err = capsys.readouterr().err
    assert "banso db upgrade" in err and "データベースが作成されていません" in err and "Traceback" not in err
    # any other database error is not dressed up as a missing migration
    with pytest.raises(Exception, match="syntax error"), unit_of_work(source) as db:
        db.execute(text("SELEC 1"))
    engine.dispose()
