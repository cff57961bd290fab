"""Controlled-information services (I1–I7, I11): items, versions, designations, votes, non-disclosure
requests and the lapse job. Orchestrates repository, rules, policy, crypto and audit; never commits.

Every state change and every read of non-public content writes an audit entry tagged
``information:*`` in the caller's transaction (A1, I8). Security refusals (late or foreign votes,
a refused download, a tampered ciphertext, a lying upload) are audited before raising and marked
:func:`banso.audit.service.was_audited`, so the caller commits the entry and nothing else.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any, NoReturn

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz import gate
from banso.authz.egress import BallotFacts, Decision, Egress, ballot_history_visible, decide_ballot
from banso.authz.gate import ItemAccess
from banso.authz.guard import require_visible
from banso.authz.policies import information as policy
from banso.authz.policies.councils import MANAGER_ROLES, Standing
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils.models import Council, CouncilRole, Matter, Membership
from banso.information import content, notices, rules, search
from banso.information import repository as repo
from banso.information.content import subject_of
from banso.information.deps import InformationDeps
from banso.information.models import (
    Ballot,
    BallotKind,
    BallotState,
    Item,
    ItemFile,
    ItemState,
    ItemVersion,
    Provenance,
    ScopeEntry,
    ScopeKind,
    Vote,
    VoteDecision,
)
from banso.kit.clock import to_jst
from banso.kit.errors import BansoError, Conflict, Forbidden, NotFound, ValidationFailed
from banso.kit.text import clean_text
from banso.sealed import crypto
from banso.sealed.uploads import FileKind, UploadRejected, safe_filename, sniff

# Audit plumbing lives in banso.audit.service (record_for, refuse, was_audited).
_audit = audit.record_for
refuse = audit.refuse


def scope_of(session: Session, item: Item) -> policy.Scope | None:
    """Return the scope of the designation in force on ``item`` (None unless designated)."""
    return gate.access_for(session, None, item).scope


def facts_of(session: Session, item: Item) -> policy.ItemFacts:
    """Return the facts the policy decides on (loaded by the gate)."""
    return gate.access_for(session, None, item).facts.item


def open_item(session: Session, item_id: int, actor: Principal | None, *, now: datetime | None = None) -> ItemAccess:
    """Load the item's access facts once (I12) or raise 404 when it is missing or out of scope (I7).

    A refused read by a signed-in person is audited (A1: who probed what is itself security-relevant);
    anonymous probes are not, so that nobody can fill the log from outside.
    """
    access = gate.item_access(session, actor, item_id)
    if access is None:
        raise NotFound("情報が見つかりません / information item not found")
    if not access.readable:
        _refuse_read(session, access, now=now, why="out_of_scope")
    return access


def _refuse_read(session: Session, access: ItemAccess, *, now: datetime | None, why: str,
                 status: int = 404, **data: Any) -> NoReturn:
    """Refuse a read: 404 when the person may not know of the item, else 403 — audited for signed-in people."""
    error: BansoError = (NotFound("情報が見つかりません / information item not found") if status == 404 else
                         Forbidden("この指定は閲覧のみで、写しを取ることはできません / This designation is view-only: "
                                   "no copy can be taken"))
    if access.actor is None or now is None:
        raise error
    tag = AuditTag.INFO_READ_REFUSED if status == 404 else AuditTag.INFO_FILE_REFUSED
    if status != 404:
        data["handling"] = access.handling(data.get("file_id"))
    refuse(session, error, tag, now=now, actor=access.actor, subject=subject_of(access.item),
           data={"why": why, **data})


def require(session: Session, access: ItemAccess, way: Egress, *, now: datetime, file_id: int | None = None,
            version: int | None = None) -> Decision:
    """Return the gate's decision for ``way`` or raise its refusal (404 unknown, 403 known; audited)."""
    decision = access.decide(way, file_id=file_id, version=version)
    if not decision.allowed:
        _refuse_read(session, access, now=now, why=decision.reason or way.value, status=decision.status,
                     way=way.value, file_id=file_id, version=version)
    return decision


def may_read_file(session: Session, item: Item, file_id: int, actor: Principal | None,
                  standing: Standing | None) -> bool:
    """Return True when ``actor`` may read this file of ``item`` (the item itself already readable)."""
    row = repo.file_by_id(session, file_id)
    access = gate.access_for(session, None, item).for_actor(actor, standing)
    return access.decide(Egress.VIEW, file_id=file_id, version=row.version if row is not None else None).allowed


def readable(session: Session, item_id: int, actor: Principal | None,
             now: datetime | None = None) -> tuple[Item, Standing | None]:
    """Return the item and the actor's standing, or raise 404 when missing or out of scope (I7)."""
    access = open_item(session, item_id, actor, now=now)
    return access.item, access.standing


def _manageable(session: Session, item_id: int, actor: Principal) -> tuple[Item, Standing]:
    access = open_item(session, item_id, actor)
    item, standing = access.item, access.standing
    if standing is None or not policy.can_manage_item(actor, standing, access.facts.item):
        raise Forbidden("提供者、議長又は事務局のみが行えます / Only the provider, chair or secretariat may do this")
    return item, standing


def require_contributor(session: Session, council_id: int, actor: Principal) -> None:
    """Raise 404 unless ``actor`` may provide items to the council (content access, C3, I7)."""
    _council_for_contribution(session, council_id, actor)


def _council_for_contribution(session: Session, council_id: int, actor: Principal) -> tuple[Council, Standing]:
    found = council_repo.council_with_standing(session, council_id, actor.user_id)
    if found is None:
        raise NotFound("協議会が見つかりません / council not found")
    council, standing = found
    require_visible(policy.can_contribute(actor, standing), "council content")
    return council, standing


def _index(session: Session, deps: InformationDeps | None, item: Item, now: datetime) -> None:
    """Keep the item's search document in step with its content and openness."""
    search.refresh(session, deps, item, now=now)


def _max_years(session: Session, council: Council) -> int:
    bylaws = council_repo.bylaws(session, council.id, council.bylaws_version)
    return bylaws.designation_max_years if bylaws else 5


def _nondisclosure_days(session: Session, council: Council) -> int:
    bylaws = council_repo.bylaws(session, council.id, council.bylaws_version)
    return bylaws.nondisclosure_decision_days if bylaws else 30


def _notice_days(session: Session, council: Council) -> int:
    bylaws = council_repo.bylaws(session, council.id, council.bylaws_version)
    return bylaws.publication_notice_days if bylaws else rules.DEFAULT_NOTICE_DAYS


def _review_months(session: Session, council: Council) -> int:
    bylaws = council_repo.bylaws(session, council.id, council.bylaws_version)
    return bylaws.withheld_review_months if bylaws else rules.DEFAULT_REVIEW_MONTHS


def project_researchers(session: Session, council: Council) -> frozenset[int]:
    """Return the researchers of the project linked to ``council`` (C1, I1).

    The council's required founders are the project's researchers (C1); a K Program project
    linked to the council adds its lead and its team (研究体制) as recorded in the proposal.
    """
    team, leads = repo.project_people(session, council.id)
    return frozenset(council.required_person_ids or ()) | set(team) | set(leads)


def _check_provenance(session: Session, council: Council, provenance: Provenance, *, actor: Principal,
                      now: datetime) -> None:
    # I13: a self-declared "researcher-generated" would make anyone's item public by default.
    if provenance != Provenance.RESEARCHER_GENERATED or policy.may_declare_researcher_generated(
            actor, researcher_ids=project_researchers(session, council)):
        return
    refuse(session, Forbidden(
        "研究者自らが生み出した成果として登録できるのは、協議会に紐づくプロジェクトの研究者のみです"
        " / Only the researchers of the council's project may file an item as researcher-generated (I13)",
        field="provenance"), AuditTag.INFO_PROVENANCE_REFUSED, now=now, actor=actor,
        subject=f"council:{council.id}", data={"provenance": provenance.value})


