"""Cyber-information interchange as items: import a MISP event or a STIX 2.1 bundle, export either.

The mapping of TLP 2.0 labels (kept verbatim on the item) follows ``interop.handling_for``:
CLEAR → public, GREEN → council-shared, AMBER / AMBER+STRICT / RED → a designation proposal
whose scope matches the label (the council's organisations / the provider's organisation / the
provider by name), which the participants then vote on like any other (I3, I4). A MISP event shared
with "your organisation only", "this community only" or a sharing group is never council-wide: it
becomes a proposal for the organisations it names (the importer's, or the sharing group's members
that take part in the council); organisations that cannot be matched are named in the proposal.

An export of non-public content is a copy like a download (I8, I12): view-only handling refuses it,
every other export is recorded with a fingerprint, stamped in its text and names its recipient.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from banso.accounts.models import Organization
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.egress import Egress
from banso.authz.principal import Principal
from banso.information import content, distribution, interop, service
from banso.information import repository as info_repo
from banso.information.deps import InformationDeps
from banso.information.models import Ballot, Item, ItemState, ScopeKind
from banso.kit.errors import ValidationFailed

DEFAULT_PERIOD = timedelta(days=365)
MAX_DOCUMENT_BYTES = interop.MAX_DOCUMENT_BYTES


def parse(data: bytes, filename: str) -> interop.Interchange:
    """Parse a MISP event or a STIX 2.1 bundle, whichever ``data`` is, within the interop budgets."""
    try:
        return interop.parse_document(data)
    except interop.InterchangeError as exc:
        raise interop.InterchangeError(f"{filename}: {exc.message}" if filename else exc.message) from None


@dataclass(frozen=True)
class _Scoped:
    """The organisations a source's distribution allows, and the names that matched no participant."""

    organization_ids: list[int]
    unmatched: list[str]


def _organisation_keys(org: Organization) -> set[str]:
    return {name.strip().casefold() for name in (org.name_ja, org.name_en, org.short_name or "") if name.strip()}


def _sharing_group_orgs(session: Session, council_id: int, actor: Principal, doc: interop.Interchange) -> _Scoped:
    """Match the sharing group's organisations to the council's by name; the importer's is always in (I3)."""
    members = {m.organization_id for m in info_repo.current_members(session, council_id)}
    orgs = [org for org in (session.get(Organization, oid) for oid in sorted(members)) if org is not None]
    found = [actor.organization_id]
    unmatched = []
    for name in doc.sharing_group_orgs:
        match = next((org.id for org in orgs if name.strip().casefold() in _organisation_keys(org)), None)
        if match is None:
            unmatched.append(name)
        elif match not in found:
            found.append(match)
    return _Scoped(found, unmatched)


def _reason(doc: interop.Interchange, scoped: _Scoped | None) -> tuple[str, str]:
    """State why and for whom (I3): TLP labels, the MISP distribution, the sharing group as named."""
    parts = [f"TLP {', '.join(doc.tlp_labels)}"] if doc.tlp_labels else []
    if doc.distribution in ("0", "1", "4"):
        parts.append(f"MISP distribution {doc.distribution} ({interop.MISP_DISTRIBUTION_NAMES[doc.distribution]})")
    note = ""
    if doc.sharing_group is not None:
        parts.append(f"sharing group 「{doc.sharing_group}」")
        listed = ", ".join(doc.sharing_group_orgs) or "(no organisations listed)"
        note = f"MISP sharing group 「{doc.sharing_group}」: {listed}"
        if scoped is not None and scoped.unmatched:
            note += (f". 協議会の参加組織と対応づけられなかった組織 / not matched to a council organisation: "
                     f"{', '.join(scoped.unmatched)}")
    return f"{'; '.join(parts)} ({doc.source_format} {doc.source_id})", note


def _designation_for(session: Session, council_id: int, actor: Principal, doc: interop.Interchange,
                     now: datetime) -> tuple[service.DesignationInput, _Scoped | None]:
    ends_at = now + DEFAULT_PERIOD
    scoped = None
    if doc.scope == interop.Scope.NAMED_ORGANISATIONS:
        scoped = _sharing_group_orgs(session, council_id, actor, doc)
    reason, note = _reason(doc, scoped)
    if doc.scope == interop.Scope.ORGANISATIONS:
        orgs = sorted({m.organization_id for m in info_repo.current_members(session, council_id)})
        if not orgs:
            raise ValidationFailed("この協議会には参加機関がありません / the council has no participating organisations", field="council_id")
        return service.DesignationInput(reason=reason, scope_kind=ScopeKind.ORGANISATIONS.value, ends_at=ends_at,
                                        organization_ids=orgs, range_note=note), None
    if doc.scope in (interop.Scope.PROVIDER_ORGANISATION, interop.Scope.NAMED_ORGANISATIONS):
        orgs = scoped.organization_ids if scoped is not None else [actor.organization_id]
        return service.DesignationInput(reason=reason, scope_kind=ScopeKind.ORGANISATIONS.value, ends_at=ends_at,
                                        organization_ids=orgs, range_note=note), scoped
    return service.DesignationInput(reason=reason, scope_kind=ScopeKind.NAMED.value, ends_at=ends_at,
                                    user_ids=[actor.user_id], range_note=note), None


