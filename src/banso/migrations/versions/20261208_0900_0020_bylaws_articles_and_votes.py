"""bylaws articles and amendment votes

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 09:00:00.000000

Bylaws by agreement (issue 13, DESIGN C3, I4): every bylaws version keeps its articles (条) as structured
JSON; an amendment is a proposal every member decides on unanimously before a deadline.

Existing versions: their text is split into articles at its ``## 第N条（見出し）`` headings (the shape of the
model bylaws every council so far started from, so the duty article keeps its number and signed pledges
keep citing it); a text without such headings becomes article 1 ("本文") followed by the model's duty
article. The stored ``text`` of each existing version is left exactly as it was signed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base
from banso.councils import articles as bylaws_articles

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # Columns added in place (no batch rebuild: it broke foreign keys on SQLite, session 8).
    op.add_column('council_bylaws', sa.Column('articles', sa.JSON(), nullable=True))
    op.add_column('council_bylaws', sa.Column('proposal_id', sa.Integer(), nullable=True))
    op.create_table(
        'council_bylaws_proposals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=False),
        sa.Column('base_version', sa.Integer(), nullable=False),
        sa.Column('articles', sa.JSON(), nullable=False),
        sa.Column('parameters', sa.JSON(), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('changes_duty', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('deadline', banso.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_reminded_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('result_version', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['council_id'], ['councils.id'],
                                name=op.f('fk_council_bylaws_proposals_council_id_councils')),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['users.id'],
                                name=op.f('fk_council_bylaws_proposals_proposed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_council_bylaws_proposals')),
    )
    op.create_index(op.f('ix_council_bylaws_proposals_council_id'), 'council_bylaws_proposals', ['council_id'])
    op.create_index(op.f('ix_council_bylaws_proposals_state'), 'council_bylaws_proposals', ['state'])
    op.create_table(
        'council_bylaws_votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('decided_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['proposal_id'], ['council_bylaws_proposals.id'],
                                name=op.f('fk_council_bylaws_votes_proposal_id_council_bylaws_proposals')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_council_bylaws_votes_user_id_users')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_council_bylaws_votes_organization_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_council_bylaws_votes')),
        sa.UniqueConstraint('proposal_id', 'user_id', name=op.f('uq_council_bylaws_votes_proposal_id')),
    )
    op.create_index(op.f('ix_council_bylaws_votes_proposal_id'), 'council_bylaws_votes', ['proposal_id'])
    op.create_index(op.f('ix_council_bylaws_votes_user_id'), 'council_bylaws_votes', ['user_id'])
    _split_existing_texts()


def _split_existing_texts() -> None:
    table = sa.table('council_bylaws', sa.column('id', sa.Integer()), sa.column('text', sa.Text()),
                     sa.column('articles', sa.JSON()))
    conn = op.get_bind()
    for row_id, text in conn.execute(sa.select(table.c.id, table.c.text)).all():
        rows = bylaws_articles.to_json(bylaws_articles.parse(text or ""))
        conn.execute(table.update().where(table.c.id == row_id).values(articles=rows))


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f('ix_council_bylaws_votes_user_id'), table_name='council_bylaws_votes')
    op.drop_index(op.f('ix_council_bylaws_votes_proposal_id'), table_name='council_bylaws_votes')
    op.drop_table('council_bylaws_votes')
    op.drop_index(op.f('ix_council_bylaws_proposals_state'), table_name='council_bylaws_proposals')
    op.drop_index(op.f('ix_council_bylaws_proposals_council_id'), table_name='council_bylaws_proposals')
    op.drop_table('council_bylaws_proposals')
    op.drop_column('council_bylaws', 'proposal_id')
    op.drop_column('council_bylaws', 'articles')
