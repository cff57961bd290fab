"""token lifetime and second factor

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 09:00:00.000000

``api_tokens.second_factor`` records whether a token was issued from a session that had passed the
second factor (I7). Existing tokens get ``false``: nothing recorded that they were, so they no longer
count as a second factor and must be re-issued from a verified session. Existing tokens without an
expiry need no backfill: authentication caps every token at ``created_at`` plus the maximum lifetime.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column('api_tokens', sa.Column('second_factor', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('api_tokens') as batch:
        batch.drop_column('second_factor')
