"""audit log filter indexes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 18:30:00.000000

The audit page filters by subject ("who read item 7") and by date range (issue 14): both are SQL
and indexed, like the existing actor and tag filters, so a filter never walks the whole log.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entries_subject'), ['subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entries_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entries_subject'))
