"""programme

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 08:02:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('programme_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_kind', sa.String(length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=True),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_documents'))
    )
    with op.batch_alter_table('programme_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_documents_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_documents_owner_kind'), ['owner_kind'], unique=False)

    op.create_table('programme_guideline_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name_ja', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_guideline_areas')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_guideline_areas_code'))
    )
    op.create_table('programme_technologies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('vision_round', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=40), nullable=False),
    sa.Column('name_ja', sa.String(length=300), nullable=False),
    sa.Column('name_en', sa.String(length=300), nullable=False),
    sa.Column('area_codes', sa.JSON(), nullable=False),
    sa.Column('certainty', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('updated_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_technologies')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_technologies_code'))
    )
    with op.batch_alter_table('programme_technologies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_technologies_vision_round'), ['vision_round'], unique=False)

    op.create_table('programme_vision_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('title_ja', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('source', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_vision_rounds')),
    sa.UniqueConstraint('round', name=op.f('uq_programme_vision_rounds_round'))
    )
    op.create_table('programme_agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_ja', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_programme_agencies_organization_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_agencies_code'))
    )
    op.create_table('programme_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('title_ja', sa.String(length=300), nullable=False),
    sa.Column('title_en', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('project_type', sa.String(length=16), nullable=False),
    sa.Column('technology_codes', sa.JSON(), nullable=False),
    sa.Column('cap_yen', sa.BigInteger(), nullable=False),
    sa.Column('first_fiscal_year', sa.Integer(), nullable=False),
    sa.Column('period_years', sa.Integer(), nullable=False),
    sa.Column('opens_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rubric', sa.JSON(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['programme_agencies.id'], name=op.f('fk_programme_calls_agency_id_programme_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_programme_calls_created_by_id_users')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_programme_calls_officer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_calls')),
    sa.UniqueConstraint('code', name=op.f('uq_programme_calls_code'))
    )
    with op.batch_alter_table('programme_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_calls_agency_id'), ['agency_id'], unique=False)

    op.create_table('programme_panel_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['programme_calls.id'], name=op.f('fk_programme_panel_members_call_id_programme_calls')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_panel_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_panel_members')),
    sa.UniqueConstraint('call_id', 'user_id', name=op.f('uq_programme_panel_members_call_id'))
    )
    with op.batch_alter_table('programme_panel_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_panel_members_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_panel_members_user_id'), ['user_id'], unique=False)

    op.create_table('programme_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('proposer_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total_yen', sa.BigInteger(), nullable=False),
    sa.Column('core_technologies', sa.Text(), nullable=True),
    sa.Column('leak_prevention', sa.Text(), nullable=True),
    sa.Column('submitted_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['programme_calls.id'], name=op.f('fk_programme_proposals_call_id_programme_calls')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_programme_proposals_organization_id_organizations')),
    sa.ForeignKeyConstraint(['proposer_id'], ['users.id'], name=op.f('fk_programme_proposals_proposer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_proposals'))
    )
    with op.batch_alter_table('programme_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_proposals_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_proposals_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_proposals_proposer_id'), ['proposer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_proposals_state'), ['state'], unique=False)

    op.create_table('programme_budget_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'], name=op.f('fk_programme_budget_lines_proposal_id_programme_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_budget_lines')),
    sa.UniqueConstraint('proposal_id', 'fiscal_year', name=op.f('uq_programme_budget_lines_proposal_id'))
    )
    with op.batch_alter_table('programme_budget_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_budget_lines_proposal_id'), ['proposal_id'], unique=False)

    op.create_table('programme_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('has_conflict', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('declared_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'], name=op.f('fk_programme_conflicts_proposal_id_programme_proposals')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_programme_conflicts_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_conflicts')),
    sa.UniqueConstraint('proposal_id', 'reviewer_id', name=op.f('uq_programme_conflicts_proposal_id'))
    )
    with op.batch_alter_table('programme_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_conflicts_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_conflicts_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('programme_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('mean_score', sa.Float(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_programme_decisions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'], name=op.f('fk_programme_decisions_proposal_id_programme_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_decisions')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_programme_decisions_proposal_id'))
    )
    op.create_table('programme_projects',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('declaration_required', sa.Boolean(), nullable=False),
    sa.Column('declaration_review_due', sa.Date(), nullable=True),
    sa.Column('adopted_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['programme_agencies.id'], name=op.f('fk_programme_projects_agency_id_programme_agencies')),
    sa.ForeignKeyConstraint(['call_id'], ['programme_calls.id'], name=op.f('fk_programme_projects_call_id_programme_calls')),
    sa.ForeignKeyConstraint(['lead_id'], ['users.id'], name=op.f('fk_programme_projects_lead_id_users')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_programme_projects_organization_id_organizations')),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'], name=op.f('fk_programme_projects_proposal_id_programme_proposals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_projects')),
    sa.UniqueConstraint('proposal_id', name=op.f('uq_programme_projects_proposal_id'))
    )
    with op.batch_alter_table('programme_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_projects_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_projects_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_projects_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_projects_lead_id'), ['lead_id'], unique=False)

    op.create_table('programme_proposal_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.Column('researcher_number', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_programme_proposal_members_organization_id_organizations')),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'], name=op.f('fk_programme_proposal_members_proposal_id_programme_proposals')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_proposal_members_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_proposal_members'))
    )
    with op.batch_alter_table('programme_proposal_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_proposal_members_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_proposal_members_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_proposal_members_user_id'), ['user_id'], unique=False)

    op.create_table('programme_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('submitted_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'], name=op.f('fk_programme_scores_proposal_id_programme_proposals')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_programme_scores_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_scores')),
    sa.UniqueConstraint('proposal_id', 'reviewer_id', name=op.f('uq_programme_scores_proposal_id'))
    )
    with op.batch_alter_table('programme_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_scores_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_scores_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('programme_declaration_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('reviewed_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_due', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['programme_projects.id'], name=op.f('fk_programme_declaration_reviews_project_id_programme_projects')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_programme_declaration_reviews_reviewer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_declaration_reviews'))
    )
    with op.batch_alter_table('programme_declaration_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_declaration_reviews_project_id'), ['project_id'], unique=False)

    op.create_table('programme_ledger_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['programme_agencies.id'], name=op.f('fk_programme_ledger_accounts_agency_id_programme_agencies')),
    sa.ForeignKeyConstraint(['project_id'], ['programme_projects.id'], name=op.f('fk_programme_ledger_accounts_project_id_programme_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_ledger_accounts')),
    sa.UniqueConstraint('key', name=op.f('uq_programme_ledger_accounts_key'))
    )
    with op.batch_alter_table('programme_ledger_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_ledger_accounts_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_ledger_accounts_project_id'), ['project_id'], unique=False)

    op.create_table('programme_ledger_transactions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('value_date', sa.Date(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('memo', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_programme_ledger_transactions_actor_id_users')),
    sa.ForeignKeyConstraint(['agency_id'], ['programme_agencies.id'], name=op.f('fk_programme_ledger_transactions_agency_id_programme_agencies')),
    sa.ForeignKeyConstraint(['project_id'], ['programme_projects.id'], name=op.f('fk_programme_ledger_transactions_project_id_programme_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_ledger_transactions'))
    )
    with op.batch_alter_table('programme_ledger_transactions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_ledger_transactions_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_ledger_transactions_fiscal_year'), ['fiscal_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_ledger_transactions_project_id'), ['project_id'], unique=False)

    op.create_table('programme_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('achieved_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['programme_projects.id'], name=op.f('fk_programme_milestones_project_id_programme_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_milestones'))
    )
    with op.batch_alter_table('programme_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_milestones_project_id'), ['project_id'], unique=False)

    op.create_table('programme_postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['programme_ledger_accounts.id'], name=op.f('fk_programme_postings_account_id_programme_ledger_accounts')),
    sa.ForeignKeyConstraint(['transaction_id'], ['programme_ledger_transactions.id'], name=op.f('fk_programme_postings_transaction_id_programme_ledger_transactions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_postings'))
    )
    with op.batch_alter_table('programme_postings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_postings_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_programme_postings_transaction_id'), ['transaction_id'], unique=False)



def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('programme_postings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_postings_transaction_id'))
        batch_op.drop_index(batch_op.f('ix_programme_postings_account_id'))

    op.drop_table('programme_postings')
    with op.batch_alter_table('programme_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_milestones_project_id'))

    op.drop_table('programme_milestones')
    with op.batch_alter_table('programme_ledger_transactions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_ledger_transactions_project_id'))
        batch_op.drop_index(batch_op.f('ix_programme_ledger_transactions_fiscal_year'))
        batch_op.drop_index(batch_op.f('ix_programme_ledger_transactions_agency_id'))

    op.drop_table('programme_ledger_transactions')
    with op.batch_alter_table('programme_ledger_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_ledger_accounts_project_id'))
        batch_op.drop_index(batch_op.f('ix_programme_ledger_accounts_agency_id'))

    op.drop_table('programme_ledger_accounts')
    with op.batch_alter_table('programme_declaration_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_declaration_reviews_project_id'))

    op.drop_table('programme_declaration_reviews')
    with op.batch_alter_table('programme_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_scores_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_programme_scores_proposal_id'))

    op.drop_table('programme_scores')
    with op.batch_alter_table('programme_proposal_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_proposal_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_programme_proposal_members_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_programme_proposal_members_organization_id'))

    op.drop_table('programme_proposal_members')
    with op.batch_alter_table('programme_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_projects_lead_id'))
        batch_op.drop_index(batch_op.f('ix_programme_projects_council_id'))
        batch_op.drop_index(batch_op.f('ix_programme_projects_call_id'))
        batch_op.drop_index(batch_op.f('ix_programme_projects_agency_id'))

    op.drop_table('programme_projects')
    op.drop_table('programme_decisions')
    with op.batch_alter_table('programme_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_conflicts_reviewer_id'))
        batch_op.drop_index(batch_op.f('ix_programme_conflicts_proposal_id'))

    op.drop_table('programme_conflicts')
    with op.batch_alter_table('programme_budget_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_budget_lines_proposal_id'))

    op.drop_table('programme_budget_lines')
    with op.batch_alter_table('programme_proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_proposals_state'))
        batch_op.drop_index(batch_op.f('ix_programme_proposals_proposer_id'))
        batch_op.drop_index(batch_op.f('ix_programme_proposals_organization_id'))
        batch_op.drop_index(batch_op.f('ix_programme_proposals_call_id'))

    op.drop_table('programme_proposals')
    with op.batch_alter_table('programme_panel_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_panel_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_programme_panel_members_call_id'))

    op.drop_table('programme_panel_members')
    with op.batch_alter_table('programme_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_calls_agency_id'))

    op.drop_table('programme_calls')
    op.drop_table('programme_agencies')
    op.drop_table('programme_vision_rounds')
    with op.batch_alter_table('programme_technologies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_technologies_vision_round'))

    op.drop_table('programme_technologies')
    op.drop_table('programme_guideline_areas')
    with op.batch_alter_table('programme_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_documents_owner_kind'))
        batch_op.drop_index(batch_op.f('ix_programme_documents_owner_id'))

    op.drop_table('programme_documents')