# ---------------------------------------------------------------------------------------------
# Items and versions


@dataclass(frozen=True)
class Upload:
    """A file handed to the service (bytes already read; the web layer caps the size)."""

    filename: str
    content_type: str | None
    data: bytes
    # What :func:`validate_uploads` found, before the unit's write transaction (O4); None: not yet checked.
    checked: FileKind | UploadRejected | None = None


def validate_uploads(uploads: Sequence[Upload], *, max_bytes: int) -> list[Upload]:
    """Validate every upload completely (O1) without a session: the CPU-heavy parse (PDF, image, Office), to run
    with no transaction open (O4). A refusal is kept, not raised: the service raises and audits it where it
    always did, after the access checks, in the unit's write transaction."""
    checked = []
    for upload in uploads:
        try:
            found: FileKind | UploadRejected = sniff(upload.data, upload.filename, upload.content_type,
                                                     max_bytes=max_bytes)
        except UploadRejected as exc:
            found = exc
        checked.append(replace(upload, checked=found))
    return checked


@dataclass(frozen=True)
class DesignationInput:
    """A designation proposal as the caller gives it (validated by :func:`rules.check_designation`)."""

    reason: str
    scope_kind: str
    ends_at: datetime
    user_ids: Sequence[int] = ()
    organization_ids: Sequence[int] = ()
    handling: Sequence[str] = ("watermark",)
    deadline: datetime | None = None
    range_note: str = ""
    file_ids: Sequence[int] = ()  # only these files (I3 range); empty = the whole item


def _default_state(item: Item, now: datetime) -> ItemState:
    """Where an item rests when no designation or request holds it (I2, I6, I13)."""
    return rules.resting_state(is_result=rules.default_state_is_public(Provenance(item.provenance), item.is_result),
                               publish_at=item.publish_at, now=now)


def _check_uploads(session: Session, uploads: Sequence[Upload], *, now: datetime, actor: Principal,
                   subject: str, max_bytes: int) -> list[tuple[Upload, Any]]:
    checked = []
    for upload in uploads:
        try:
            kind = upload.checked if upload.checked is not None else sniff(
                upload.data, upload.filename, upload.content_type, max_bytes=max_bytes)
            if isinstance(kind, UploadRejected):
                raise kind
        except UploadRejected as exc:
            refuse(session, exc, AuditTag.INFO_UPLOAD_REJECTED, now=now, actor=actor, subject=subject,
                   data={"extension": PurePosixPath(upload.filename).suffix.lower()[:16], "size": len(upload.data)})
        checked.append((upload, kind))
    return checked


def _store_files(session: Session, deps: InformationDeps, item: Item, version: int, data_key: bytes,
                 checked: Sequence[tuple[Upload, Any]], *, actor: Principal, now: datetime) -> list[ItemFile]:
    stored = []
    for upload, kind in checked:
        digest = hashlib.sha256(upload.data).hexdigest()
        sealed = crypto.seal(upload.data, data_key=data_key, aad=content.file_aad(item.id, digest))
        blob = deps.store.put(sealed)
        row = ItemFile(item_id=item.id, version=version, filename=safe_filename(upload.filename), kind=kind.kind,
                       content_type=kind.content_type, size=len(upload.data), sha256=digest, blob=blob,
                       uploaded_by_id=actor.user_id, uploaded_at=now)
        session.add(row)
        stored.append(row)
    session.flush()
    for row in stored:
        # Ids and digests only: an auditor must not learn a designated file's name from the log (I12).
        _audit(session, AuditTag.INFO_FILE_UPLOAD, now=now, actor=actor, subject=subject_of(item),
               data={"file_id": row.id, "kind": row.kind, "size": row.size,
                     "sha256": row.sha256})
    return stored


def create_item(
    session: Session,
    deps: InformationDeps,
    *,
    council_id: int,
    actor: Principal,
    now: datetime,
    title: str,
    summary: str,
    body: str,
    matter: str,
    category: str,
    provenance: str,
    is_result: bool = False,
    publish_at: datetime | None = None,
    files: Sequence[Upload] = (),
    designation: DesignationInput | None = None,
    origin: str | None = None,
    tlp_labels: Sequence[str] = (),
    source_format: str | None = None,
    source_id: str | None = None,
    indicators: Sequence[dict[str, str]] = (),
    public: bool = False,
    confidential: bool = False,
) -> Item:
    """Provide an item to a council (I1), marked at provision whether it is provided as confidential
    (秘として提供, issue 13; unmarked means not provided in confidence). With ``designation`` the item is *held* — only the provider
    and the secretariat have it — while the participants vote on the proposal (I3, I4).

    A result is announced to the council's readers and becomes public no sooner than the end of
    the bylaws' prior-notice window, whatever ``publish_at`` or ``public`` say (I13).
    """
    council, _ = _council_for_contribution(session, council_id, actor)
    text = rules.check_item_text(title=title, summary=summary, body=body)
    title, summary, body = text.title, text.summary, text.body
    cat, prov = rules.check_item_fields(category=category, provenance=provenance)
    rules.parse_enum(Matter, matter, "matter")
    if publish_at is not None and publish_at.tzinfo is None:
        raise ValidationFailed("公開日時は時差（例 +09:00）付きの日時で指定してください / publish_at needs a time zone", field="publish_at")
    _check_provenance(session, council, prov, actor=actor, now=now)
    rules.check_confidential_mark(prov, confidential)
    result = rules.default_state_is_public(prov, is_result)
    if result:
        publish_at = rules.publication_date(now=now, given=publish_at, notice_days=_notice_days(session, council))
    spec = None
    if designation is not None:
        spec = _designation_spec(session, council, designation, now=now, period_from=None, actor=actor)
    checked = _check_uploads(session, files, now=now, actor=actor, subject=f"council:{council.id}",
                             max_bytes=deps.max_file_bytes)
    data_key = crypto.new_data_key()
    item = Item(
        council_id=council.id, title=title, summary=summary, matter=matter, category=cat.value,
        provenance=prov.value, is_result=result, provided_confidential=confidential,
        state=ItemState.COUNCIL.value, provider_id=actor.user_id, provider_org_id=actor.organization_id,
        current_version=1, wrapped_key=deps.keys.wrap(council.id, data_key), current_designation_id=None,
        publish_at=publish_at, published_at=None, tlp_labels=list(tlp_labels), source_format=source_format,
        source_id=source_id, origin=origin, created_at=now, updated_at=now,
    )
    session.add(item)
    session.flush()
    # The associated data names the item id, so the indicators are sealed once the row has one.
    item.indicators_sealed = content.seal_indicators(indicators, item_id=item.id, data_key=data_key)
    session.add(ItemVersion(item_id=item.id, version=1, note="初版",
                            body_sealed=crypto.seal(body.encode(), data_key=data_key, aad=content.body_aad(item.id, 1)),
                            created_by_id=actor.user_id, created_at=now))
    _store_files(session, deps, item, 1, data_key, checked, actor=actor, now=now)
    if spec is not None:
        state = ItemState.HELD
    else:
        # The provider may publish what they provide (TLP:CLEAR imports, public documents);
        # a result still waits for its prior-notice window (I13).
        state = ItemState.PUBLIC if public and not result else _default_state(item, now)
    item.state = state.value
    if state == ItemState.PUBLIC:
        item.published_at = now
    _audit(session, AuditTag.INFO_ITEM_CREATE, now=now, actor=actor, subject=subject_of(item),
           data={"council_id": council.id, "category": item.category, "provenance": item.provenance,
                 "is_result": item.is_result, "state": item.state, "files": len(checked), "origin": origin,
                 "confidential": confidential,
                 "publish_at": item.publish_at.isoformat() if item.publish_at else None})
    if result:
        notices.publication_scheduled(session, item=item, recipient_ids=_readers(session, item), now=now)
    if spec is not None:
        _open_ballot(session, item, council, spec, kind=BallotKind.DESIGNATION, actor=actor, now=now, deps=deps)
    _index(session, deps, item, now)
    session.flush()
    return item


