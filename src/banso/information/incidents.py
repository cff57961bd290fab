"""Incidents (インシデント): a suspected leak worked through report → triage → attribution → outcome (I9).

Anyone signed in may report. The council's chair and secretariat (事務局) with content access work
the incident: they triage it, attribute a leaked copy to the recipient it was issued to (I8,
``distribution.attribute``), and close it with an outcome and the penalty provision. Holders of
``Permission.AUDIT_LOG_READ`` see every incident; they also work incidents that name no council,
because attributing such a copy compares it with every copy ever issued — which only someone who
may already read the whole audit log (every download is there, A1) may see.

Every step writes an :class:`IncidentStep` and an audit entry ``information:incident:*`` in the
caller's transaction. The evidence bytes are never stored, only their SHA-256.

A reporter who does not work the incident sees its state and steps, but not whom it was
attributed to: naming a suspected recipient to, say, an outsider who found a copy would disclose
council membership and who received which item (I7).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.policies import information as policy
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.information import distribution, service
from banso.information.deps import MAX_FILE_BYTES
from banso.information.models import Incident, IncidentState, IncidentStep, Item
from banso.kit.errors import Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.notifications import service as notifications

# Art. 62(7) of the Economic Security Promotion Act imposes the confidentiality duty on council
# participants; the penalty clause is in the Act's penal provisions. The exact article number of
# that clause ("第94条相当") is uncertain here and must be checked against the promulgated text
# (e-Gov) before it is relied on — hence "相当" / kept as one constant, editable at close time.
DEFAULT_PENALTY = (
    "経済安全保障推進法第62条第7項の守秘義務違反：1年以下の拘禁刑又は50万円以下の罰金（同法第94条相当） / "
    "Art. 62(7) confidentiality duty: up to 1 year imprisonment or ¥500,000 fine"
)

TITLE_MAX = 300
TEXT_MAX = 20_000
_WITHHELD_NOTE = "（帰属の結果は事務局のみが閲覧できます / the attribution is visible to the secretariat only）"


@dataclass
class IncidentView:
    """One incident with its recorded steps, as the caller may see it."""

    incident: Incident
    steps: list[IncidentStep]
    can_manage: bool


# ---------------------------------------------------------------------------------------------
# Who sees and works an incident (composed from authz.policies.information)


def _can_manage(session: Session, incident: Incident, actor: Principal) -> bool:
    where = None if incident.council_id is None else council_repo.standing_of(session, incident.council_id,
                                                                             actor.user_id)
    return policy.can_work_incident(actor, where, council_id=incident.council_id)


def _visible(session: Session, incident_id: int, actor: Principal) -> tuple[Incident, bool]:
    """Return the incident and whether ``actor`` manages it; 404 when missing or not theirs to see."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("インシデントが見つかりません / incident not found")
    manage = _can_manage(session, incident, actor)
    if not policy.can_see_incident(actor, works_it=manage, is_reporter=incident.reported_by_id == actor.user_id):
        raise NotFound("インシデントが見つかりません / incident not found")
    return incident, manage


def _managed(session: Session, incident_id: int, actor: Principal) -> Incident:
    incident, manage = _visible(session, incident_id, actor)
    if not manage:
        raise Forbidden("議長又は事務局のみが行えます / Only the council's chair or secretariat may do this")
    return incident


# ---------------------------------------------------------------------------------------------
# Plumbing


def _subject(incident: Incident) -> str:
    return f"incident:{incident.id}"


def _step(session: Session, incident: Incident, *, state: IncidentState, note: str, actor: Principal,
          now: datetime, tag: AuditTag, data: dict[str, Any]) -> None:
    incident.state = state.value
    incident.updated_at = now
    session.add(IncidentStep(incident_id=incident.id, state=state.value, note=note, actor_id=actor.user_id,
                             created_at=now))
    audit.record(session, tag=tag, now=now, actor_id=actor.user_id, actor_label=actor.label,
                 subject=_subject(incident),
                 data={"state": state.value, "council_id": incident.council_id, "item_id": incident.item_id,
                       **data})
    session.flush()


def _require_state(incident: Incident, allowed: set[IncidentState], *, ja: str, en: str) -> None:
    if incident.state not in allowed:
        wanted = " or ".join(sorted(s.value for s in allowed))
        raise Conflict(f"状態が {incident.state} のインシデントは{ja}できません / an incident in state "
                       f"{incident.state!r} cannot be {en} (it must be {wanted})")


