"""confidentiality scope

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 19:00:00.000000

What counts as secret (issue 13, DESIGN I1, C3): each item records whether it was provided as confidential
(秘として提供; NULL for items stored before: "not recorded"); oral statements made at a meeting (口頭で述べた事項)
with the bylaws' period for a written designation (``oral_designation_days``, default 30); exclusion claims
(秘密情報の除外: public, independently developed, lawfully received from a third party, known before) with sealed
evidence, decided by the secretariat and confirmed by the chair.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = banso.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    """Apply this migration."""
    # Columns added in place, never by a batch rebuild (a rebuild broke foreign keys on SQLite).
    op.add_column('info_items', sa.Column('provided_confidential', sa.Boolean(), nullable=True))
    op.add_column('council_bylaws', sa.Column('oral_designation_days', sa.Integer(), server_default='30',
                                              nullable=False))
    op.create_table(
        'council_oral_statements',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('speaker_id', sa.Integer(), nullable=False),
        sa.Column('summary_sealed', sa.LargeBinary(), nullable=False),
        sa.Column('summary_sha256', sa.String(length=64), nullable=False),
        sa.Column('stated_confidential', sa.Boolean(), nullable=False),
        sa.Column('designation_deadline', _WHEN, nullable=True),
        sa.Column('designation_sealed', sa.LargeBinary(), nullable=True),
        sa.Column('designated_at', _WHEN, nullable=True),
        sa.Column('designated_by_id', sa.Integer(), nullable=True),
        sa.Column('reminded_at', _WHEN, nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', _WHEN, nullable=False),
        sa.ForeignKeyConstraint(['council_id'], ['councils.id'],
                                name=op.f('fk_council_oral_statements_council_id_councils')),
        sa.ForeignKeyConstraint(['meeting_id'], ['council_meetings.id'],
                                name=op.f('fk_council_oral_statements_meeting_id_council_meetings')),
        sa.ForeignKeyConstraint(['speaker_id'], ['users.id'],
                                name=op.f('fk_council_oral_statements_speaker_id_users')),
        sa.ForeignKeyConstraint(['designated_by_id'], ['users.id'],
                                name=op.f('fk_council_oral_statements_designated_by_id_users')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'],
                                name=op.f('fk_council_oral_statements_recorded_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_council_oral_statements')),
    )
    for column in ('council_id', 'meeting_id', 'speaker_id'):
        op.create_index(op.f(f'ix_council_oral_statements_{column}'), 'council_oral_statements', [column])
    op.create_table(
        'info_exclusion_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('statement_id', sa.Integer(), nullable=True),
        sa.Column('claimant_id', sa.Integer(), nullable=False),
        sa.Column('claimant_org_id', sa.Integer(), nullable=False),
        sa.Column('ground', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('evidence_sealed', sa.LargeBinary(), nullable=False),
        sa.Column('evidence_sha256', sa.String(length=64), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=True),
        sa.Column('file_type', sa.String(length=100), nullable=True),
        sa.Column('file_size', sa.Integer(), nullable=True),
        sa.Column('file_sha256', sa.String(length=64), nullable=True),
        sa.Column('file_blob', sa.String(length=64), nullable=True),
        sa.Column('file_wrapped_key', sa.LargeBinary(), nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('decision_reason', sa.Text(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', _WHEN, nullable=True),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', _WHEN, nullable=True),
        sa.Column('created_at', _WHEN, nullable=False),
        sa.ForeignKeyConstraint(['council_id'], ['councils.id'],
                                name=op.f('fk_info_exclusion_claims_council_id_councils')),
        sa.ForeignKeyConstraint(['item_id'], ['info_items.id'],
                                name=op.f('fk_info_exclusion_claims_item_id_info_items')),
        sa.ForeignKeyConstraint(['statement_id'], ['council_oral_statements.id'],
                                name=op.f('fk_info_exclusion_claims_statement_id_council_oral_statements')),
        sa.ForeignKeyConstraint(['claimant_id'], ['users.id'],
                                name=op.f('fk_info_exclusion_claims_claimant_id_users')),
        sa.ForeignKeyConstraint(['claimant_org_id'], ['organizations.id'],
                                name=op.f('fk_info_exclusion_claims_claimant_org_id_organizations')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                                name=op.f('fk_info_exclusion_claims_decided_by_id_users')),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['users.id'],
                                name=op.f('fk_info_exclusion_claims_confirmed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_info_exclusion_claims')),
    )
    for column in ('council_id', 'item_id', 'statement_id', 'claimant_id', 'state'):
        op.create_index(op.f(f'ix_info_exclusion_claims_{column}'), 'info_exclusion_claims', [column])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table('info_exclusion_claims')
    op.drop_table('council_oral_statements')
    op.drop_column('council_bylaws', 'oral_designation_days')
    op.drop_column('info_items', 'provided_confidential')
