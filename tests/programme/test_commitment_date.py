"""A commitment (配分決定) is dated the day it is entered, whichever fiscal year's plan it draws on (issue 14).

Before: a commitment entered on 6 December 2026 for FY2027 was dated 2027-04-01, a day still in the future.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from banso.programme import service
from tests.support.programme import World, adopt, fund, submit


def test_commitment_for_next_fiscal_year_is_dated_the_day_it_is_entered(db: Session, world: World,
                                                                        clock: FakeClock) -> None:
    w = world
    fund(db, w, clock)
    project = adopt(db, w, clock, submit(db, w, clock))
    # 6 Dec 2026, 10:00 JST: FY2026 runs to 31 March 2027; the plan's FY2027 money is committed now.
    clock.set(datetime(2026, 12, 6, 1, 0, tzinfo=UTC))
    tx = service.commit_funds(db, project_id=project.id, fiscal_year=2027, amount="4億円", now=clock.now(),
                              actor=w.staff.principal())
    assert (tx.fiscal_year, tx.value_date, tx.amount) == (2027, date(2026, 12, 6), 400_000_000)


def test_commitment_date_is_the_japanese_day(db: Session, world: World, clock: FakeClock) -> None:
    w = world
    fund(db, w, clock)
    project = adopt(db, w, clock, submit(db, w, clock))
    clock.set(datetime(2027, 3, 31, 15, 30, tzinfo=UTC))  # 1 April 2027, 00:30 JST: FY2027 has begun in Japan
    tx = service.commit_funds(db, project_id=project.id, fiscal_year=2026, amount=1_000_000, now=clock.now(),
                              actor=w.staff.principal())
    assert tx.value_date == date(2027, 4, 1)
