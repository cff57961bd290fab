"""withheld review

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 09:00:00.000000

Publication conditions (issue 13, DESIGN I6, I13): a withheld research result has a review date.

* Adds the bylaws setting ``withheld_review_months`` (default 12, 1–60): how long an accepted
  non-disclosure request (or an accepted renewal of it) withholds a result before it is reviewed.
* The review date of a withheld result lives on the ballot that withholds it (``info_ballots.ends_at``,
  already there for designations), so the lapse job, the 30/7-day reminders and the renewal machinery
  of designations (I5) serve it unchanged.
* Existing withheld results get a review date: 12 months (the default) after their non-disclosure request
  was accepted, but never sooner than 31 days after this migration runs, so that both reminders
  (30 and 7 days before) go out before anything is released.

Columns are added in place (no batch rebuild: it broke foreign keys on SQLite, session 8).
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
# The lead chains 0019–0025 when merging (created in parallel from 0018).
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_MONTHS = 12
MIN_LEAD = timedelta(days=31)  # both reminders (30 and 7 days) fit before the first review


def _add_months(value: datetime, months: int) -> datetime:
    # The same arithmetic as banso.information.rules.add_months, copied so the migration stays frozen.
    month = value.month - 1 + months
    year, month = value.year + month // 12, month % 12 + 1
    return value.replace(year=year, month=month, day=min(value.day, calendar.monthrange(year, month)[1]))


def upgrade() -> None:
    """Apply this migration."""
    op.add_column('council_bylaws', sa.Column('withheld_review_months', sa.Integer(), server_default='12',
                                              nullable=False))
    bind = op.get_bind()
    ballots = sa.table('info_ballots', sa.column('id', sa.Integer()), sa.column('item_id', sa.Integer()),
                       sa.column('kind', sa.String()), sa.column('state', sa.String()),
                       sa.column('ends_at', sa.DateTime(timezone=True)),
                       sa.column('decided_at', sa.DateTime(timezone=True)),
                       sa.column('created_at', sa.DateTime(timezone=True)))
    items = sa.table('info_items', sa.column('id', sa.Integer()), sa.column('state', sa.String()))
    rows = bind.execute(
        sa.select(ballots.c.id, ballots.c.decided_at, ballots.c.created_at)
        .join(items, items.c.id == ballots.c.item_id)
        .where(items.c.state == 'withheld', ballots.c.kind == 'nondisclosure', ballots.c.state == 'accepted',
               ballots.c.ends_at.is_(None))).all()
    earliest = datetime.now(UTC) + MIN_LEAD
    naive = bind.dialect.name == 'sqlite'  # SQLite keeps naive UTC, PostgreSQL timestamptz (db/base.UTCDateTime)
    for ballot_id, decided_at, created_at in rows:
        decided = decided_at or created_at
        decided = decided.replace(tzinfo=UTC) if decided.tzinfo is None else decided.astimezone(UTC)
        review = max(_add_months(decided, DEFAULT_MONTHS), earliest)
        bind.execute(ballots.update().where(ballots.c.id == ballot_id)
                     .values(ends_at=review.replace(tzinfo=None) if naive else review))


def downgrade() -> None:
    """Revert this migration (review dates of non-disclosure ballots are cleared again)."""
    bind = op.get_bind()
    ballots = sa.table('info_ballots', sa.column('kind', sa.String()), sa.column('ends_at', sa.DateTime()))
    bind.execute(ballots.update().where(ballots.c.kind == 'nondisclosure').values(ends_at=None))
    op.drop_column('council_bylaws', 'withheld_review_months')