# ---------------------------------------------------------------------------------------------
# The workflow


def report_incident(session: Session, *, actor: Principal, now: datetime, title: str, description: str,
                    council_id: int | None = None, item_id: int | None = None) -> Incident:
    """Report a suspected leak (I9); anyone signed in may. Notifies the council's chair and secretariat."""
    clean_title = clean_text(title, "title", max_length=TITLE_MAX, line=True)
    clean_description = clean_text(description, "description", max_length=TEXT_MAX)
    if item_id is not None:
        item, _ = service.readable(session, item_id, actor)  # 404 unless the reporter may read it (I7)
        if council_id is not None and council_id != item.council_id:
            raise ValidationFailed("この情報は別の協議会のものです / the item belongs to another council", field="council_id")
        council_id = item.council_id
    elif council_id is not None and not policy.may_report_to_council(
            actor, council_repo.standing_of(session, council_id, actor.user_id)):
        # I7: a council one is not in answers like a missing one, or the report would confirm that
        # it exists and let anyone message its chair.
        raise NotFound("協議会が見つかりません / council not found")
    incident = Incident(council_id=council_id, item_id=item_id, title=clean_title, description=clean_description,
                        state=IncidentState.REPORTED.value, reported_by_id=actor.user_id, evidence_sha256=None,
                        attributed_user_id=None, attributed_distribution_id=None, confidence=None,
                        penalty_provision=None, outcome=None, created_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    _step(session, incident, state=IncidentState.REPORTED, note="報告 / reported", actor=actor, now=now,
          tag=AuditTag.INFO_INCIDENT_REPORT, data={})
    if council_id is not None:
        recipients = [uid for uid in service.managers_of(session, council_id) if uid != actor.user_id]
        if recipients:
            shown = " ".join(clean_title.split())[:200]
            notifications.notify(
                session, recipient_ids=recipients, kind="information.incident_reported",
                title_ja=f"インシデントが報告されました：{shown}", title_en=f"Incident reported: {shown}",
                body_ja="漏えいの疑いが報告されました。トリアージしてください。",
                body_en="A suspected leak was reported. Please triage it.",
                link=f"/information/incidents/{incident.id}", subject=_subject(incident), now=now,
                email_now=True)
    return incident


def list_incidents(session: Session, *, actor: Principal) -> list[Incident]:
    """Return the incidents ``actor`` may see, newest first: own reports, managed councils', or all (auditors)."""
    stmt = policy.restrict_incidents(select(Incident), actor)
    return list(session.scalars(stmt.order_by(Incident.created_at.desc(), Incident.id.desc())))


def _redacted(incident: Incident) -> Incident:
    # A transient copy, never added to the session: the stored row is untouched.
    return Incident(id=incident.id, council_id=incident.council_id, item_id=incident.item_id, title=incident.title,
                    description=incident.description, state=incident.state,
                    reported_by_id=incident.reported_by_id, evidence_sha256=None, attributed_user_id=None,
                    attributed_distribution_id=None, confidence=None, penalty_provision=incident.penalty_provision,
                    outcome=incident.outcome, created_at=incident.created_at, updated_at=incident.updated_at)


def get_incident(session: Session, *, incident_id: int, actor: Principal) -> IncidentView:
    """Return an incident with its steps (404 unless the reporter, a manager of it or an auditor)."""
    incident, manage = _visible(session, incident_id, actor)
    steps = list(session.scalars(select(IncidentStep).where(IncidentStep.incident_id == incident.id)
                                 .order_by(IncidentStep.created_at, IncidentStep.id)))
    if policy.sees_attribution(actor, works_it=manage):
        return IncidentView(incident=incident, steps=steps, can_manage=manage)
    shown = [IncidentStep(id=s.id, incident_id=s.incident_id, state=s.state, actor_id=s.actor_id,
                          created_at=s.created_at,
                          note=_WITHHELD_NOTE if s.state == IncidentState.ATTRIBUTED else s.note)
             for s in steps]
    return IncidentView(incident=_redacted(incident), steps=shown, can_manage=False)


def triage_incident(session: Session, *, incident_id: int, actor: Principal, now: datetime, note: str) -> Incident:
    """Record the first assessment of a reported incident (reported → triaged)."""
    incident = _managed(session, incident_id, actor)
    _require_state(incident, {IncidentState.REPORTED}, ja="トリアージ", en="triaged")
    _step(session, incident, state=IncidentState.TRIAGED, note=clean_text(note, "note", max_length=TEXT_MAX),
          actor=actor, now=now, tag=AuditTag.INFO_INCIDENT_TRIAGE, data={})
    return incident


def attribute_incident(session: Session, *, incident_id: int, actor: Principal, now: datetime, data: bytes,
                       filename: str | None) -> Incident:
    """Attribute the leaked copy to the recipient it was issued to (triaged or attributed → attributed, I8)."""
    incident = _managed(session, incident_id, actor)
    _require_state(incident, {IncidentState.TRIAGED, IncidentState.ATTRIBUTED}, ja="帰属判定", en="attributed")
    if not data:
        raise ValidationFailed("漏えいした写しが空です / the leaked copy is empty", field="data")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(f"漏えいした写しは {MAX_FILE_BYTES:,} バイト以内にしてください / the leaked copy must be at most {MAX_FILE_BYTES:,} bytes", field="data")
    finding = distribution.attribute(session, data=data, filename=filename, item_id=incident.item_id,
                                     actor_label=actor.label, actor_id=actor.user_id, now=now)
    found = finding.distribution
    explanation = finding.explanation
    confidence = finding.confidence
    if (found is not None and incident.council_id is not None and incident.item_id is None
            and session.scalar(select(Item.council_id).where(Item.id == found.item_id)) != incident.council_id):
        # Only copies of this council's items count; a copy issued elsewhere is not this council's
        # business, and its recipient is not named here.
        found, confidence = None, 0.0
        explanation = ("The fingerprint does not match any copy issued in this council / "
                       "この協議会で交付された写しのいずれとも一致しません。")
    incident.evidence_sha256 = hashlib.sha256(data).hexdigest()
    incident.attributed_distribution_id = found.id if found else None
    incident.attributed_user_id = found.user_id if found else None
    incident.confidence = confidence
    if found is not None:
        who = finding.user_label or f"user {found.user_id}"
        org = f"（{finding.organization_label}）" if finding.organization_label else ""
        head = (f"帰属先 / attributed to: {who}{org}, 交付 / distribution #{found.id} "
                f"(item #{found.item_id}), 確度 / confidence {confidence:.6f}")
    else:
        head = f"帰属先を特定できませんでした / no recipient identified (confidence {confidence:.6f})"
    note = f"{head}\n{explanation}\nevidence sha256 {incident.evidence_sha256}"
    _step(session, incident, state=IncidentState.ATTRIBUTED, note=note, actor=actor, now=now,
          tag=AuditTag.INFO_INCIDENT_ATTRIBUTE,
          # Ids and digests only: the evidence's file name may be a designated file's name (I12).
          data={"evidence_sha256": incident.evidence_sha256,
                "extension": PurePosixPath(filename or "").suffix.lower()[:16] or None,
                "distribution_id": incident.attributed_distribution_id, "user_id": incident.attributed_user_id,
                "confidence": round(confidence, 6)})
    return incident


def close_incident(session: Session, *, incident_id: int, actor: Principal, now: datetime, outcome: str,
                   penalty_provision: str | None = None) -> Incident:
    """Close an incident with its outcome and the penalty provision (any open state → closed)."""
    incident = _managed(session, incident_id, actor)
    _require_state(incident, {IncidentState.REPORTED, IncidentState.TRIAGED, IncidentState.ATTRIBUTED},
                   ja="終結", en="closed")
    incident.outcome = clean_text(outcome, "outcome", max_length=TEXT_MAX)
    given = (penalty_provision or "").strip()
    incident.penalty_provision = clean_text(given, "penalty_provision", max_length=2000) if given else DEFAULT_PENALTY
    note = f"{incident.outcome}\n罰則 / penalty provision: {incident.penalty_provision}"
    _step(session, incident, state=IncidentState.CLOSED, note=note, actor=actor, now=now,
          tag=AuditTag.INFO_INCIDENT_CLOSE,
          data={"attributed_user_id": incident.attributed_user_id,
                "penalty_default": not given})
    return incident
