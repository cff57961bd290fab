"""sealed council content

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:10:00.000000

Everything non-public a council holds is sealed at rest (I11, I12): material-request answer files
(``blob``/``wrapped_key``, under the council key), commission deliverables (under the commission's
own key; ``content`` becomes NULL), minutes (``minutes_sealed`` + ``minutes_sha256``) and decision
texts (``text_sealed``); the plaintext columns ``minutes_text`` and ``text`` are dropped. Copies
are recorded in the new ``sealed_distributions`` (I8).

Data: :func:`banso.information.sealed_legacy.seal_legacy` seals every plaintext row, then the
sealing is committed and only then are the plaintext answer files under
``data_dir/councils/files`` deleted. Every step skips what is already done, so an interrupted
upgrade is simply run again. The keys and the data folder come from ``config.attributes``
(``sealed_deps``, ``plaintext_store``: ``banso db upgrade``, ``banso demo``, tests; see
``sealed_legacy.migration_attributes``), else from the settings.

Downgrade is one-way once anything is sealed: unsealing would write plaintext back to disk, so it
refuses and asks for a restore from backup (O2); on a database with no sealed content it undoes
the schema.

NOTE: helper "tokens" creates 0010 in parallel; until merged this points at 0009 (the lead chains it).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

import banso.db.base

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _add(table: str, column: sa.Column[object]) -> None:
    if column.name not in _columns(table):  # restartable: a rerun after a crash skips what exists
        op.add_column(table, column)


def _schema() -> None:
    if "sealed_distributions" not in sa.inspect(op.get_bind()).get_table_names():
        op.create_table('sealed_distributions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('council_id', sa.Integer(), nullable=True),
        sa.Column('commission_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('created_at', banso.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['commission_id'], ['programme_commissions.id'], name=op.f('fk_sealed_distributions_commission_id_programme_commissions')),
        sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_sealed_distributions_council_id_councils')),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_sealed_distributions_organization_id_organizations')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sealed_distributions_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sealed_distributions')),
        sa.UniqueConstraint('fingerprint', name=op.f('uq_sealed_distributions_fingerprint'))
        )
        with op.batch_alter_table('sealed_distributions', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_sealed_distributions_commission_id'), ['commission_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_sealed_distributions_council_id'), ['council_id'], unique=False)
            batch_op.create_index(batch_op.f('ix_sealed_distributions_user_id'), ['user_id'], unique=False)
    _add('council_material_files', sa.Column('blob', sa.String(length=64), nullable=True))
    _add('council_material_files', sa.Column('wrapped_key', sa.LargeBinary(), nullable=True))
    _add('programme_commission_deliverables', sa.Column('blob', sa.String(length=64), nullable=True))
    _add('programme_commission_deliverables', sa.Column('wrapped_key', sa.LargeBinary(), nullable=True))
    _add('council_meetings', sa.Column('minutes_sealed', sa.LargeBinary(), nullable=True))
    _add('council_meetings', sa.Column('minutes_sha256', sa.String(length=64), nullable=True))
    _add('council_decisions', sa.Column('text_sealed', sa.LargeBinary(), nullable=True))
    # Nobody references the deliverables table, so SQLite's batch copy is safe here.
    with op.batch_alter_table('programme_commission_deliverables', schema=None) as batch_op:
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=True)


def _deps_and_plaintext() -> tuple[object, object]:
    from banso.information.sealed_legacy import attributes_from

    attributes = attributes_from(context.config.attributes)  # plain `alembic upgrade`: the configured folder
    return attributes["sealed_deps"], attributes["plaintext_store"]


def _has_rows(table: str) -> bool:
    return op.get_bind().execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None


def upgrade() -> None:
    """Apply this migration."""
    from banso.information import sealed_legacy

    _schema()
    conn = op.get_bind()
    plaintext_columns = 'minutes_text' in _columns('council_meetings')
    if plaintext_columns and sealed_legacy.pending(conn):
        deps, plaintext = _deps_and_plaintext()
        report = sealed_legacy.seal_legacy(conn, deps, plaintext)  # type: ignore[arg-type]
        if report.unreadable_files:
            # Rows stay unsealed and are refused when read (422, audited); nothing is guessed.
            print(f"0011: answer files {report.unreadable_files} have no readable plaintext; left unsealed")
    if plaintext_columns:
        op.drop_column('council_meetings', 'minutes_text')
        op.drop_column('council_decisions', 'text')
    if _has_rows('council_material_files'):
        _, plaintext = _deps_and_plaintext()
        # Commits the sealing first: the plaintext goes only once its sealed copy is durable.
        with context.get_context().autocommit_block():
            sealed_legacy.remove_sealed_plaintext(conn, plaintext)  # type: ignore[arg-type]


def downgrade() -> None:
    """Undo the schema; refused (one-way) once any content is sealed."""
    sealed_rows = [t for t, c in (('council_material_files', 'blob'), ('programme_commission_deliverables', 'blob'),
                                  ('council_meetings', 'minutes_sealed'), ('council_decisions', 'text_sealed'))
                   if op.get_bind().execute(sa.text(f"SELECT 1 FROM {t} WHERE {c} IS NOT NULL LIMIT 1")).first()]
    if sealed_rows:
        raise RuntimeError(f"0011 is one-way: {', '.join(sealed_rows)} hold sealed content, and a downgrade would "
                           "write it back in plaintext. Restore a backup taken before the upgrade instead (O2).")
    # Every decision is sealed after the upgrade, so the table is empty here and a batch copy is safe.
    with op.batch_alter_table('council_decisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=False))
        batch_op.drop_column('text_sealed')
    # Meetings may have rows that children reference: native ALTERs, no batch copy of the table.
    op.add_column('council_meetings', sa.Column('minutes_text', sa.Text(), nullable=True))
    op.drop_column('council_meetings', 'minutes_sha256')
    op.drop_column('council_meetings', 'minutes_sealed')
    with op.batch_alter_table('programme_commission_deliverables', schema=None) as batch_op:
        batch_op.alter_column('content', existing_type=sa.LargeBinary(), nullable=False)
        batch_op.drop_column('wrapped_key')
        batch_op.drop_column('blob')
    with op.batch_alter_table('council_material_files', schema=None) as batch_op:
        batch_op.drop_column('wrapped_key')
        batch_op.drop_column('blob')
    with op.batch_alter_table('sealed_distributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sealed_distributions_user_id'))
        batch_op.drop_index(batch_op.f('ix_sealed_distributions_council_id'))
        batch_op.drop_index(batch_op.f('ix_sealed_distributions_commission_id'))
    op.drop_table('sealed_distributions')