def import_interchange(session: Session, deps: InformationDeps, *, council_id: int, actor: Principal, now: datetime,
                       data: bytes, filename: str) -> Item:
    """Create an item from a MISP/STIX document in ``council_id``, honouring its TLP label and distribution.

    The council is checked before the document is read: someone who may not provide to it learns nothing,
    not even whether their document would parse (I7). A confidential source (one that becomes a designation
    proposal) gets a neutral title as well as a neutral summary: voters are told of the proposal before the
    vote, by notice and e-mail (I4), and a MISP ``info`` line is often the most telling sentence of the event.
    """
    service.require_contributor(session, council_id, actor)
    doc = parse(data, filename)
    designation, scoped = None, None
    # A title is one line (O1); a MISP "info" or STIX name may wrap, so its white space runs become spaces.
    title, body = " ".join(doc.title.split())[:300] or filename, doc.body
    if doc.openness == interop.Openness.DESIGNATE:
        designation, scoped = _designation_for(session, council_id, actor, doc, now)
        title = interop.neutral_title(doc)
        body = f"件名 / Title: {doc.title}\n\n{doc.body}".strip()
    indicators = [{"type": i.type, "value": i.value, "comment": i.comment} for i in doc.indicators]
    item = service.create_item(
        session, deps, council_id=council_id, actor=actor, now=now, title=title,
        summary=doc.summary, body=body, matter="information_management", category=doc.category,
        provenance="participant", designation=designation, tlp_labels=list(doc.tlp_labels),
        source_format=doc.source_format, source_id=doc.source_id[:200], indicators=indicators,
        public=doc.openness == interop.Openness.PUBLIC,
    )
    audit.record_for(session, AuditTag.INFO_ITEM_IMPORT, now=now, actor=actor, subject=content.subject_of(item),
                     data={"format": doc.source_format, "source_id": doc.source_id, "tlp": list(doc.tlp_labels),
                           "indicators": len(indicators), "state": item.state, "distribution": doc.distribution,
                           # counts only: names of a source's sharing group are the source's metadata (I12)
                           "sharing_group": doc.sharing_group is not None,
                           "unmatched_organisations": len(scoped.unmatched) if scoped else 0})
    return item


def _export_scope(session: Session, item: Item) -> tuple[str | None, tuple[str, ...]]:
    """Return the designation scope as the exporter names it, and the designation's handling."""
    if item.state != ItemState.DESIGNATED or not item.current_designation_id:
        return None, ()
    ballot = session.get(Ballot, item.current_designation_id)
    if ballot is None:
        return None, ()
    scope = service.scope_of(session, item)
    kind = ballot.scope_kind
    if kind == ScopeKind.ORGANISATIONS and scope is not None and scope.organization_ids == {item.provider_org_id}:
        kind = "provider_organisation"
    return kind, tuple(ballot.handling or ())


def _export_item(session: Session, item: Item, body: str, indicators: list[dict[str, str]]) -> interop.ExportItem:
    scope, handling = _export_scope(session, item)
    return interop.ExportItem(
        id=item.id, title=item.title, summary=item.summary, body=body, category=item.category,
        openness=item.state, designation_scope=scope, tlp_labels=tuple(item.tlp_labels or ()),
        created=item.created_at, modified=item.updated_at, handling=handling,
        provided_confidential=item.provided_confidential,
        indicators=tuple(interop.Indicator(type=i.get("type", ""), value=i.get("value", ""),
                                           comment=i.get("comment", "")) for i in indicators),
    )


def export_interchange(session: Session, deps: InformationDeps, *, item_id: int, actor: Principal | None,
                       now: datetime, fmt: str) -> dict[str, Any]:
    """Export an item the caller may read as a MISP event (``misp``) or a STIX 2.1 bundle (``stix``).

    Non-public content goes out like a download (I8, I12): refused for view-only handling, otherwise
    recorded, stamped for its recipient in the text and audited; its TLP is never looser than banso's.
    """
    if fmt not in ("misp", "stix"):
        raise ValidationFailed("形式は MISP か STIX から選んでください / format must be misp or stix", field="format")
    render = interop.to_misp if fmt == "misp" else interop.to_stix
    access = service.open_item(session, item_id, actor, now=now)
    item = access.item
    decision = service.require(session, access, Egress.EXPORT, now=now)  # the one gate (I12)
    body = content.body_of(session, deps, item, actor=actor, now=now)
    indicators = content.indicators_of(session, deps, item, actor=actor, now=now)  # after the gate (I11, I12)
    if not decision.copy:
        return render(_export_item(session, item, body, indicators))
    assert actor is not None  # a copy of non-public content goes to someone signed in
    copy, mark, recipient = distribution.issue_export(session, deps, item=item, actor=actor, channel=fmt, now=now)
    export = replace(_export_item(session, item, body, indicators), recipient=recipient)
    document = render(export, mark=mark)
    level, _ = interop.export_tlp(export)
    audit.record_for(session, AuditTag.INFO_ITEM_EXPORT, now=now, actor=actor, subject=content.subject_of(item),
                     data={"format": fmt, "state": item.state, "distribution_id": copy.id, "tlp": level.label})
    return document
