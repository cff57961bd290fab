"""account identities and single sign-on requests

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:00:00.000000

Single sign-on by OpenID Connect (O3, issue 17): ``account_identities`` links a person to a
provider's (issuer, subject) pair; ``sso_requests`` holds each started login's state hash, nonce and
sealed PKCE verifier until its one callback.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table('account_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_account_identities_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_identities')),
    sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_account_identities_issuer'))
    )
    with op.batch_alter_table('account_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_identities_user_id'), ['user_id'], unique=False)

    op.create_table('sso_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('nonce', sa.String(length=128), nullable=False),
    sa.Column('verifier_enc', sa.LargeBinary(), nullable=False),
    sa.Column('next_url', sa.String(length=2000), nullable=False),
    sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_requests')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_sso_requests_state_hash'))
    )
    with op.batch_alter_table('sso_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_requests_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table('sso_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_requests_created_at'))
    op.drop_table('sso_requests')
    with op.batch_alter_table('account_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_identities_user_id'))
    op.drop_table('account_identities')
