"""research-plan documents of proposals (sealed) and plan changes after adoption

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-09 02:15:00.000000

F6 (issue 15): ``programme_plan_documents`` holds every version of a proposal's documents (研究提案書, 様式,
other attachments), sealed under the proposal's own key (``data_dir/keys/proposals``); the row keeps the
wrapped data key and the ciphertext's digest, never the bytes. ``programme_plan_changes`` holds plan changes
(計画変更) of adopted projects: budget moves between cost categories and fiscal years, team and schedule changes,
requested by the research representative and approved or returned by the agency (or applied on notice alone).
New tables only.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('programme_plan_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('content_type', sa.String(length=120), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('blob', sa.String(length=64), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('superseded_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['programme_proposals.id'],
                            name=op.f('fk_programme_plan_documents_proposal_id_programme_proposals')),
    sa.ForeignKeyConstraint(['replaces_id'], ['programme_plan_documents.id'],
                            name=op.f('fk_programme_plan_documents_replaces_id_programme_plan_documents')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                            name=op.f('fk_programme_plan_documents_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_plan_documents'))
    )
    op.create_index(op.f('ix_programme_plan_documents_proposal_id'), 'programme_plan_documents', ['proposal_id'],
                    unique=False)
    op.create_table('programme_plan_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('share_percent', sa.Float(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('requested_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['programme_projects.id'],
                            name=op.f('fk_programme_plan_changes_project_id_programme_projects')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'],
                            name=op.f('fk_programme_plan_changes_requested_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                            name=op.f('fk_programme_plan_changes_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_plan_changes'))
    )
    op.create_index(op.f('ix_programme_plan_changes_project_id'), 'programme_plan_changes', ['project_id'],
                    unique=False)
    op.create_index(op.f('ix_programme_plan_changes_state'), 'programme_plan_changes', ['state'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f('ix_programme_plan_changes_state'), table_name='programme_plan_changes')
    op.drop_index(op.f('ix_programme_plan_changes_project_id'), table_name='programme_plan_changes')
    op.drop_table('programme_plan_changes')
    op.drop_index(op.f('ix_programme_plan_documents_proposal_id'), table_name='programme_plan_documents')
    op.drop_table('programme_plan_documents')