def add_version(session: Session, deps: InformationDeps, *, item_id: int, actor: Principal, now: datetime,
                body: str, note: str, files: Sequence[Upload] = ()) -> Item:
    """Add a new version (body and files) of an item; earlier versions stay readable.

    Only the provider, and never on a published item (``policy.can_add_version``, I1, I13).
    """
    access = open_item(session, item_id, actor, now=now)
    item = access.item
    if access.standing is None or not policy.can_add_version(actor, access.standing, access.facts.item):
        error: BansoError = (Conflict("公開済みの情報は改訂できません。改訂した成果は新しい情報として提供してください "
                                      "/ A published item is final: provide the revised result as a new item")
                             if item.state == ItemState.PUBLIC and item.provider_id == actor.user_id else
                             Forbidden("提供者のみが改訂できます / Only the provider may add a version"))
        refuse(session, error, AuditTag.INFO_VERSION_REFUSED, now=now, actor=actor, subject=subject_of(item),
               data={"state": item.state})
    body = clean_text(body, "body", max_length=1_000_000, required=False)
    note = clean_text(note, "note", max_length=500, required=False, line=True)
    checked = _check_uploads(session, files, now=now, actor=actor, subject=subject_of(item),
                             max_bytes=deps.max_file_bytes)
    data_key = content.data_key(session, deps, item, actor=actor, now=now)
    # O4: lock the item before numbering, so concurrent versions queue instead of colliding on (item, version).
    repo.lock_item(session, item.id)
    version = item.current_version + 1
    session.add(ItemVersion(item_id=item.id, version=version, note=note or f"version {version}",
                            body_sealed=crypto.seal(body.encode(), data_key=data_key,
                                                    aad=content.body_aad(item.id, version)),
                            created_by_id=actor.user_id, created_at=now))
    _store_files(session, deps, item, version, data_key, checked, actor=actor, now=now)
    item.current_version = version
    item.updated_at = now
    _audit(session, AuditTag.INFO_ITEM_VERSION, now=now, actor=actor, subject=subject_of(item),
           data={"version": version, "files": len(checked)})
    _index(session, deps, item, now)
    session.flush()
    return item


@dataclass
class ItemView:
    """What the item page and the API show of one item the caller may read.

    Every capability flag comes from the gate's decision for this person (I12): pages and the API show the
    same, and neither decides on its own.
    """

    item: Item
    body: str
    files: list[ItemFile]
    versions: list[ItemVersion]
    ballots: list[Ballot]
    can_manage: bool
    designation: Ballot | None
    scope: policy.Scope | None
    standing: Standing | None = None  # the reader's standing in the item's council, as the gate loaded it
    council: Council | None = None  # the item's council, as the gate loaded it (None: not loaded)
    handling: list[str] = field(default_factory=list)
    file_range: policy.FileRange | None = None  # files under a partial designation (open or in force)
    partial_designation: Ballot | None = None  # the partial designation in force, if any
    may_take_copy: bool = True  # body.txt and exports (I3 handling, I12)
    downloadable: frozenset[int] = frozenset()  # files this person may download
    viewable: frozenset[int] = frozenset()  # files this person may view in the browser (watermarked)
    can_publish: bool = False  # the provider may publish it now (I13)
    can_propose_publication: bool = False  # the chair/secretariat may propose early publication (I13)
    can_add_version: bool = False  # the provider, before publication (I1, I13)
    may_propose: bool = False  # a manager may propose a designation now (I3): no vote open, at rest
    may_renew: bool = False  # a manager may propose renewing the designation in force (I5)
    may_request_nondisclosure: bool = False  # a ministry officer, for a scheduled result with no vote open (I6)
    may_renew_withholding: bool = False  # keep a withheld result withheld past its review date (I6, I13)
    may_propose_release: bool = False  # release a withheld result before its review date (I13)
    may_classify: bool = False  # F7: the export-control officer may record a classification (該非判定)
    notice_ends_at: datetime | None = None  # a result's prior notice (I13): non-disclosure may be requested until
    review_at: datetime | None = None  # a withheld result's review date (I6, I13): released then unless renewed


def read_item(session: Session, deps: InformationDeps, *, item_id: int, actor: Principal | None, now: datetime,
              version: int | None = None) -> ItemView:
    """Return an item the caller may read; reads of non-public content are audited (I8)."""
    access = open_item(session, item_id, actor, now=now)
    item = access.item
    decision = require(session, access, Egress.VERSION if version is not None else Egress.PAGE, now=now,
                       version=version)
    number = version or item.current_version
    all_versions, all_files = repo.versions_and_files(session, item.id)
    body = content.open_body(session, deps, item, next((v for v in all_versions if v.version == number), None),
                      actor=actor, now=now)
    if decision.audited:
        _audit(session, AuditTag.INFO_ITEM_READ, now=now, actor=actor, subject=subject_of(item),
               data={"version": number, "state": item.state})
    files = [f for f in all_files if access.decide(Egress.VIEW, file_id=f.id, version=f.version).allowed]
    versions = [v for v in all_versions if access.decide(Egress.VERSION, version=v.version).allowed]
    standing, facts = access.standing, access.facts.item
    # Someone outside the council (anonymous on the portal, too) gets no ballots and no flags.
    insider = actor is not None and standing is not None
    all_ballots = sorted(access.ballots, key=lambda b: b.id, reverse=True) if insider else []
    # Ballots (reasons, reason codes, range notes) are council metadata even on a published item (I6, I7).
    ballots = all_ballots if ballot_history_visible(actor, standing) else []
    manage = actor is not None and standing is not None and policy.can_manage_item(actor, standing, facts)
    # I13: nothing to offer while a vote is open or a result's prior notice runs
    at_rest = (insider and facts.state in (ItemState.COUNCIL, ItemState.SCHEDULED)
               and not any(b.state == BallotState.OPEN for b in all_ballots)
               and _notice_running(session, item, now) is None)
    designation = access.designation
    requester = gate.requester(session, actor) if insider and actor is not None else None
    return ItemView(item=item, body=body, files=files, versions=versions, ballots=ballots,
                    can_manage=manage, designation=designation if item.state == ItemState.DESIGNATED else None,
                    scope=access.scope, standing=standing, council=access.council, handling=access.handling(), file_range=access.file_range,
                    partial_designation=designation if designation is not None and designation.file_ids else None,
                    may_take_copy=access.decide(Egress.BODY).allowed,
                    downloadable=frozenset(f.id for f in files
                                           if access.decide(Egress.FILE, file_id=f.id, version=f.version).allowed),
                    viewable=frozenset(f.id for f in files),
                    can_add_version=actor is not None and standing is not None
                    and policy.can_add_version(actor, standing, facts),
                    may_classify=policy.can_classify(actor, standing, facts),
                    **_publication_flags(actor, standing, facts, at_rest=at_rest),
                    **_proposal_flags(actor, standing, item, manage=manage, ballots=ballots, requester=requester),
                    **_withheld_flags(actor, standing, facts, ballots=all_ballots if insider else [],
                                      requester=requester),
                    notice_ends_at=_notice_end(session, item) if item.state == ItemState.SCHEDULED else None)


def _proposal_flags(actor: Principal | None, standing: Standing | None, item: Item, *, manage: bool,
                    ballots: Sequence[Ballot], requester: policy.Requester | None) -> dict[str, Any]:
    """Return whether the page offers a designation, a renewal or a non-disclosure request (I3, I5, I6).

    Decided on the proposals the person is shown: one vote at a time.
    """
    open_vote = any(b.state == BallotState.OPEN for b in ballots)
    may_change = manage and not open_vote
    return {"may_propose": may_change and item.state in (ItemState.COUNCIL, ItemState.SCHEDULED),
            "may_renew": may_change and item.state == ItemState.DESIGNATED,
            "may_request_nondisclosure": actor is not None and standing is not None and requester is not None
            and not open_vote and item.is_result and item.state == ItemState.SCHEDULED
            and policy.can_request_nondisclosure(actor, standing, requester)}


