"""The demo programme seed: creates calls, ledgers and proposals once, and never twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.accounts.security import SecretBox
from banso.demo import seed
from banso.demo.programme import seed_programme
from banso.kit.clock import FakeClock
from banso.programme import repository as repo
from banso.programme import service


def test_seed_programme_is_idempotent(db: Session, clock: FakeClock, box: SecretBox) -> None:
    seed.seed(db, box=box, now=clock.now())
    assert seed_programme(db, now=clock.now()) is True
    assert seed_programme(db, now=clock.now()) is False
    assert {a.code for a in repo.agencies(db)} == {"JST", "NEDO"}
    assert len(repo.calls(db)) == 2
    report = service.reconcile(db, actor=None)
    assert report.ok and sum(a.received for a in report.agencies) == 500_000_000_000
