"""typed council membership: statutory party type, removal by the secretariat

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 19:00:00.000000

Issue 13: each consent and membership records the statutory party type (研究代表者, 資金配分機関, ...),
'participant' for existing rows; a membership ended by the secretariat records who removed the person
and why. Columns are added in place (no batch rebuild).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    for table in ('council_consents', 'council_memberships'):
        op.add_column(table, sa.Column('party', sa.String(length=32), nullable=False, server_default='participant'))
    # users.id; no foreign key: SQLite cannot add one in place and a batch rebuild is not wanted here.
    op.add_column('council_memberships', sa.Column('removed_by_id', sa.Integer(), nullable=True))
    op.add_column('council_memberships', sa.Column('removal_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    op.drop_column('council_memberships', 'removal_reason')
    op.drop_column('council_memberships', 'removed_by_id')
    op.drop_column('council_memberships', 'party')
    op.drop_column('council_consents', 'party')
