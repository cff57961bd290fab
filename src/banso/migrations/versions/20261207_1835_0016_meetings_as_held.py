"""meetings as held

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:00:00.000000

Meetings as a secretariat runs them (issue 13, DESIGN C5, I11, I12): a meeting recorded as already
held; minutes circulated to the attendees for confirmation with a deadline (bylaws setting
``minutes_confirmation_days``, default 14) and one reminder; meeting materials (配布資料) sealed under
the council's key with whether they were provided as confidential.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # Columns added in place (ALTER TABLE ADD COLUMN), never by a batch rebuild: on SQLite a rebuild drops
    # council_meetings, which agenda items, attendance and decisions reference (FOREIGN KEY failed).
    op.add_column('council_meetings', sa.Column('held', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('council_meetings', sa.Column('minutes_circulated_at', banso.db.base.UTCDateTime(timezone=True),
                                                nullable=True))
    op.add_column('council_meetings', sa.Column('minutes_deadline', banso.db.base.UTCDateTime(timezone=True),
                                                nullable=True))
    op.add_column('council_meetings', sa.Column('minutes_reminded_at', banso.db.base.UTCDateTime(timezone=True),
                                                nullable=True))
    op.add_column('council_bylaws', sa.Column('minutes_confirmation_days', sa.Integer(), server_default='14',
                                              nullable=False))
    op.create_table(
        'council_minutes_confirmations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('minutes_sha256', sa.String(length=64), nullable=False),
        sa.Column('answer', sa.String(length=16), nullable=False),
        sa.Column('comment_sealed', sa.LargeBinary(), nullable=True),
        sa.Column('answered_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['council_meetings.id'],
                                name=op.f('fk_council_minutes_confirmations_meeting_id_council_meetings')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_council_minutes_confirmations_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_council_minutes_confirmations')),
        sa.UniqueConstraint('meeting_id', 'user_id', name=op.f('uq_council_minutes_confirmations_meeting_id')),
    )
    with op.batch_alter_table('council_minutes_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_minutes_confirmations_meeting_id'), ['meeting_id'])
        batch_op.create_index(batch_op.f('ix_council_minutes_confirmations_user_id'), ['user_id'])
    op.create_table(
        'council_meeting_materials',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('confidential', sa.Boolean(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('blob', sa.String(length=64), nullable=False),
        sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['council_meetings.id'],
                                name=op.f('fk_council_meeting_materials_meeting_id_council_meetings')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_council_meeting_materials_uploaded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_council_meeting_materials')),
    )
    with op.batch_alter_table('council_meeting_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_meeting_materials_meeting_id'), ['meeting_id'])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('council_meeting_materials')
    op.drop_table('council_minutes_confirmations')
    # In place too (SQLite ≥ 3.35 drops a column without a rebuild), for the same reason as upgrade().
    op.drop_column('council_bylaws', 'minutes_confirmation_days')
    for column in ('minutes_reminded_at', 'minutes_deadline', 'minutes_circulated_at', 'held'):
        op.drop_column('council_meetings', column)
