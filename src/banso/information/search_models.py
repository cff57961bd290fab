"""The search document of an information item: normalised text the full-text index is built on.

One row per item (``info_search_docs``). On SQLite an FTS5 table with the trigram tokenizer
(``info_search_fts``, external content) mirrors it through triggers; on PostgreSQL a pg_trgm GIN
index sits on ``doc``. Both are created by the migration, not by the models (see
``banso.information.search``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base


class SearchDoc(Base):
    """What search sees of one item: NFKC + casefold text, never designated full text."""

    __tablename__ = "info_search_docs"

    item_id: Mapped[int] = mapped_column(ForeignKey("info_items.id"), primary_key=True, autoincrement=False)
    doc: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


# Objects migration 0008 writes by hand and no model declares: the SQLite FTS5 table with its shadow
# tables (``info_search_fts_data``, ``_idx``, ``_docsize``, ``_config``) and the PostgreSQL trigram
# index. Autogenerate and the drift check must leave them alone.
HAND_WRITTEN_TABLE_PREFIX = "info_search_fts"
HAND_WRITTEN_INDEXES = frozenset({"ix_info_search_docs_doc_trgm"})


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic ``include_name`` hook: skip the hand-written full-text index objects."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(HAND_WRITTEN_TABLE_PREFIX)
    if type_ == "index":
        return name not in HAND_WRITTEN_INDEXES
    return True