def _withheld_flags(actor: Principal | None, standing: Standing | None, facts: policy.ItemFacts, *,
                    ballots: Sequence[Ballot], requester: policy.Requester | None) -> dict[str, Any]:
    """Return a withheld result's review date and whether the page offers a renewal or an early release
    (I6, I13): one vote at a time, a renewal only before the review date."""
    current = rules.withholding_ballot(ballots) if facts.state == ItemState.WITHHELD else None
    if current is None:
        return {"review_at": None, "may_renew_withholding": False, "may_propose_release": False}
    may = (actor is not None and standing is not None and requester is not None
           and not any(b.state == BallotState.OPEN for b in ballots)
           and policy.can_propose_withheld_review(actor, standing, facts, requester))
    return {"review_at": current.ends_at, "may_renew_withholding": may, "may_propose_release": may}


def _publication_flags(actor: Principal | None, standing: Standing | None, facts: policy.ItemFacts, *,
                       at_rest: bool) -> dict[str, Any]:
    """Return whether the page offers "publish now" or "propose early publication" (I13)."""
    if actor is None or standing is None or not at_rest or facts.state not in (ItemState.COUNCIL,
                                                                              ItemState.SCHEDULED):
        return {"can_publish": False, "can_propose_publication": False}
    return {"can_publish": policy.can_publish_early(actor, standing, facts),
            "can_propose_publication": policy.can_propose_publication(actor, standing, facts)}


def list_items(session: Session, *, actor: Principal | None, council_id: int | None = None,
               state: str | None = None, limit: int = 200, offset: int = 0) -> list[Item]:
    """Return the items ``actor`` may read (I7: out-of-scope items never appear)."""
    wanted = rules.parse_enum(ItemState, state, "state") if state is not None else None
    return repo.readable_items(session, actor, council_id=council_id, state=wanted, limit=limit, offset=offset)


def count_items(session: Session, *, actor: Principal | None, council_id: int | None = None) -> int:
    """Count the items ``actor`` may read (the same policy as the list)."""
    return repo.count_readable_items(session, actor, council_id=council_id)


def public_items(session: Session, *, limit: int = 200, offset: int = 0) -> list[Item]:
    """Return published items for the public portal (no login, I6)."""
    return repo.public_items(session, limit=limit, offset=offset)


# ---------------------------------------------------------------------------------------------
# Ballots: designation, renewal, non-disclosure (I3–I6)


def _designation_spec(session: Session, council: Council, given: DesignationInput, *, now: datetime,
                      period_from: datetime | None, actor: Principal | None = None) -> rules.DesignationSpec:
    try:
        return _checked_spec(session, council, given, now=now, period_from=period_from)
    except ValidationFailed as exc:
        # A proposal outside the rules (period past the maximum, a scope naming outsiders) is a
        # designation-policy event worth keeping (I3): audited, then raised; nothing else was written.
        refuse(session, exc, AuditTag.INFO_DESIGNATION_REFUSED, now=now, actor=actor, subject=f"council:{council.id}",
               data={"field": exc.field, "scope_kind": given.scope_kind, "ends_at": given.ends_at.isoformat()})


def _checked_spec(session: Session, council: Council, given: DesignationInput, *, now: datetime,
                  period_from: datetime | None) -> rules.DesignationSpec:
    spec = rules.check_designation(
        now=now, reason=given.reason, scope_kind=given.scope_kind, user_ids=given.user_ids,
        organization_ids=given.organization_ids, handling=given.handling, ends_at=given.ends_at,
        deadline=given.deadline, max_years=_max_years(session, council), range_note=given.range_note,
        period_from=period_from, file_ids=given.file_ids,
    )
    members = {m.user_id: m for m in repo.current_members(session, council.id)}
    unknown_users = [u for u in spec.user_ids if u not in members]
    if unknown_users:
        raise ValidationFailed(f"この協議会の現在の構成員ではない人が含まれています（{unknown_users}） / "
            f"people {unknown_users} are not current members of this council", field="user_ids")
    member_orgs = {m.organization_id for m in members.values()}
    unknown_orgs = [o for o in spec.organization_ids if o not in member_orgs]
    if unknown_orgs:
        raise ValidationFailed(f"この協議会に参加していない機関が含まれています（{unknown_orgs}） / "
            f"organisations {unknown_orgs} do not take part in this council",
                               field="organization_ids")
    return spec


def _voters(session: Session, council_id: int) -> list[Membership]:
    # Every participant decides (I4); observers take part without a vote.
    return [m for m in repo.current_members(session, council_id) if m.role != CouncilRole.OBSERVER]


def _voters_at_opening(session: Session, council_id: int) -> list[Membership]:
    """The voter list fixed when a ballot opens: every participant in the council's information sharing —
    a current member other than an observer who holds the pledge for the duty in force (C3, I4). A member who
    has not pledged sees no proposal (I12), so cannot be asked to decide on one; once on the list, a voter
    counts until they leave (a pledge that lapses mid-vote must be renewed to answer)."""
    members = _voters(session, council_id)
    where = gate.standings(session, council_id, [m.user_id for m in members])
    return [m for m in members if where[m.user_id].pledge_current]


def _open_ballot(session: Session, item: Item, council: Council, spec: rules.DesignationSpec | None, *,
                 kind: BallotKind, actor: Principal, now: datetime, reason: str = "", reason_code: str | None = None,
                 deadline: datetime | None = None, renews: Ballot | None = None,
                 deps: InformationDeps | None = None, ends_at: datetime | None = None) -> Ballot:
    ballot = Ballot(
        item_id=item.id, council_id=council.id, kind=kind.value, state=BallotState.OPEN.value,
        reason=spec.reason if spec else reason, reason_code=reason_code,
        scope_kind=spec.scope_kind.value if spec else None, range_note=spec.range_note if spec else None,
        file_ids=list(spec.file_ids) if spec else [], handling=[h.value for h in spec.handling] if spec else [],
        ends_at=spec.ends_at if spec else ends_at, deadline=spec.deadline if spec else deadline or now,
        renews_id=renews.id if renews else None, proposed_by_id=actor.user_id, created_at=now, decided_at=None,
        lapsed_at=None, reminded_30=False, reminded_7=False,
    )
    session.add(ballot)
    session.flush()
    if spec is not None:
        for user_id in spec.user_ids:
            session.add(ScopeEntry(ballot_id=ballot.id, user_id=user_id, organization_id=None))
        for org_id in spec.organization_ids:
            session.add(ScopeEntry(ballot_id=ballot.id, user_id=None, organization_id=org_id))
    voters = _voters_at_opening(session, council.id)
    for member in voters:
        # The proposer's own proposal counts as their acceptance.
        mine = member.user_id == actor.user_id
        session.add(Vote(ballot_id=ballot.id, user_id=member.user_id, organization_id=member.organization_id,
                         decision=(VoteDecision.ACCEPT if mine else VoteDecision.PENDING).value,
                         reason=None, decided_at=now if mine else None))
    session.flush()
    tag = {BallotKind.DESIGNATION: AuditTag.INFO_DESIGNATION_PROPOSE, BallotKind.RENEWAL:
           AuditTag.INFO_DESIGNATION_PROPOSE, BallotKind.NONDISCLOSURE: AuditTag.INFO_NONDISCLOSURE_REQUEST,
           BallotKind.PUBLICATION: AuditTag.INFO_PUBLICATION_PROPOSE,
           BallotKind.WITHHOLD_RENEWAL: AuditTag.INFO_WITHHELD_RENEW_PROPOSE,
           BallotKind.RELEASE: AuditTag.INFO_WITHHELD_RELEASE_PROPOSE}[kind]
    _audit(session, tag, now=now, actor=actor, subject=subject_of(item),
           data={"ballot_id": ballot.id, "kind": kind.value, "scope_kind": ballot.scope_kind,
                 "ends_at": ballot.ends_at.isoformat() if ballot.ends_at else None,
                 "deadline": ballot.deadline.isoformat(), "voters": len(voters), "reason_code": reason_code})
    notices.ballot_opened(session, ballot=ballot, item=item,
                          voter_ids=[m.user_id for m in voters if m.user_id != actor.user_id], now=now)
    _index(session, deps, item, now)  # held: the body leaves the index (I4)
    _settle(session, ballot, now=now, actor=actor, deps=deps)  # a council of one accepts at once
    return ballot


