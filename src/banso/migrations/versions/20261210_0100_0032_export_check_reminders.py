"""deemed-export checks remember when their officers were last reminded

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-10 01:00:00.000000

F7 (session-10 leftover): a check left pending keeps the person from the council's classified items — and from
ballots on them, which may run out meanwhile — so the council job reminds the export-control officers a week after
the check was opened and weekly after that, the secretariat too once it is two weeks old.
``council_export_clearances.reminded_at`` records the last reminder so each goes out once.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0032'
down_revision: str | None = '0031'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('council_export_clearances',
                  sa.Column('reminded_at', banso.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('council_export_clearances') as batch:
        batch.drop_column('reminded_at')
