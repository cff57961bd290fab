"""proposal budget sheet, drafts, receipt numbers and effort

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:30:00.000000

Proposals as agencies take them (F6, issue 15): ``programme_budget_items`` holds the budget by fiscal
year × cost category (whole yen, shown in 千円); every existing one-figure-per-year line moves to the
category ``other`` (その他) with its amount unchanged, so no yen is lost. Calls gain their indirect-cost
rate (間接経費率, 30 %), proposals a receipt number (受付番号), team members their effort (エフォート).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('programme_budget_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'],
                            name=op.f('fk_programme_budget_items_proposal_id_programme_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_budget_items')),
    sa.UniqueConstraint('proposal_id', 'fiscal_year', 'category', name=op.f('uq_programme_budget_items_proposal_id'))
    )
    with op.batch_alter_table('programme_budget_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_budget_items_proposal_id'), ['proposal_id'], unique=False)
    # F6: the one figure per year becomes その他 (other), yen for yen.
    op.execute("INSERT INTO programme_budget_items (proposal_id, fiscal_year, category, amount) "
               "SELECT proposal_id, fiscal_year, 'other', amount FROM programme_budget_lines")

    with op.batch_alter_table('programme_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('indirect_rate_percent', sa.Integer(), server_default='30', nullable=False))
    # Added in place (no table rebuild: other tables point at proposals): a unique index, not a constraint.
    with op.batch_alter_table('programme_proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_number', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_programme_proposals_receipt_number'), ['receipt_number'], unique=True)
    with op.batch_alter_table('programme_proposal_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effort_percent', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Revert this migration (the budget sheet's categories are dropped; the yearly totals stay)."""
    with op.batch_alter_table('programme_proposal_members', schema=None) as batch_op:
        batch_op.drop_column('effort_percent')
    with op.batch_alter_table('programme_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_proposals_receipt_number'))
        batch_op.drop_column('receipt_number')
    with op.batch_alter_table('programme_calls', schema=None) as batch_op:
        batch_op.drop_column('indirect_rate_percent')
    with op.batch_alter_table('programme_budget_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_budget_items_proposal_id'))
    op.drop_table('programme_budget_items')
