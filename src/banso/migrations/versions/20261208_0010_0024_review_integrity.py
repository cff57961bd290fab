"""per-proposal reviewers, conflict grounds, integrity disclosures and signatures, decision notices

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-08 00:10:00.000000

Review as agencies run it and research integrity (F6, issue 15): ``programme_review_assignments`` (reviewers
assigned per proposal), ``programme_disclosures`` (other funding, affiliations, side appointments, foreign
support; changes after adoption), ``programme_integrity_signatures`` (the declaration signed at submission).
Conflict declarations gain their grounds and decisions the reasons given in the notice; both are added in
place (nullable columns, no table rebuild).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('programme_review_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'],
                            name=op.f('fk_programme_review_assignments_proposal_id_programme_proposals')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'],
                            name=op.f('fk_programme_review_assignments_reviewer_id_users')),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'],
                            name=op.f('fk_programme_review_assignments_assigned_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_review_assignments')),
    sa.UniqueConstraint('proposal_id', 'reviewer_id', name=op.f('uq_programme_review_assignments_proposal_id'))
    )
    op.create_index(op.f('ix_programme_review_assignments_proposal_id'), 'programme_review_assignments',
                    ['proposal_id'], unique=False)
    op.create_index(op.f('ix_programme_review_assignments_reviewer_id'), 'programme_review_assignments',
                    ['reviewer_id'], unique=False)
    op.create_table('programme_disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('researcher_number', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('agency', sa.String(length=200), nullable=True),
    sa.Column('start_fiscal_year', sa.Integer(), nullable=True),
    sa.Column('end_fiscal_year', sa.Integer(), nullable=True),
    sa.Column('amount_yen', sa.BigInteger(), nullable=True),
    sa.Column('effort_percent', sa.Integer(), nullable=True),
    sa.Column('foreign', sa.Boolean(), nullable=False),
    sa.Column('after_adoption', sa.Boolean(), nullable=False),
    sa.Column('change_reason', sa.Text(), nullable=True),
    sa.Column('declared_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'],
                            name=op.f('fk_programme_disclosures_proposal_id_programme_proposals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_disclosures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_disclosures'))
    )
    for column in ('proposal_id', 'user_id', 'researcher_number'):
        op.create_index(op.f(f'ix_programme_disclosures_{column}'), 'programme_disclosures', [column], unique=False)
    op.create_table('programme_integrity_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('statement_version', sa.String(length=16), nullable=False),
    sa.Column('disclosures_digest', sa.String(length=64), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('signed_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'],
                            name=op.f('fk_programme_integrity_signatures_proposal_id_programme_proposals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_integrity_signatures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_integrity_signatures'))
    )
    op.create_index(op.f('ix_programme_integrity_signatures_proposal_id'), 'programme_integrity_signatures',
                    ['proposal_id'], unique=False)
    op.create_index(op.f('ix_programme_integrity_signatures_user_id'), 'programme_integrity_signatures',
                    ['user_id'], unique=False)
    op.add_column('programme_conflicts', sa.Column('grounds', sa.JSON(), nullable=True))
    op.add_column('programme_decisions', sa.Column('notice_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    """Revert this migration (assignments, disclosures, signatures, grounds and notice reasons are dropped)."""
    with op.batch_alter_table('programme_decisions', schema=None) as batch_op:
        batch_op.drop_column('notice_reason')
    with op.batch_alter_table('programme_conflicts', schema=None) as batch_op:
        batch_op.drop_column('grounds')
    op.drop_table('programme_integrity_signatures')
    op.drop_table('programme_disclosures')
    op.drop_table('programme_review_assignments')
