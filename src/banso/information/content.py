"""The sealed content of information items (I11): data-key release and the decryption of bodies, files and
indicators, after the gate has decided (I12). A refused key or a tampered ciphertext is audited (A1).

Its own module so that search, distribution and export read content without importing the service.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.principal import Principal
from banso.information import repository as repo
from banso.information.deps import InformationDeps
from banso.information.models import Item, ItemFile, ItemVersion
from banso.kit.errors import NotFound
from banso.sealed import crypto


def subject_of(item: Item) -> str:
    """Return the audit subject of an item."""
    return f"item:{item.id}"


def body_aad(item_id: int, version: int) -> bytes:
    """Return the associated data that binds a sealed body to its item and version (I11)."""
    return f"banso:item:{item_id}:version:{version}".encode()


def file_aad(item_id: int, sha256: str) -> bytes:
    """Return the associated data that binds a sealed file to its item and plaintext digest (I11)."""
    return f"banso:item:{item_id}:file:{sha256}".encode()


def indicators_aad(item_id: int) -> bytes:
    """Return the associated data that binds sealed indicators to their item (I11)."""
    return f"banso:item:{item_id}:indicators".encode()


def seal_indicators(indicators: Sequence[Mapping[str, str]], *, item_id: int, data_key: bytes) -> bytes | None:
    """Seal an item's imported indicators with its data key (I11); None when there are none."""
    if not indicators:
        return None
    rows = [{"type": i.get("type", ""), "value": i.get("value", ""), "comment": i.get("comment", "")}
            for i in indicators]
    return crypto.seal(json.dumps(rows, ensure_ascii=False).encode(), data_key=data_key,
                       aad=indicators_aad(item_id))


def data_key(session: Session, deps: InformationDeps, item: Item, *, actor: Principal | None,
             now: datetime) -> bytes:
    """Release the item's data key (after the gate said yes); an unavailable key is audited and refused."""
    # I11: the key is released only after the policy said yes (callers check first).
    try:
        return deps.keys.unwrap(item.council_id, item.wrapped_key)
    except crypto.KeyUnavailable as exc:
        audit.refuse(session, exc, AuditTag.INFO_INTEGRITY_FAILED, now=now, actor=actor, subject=subject_of(item),
               data={"what": "data key"})


def _open_sealed(session: Session, item: Item, blob: bytes, *, key: bytes, aad: bytes, actor: Principal | None,
          now: datetime, what: str) -> bytes:
    try:
        return crypto.open_sealed(blob, data_key=key, aad=aad)
    except crypto.TamperedCiphertext as exc:
        audit.refuse(session, exc, AuditTag.INFO_INTEGRITY_FAILED, now=now, actor=actor, subject=subject_of(item),
               data={"what": what})


def body_of(session: Session, deps: InformationDeps, item: Item, *, version: int | None = None,
            actor: Principal | None, now: datetime) -> str:
    """Decrypt one version's body (callers have checked the policy)."""
    number = version or item.current_version
    return open_body(session, deps, item, repo.version_row(session, item.id, number), actor=actor, now=now)


def open_body(session: Session, deps: InformationDeps, item: Item, row: ItemVersion | None, *,
               actor: Principal | None, now: datetime) -> str:
    """Decrypt a version's body already loaded (404 when there is no such version)."""
    if row is None:
        raise NotFound("版が見つかりません / version not found")
    key = data_key(session, deps, item, actor=actor, now=now)
    return _open_sealed(session, item, row.body_sealed, key=key, aad=body_aad(item.id, row.version), actor=actor,
                 now=now, what=f"body v{row.version}").decode()


def indicators_of(session: Session, deps: InformationDeps, item: Item, *, actor: Principal | None,
                  now: datetime) -> list[dict[str, str]]:
    """Decrypt the item's imported indicators (callers have checked the policy); [] when it has none."""
    if item.indicators_sealed is None:
        return []
    key = data_key(session, deps, item, actor=actor, now=now)
    opened: list[dict[str, str]] = json.loads(_open_sealed(session, item, item.indicators_sealed, key=key,
                                                    aad=indicators_aad(item.id), actor=actor, now=now,
                                                    what="indicators"))
    return opened


def file_bytes(session: Session, deps: InformationDeps, item: Item, row: ItemFile, *, actor: Principal | None,
               now: datetime) -> bytes:
    """Decrypt a file (callers have checked the policy)."""
    key = data_key(session, deps, item, actor=actor, now=now)
    try:
        sealed = deps.store.get(row.blob)
    except FileNotFoundError:
        audit.refuse(session, crypto.TamperedCiphertext("保存されたファイルがありません / the stored file is missing"), AuditTag.INFO_INTEGRITY_FAILED,
               now=now, actor=actor, subject=subject_of(item), data={"file_id": row.id})
    return _open_sealed(session, item, sealed, key=key, aad=file_aad(item.id, row.sha256), actor=actor, now=now,
                 what=f"file {row.id}")