def propose_designation(session: Session, *, item_id: int, actor: Principal, now: datetime,
                        designation: DesignationInput, deps: InformationDeps | None = None) -> Ballot:
    """Propose designating an item (I3) — the whole item, or only some of its files (the range).

    The whole item is held (provider and secretariat only) until decided; with ``file_ids`` only
    those files are held and the rest of the item stays as it is (I2: designation kept minimal).
    """
    item, _ = _manageable(session, item_id, actor)
    if item.state not in (ItemState.COUNCIL, ItemState.SCHEDULED):
        raise Conflict(f"この状態（{item.state}）の情報は指定を提案できません（公開済みの情報、又は提案中の情報） / "
                       f"an item in state {item.state!r} cannot be proposed for designation "
                       "(public items are already public; one proposal at a time)")
    if item.current_designation_id is not None or repo.has_open_ballot(session, item.id):
        raise Conflict("この情報の指定は提案中又は有効です。更新を提案してください / "
            "a designation of this item is open or in force; propose a renewal instead")
    own_files = repo.file_ids_of(session, item.id)
    foreign = sorted(set(designation.file_ids) - own_files)
    if foreign:
        raise ValidationFailed(f"この情報のファイルではないものが含まれています（{foreign}） / files {foreign} are not files of this item", field="file_ids")
    council = _council(session, item)
    spec = _designation_spec(session, council, designation, now=now, period_from=None, actor=actor)
    if not spec.file_ids:
        item.state = ItemState.HELD.value
    item.updated_at = now
    return _open_ballot(session, item, council, spec, kind=BallotKind.DESIGNATION, actor=actor, now=now, deps=deps)


def propose_renewal(session: Session, *, item_id: int, actor: Principal, now: datetime, ends_at: datetime,
                    reason: str, deadline: datetime | None = None) -> Ballot:
    """Propose renewing the designation in force (I5): same scope, a new fixed end; unanimity again."""
    item, _ = _manageable(session, item_id, actor)
    current = repo.ballot_by_id(session, item.current_designation_id) if item.current_designation_id else None
    if current is None or current.ends_at is None:
        raise Conflict("更新できるのは指定中の情報のみです / only a designated item can be renewed")
    if repo.has_open_ballot(session, item.id):
        raise Conflict("この情報については既に投票が行われています / a vote on this item is already open")
    council = _council(session, item)
    scope = _ballot_scope(session, current)
    given = DesignationInput(
        reason=reason, scope_kind=current.scope_kind or ScopeKind.NAMED.value, ends_at=ends_at,
        user_ids=sorted(scope.user_ids) if scope else [], organization_ids=sorted(scope.organization_ids)
        if scope else [], handling=current.handling, deadline=deadline, range_note=current.range_note or "",
        file_ids=list(current.file_ids or []),
    )
    if ends_at <= current.ends_at:
        raise ValidationFailed("更新後の終了日は現在の終了日より後にしてください / a renewal must end after the current end", field="ends_at")
    spec = _designation_spec(session, council, given, now=now, period_from=current.ends_at, actor=actor)
    if spec.deadline > current.ends_at:
        raise ValidationFailed("更新の投票期限は現在の指定期間の終了より前にしてください（I5） / "
            "the renewal vote must close before the current period ends (I5)", field="deadline")
    return _open_ballot(session, item, council, spec, kind=BallotKind.RENEWAL, actor=actor, now=now,
                        renews=current)


def request_nondisclosure(session: Session, *, item_id: int, actor: Principal, now: datetime, reason_code: str,
                          reason: str) -> Ballot:
    """A government officer asks to withhold a research result (非公開要請, I6)."""
    item, standing = readable(session, item_id, actor, now=now)
    if standing is None or not policy.can_request_nondisclosure(actor, standing, gate.requester(session, actor)):
        refuse(session, Forbidden("非公開要請を行えるのは、協議会に参加する所管省庁又はニーズ省庁の担当官のみです / Only an "
                                  "officer of a ministry taking part in the council (organising or needs ministry) "
                                  "may request non-disclosure (I6, I13)"),
               AuditTag.INFO_NONDISCLOSURE_REFUSED, now=now, actor=actor, subject=subject_of(item),
               data={"state": item.state})
    if not item.is_result or item.state != ItemState.SCHEDULED:
        raise Conflict("非公開を求められるのは未公表の研究成果のみです / "
            "non-disclosure can be requested only for a research result not yet published")
    if repo.has_open_ballot(session, item.id):
        raise Conflict("この情報については既に投票が行われています / a vote on this item is already open")
    council = _council(session, item)
    code, deadline = rules.check_nondisclosure(now=now, reason=reason, reason_code=reason_code,
                                               decision_days=_nondisclosure_days(session, council))
    return _open_ballot(session, item, council, None, kind=BallotKind.NONDISCLOSURE, actor=actor, now=now,
                        reason=clean_text(reason, "reason", max_length=5000), reason_code=code.value,
                        deadline=deadline)


def _withheld_for_review(session: Session, item_id: int, actor: Principal, *, now: datetime,
                         what: str) -> tuple[Item, Council, Ballot]:
    """Return a withheld result, its council and the ballot withholding it, for a renewal or release proposal
    by someone the one rule lets propose it (I6, I13); refusals by a reader are audited."""
    access = open_item(session, item_id, actor, now=now)
    item, standing = access.item, access.standing
    if standing is None or not policy.can_propose_withheld_review(actor, standing, access.facts.item,
                                                                  gate.requester(session, actor)):
        refuse(session, Forbidden("非公開とした成果の見直しを提案できるのは、非公開要請を行える省庁の担当官、提供者、議長又は事務局"
                                  "のみです / Only a ministry officer who may request non-disclosure, the provider, the "
                                  "chair or the secretariat may propose this (I6, I13)"),
               AuditTag.INFO_NONDISCLOSURE_REFUSED, now=now, actor=actor, subject=subject_of(item),
               data={"state": item.state, "what": what})
    current = rules.withholding_ballot(access.ballots) if item.state == ItemState.WITHHELD else None
    if current is None or current.ends_at is None:
        raise Conflict("非公開とされた研究成果ではありません / only a withheld research result can be reviewed")
    if repo.has_open_ballot(session, item.id):
        raise Conflict("この項目の投票が進行中です / a vote on this item is already open")
    return item, _council(session, item), current


def propose_withheld_renewal(session: Session, *, item_id: int, actor: Principal, now: datetime, reason: str,
                             review_at: datetime | None = None, deadline: datetime | None = None,
                             deps: InformationDeps | None = None) -> Ballot:
    """Propose keeping a withheld result withheld past its review date (I6, I13; the machinery of I5).

    Unanimous like the request itself, decided before the current review date; the new review date is at
    most one bylaws period (``withheld_review_months``) after the current one. Without it the result is
    released at its review date.
    """
    item, council, current = _withheld_for_review(session, item_id, actor, now=now, what="renewal")
    assert current.ends_at is not None
    if now >= current.ends_at:
        raise Conflict("見直し日を過ぎています / the review date has passed")
    text, new_review, vote_deadline = rules.check_withheld_renewal(
        now=now, reason=reason, review_at=current.ends_at, given=review_at,
        months=_review_months(session, council), deadline=deadline)
    item.updated_at = now
    ballot = _open_ballot(session, item, council, None, kind=BallotKind.WITHHOLD_RENEWAL, actor=actor, now=now,
                          reason=text, reason_code=current.reason_code, deadline=vote_deadline, renews=current,
                          deps=deps, ends_at=new_review)
    return ballot


