"""commission roster

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-08 22:00:00.000000

The think tank's Art. 64 roster (issue 13, DESIGN F5): the commissioned institution names each person
engaged in a commission; each acknowledges the duty personally (second factor, the text and its
SHA-256 kept as a pledge's are); only named people who have acknowledged see the commission.

Existing data: the one person who acknowledged for a whole institution (``acknowledged_by_id``) is
put on the roster as acknowledged (``source = 'migrated'``, the text being the commission's duty
terms) and made the institution's contact, so that they can name their colleagues. Everyone else at
the institution loses sight of the commission until named and acknowledged. The two old columns
stay (read by nothing but this migration) so a downgrade loses nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import banso.db.base

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_T = 'programme_commission_roster'


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        _T,
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('commission_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('is_contact', sa.Boolean(), nullable=False),
        sa.Column('named_by_id', sa.Integer(), nullable=False),
        sa.Column('named_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('acknowledged_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_text', sa.Text(), nullable=True),
        sa.Column('acknowledged_sha256', sa.String(length=64), nullable=True),
        sa.Column('removed_at', banso.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('removed_by_id', sa.Integer(), nullable=True),
        sa.Column('removal_reason', sa.Text(), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['commission_id'], ['programme_commissions.id'],
                                name=op.f('fk_programme_commission_roster_commission_id_programme_commissions')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_commission_roster_user_id_users')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                                name=op.f('fk_programme_commission_roster_organization_id_organizations')),
        sa.ForeignKeyConstraint(['named_by_id'], ['users.id'],
                                name=op.f('fk_programme_commission_roster_named_by_id_users')),
        sa.ForeignKeyConstraint(['removed_by_id'], ['users.id'],
                                name=op.f('fk_programme_commission_roster_removed_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_commission_roster')),
    )
    with op.batch_alter_table(_T, schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_commission_roster_commission_id'), ['commission_id'])
        batch_op.create_index(batch_op.f('ix_programme_commission_roster_user_id'), ['user_id'])
    _migrate_acknowledgements()


def _migrate_acknowledgements() -> None:
    """Put each institution-wide acknowledger on the roster as acknowledged and as the contact."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT id, organization_id, acknowledged_by_id, acknowledged_at, confidentiality_terms "
        "FROM programme_commissions WHERE acknowledged_by_id IS NOT NULL")).all()
    roster = sa.table(_T, *(sa.column(c) for c in (
        'commission_id', 'user_id', 'organization_id', 'is_contact', 'named_by_id', 'named_at', 'acknowledged_at',
        'acknowledged_text', 'acknowledged_sha256', 'source')))
    for cid, org_id, user_id, at, terms in rows:
        text = terms or ""
        bind.execute(roster.insert().values(
            commission_id=cid, user_id=user_id, organization_id=org_id, is_contact=True, named_by_id=user_id,
            named_at=at, acknowledged_at=at, acknowledged_text=text,
            acknowledged_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(), source='migrated'))


def downgrade() -> None:
    """Revert this migration (the old columns were kept, so the institution-wide acknowledgement is back)."""
    with op.batch_alter_table(_T, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_commission_roster_user_id'))
        batch_op.drop_index(batch_op.f('ix_programme_commission_roster_commission_id'))
    op.drop_table(_T)
