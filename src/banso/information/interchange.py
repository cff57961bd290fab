"""Cyber-information interchange as items: import a MISP event or a STIX 2.1 bundle, export either.

The mapping of TLP 2.0 labels (kept verbatim on the item) follows ``interop.handling_for``:
CLEAR → public, GREEN → council-shared, AMBER / AMBER+STRICT / RED → a designation proposal
whose scope matches the label (the council's organisations / the provider's organisation / the
provider by name), which the participants then vote on like any other (I3, I4).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.principal import Principal
from banso.information import distribution, interop, service
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, Item, ItemState, ScopeKind
from banso.kit.errors import Forbidden, ValidationFailed

DEFAULT_PERIOD = timedelta(days=365)
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024


def parse(data: bytes, filename: str) -> interop.Interchange:
    """Parse a MISP event or a STIX 2.1 bundle, whichever ``data`` is."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise interop.InterchangeError("the document is larger than 5 MiB")
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise interop.InterchangeError(f"{filename}: not a JSON document ({exc})") from None
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        return interop.parse_stix(doc)
    return interop.parse_misp(doc)


def import_interchange(session: Session, deps: InformationDeps, *, council_id: int, actor: Principal, now: datetime,
                       data: bytes, filename: str) -> Item:
    """Create an item from a MISP/STIX document in ``council_id``, honouring its TLP label."""
    doc = parse(data, filename)
    designation = None
    if doc.openness == interop.Openness.DESIGNATE:
        designation = _designation_for(session, council_id, actor, doc, now)
    indicators = [{"type": i.type, "value": i.value, "comment": i.comment} for i in doc.indicators]
    item = service.create_item(
        session, deps, council_id=council_id, actor=actor, now=now, title=doc.title[:300] or filename,
        summary=doc.summary, body=doc.body, matter="information_management", category=doc.category,
        provenance="participant", designation=designation, tlp_labels=list(doc.tlp_labels),
        source_format=doc.source_format, source_id=doc.source_id[:200], indicators=indicators,
        public=doc.openness == interop.Openness.PUBLIC,
    )
    audit.record_for(session, AuditTag.INFO_ITEM_IMPORT, now=now, actor=actor, subject=service.subject_of(item),
                   data={"format": doc.source_format, "source_id": doc.source_id, "tlp": list(doc.tlp_labels),
                         "indicators": len(indicators), "state": item.state})
    return item


def _designation_for(session: Session, council_id: int, actor: Principal, doc: interop.Interchange,
                     now: datetime) -> service.DesignationInput:
    reason = f"TLP {', '.join(doc.tlp_labels)} ({doc.source_format} {doc.source_id})"
    ends_at = now + DEFAULT_PERIOD
    if doc.scope == interop.Scope.ORGANISATIONS:
        orgs = sorted({m.organization_id for m in service._current_members(session, council_id)})
        if not orgs:
            raise ValidationFailed("the council has no participating organisations", field="council_id")
        return service.DesignationInput(reason=reason, scope_kind=ScopeKind.ORGANISATIONS.value, ends_at=ends_at,
                                        organization_ids=orgs)
    if doc.scope == interop.Scope.PROVIDER_ORGANISATION:
        return service.DesignationInput(reason=reason, scope_kind=ScopeKind.ORGANISATIONS.value, ends_at=ends_at,
                                        organization_ids=[actor.organization_id])
    return service.DesignationInput(reason=reason, scope_kind=ScopeKind.NAMED.value, ends_at=ends_at,
                                    user_ids=[actor.user_id])


def export_interchange(session: Session, deps: InformationDeps, *, item_id: int, actor: Principal | None,
                       now: datetime, fmt: str) -> dict[str, Any]:
    """Export an item the caller may read as a MISP event (``misp``) or a STIX 2.1 bundle (``stix``)."""
    if fmt not in ("misp", "stix"):
        raise ValidationFailed("format must be misp or stix", field="format")
    item, _ = service.readable(session, item_id, actor)
    if actor is not None and not distribution.may_download_body(session, actor, item):  # I12: view-only: no export
        audit.refuse(session, Forbidden("この指定は閲覧のみでエクスポートできません / This designation is view-only: "
                                        "it cannot be exported"), AuditTag.INFO_FILE_REFUSED, now=now, actor=actor,
                     subject=service.subject_of(item), data={"export": fmt})
    body = service.body_of(session, deps, item, actor=actor, now=now)
    scope = None
    if item.state == ItemState.DESIGNATED and item.current_designation_id:
        ballot = session.get(Ballot, item.current_designation_id)
        scope = ballot.scope_kind if ballot else None
        if scope == ScopeKind.ORGANISATIONS and service.scope_of(session, item) is not None:
            orgs = service.scope_of(session, item).organization_ids  # type: ignore[union-attr]
            if orgs == frozenset({item.provider_org_id}):
                scope = "provider_organisation"
    openness = {"public": "public", "designated": "designated", "held": "designated"}.get(item.state, "council")
    export = interop.ExportItem(
        id=item.id, title=item.title, summary=item.summary, body=body, category=item.category, openness=openness,
        designation_scope=scope, tlp_labels=tuple(item.tlp_labels or ()), created=item.created_at,
        modified=item.updated_at,
        indicators=tuple(interop.Indicator(type=i.get("type", ""), value=i.get("value", ""),
                                           comment=i.get("comment", "")) for i in item.indicators or ()),
    )
    if item.state != ItemState.PUBLIC:
        audit.record_for(session, AuditTag.INFO_ITEM_EXPORT, now=now, actor=actor, subject=service.subject_of(item),
                       data={"format": fmt, "state": item.state})
    return interop.to_misp(export) if fmt == "misp" else interop.to_stix(export)
