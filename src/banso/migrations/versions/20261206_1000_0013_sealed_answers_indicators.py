"""sealed answer texts and indicators

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:00:00.000000

The last plaintext council content is sealed at rest (I11, I12): a material-request answer's text
(``council_material_requests.answer_text`` → ``answer_sealed``, under the council's key like the
minutes) and the indicators imported from MISP/STIX (``info_items.indicators`` →
``indicators_sealed``, with the item's own data key like its body). The plaintext columns are dropped.

Data: :func:`banso.information.sealed_legacy.seal_answers_and_indicators` seals every plaintext row
not sealed yet, so an interrupted upgrade is simply run again. The keys come from
``config.attributes["sealed_deps"]`` (``banso db upgrade``, ``banso demo``, tests), else from the
settings, as for 0011.

Downgrade is one-way once anything is sealed: unsealing would write plaintext back, so it refuses
and asks for a restore from backup (O2); with nothing sealed it undoes the schema.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SEALED = (('council_material_requests', 'answer_sealed'), ('info_items', 'indicators_sealed'))
_PLAINTEXT = (('council_material_requests', 'answer_text'), ('info_items', 'indicators'))


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def upgrade() -> None:
    """Apply this migration."""
    from banso.information import sealed_legacy

    for table, column in _SEALED:
        if column not in _columns(table):  # restartable: a rerun after a crash skips what exists
            op.add_column(table, sa.Column(column, sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    plaintext = [(t, c) for t, c in _PLAINTEXT if c in _columns(t)]
    # Every row is sealed before the first column is dropped, so a rerun that finds a plaintext
    # column already gone has nothing left to seal.
    if len(plaintext) == len(_PLAINTEXT) and sealed_legacy.answers_and_indicators_pending(conn):
        deps = sealed_legacy.attributes_from(context.config.attributes)["sealed_deps"]
        sealed_legacy.seal_answers_and_indicators(conn, deps)  # type: ignore[arg-type]
    # Neither column is indexed or constrained: native drops, no batch copy of referenced tables.
    for table, column in plaintext:
        op.drop_column(table, column)


def downgrade() -> None:
    """Undo the schema; refused (one-way) once any answer text or indicator is sealed."""
    sealed_rows = [t for t, c in _SEALED
                   if op.get_bind().execute(sa.text(f"SELECT 1 FROM {t} WHERE {c} IS NOT NULL LIMIT 1")).first()]
    if sealed_rows:
        raise RuntimeError(f"0013 is one-way: {', '.join(sealed_rows)} hold sealed content, and a downgrade would "
                           "write it back in plaintext. Restore a backup taken before the upgrade instead (O2).")
    op.add_column('council_material_requests', sa.Column('answer_text', sa.Text(), nullable=True))
    op.add_column('info_items', sa.Column('indicators', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    for table, column in _SEALED:
        op.drop_column(table, column)
