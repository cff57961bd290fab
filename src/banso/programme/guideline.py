"""The basic guideline (基本指針, DESIGN F2): versioned documents with their measures.

A guideline is identified by ``code``; adopting it again creates the next version (the older
versions stay readable). Each measure is one of three kinds — information for researchers,
funding, talent — and names the registry technologies (and guideline areas) it concerns; unknown
codes are refused. Every signed-in person reads guidelines; registry editors (agency staff and
ministry officers) adopt versions. Every adoption is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.tags import AuditTag
from banso.authz.policies import programme as policy
from banso.authz.principal import Principal
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.programme import repository as repo
from banso.programme.models import Guideline, GuidelineArea, GuidelineMeasure, MeasureKind
from banso.programme.service import _audit

CERTAINTIES = ("confirmed", "unsure")


@dataclass(frozen=True)
class MeasureInput:
    """One measure of a guideline version as given."""

    kind: str
    title_ja: str
    title_en: str = ""
    body: str = ""
    technology_codes: Sequence[str] = ()
    area_codes: Sequence[str] = ()
    certainty: str = "confirmed"
    note: str | None = None


@dataclass
class GuidelineView:
    """A guideline version with its measures grouped by kind (information, funding, talent)."""

    guideline: Guideline
    measures: list[GuidelineMeasure]
    versions: list[Guideline] = field(default_factory=list)

    def by_kind(self) -> dict[str, list[GuidelineMeasure]]:
        """Return the measures per kind, in the order information, funding, talent."""
        out: dict[str, list[GuidelineMeasure]] = {k.value: [] for k in MeasureKind}
        for m in self.measures:
            out.setdefault(m.kind, []).append(m)
        return out


def _check_measure(session: Session, i: int, m: MeasureInput, known_areas: set[str]) -> GuidelineMeasure:
    where = f"measures[{i}]"
    try:
        kind = MeasureKind(m.kind)
    except ValueError:
        raise ValidationFailed(f"{where}: 施策の種類は 情報提供（information）・資金支援（funding）・人材（talent）から選んでください / "
                               f"{where}: kind must be one of {', '.join(k.value for k in MeasureKind)}", field="measures") from None
    techs = list(dict.fromkeys(c.strip() for c in m.technology_codes if c and c.strip()))
    unknown = [c for c in techs if repo.technology_by_code(session, c) is None]
    if unknown:
        raise ValidationFailed(f"{where}: 技術コードが登録されていません（{', '.join(unknown)}） / {where}: unknown technology code(s): {', '.join(unknown)}", field="measures")
    areas = list(dict.fromkeys(c.strip() for c in m.area_codes if c and c.strip()))
    unknown_areas = [c for c in areas if c not in known_areas]
    if unknown_areas:
        raise ValidationFailed(f"{where}: 指針の分野コードが登録されていません（{', '.join(unknown_areas)}） / "
                               f"{where}: unknown guideline area code(s): {', '.join(unknown_areas)}",
                               field="measures")
    if m.certainty not in CERTAINTIES:
        raise ValidationFailed(f"{where}: 確度は「確定」か「未確定」から選んでください / {where}: certainty must be confirmed or unsure", field="measures")
    title = clean_text(m.title_ja, f"{where}.title_ja", max_length=300, line=True)
    return GuidelineMeasure(
        kind=kind.value, position=i, title_ja=title,
        title_en=clean_text(m.title_en, f"{where}.title_en", max_length=300, required=False, line=True) or title,
        body=clean_text(m.body, f"{where}.body", max_length=20000, required=False), technology_codes=techs,
        area_codes=areas, certainty=m.certainty,
        note=clean_text(m.note, f"{where}.note", max_length=2000, required=False) or None)


def adopt_guideline(session: Session, *, code: str, title_ja: str, adopted_on: date, body: str,
                    measures: Sequence[MeasureInput], now: datetime, actor: Principal | None, title_en: str = "",
                    source: str | None = None, certainty: str = "confirmed") -> Guideline:
    """Record a new version of the guideline ``code`` with its measures; everything is checked first."""
    if actor is not None and not policy.can_edit_registry(actor):
        raise Forbidden("基本指針を登録する権限がありません / only agency staff and ministry officers record guidelines")
    code_v = clean_text(code, "code", max_length=40, line=True)
    title = clean_text(title_ja, "title_ja", max_length=300, line=True)
    if not isinstance(adopted_on, date) or isinstance(adopted_on, datetime):
        raise ValidationFailed("決定日の日付が正しくありません / adopted_on must be a date", field="adopted_on")
    if certainty not in CERTAINTIES:
        raise ValidationFailed("確度は「確定」か「未確定」から選んでください / certainty must be confirmed or unsure", field="certainty")
    if not measures:
        raise ValidationFailed("施策を1件以上指定してください / a guideline has at least one measure", field="measures")
    latest = latest_version(session, code_v)
    if latest is not None and adopted_on < latest.adopted_on:
        raise Conflict(f"前の版より前の日付です（第{latest.version}版は {latest.adopted_on.isoformat()} に決定） / "
                       f"version {latest.version} was adopted on {latest.adopted_on.isoformat()}; a new version cannot predate it", field="adopted_on")
    known_areas = {a.code for a in session.scalars(select(GuidelineArea))}
    rows = [_check_measure(session, i, m, known_areas) for i, m in enumerate(measures)]
    guideline = Guideline(
        code=code_v, version=(latest.version + 1) if latest else 1, title_ja=title,
        title_en=clean_text(title_en, "title_en", max_length=300, required=False, line=True) or title, adopted_on=adopted_on,
        body=clean_text(body, "body", max_length=100_000, required=False), source=clean_text(source, "source", max_length=2000, required=False, line=True) or None,
        certainty=certainty, created_by_id=actor.user_id if actor else None, created_at=now)
    session.add(guideline)
    session.flush()
    for row in rows:
        row.guideline_id = guideline.id
        session.add(row)
    session.flush()
    _audit(session, AuditTag.PROGRAMME_GUIDELINE_ADOPT, now=now, actor=actor, subject=f"guideline:{guideline.id}",
           data={"code": code_v, "version": guideline.version, "measures": len(rows)})
    return guideline


def latest_version(session: Session, code: str) -> Guideline | None:
    """Return the newest version of the guideline ``code``."""
    return session.scalars(select(Guideline).where(Guideline.code == code)
                           .order_by(Guideline.version.desc()).limit(1)).first()


def list_guidelines(session: Session, *, current_only: bool = False) -> list[Guideline]:
    """Return guideline versions, newest first (only the newest of each code when ``current_only``)."""
    rows = list(session.scalars(select(Guideline).order_by(Guideline.adopted_on.desc(), Guideline.version.desc())))
    if not current_only:
        return rows
    newest = {code: version for code, version in
              session.execute(select(Guideline.code, func.max(Guideline.version)).group_by(Guideline.code))}
    return [g for g in rows if newest.get(g.code) == g.version]


def get_guideline(session: Session, *, guideline_id: int) -> GuidelineView:
    """Return one guideline version with its measures and the list of its versions."""
    guideline = session.get(Guideline, guideline_id)
    if guideline is None:
        raise NotFound("基本指針が見つかりません / guideline not found")
    measures = list(session.scalars(select(GuidelineMeasure).where(GuidelineMeasure.guideline_id == guideline.id)
                                    .order_by(GuidelineMeasure.position, GuidelineMeasure.id)))
    versions = list(session.scalars(select(Guideline).where(Guideline.code == guideline.code)
                                    .order_by(Guideline.version.desc())))
    return GuidelineView(guideline=guideline, measures=measures, versions=versions)


def current_view(session: Session) -> GuidelineView | None:
    """Return the newest version of the most recently adopted guideline, or None."""
    current = list_guidelines(session, current_only=True)
    return get_guideline(session, guideline_id=current[0].id) if current else None


def measures_for_technology(session: Session, *, technology_code: str) -> list[GuidelineMeasure]:
    """Return the measures of the current guideline versions that name ``technology_code``."""
    ids = {g.id for g in list_guidelines(session, current_only=True)}
    rows = session.scalars(select(GuidelineMeasure).where(GuidelineMeasure.guideline_id.in_(ids))
                           .order_by(GuidelineMeasure.guideline_id, GuidelineMeasure.position))
    return [m for m in rows if technology_code in (m.technology_codes or [])]