def propose_release(session: Session, *, item_id: int, actor: Principal, now: datetime, reason: str,
                    deadline: datetime | None = None, deps: InformationDeps | None = None) -> Ballot:
    """Propose releasing a withheld result before its review date (I13): public once everyone accepts."""
    item, council, current = _withheld_for_review(session, item_id, actor, now=now, what="release")
    text, vote_deadline = rules.check_publication_proposal(now=now, reason=reason, deadline=deadline)
    item.updated_at = now
    return _open_ballot(session, item, council, None, kind=BallotKind.RELEASE, actor=actor, now=now, reason=text,
                        deadline=vote_deadline, renews=current, deps=deps)


def _council(session: Session, item: Item) -> Council:
    council = council_repo.council_by_id(session, item.council_id)
    if council is None:  # pragma: no cover - foreign key
        raise NotFound("協議会が見つかりません / council not found")
    return council


@dataclass
class BallotView:
    """A proposal as voters see it: never the content (I4)."""

    ballot: Ballot
    item_title: str
    item_summary: str
    item_category: str
    votes: list[Vote]
    scope: policy.Scope | None
    my_vote: Vote | None
    can_read_item: bool


def _ballot_scope(session: Session, ballot: Ballot) -> policy.Scope | None:
    if ballot.scope_kind is None:
        return None
    entries = repo.scope_entries(session, ballot.id)
    return policy.Scope(kind=ballot.scope_kind,
                        user_ids=frozenset(e.user_id for e in entries if e.user_id is not None),
                        organization_ids=frozenset(e.organization_id for e in entries if e.organization_id is not None))


def get_ballot(session: Session, *, ballot_id: int, actor: Principal, now: datetime | None = None) -> BallotView:
    """Return a proposal for a voter, a reader of the item or a manager — with content access (404 otherwise)."""
    ballot = repo.ballot_by_id(session, ballot_id)
    if ballot is None:
        raise NotFound("提案が見つかりません / proposal not found")
    access = gate.ballot_access(session, actor, ballot)
    if not access.decide().allowed:
        error = NotFound("提案が見つかりません / proposal not found")
        if now is None:
            raise error
        refuse(session, error, AuditTag.INFO_READ_REFUSED, now=now, actor=actor, subject=f"ballot:{ballot.id}",
               data={"why": "ballot"})
    item = access.item.item
    votes = repo.votes_of(session, ballot.id)
    mine = next((v for v in votes if v.user_id == actor.user_id), None)
    return BallotView(ballot=ballot, item_title=item.title, item_summary=item.summary, item_category=item.category,
                      votes=votes, scope=_ballot_scope(session, ballot), my_vote=mine,
                      can_read_item=access.item.readable)


def _seen(session: Session, actor: Principal, ballots: Sequence[Ballot]) -> list[Ballot]:
    """Keep the ballots the gate lets ``actor`` see (content access in each council, C3, I4, I7)."""
    by_council: dict[int, Standing | None] = {}
    items = repo.items_by_ids(session, {b.item_id for b in ballots})
    mine = repo.ballots_voted_by(session, actor.user_id, [b.id for b in ballots])
    result = []
    for ballot in ballots:
        if ballot.council_id not in by_council:
            by_council[ballot.council_id] = gate.standing(session, ballot.council_id, actor.user_id)
        access = gate.access_for(session, None, items[ballot.item_id]).for_actor(actor, by_council[ballot.council_id])
        if decide_ballot(actor, BallotFacts(item=access.facts, is_voter=ballot.id in mine)).allowed:
            result.append(ballot)
    return result


def my_open_ballots(session: Session, *, actor: Principal) -> list[Ballot]:
    """Return the open ballots awaiting ``actor``'s answer that ``actor`` may see now."""
    return _seen(session, actor, repo.pending_ballots_of(session, actor.user_id))


def list_ballots(session: Session, *, council_id: int, actor: Principal) -> list[Ballot]:
    """Return the council's ballots the caller votes on or whose item the caller may read."""
    council = council_repo.council_by_id(session, council_id)
    if council is None:
        raise NotFound("協議会が見つかりません / council not found")
    return _seen(session, actor, repo.council_ballots(session, council_id))


def vote(session: Session, *, ballot_id: int, actor: Principal, now: datetime, decision: str,
         reason: str | None = None, deps: InformationDeps | None = None) -> Ballot:
    """Cast a vote (I4, I6). Late votes and votes by non-voters are refused and audited."""
    ballot = repo.ballot_by_id(session, ballot_id)
    if ballot is None:
        raise NotFound("提案が見つかりません / proposal not found")
    choice = rules.parse_enum(VoteDecision, decision, "decision")
    if choice == VoteDecision.PENDING:
        raise ValidationFailed("decision は「賛成」か「反対」から選んでください / decision must be accept or object", field="decision")
    subject = f"ballot:{ballot.id}"
    row = repo.vote_of(session, ballot.id, actor.user_id, lock=True)
    access = gate.ballot_access(session, actor, ballot)
    if row is None or not access.decide().allowed:
        # Not a voter, or a voter without content access (no pledge for the duty in force, no second factor,
        # left the council): the proposal does not exist for them (C3, I4, I7).
        refuse(session, NotFound("提案が見つかりません / proposal not found"), AuditTag.INFO_VOTE_REFUSED, now=now, actor=actor,
               subject=subject, data={"why": "not a voter" if row is None else "no content access"})
    if not access.may_vote():
        refuse(session, Forbidden("投票には現在の構成員であること、協議会が活動中であること及び二段階認証が必要です / "
            "a vote needs a current membership, an operating council and a second factor"),
               AuditTag.INFO_VOTE_REFUSED, now=now, actor=actor, subject=subject, data={"why": "standing"})
    if ballot.state != BallotState.OPEN or now >= ballot.deadline:
        refuse(session, Conflict("この提案の投票は締め切られました / voting on this proposal has closed"), AuditTag.INFO_VOTE_REFUSED, now=now,
               actor=actor, subject=subject, data={"why": "closed", "state": ballot.state})
    if row.decision != VoteDecision.PENDING:
        refuse(session, Conflict("この提案には投票済みです / you have already voted on this proposal"), AuditTag.INFO_VOTE_REFUSED, now=now,
               actor=actor, subject=subject, data={"why": "already voted"})
    if choice == VoteDecision.OBJECT and not (reason or "").strip():
        raise ValidationFailed("反対の理由を入力してください / an objection needs a reason", field="reason")
    row.decision = choice.value
    row.reason = clean_text(reason, "reason", max_length=2000, required=False) or None
    row.decided_at = now
    _audit(session, AuditTag.INFO_VOTE_CAST, now=now, actor=actor, subject=subject,
           data={"decision": choice.value, "item_id": ballot.item_id, "kind": ballot.kind})
    session.flush()
    _settle(session, ballot, now=now, actor=actor, deps=deps)
    return ballot


def _provider_decision(session: Session, ballot: Ballot, item: Item) -> str | None:
    """Return the provider's answer on ``ballot``, or None when they no longer take part (I13)."""
    if item.provider_id not in {m.user_id for m in _voters(session, ballot.council_id)}:
        return None
    return repo.decision_of(session, ballot.id, item.provider_id)


def _live_decisions(session: Session, ballot: Ballot) -> list[str]:
    # A voter who has left the council no longer takes part (C3: leaving ends participation).
    current = {m.user_id for m in _voters(session, ballot.council_id)}
    return [decision for user_id, decision in repo.live_decisions(session, ballot.id) if user_id in current]


