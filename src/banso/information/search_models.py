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
