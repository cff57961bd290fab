"""Export-control classification of council items (該非判定, DESIGN F7).

The export-control officer (輸出管理責任者) who can read a non-public item records its verdict — 該当 (listed
technology), 要確認 (to be checked) or 非該当 — with the list item (輸出貿易管理令別表第1 / 外為令別表 項番) and
the reason; every classification is kept, the latest is in force (``Item.export_control``). Classifying an item
該当/要確認 marks its council as holding classified items and opens a deemed-export check for each current member
of another nationality or with a foreign affiliation (``councils/export_control.py``); the read rule holds the
item from them until the officer clears them. Everything is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz import gate
from banso.authz.guard import require_visible
from banso.authz.policies import information as policy
from banso.authz.principal import Principal
from banso.councils import export_control as clearances
from banso.councils.models import Council
from banso.information import repository as repo
from banso.information.content import subject_of
from banso.information.models import ExportClassification, ExportVerdict, Item
from banso.kit.errors import BansoError, NotFound, ValidationFailed
from banso.kit.text import clean_text

VERDICT_LABELS = {ExportVerdict.APPLICABLE.value: "該当", ExportVerdict.CHECK.value: "要確認",
                  ExportVerdict.NOT_APPLICABLE.value: "非該当"}


def classify(session: Session, *, item_id: int, actor: Principal, now: datetime, verdict: str,
             list_item: str | None, reason: str) -> ExportClassification:
    """Record a classification of an item (F7). Only the export-control officer who can read the (non-public)
    item may; others get 404 as for an item out of their scope (I7)."""
    access = gate.item_access(session, actor, item_id)
    if access is None:
        raise NotFound("情報が見つかりません / information item not found")
    require_visible(policy.can_classify(actor, access.standing, access.facts.item), "information item")
    item = access.item
    try:
        if verdict not in VERDICT_LABELS:
            raise ValidationFailed("判定は「該当」「要確認」「非該当」から選んでください / verdict must be applicable, "
                                   "check or not_applicable", field="verdict")
        listed = clean_text(list_item, "list_item", max_length=200, required=verdict == ExportVerdict.APPLICABLE) or None
        why = clean_text(reason, "reason", max_length=5000)
    except BansoError as exc:
        audit.refuse(session, exc, AuditTag.EXPORT_CLASSIFY_REFUSED, now=now, actor=actor, subject=subject_of(item),
                     data={"verdict": verdict})
    record = ExportClassification(item_id=item.id, council_id=item.council_id, verdict=verdict, list_item=listed,
                                  reason=why, classified_by_id=actor.user_id, classified_at=now)
    session.add(record)
    item.export_control = verdict
    session.flush()
    council = session.get(Council, item.council_id)
    assert council is not None  # foreign key
    council.export_controlled = repo.holds_controlled(session, council.id)
    audit.record_for(session, AuditTag.EXPORT_CLASSIFY, now=now, actor=actor, subject=subject_of(item),
                     data={"classification_id": record.id, "verdict": verdict, "list_item": listed})
    if council.export_controlled:
        clearances.request_for_members(session, council, now=now, actor=actor)
    return record


def history(session: Session, *, item_id: int, actor: Principal | None) -> list[ExportClassification]:
    """Return the item's classifications, newest first, to those who may read the item (else 404)."""
    access = gate.item_access(session, actor, item_id)
    if access is None or not access.readable:
        raise NotFound("情報が見つかりません / information item not found")
    return repo.classifications(session, item_id)


def shown_on_page(session: Session, item: Item, *, may_classify: bool) -> list[ExportClassification]:
    """Return the records the item page shows to a reader the gate already let in (no statement when the item
    was never classified and the reader may not classify it)."""
    if item.export_control is None and not may_classify:
        return []
    return repo.classifications(session, item.id)
