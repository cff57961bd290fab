"""export control: classification records (該非判定) and deemed-export clearances (F7)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-09 03:00:00.000000

F7 (issue 15): ``info_export_classifications`` keeps every classification of an item (verdict 該当/非該当/
要確認, the list item, the reason, who and when); ``info_items.export_control`` holds the verdict in force, so the
read rule decides in the statement that already loads the item. ``council_export_clearances`` holds the
export-control officer's decision on one person's access to a council's classified items; ``councils`` gains
``export_controlled`` (it holds such items) and ``users`` gain nationality (ISO 3166-1 alpha-2) and a foreign
affiliation. Columns are added in place (no batch rebuild). Existing items are unclassified and existing people
have no nationality recorded: nothing is held until someone is recorded as foreign and an item is classified.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column('users', sa.Column('nationality', sa.String(length=2), nullable=True))
    op.add_column('users', sa.Column('foreign_affiliation', sa.String(length=200), nullable=True))
    op.add_column('info_items', sa.Column('export_control', sa.String(length=16), nullable=True))
    op.add_column('councils', sa.Column('export_controlled', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.create_table('info_export_classifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('list_item', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('classified_by_id', sa.Integer(), nullable=False),
    sa.Column('classified_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['classified_by_id'], ['users.id'], name=op.f('fk_info_export_classifications_classified_by_id_users')),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_info_export_classifications_council_id_councils')),
    sa.ForeignKeyConstraint(['item_id'], ['info_items.id'], name=op.f('fk_info_export_classifications_item_id_info_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_info_export_classifications'))
    )
    op.create_index(op.f('ix_info_export_classifications_item_id'), 'info_export_classifications', ['item_id'], unique=False)
    op.create_index(op.f('ix_info_export_classifications_council_id'), 'info_export_classifications', ['council_id'], unique=False)
    op.create_table('council_export_clearances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('trigger', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('requested_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_council_export_clearances_council_id_councils')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_council_export_clearances_decided_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_council_export_clearances_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_council_export_clearances')),
    sa.UniqueConstraint('council_id', 'user_id', name=op.f('uq_council_export_clearances_council_id'))
    )
    op.create_index(op.f('ix_council_export_clearances_council_id'), 'council_export_clearances', ['council_id'], unique=False)
    op.create_index(op.f('ix_council_export_clearances_user_id'), 'council_export_clearances', ['user_id'], unique=False)
    op.create_index(op.f('ix_council_export_clearances_state'), 'council_export_clearances', ['state'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('council_export_clearances')
    op.drop_table('info_export_classifications')
    op.drop_column('councils', 'export_controlled')
    op.drop_column('info_items', 'export_control')
    op.drop_column('users', 'foreign_affiliation')
    op.drop_column('users', 'nationality')
