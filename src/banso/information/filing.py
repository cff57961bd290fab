"""Filing material from other domains into a council as information items (C6, F5, T6).

* A material request's answer (資料提供の求め, C6) arrives as an item: provenance think tank or
  participant, the answer text as body, the answer files attached.
* A think-tank commission's deliverable (F5) is filed by the programme domain
  (``banso.programme.filing``) with :func:`refuse_if_filed` and :func:`service.create_item`.
* An analytics report (T6: the Excel workbook and the indicator tables) is filed from
  `banso analyze report --file-into`.

Each filing is an ordinary :func:`service.create_item` call, so encryption, the default openness,
an optional designation proposal and the audit entry come from one place. Filing the same source
into the same council twice is refused (``origin`` records the source).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.authz.guard import require_visible
from banso.authz.policies import content as content_policy
from banso.authz.policies import information as info_policy
from banso.authz.principal import Principal
from banso.councils import repository as council_repo
from banso.councils import service as councils
from banso.councils.models import AddresseeKind, RequestStatus
from banso.information import service
from banso.information.deps import InformationDeps
from banso.information.models import Item
from banso.kit.errors import Conflict, ValidationFailed
from banso.sealed.store import SealedDeps


def refuse_if_filed(session: Session, council_id: int, origin: str, actor: Principal) -> None:
    """Refuse (409) filing ``origin`` into a council that already holds it as an item.

    Only someone who may contribute to the council learns that: anyone else gets the 404 that
    ``service.create_item`` would give (I7; the duplicate check once ran first and told a non-member that the
    council held the item — outside finding, session 9).
    """
    found = council_repo.council_with_standing(session, council_id, actor.user_id)
    require_visible(found is not None and info_policy.can_contribute(actor, found[1]), "council content")
    existing = session.scalar(select(Item.id).where(Item.council_id == council_id, Item.origin == origin))
    if existing is not None:
        raise Conflict(f"この協議会には既に情報 #{existing} として登録済みです / already filed in this council as item {existing}")


def file_request_answer(session: Session, deps: InformationDeps, *, council_id: int, request_id: int,
                        actor: Principal, now: datetime, material_store: SealedDeps,
                        designation: service.DesignationInput | None = None) -> Item:
    """File an answered material request as an item of its council (C6)."""
    view = councils.get_request(session, council_id=council_id, request_id=request_id, actor=actor, now=now,
                                store=material_store)
    req = view.request
    if req.status == RequestStatus.OPEN or req.answer_sealed is None:
        raise Conflict("この依頼にはまだ回答がありません / the request has not been answered yet")
    council = council_repo.council_by_id(session, council_id)
    assert council is not None  # get_request found it
    # Who may file the answer is who may give it (C6): the addressee or the chair/secretariat.
    # For a think-tank commission's request that is the chair/secretariat only (Art. 64).
    if not content_policy.can_file_answer(actor, councils.standing_of(session, council, actor.user_id),
                                          councils.answer_parties(req)):
        raise ValidationFailed("回答を提供できるのは依頼先又は事務局のみです / only the addressee or the secretariat files the answer", field="request_id")
    # Whoever may give the answer is one of its parties (C6), so get_request opened it for them.
    assert view.answer_text is not None
    origin = f"material_request:{req.id}"
    refuse_if_filed(session, council_id, origin, actor)
    opened = councils.answer_files(session, council_id=council_id, request_id=req.id, actor=actor, now=now,
                                   store=material_store)
    uploads = [service.Upload(f.filename, f.content_type, data) for f, data in opened]
    provenance = "think_tank" if req.addressee_kind == AddresseeKind.THINK_TANK else "participant"
    return service.create_item(
        session, deps, council_id=council_id, actor=actor, now=now, title=f"回答: {req.title}"[:300],
        summary=f"資料提供の求め #{req.id} への回答", body=view.answer_text, matter=req.matter,
        category="government_research" if provenance == "think_tank" else "other", provenance=provenance,
        files=uploads, designation=designation, origin=origin)


def file_report(session: Session, deps: InformationDeps, *, council_id: int, actor: Principal, now: datetime,
                title: str, summary: str, paths: Sequence[Path]) -> Item:
    """File an analytics report's outputs (workbook, CSV tables) into a council (T6)."""
    uploads = []
    for path in paths:
        if not path.is_file():
            raise ValidationFailed(f"{path} はファイルではありません / {path} is not a file", field="paths")
        content_type = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        ".csv": "text/csv", ".pdf": "application/pdf", ".png": "image/png"}.get(path.suffix)
        uploads.append(service.Upload(path.name, content_type, path.read_bytes()))
    if not uploads:
        raise ValidationFailed("提供するものがありません / nothing to file", field="paths")
    return service.create_item(
        session, deps, council_id=council_id, actor=actor, now=now, title=title, summary=summary,
        body=summary, matter="useful_information", category="government_research", provenance="think_tank",
        files=uploads, origin=f"analytics:{now.isoformat(timespec='seconds')}")