def _settle(session: Session, ballot: Ballot, *, now: datetime, actor: Principal | None,
            deps: InformationDeps | None = None) -> None:
    """Apply a ballot's outcome when unanimity or rejection is reached (I4–I6)."""
    if ballot.state != BallotState.OPEN:
        return
    outcome = rules.tally(_live_decisions(session, ballot), now=now, deadline=ballot.deadline)
    item = repo.item_by_id(session, ballot.item_id)
    assert item is not None
    if ballot.kind == BallotKind.PUBLICATION:
        outcome = rules.with_provider_consent(outcome, _provider_decision(session, ballot, item))
    if outcome == BallotState.OPEN:
        return
    ballot.state = outcome.value
    ballot.decided_at = now
    item.updated_at = now
    kind = BallotKind(ballot.kind)
    accepted = outcome == BallotState.ACCEPTED
    if kind == BallotKind.DESIGNATION:
        if accepted:
            if not ballot.file_ids:  # a partial designation leaves the item's own openness alone
                item.state = ItemState.DESIGNATED.value
            item.current_designation_id = ballot.id
        elif not ballot.file_ids:
            _release_held(session, item, now=now)
        tag = AuditTag.INFO_DESIGNATION_ACCEPT if accepted else AuditTag.INFO_DESIGNATION_REJECT
    elif kind == BallotKind.RENEWAL:
        if accepted:
            previous = repo.ballot_by_id(session, ballot.renews_id) if ballot.renews_id else None
            if previous is not None:
                previous.state = BallotState.LAPSED.value
                previous.lapsed_at = now
            item.current_designation_id = ballot.id
        tag = AuditTag.INFO_DESIGNATION_ACCEPT if accepted else AuditTag.INFO_DESIGNATION_REJECT
    elif kind == BallotKind.PUBLICATION:
        if accepted and item.state in (ItemState.COUNCIL, ItemState.SCHEDULED):
            _publish(session, item, now=now, actor=actor, how="vote")
        tag = AuditTag.INFO_PUBLICATION_ACCEPT if accepted else AuditTag.INFO_PUBLICATION_REJECT
    elif kind in (BallotKind.WITHHOLD_RENEWAL, BallotKind.RELEASE):
        tag = _settle_withheld(session, ballot, item, kind=kind, accepted=accepted, now=now, actor=actor)
    else:
        if accepted:
            item.state = ItemState.WITHHELD.value
            # I13: no result is withheld for ever: it is reviewed after the bylaws' period
            ballot.ends_at = rules.add_months(now, _review_months(session, _council(session, item)))
        elif item.publish_at is not None and item.publish_at <= now and item.state == ItemState.SCHEDULED:
            _publish(session, item, now=now)
        tag = AuditTag.INFO_NONDISCLOSURE_ACCEPT if accepted else AuditTag.INFO_NONDISCLOSURE_REJECT
    _audit(session, tag, now=now, actor=actor, subject=subject_of(item),
           data={"ballot_id": ballot.id, "kind": ballot.kind, "outcome": outcome.value, "item_state": item.state,
                 "review_at": ballot.ends_at.isoformat() if ballot.ends_at and kind in _WITHHOLDING else None})
    notices.ballot_decided(session, ballot=ballot, item=item, now=now)
    _index(session, deps, item, now)
    session.flush()


_WITHHOLDING = (BallotKind.NONDISCLOSURE, BallotKind.WITHHOLD_RENEWAL)


def _settle_withheld(session: Session, ballot: Ballot, item: Item, *, kind: BallotKind, accepted: bool,
                     now: datetime, actor: Principal | None) -> AuditTag:
    """Apply a decided renewal or early release of a withheld result (I6, I13) and return the audit tag.

    A rejected renewal leaves the review date as it was (the result is released then); a rejected release
    leaves the result withheld until its review date.
    """
    current = repo.ballot_by_id(session, ballot.renews_id) if ballot.renews_id else None
    if kind == BallotKind.WITHHOLD_RENEWAL:
        if accepted and current is not None:
            current.state = BallotState.LAPSED.value  # the renewal withholds from now on, to its own date
            current.lapsed_at = now
        return AuditTag.INFO_WITHHELD_RENEW_ACCEPT if accepted else AuditTag.INFO_WITHHELD_RENEW_REJECT
    if accepted and item.state == ItemState.WITHHELD:
        if current is not None:
            current.state = BallotState.LAPSED.value
            current.lapsed_at = now
        _publish(session, item, now=now, actor=actor, how="release_vote")
    return AuditTag.INFO_WITHHELD_RELEASE_ACCEPT if accepted else AuditTag.INFO_WITHHELD_RELEASE_REJECT


def _release_held(session: Session, item: Item, *, now: datetime) -> None:
    """Return a held item to its default openness after its designation was rejected (I2, I4).

    A held result was readable by its provider and the secretariat only, so the council has not had its prior
    notice yet (I13): its notice starts now — the publication date moves to the end of a full window if
    sooner, and the readers are told — so that a non-disclosure request (I6) can still be filed.
    """
    if item.is_result:
        item.publish_at = rules.publication_date(now=now, given=item.publish_at,
                                                 notice_days=_notice_days(session, _council(session, item)))
    _release(item, now)
    if item.is_result and item.state == ItemState.SCHEDULED:
        notices.publication_scheduled(session, item=item, recipient_ids=_readers(session, item), now=now)


def _release(item: Item, now: datetime) -> None:
    """Return an item to its default openness after a rejected proposal or a lapse (I2, I5, I6)."""
    item.current_designation_id = None
    state = _default_state(item, now)
    item.state = state.value
    if state == ItemState.PUBLIC and item.published_at is None:
        item.published_at = now


def _publish(session: Session, item: Item, *, now: datetime, actor: Principal | None = None,
             how: str = "scheduled") -> None:
    """Make an item public and audit how it came to be (the schedule, the provider, a vote)."""
    item.state = ItemState.PUBLIC.value
    item.published_at = now
    item.updated_at = now
    _audit(session, AuditTag.INFO_ITEM_PUBLISH, now=now, actor=actor, subject=subject_of(item),
           data={"provenance": item.provenance, "how": how, "early": how != "scheduled"})


def _publishable(session: Session, item: Item, *, now: datetime) -> None:
    """Raise 409 unless ``item`` may become public now: at rest, no open vote, its notice over (I6, I13)."""
    if item.state not in (ItemState.SCHEDULED, ItemState.COUNCIL):
        raise Conflict(f"状態 {item.state!r} の項目は公開できません / an item in state {item.state!r} cannot be "
                       "published now")
    if repo.has_open_ballot(session, item.id):
        raise Conflict("この項目の投票が進行中です。決定を待ってください / a vote on this item is open; "
                       "publication waits for the decision (I6)")
    ends = _notice_running(session, item, now)
    if ends is not None:
        when = to_jst(ends).strftime("%Y-%m-%d %H:%M")
        raise Conflict(f"研究成果は事前告知期間（{when} JST まで）が終わるまで公開できません（非公開要請のための期間）"
                       f" / a result cannot be published before its prior-notice window ends ({when} JST), "
                       "which leaves time for non-disclosure requests (I13)", field="publish_at")


def _notice_end(session: Session, item: Item) -> datetime | None:
    """Return when a result's prior-notice window ends (I13; None for an item that is no result): counted from
    filing, or from the rejection of a designation that held the whole result until then (the council could not
    read it before, :func:`_release_held`)."""
    if not item.is_result:
        return None
    start = max(item.created_at, repo.held_until(session, item.id) or item.created_at)
    return rules.notice_ends(filed_at=start, notice_days=_notice_days(session, _council(session, item)))


def _notice_running(session: Session, item: Item, now: datetime) -> datetime | None:
    """Return when a result's prior-notice window ends while it still runs, else None (I13)."""
    ends = _notice_end(session, item)
    return ends if ends is not None and now < ends else None


