"""material requests to a think-tank commission outside the council (Art. 64, issue 13)

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-09 02:15:00.000000

``council_material_requests`` gains ``commission_id``: a request (資料提供の求め, C6) addressed to a commissioned
think tank (調査研究機関) that is not a member of the council. Its engaged roster sees and answers it (Art. 64).
Added in place (no batch rebuild); existing requests keep NULL (addressed to a member, as before).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column('council_material_requests',
                  # programme_commissions.id; no foreign key: SQLite cannot add one in place and a batch
                  # rebuild is not wanted (it broke foreign keys last time), as in 0019.
                  sa.Column('commission_id', sa.Integer(), nullable=True))
    op.create_index(op.f('ix_council_material_requests_commission_id'), 'council_material_requests',
                    ['commission_id'], unique=False)


def downgrade() -> None:
    """Revert this migration (requests to commissions lose their commission; run only before use)."""
    op.drop_index(op.f('ix_council_material_requests_commission_id'), table_name='council_material_requests')
    op.drop_column('council_material_requests', 'commission_id')
