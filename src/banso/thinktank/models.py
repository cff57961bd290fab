"""ORM tables of the think tank: needs entered by ministries and saved analyses, both versioned (T5, T8).

Nothing is updated in place: a changed need or a re-saved analysis is a new row with the next version
number, so the history of who said what, and when, stays readable (and audited, A1).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db.base import Base


class NeedVersion(Base):
    """One version of a technology's social-implementation need (社会実装ニーズ): level 1–5 and a reason."""

    __tablename__ = "thinktank_needs"
    __table_args__ = (UniqueConstraint("technology", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    technology: Mapped[str] = mapped_column(String(64), index=True)  # a technology id, e.g. G05-semiconductor
    version: Mapped[int] = mapped_column(Integer)
    level: Mapped[float] = mapped_column(Float)  # 1 (low) … 5 (high)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))  # web | api | csv
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    entered_at: Mapped[datetime]


class SavedAnalysis(Base):
    """One version of a named, saved ranking: the weights, the needs it used and the ranking it gave."""

    __tablename__ = "thinktank_analyses"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    weights: Mapped[str] = mapped_column(Text)  # JSON {criterion: weight}
    needs: Mapped[str] = mapped_column(Text)  # JSON {technology: [level, reason, need version]}
    ranking: Mapped[str] = mapped_column(Text)  # JSON list of ranking rows
    window: Mapped[str] = mapped_column(String(32))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    created_at: Mapped[datetime]
