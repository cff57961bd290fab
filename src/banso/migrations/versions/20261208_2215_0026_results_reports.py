"""results reports, interim/final evaluations after adoption and F4 review reminders

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-08 22:15:00.000000

After adoption (F6, issue 15): ``programme_results_reports`` holds the annual and final results reports a
project owes its funding agency (due date, state, contents, decision, reminder stage);
``programme_evaluations`` and ``programme_evaluation_assignments`` the interim and final evaluations
(中間評価・事後評価) with each assigned evaluator's conflict declaration, grade and comment. Projects gain the
stage of the reminder for their coming F4 declaration review. The schedules of projects adopted before
are made by the programme job on its next run (idempotent), not here, so the rule stays in one place.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0026'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('programme_results_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('outputs', sa.Text(), nullable=True),
    sa.Column('submitted_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('reminder_sent', sa.String(length=16), nullable=True),
    sa.Column('filed_item_id', sa.Integer(), nullable=True),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['programme_projects.id'],
                            name=op.f('fk_programme_results_reports_project_id_programme_projects')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'],
                            name=op.f('fk_programme_results_reports_submitted_by_id_users')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'],
                            name=op.f('fk_programme_results_reports_decided_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_results_reports')),
    sa.UniqueConstraint('project_id', 'kind', 'fiscal_year', name=op.f('uq_programme_results_reports_project_id'))
    )
    op.create_index(op.f('ix_programme_results_reports_project_id'), 'programme_results_reports', ['project_id'],
                    unique=False)
    op.create_index(op.f('ix_programme_results_reports_due_on'), 'programme_results_reports', ['due_on'],
                    unique=False)
    op.create_table('programme_evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('result', sa.String(length=4), nullable=True),
    sa.Column('result_note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['programme_projects.id'],
                            name=op.f('fk_programme_evaluations_project_id_programme_projects')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_programme_evaluations_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_evaluations'))
    )
    op.create_index(op.f('ix_programme_evaluations_project_id'), 'programme_evaluations', ['project_id'], unique=False)
    op.create_table('programme_evaluation_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('evaluator_id', sa.Integer(), nullable=False),
    sa.Column('has_conflict', sa.Boolean(), nullable=True),
    sa.Column('conflict_reason', sa.Text(), nullable=True),
    sa.Column('grade', sa.String(length=4), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('declared_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('graded_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminder_sent', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['evaluation_id'], ['programme_evaluations.id'],
                            name=op.f('fk_programme_evaluation_assignments_evaluation_id_programme_evaluations')),
    sa.ForeignKeyConstraint(['evaluator_id'], ['users.id'],
                            name=op.f('fk_programme_evaluation_assignments_evaluator_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_evaluation_assignments')),
    sa.UniqueConstraint('evaluation_id', 'evaluator_id', name=op.f('uq_programme_evaluation_assignments_evaluation_id'))
    )
    op.create_index(op.f('ix_programme_evaluation_assignments_evaluation_id'), 'programme_evaluation_assignments',
                    ['evaluation_id'], unique=False)
    op.create_index(op.f('ix_programme_evaluation_assignments_evaluator_id'), 'programme_evaluation_assignments',
                    ['evaluator_id'], unique=False)
    # Added in place (no table rebuild: other tables point at projects).
    op.add_column('programme_projects', sa.Column('declaration_reminder_sent', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this migration (the results reports are dropped)."""
    op.drop_column('programme_projects', 'declaration_reminder_sent')
    op.drop_table('programme_evaluation_assignments')
    op.drop_table('programme_evaluations')
    op.drop_index(op.f('ix_programme_results_reports_due_on'), table_name='programme_results_reports')
    op.drop_index(op.f('ix_programme_results_reports_project_id'), table_name='programme_results_reports')
    op.drop_table('programme_results_reports')
