"""publication notice

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:20:00.000000

Adds the bylaws setting ``publication_notice_days`` (DESIGN I13): every research result is
announced to the council this many days before it becomes public, so that a non-disclosure
request (I6) can be filed in time. Existing bylaws get the default of 30 days.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
# Chained after 0010/0011 (created in parallel); tested locally on 0009 until the lead merges them.
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('council_bylaws', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publication_notice_days', sa.Integer(), server_default='30',
                                      nullable=False))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('council_bylaws', schema=None) as batch_op:
        batch_op.drop_column('publication_notice_days')
