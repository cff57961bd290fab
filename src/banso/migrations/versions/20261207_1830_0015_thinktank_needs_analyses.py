"""think-tank needs and saved analyses

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:30:00.000000

Needs entered by needs-ministry officers per technology (``thinktank_needs``) and saved rankings
(``thinktank_analyses``), both versioned: a change is a new row (issue 16, T5, T8).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('thinktank_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('technology', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('level', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=False),
    sa.Column('entered_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['users.id'], name=op.f('fk_thinktank_needs_entered_by_id_users'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thinktank_needs')),
    sa.UniqueConstraint('technology', 'version', name=op.f('uq_thinktank_needs_technology'))
    )
    with op.batch_alter_table('thinktank_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thinktank_needs_technology'), ['technology'], unique=False)
        batch_op.create_index(batch_op.f('ix_thinktank_needs_entered_by_id'), ['entered_by_id'], unique=False)

    op.create_table('thinktank_analyses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('weights', sa.Text(), nullable=False),
    sa.Column('needs', sa.Text(), nullable=False),
    sa.Column('ranking', sa.Text(), nullable=False),
    sa.Column('window', sa.String(length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                            name=op.f('fk_thinktank_analyses_created_by_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_thinktank_analyses')),
    sa.UniqueConstraint('name', 'version', name=op.f('uq_thinktank_analyses_name'))
    )
    with op.batch_alter_table('thinktank_analyses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thinktank_analyses_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_thinktank_analyses_created_by_id'), ['created_by_id'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('thinktank_analyses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thinktank_analyses_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_thinktank_analyses_name'))
    op.drop_table('thinktank_analyses')
    with op.batch_alter_table('thinktank_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thinktank_needs_entered_by_id'))
        batch_op.drop_index(batch_op.f('ix_thinktank_needs_technology'))
    op.drop_table('thinktank_needs')