def publish_now(session: Session, *, item_id: int, actor: Principal, now: datetime,
                deps: InformationDeps | None = None) -> Item:
    """The provider publishes their own item early (I13); a result not before its notice ends (I6).

    The chair or secretariat cannot publish another's item: they propose it to a unanimous vote
    that includes the provider (:func:`propose_publication`); their attempt here is refused and audited.
    """
    item, standing = _manageable(session, item_id, actor)
    if not policy.can_publish_early(actor, standing, facts_of(session, item)):
        refuse(session, Forbidden("提供者の同意なく公開することはできません。議長・事務局は早期公開を提案できます（全員一致）"
                                  " / Only the provider may publish their item; the chair or secretariat may propose "
                                  "early publication to a unanimous vote (I13)"),
               AuditTag.INFO_PUBLICATION_REFUSED, now=now, actor=actor, subject=subject_of(item),
               data={"state": item.state, "provider_id": item.provider_id})
    _publishable(session, item, now=now)
    _publish(session, item, now=now, actor=actor, how="provider")
    _index(session, deps, item, now)
    session.flush()
    return item


def propose_publication(session: Session, *, item_id: int, actor: Principal, now: datetime, reason: str,
                        deadline: datetime | None = None, deps: InformationDeps | None = None) -> Ballot:
    """The chair or secretariat proposes publishing another's item early (I13).

    Decided like a designation: every voter of the council, one objection rejects, a missing
    answer at the deadline rejects — and the provider must be among the voters and accept.
    """
    item, standing = _manageable(session, item_id, actor)
    facts = facts_of(session, item)
    if policy.can_publish_early(actor, standing, facts):
        raise Conflict("提供者は投票なしで公開できます / the provider may publish their own item without a vote")
    if not policy.can_propose_publication(actor, standing, facts):
        raise Forbidden("議長又は事務局のみが早期公開を提案できます / Only the chair or secretariat may propose "
                        "early publication")
    _publishable(session, item, now=now)
    council = _council(session, item)
    if item.provider_id not in {m.user_id for m in _voters(session, council.id)}:
        raise Conflict("提供者が協議会の投票権を持つ参加者ではないため、その同意を得られません / the provider no longer "
                       "votes in this council, so their consent cannot be given (I13)")
    text, vote_deadline = rules.check_publication_proposal(now=now, reason=reason, deadline=deadline)
    item.updated_at = now
    return _open_ballot(session, item, council, None, kind=BallotKind.PUBLICATION, actor=actor, now=now,
                        reason=text, deadline=vote_deadline, deps=deps)


# ---------------------------------------------------------------------------------------------
# The scheduled job (I5, I6): runs in `banso serve`/`banso demo` and as `banso jobs run-due`


@dataclass
class DueReport:
    """What one run did."""

    settled: int = 0
    lapsed: int = 0
    published: int = 0
    reminders: int = 0
    released: int = 0  # withheld results released at their review date (I13)


def run_due_information(session: Session, *, now: datetime, deps: InformationDeps | None = None) -> DueReport:
    """Settle ballots past their deadline, lapse ended designations, publish due results, remind."""
    report = DueReport()
    for due in repo.due_ballots(session, now):
        _settle(session, due, now=now, actor=None, deps=deps)
        report.settled += 1
    for item in repo.designated_items(session):
        ballot = repo.ballot_by_id(session, item.current_designation_id) if item.current_designation_id else None
        if ballot is None or ballot.ends_at is None:
            continue
        if ballot.ends_at <= now:
            ballot.state = BallotState.LAPSED.value
            ballot.lapsed_at = now
            for other in repo.open_ballots_of(session, item.id):
                other.state = BallotState.REJECTED.value  # a renewal not decided before the end is moot
                other.decided_at = now
            if ballot.file_ids:
                item.current_designation_id = None  # the files follow the item again
            else:
                _release(item, now)
            item.updated_at = now
            _audit(session, AuditTag.INFO_DESIGNATION_LAPSE, now=now, actor=None, subject=subject_of(item),
                   data={"ballot_id": ballot.id, "new_state": item.state})
            notices.designation_lapsed(session, item=item, ballot=ballot, now=now)
            _index(session, deps, item, now)  # council-shared again: the body becomes searchable
            report.lapsed += 1
            continue
        days = rules.reminder_due(now=now, ends_at=ballot.ends_at, reminded_30=ballot.reminded_30,
                                  reminded_7=ballot.reminded_7)
        if days is not None:
            if days == 7:
                ballot.reminded_7 = True
                ballot.reminded_30 = True
            else:
                ballot.reminded_30 = True
            notices.designation_ending(session, item=item, ballot=ballot, days=days,
                                       recipient_ids=_readers(session, item, file_ids=ballot.file_ids), now=now)
            _audit(session, AuditTag.INFO_DESIGNATION_REMIND, now=now, actor=None, subject=subject_of(item),
                   data={"ballot_id": ballot.id, "days": days})
            report.reminders += 1
    _review_withheld(session, report, now=now, deps=deps)
    for item in repo.scheduled_due(session, now):
        pending = repo.open_ballots_of(session, item.id)
        if any(b.kind != BallotKind.PUBLICATION for b in pending):
            continue  # I6: publication waits for the non-disclosure decision
        for moot in pending:  # I13: the date came first; an early-publication vote has nothing left to decide
            moot.state = BallotState.WITHDRAWN.value
            moot.decided_at = now
        _publish(session, item, now=now)
        _index(session, deps, item, now)
        report.published += 1
    session.flush()
    return report


def _review_withheld(session: Session, report: DueReport, *, now: datetime, deps: InformationDeps | None) -> None:
    """Remind 30 and 7 days before a withheld result's review date; at the date, release it (I13) — an
    accepted renewal has already taken the place of the ballot that withheld it (settled above)."""
    for item, ballot in repo.withheld_reviews(session):
        if ballot.ends_at is None:
            continue  # pragma: no cover - every accepted request gets a date (service; migration 0022)
        if ballot.ends_at <= now:
            ballot.state = BallotState.LAPSED.value
            ballot.lapsed_at = now
            for moot in repo.open_ballots_of(session, item.id):  # a renewal or release not decided in time
                moot.state = BallotState.REJECTED.value
                moot.decided_at = now
            _publish(session, item, now=now, how="review")
            _audit(session, AuditTag.INFO_WITHHELD_RELEASE, now=now, actor=None, subject=subject_of(item),
                   data={"ballot_id": ballot.id, "review_at": ballot.ends_at.isoformat()})
            notices.withheld_released(session, item=item, recipient_ids=_readers(session, item), now=now)
            _index(session, deps, item, now)
            report.released += 1
            continue
        days = rules.reminder_due(now=now, ends_at=ballot.ends_at, reminded_30=ballot.reminded_30,
                                  reminded_7=ballot.reminded_7)
        if days is None:
            continue
        ballot.reminded_30 = True
        ballot.reminded_7 = ballot.reminded_7 or days == 7
        notices.withheld_review_due(session, item=item, ballot=ballot, days=days,
                                    recipient_ids=_readers(session, item), now=now)
        _audit(session, AuditTag.INFO_WITHHELD_REMIND, now=now, actor=None, subject=subject_of(item),
               data={"ballot_id": ballot.id, "days": days, "review_at": ballot.ends_at.isoformat()})
        report.reminders += 1


def _readers(session: Session, item: Item, *, file_ids: Sequence[int] = ()) -> list[int]:
    """Return the current members a notice about ``item`` (or, with ``file_ids``, about those files under a
    partial designation, which share one scope) may name — through the gate (I7, I12)."""
    access = gate.access_for(session, None, item)
    return gate.readers(session, access, file_id=min(file_ids) if file_ids else None)


def managers_of(session: Session, council_id: int) -> list[int]:
    """Return the chair and secretariat of a council."""
    return [m.user_id for m in repo.current_members(session, council_id) if m.role in MANAGER_ROLES]
