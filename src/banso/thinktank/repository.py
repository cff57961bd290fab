"""Every query of the think tank: needs versions and saved analyses (T5, T8)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import User
from banso.thinktank.models import NeedVersion, SavedAnalysis


def current_needs(session: Session) -> list[NeedVersion]:
    """Return the latest version of each technology's need, by technology."""
    latest = (select(NeedVersion.technology, func.max(NeedVersion.version).label("v"))
              .group_by(NeedVersion.technology).subquery())
    return list(session.scalars(
        select(NeedVersion).join(latest, (NeedVersion.technology == latest.c.technology)
                                 & (NeedVersion.version == latest.c.v)).order_by(NeedVersion.technology)))


def need_history(session: Session, technology: str) -> list[NeedVersion]:
    """Return every version of one technology's need, newest first."""
    return list(session.scalars(select(NeedVersion).where(NeedVersion.technology == technology)
                                .order_by(NeedVersion.version.desc())))


def next_need_version(session: Session, technology: str) -> int:
    """Return the version number the technology's next need gets."""
    top = session.scalar(select(func.max(NeedVersion.version)).where(NeedVersion.technology == technology))
    return int(top or 0) + 1


def list_analyses(session: Session) -> list[SavedAnalysis]:
    """Return every saved analysis version, newest first."""
    return list(session.scalars(select(SavedAnalysis).order_by(SavedAnalysis.created_at.desc(),
                                                               SavedAnalysis.id.desc())))


def get_analysis(session: Session, analysis_id: int) -> SavedAnalysis | None:
    """Return one saved analysis version, or None."""
    return session.get(SavedAnalysis, analysis_id)


def next_analysis_version(session: Session, name: str) -> int:
    """Return the version number the analysis ``name`` gets when saved again."""
    top = session.scalar(select(func.max(SavedAnalysis.version)).where(SavedAnalysis.name == name))
    return int(top or 0) + 1


def user_names(session: Session, user_ids: set[int]) -> dict[int, str]:
    """Return the (Japanese) display names of ``user_ids``."""
    if not user_ids:
        return {}
    return {u.id: u.name_ja for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
