"""article texts state bylaws parameters through placeholders

Revision ID: 0031
Revises: 0029
Create Date: 2026-12-09 03:00:00.000000

Issue 13: the article texts split from the bylaws stored before 0020 state the parameters' values literally
("5年を超えることができない", "30日以内に全員一致により決定", "第6条の義務"), so a vote that changes a parameter left
the article saying the old number. Each literal number of a known phrase that equals the version's parameter (or
the duty article's number) becomes its ``${…}`` placeholder (``councils.articles.with_placeholders``), in every
bylaws version and every amendment proposal. The rendered text is unchanged (the stored, signed ``text`` column
is not touched); only what later versions render differs when a parameter changes. Downgrade leaves the
placeholders: the code of 0020 onwards fills them the same way (the model texts carried them from the start),
and filling them back could not tell a converted number from one the model always had.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from banso.councils import articles as bylaws_articles

revision: str = '0031'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The parameter columns of council_bylaws at this revision (a later parameter's column does not exist yet here).
_PARAMS = ("designation_max_years", "nondisclosure_decision_days", "publication_notice_days",
           "minutes_confirmation_days", "oral_designation_days", "withheld_review_months")


def _versions() -> sa.TableClause:
    return sa.table('council_bylaws', sa.column('id', sa.Integer()), sa.column('articles', sa.JSON()),
                    *(sa.column(c, sa.Integer()) for c in _PARAMS))


def _proposals() -> sa.TableClause:
    return sa.table('council_bylaws_proposals', sa.column('id', sa.Integer()), sa.column('articles', sa.JSON()),
                    sa.column('parameters', sa.JSON()))


def _rewrite(rows: list[dict[str, Any]], params: dict[str, int]) -> list[dict[str, Any]]:
    return bylaws_articles.to_json(bylaws_articles.with_placeholders(bylaws_articles.from_json(rows), params))


def upgrade() -> None:
    conn = op.get_bind()
    versions = _versions()
    for row in conn.execute(sa.select(versions)).mappings().all():
        if row["articles"]:
            params = {c: int(row[c]) for c in _PARAMS if row[c] is not None}
            conn.execute(versions.update().where(versions.c.id == row["id"])
                         .values(articles=_rewrite(list(row["articles"]), params)))
    proposals = _proposals()
    for row in conn.execute(sa.select(proposals)).mappings().all():
        if row["articles"]:
            params = {k: int(v) for k, v in dict(row["parameters"] or {}).items() if v is not None}
            conn.execute(proposals.update().where(proposals.c.id == row["id"])
                         .values(articles=_rewrite(list(row["articles"]), params)))


def downgrade() -> None:
    """Nothing to undo (see the module doc)."""
