"""One sealed store for everything non-public a council holds (I11, I12, I8).

Information items have their own envelope (``banso.information.service``); this module gives the
same treatment to the rest: material-request answer files (C6), commission deliverables (F5),
minutes and decisions (C5).

Vocabulary:

* **scope** — whose key seals the content. Council content is sealed under the council's
  key-encryption key, in the same :class:`~banso.sealed.crypto.KeyStore` as the council's items
  (``data_dir/keys/councils``). A commission has no council: its deliverables are sealed under a
  key of the commission's own, held by a second key store (``data_dir/keys/commissions``), so
  commission ids and council ids can never collide and destroying one commission's key
  (``revoke``) shreds exactly that commission's deliverables. A proposal's research-plan documents
  (研究提案書・様式, F6) are sealed the same way under a key of the proposal's own, held by a third key
  store (``data_dir/keys/proposals``): a proposal belongs to no council yet, and its applicants,
  the call's staff and its reviewers are not a council's members.
* **envelope** — what a row keeps: a fresh AES-256 data key per file, wrapped by the scope's key
  (``wrapped_key``), and the file-store digest of the ciphertext (``blob``). The associated data
  binds the ciphertext to the scope, the kind of content and the plaintext hash, so a blob copied
  onto another row, council or commission does not open there.
* **sealed text** — minutes and decisions are short texts kept in their row:
  ``b"BST1" ‖ len(wrapped) (2 bytes) ‖ wrapped data key ‖ sealed blob``.
* **copy** — what one recipient downloads: stamped with a visible footer and an invisible
  fingerprint (``banso.leak``), recorded in ``sealed_distributions`` so that
  ``banso leak attribute`` names the recipient of a leaked copy (I8).

Keys are unwrapped only by the ``open_*`` functions, which callers reach after the access
decision (I11: removing access stops new key releases). A missing key, a missing blob or a
ciphertext that fails authentication is refused (422 / 410) and the refusal is audited (A1).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, NoReturn, TypeVar

from sqlalchemy.orm import Session

from banso.accounts import repository as accounts_repo
from banso.audit import service as audit
from banso.audit.tags import AuditTag
from banso.authz.principal import Principal
from banso.kit.cells import neutralise_csv_text
from banso.kit.clock import to_jst
from banso.kit.unit import read_step, released
from banso.leak.image import stamp_image
from banso.leak.office import stamp_office
from banso.leak.pdf import stamp_pdf
from banso.leak.text import CannotFingerprint, stamp_csv, stamp_text
from banso.sealed import crypto
from banso.sealed.crypto import FakeKeyStore, KeyStore, LocalKeyFileStore
from banso.sealed.files import FakeFileStore, FileStore, LocalFileStore
from banso.sealed.models import SealedDistribution, SealedKind
from banso.sealed.uploads import UploadRejected, identify
from banso.web.context import AppContext

D = TypeVar("D")

OFFICE: Final = frozenset({"docx", "xlsx", "pptx"})
IMAGES: Final = frozenset({"png", "jpeg", "gif", "webp"})
_TEXT_MAGIC: Final = b"BST1"
_SNIFF_LIMIT: Final = 1 << 40  # sizes were limited at upload; detection here only picks the stamp


@dataclass
class SealedDeps:
    """Collaborators of the sealed store: blobs, the three key stores and the fingerprint secret."""

    store: FileStore  # ciphertext blobs, content-addressed
    council_keys: KeyStore  # per-council key-encryption keys (shared with the council's items)
    commission_keys: KeyStore  # per-commission key-encryption keys
    fingerprint_key: bytes  # HMAC key deriving per-recipient fingerprints (I8)
    proposal_keys: KeyStore  # per-proposal key-encryption keys (research-plan documents, F6)


def local_deps(data_dir: Path, secret: str, *,
               keys: tuple[KeyStore, KeyStore, KeyStore] | None = None) -> SealedDeps:
    """Return the embedded defaults under ``data_dir``: blobs, council, commission and proposal keys.

    ``keys`` (council keys, commission keys, proposal keys) replaces the key files, e.g. by an HSM's
    stores (``banso.app.wiring`` chooses). The information items share the blob store, the council keys
    and the fingerprint key (``banso.information.deps.local_deps`` builds on this one).
    """
    council_keys, commission_keys, proposal_keys = keys or (
        LocalKeyFileStore(data_dir / "keys" / "councils"),
        LocalKeyFileStore(data_dir / "keys" / "commissions", prefix="commission"),
        LocalKeyFileStore(data_dir / "keys" / "proposals", prefix="proposal"))
    return SealedDeps(store=LocalFileStore(data_dir / "information" / "blobs"),
                      council_keys=council_keys, commission_keys=commission_keys, proposal_keys=proposal_keys,
                      # A separate key per purpose, derived from the app secret (never the secret itself).
                      fingerprint_key=hmac.new(secret.encode(), b"banso:fingerprint:v1", hashlib.sha256).digest())


def sealed_deps(ctx: AppContext) -> SealedDeps:
    """Return the sealed store ``banso.app.wiring`` built for ``ctx`` (council content, deliverables)."""
    return ctx.collaborators.get(SealedDeps)


def fake_deps() -> SealedDeps:
    """Return in-memory collaborators for tests."""
    return SealedDeps(store=FakeFileStore(), council_keys=FakeKeyStore(), commission_keys=FakeKeyStore(),
                      fingerprint_key=b"f" * 32, proposal_keys=FakeKeyStore())


@dataclass(frozen=True)
class Scope:
    """Whose key seals a piece of content: a council, a commission or a proposal."""

    kind: str  # "council" | "commission" | "proposal"
    id: int

    @property
    def subject(self) -> str:
        """Return the audit subject, e.g. ``council:3``."""
        return f"{self.kind}:{self.id}"


def council_scope(council_id: int) -> Scope:
    """Return the scope of a council's content."""
    return Scope("council", council_id)


def commission_scope(commission_id: int) -> Scope:
    """Return the scope of a commission's deliverables."""
    return Scope("commission", commission_id)


def proposal_scope(proposal_id: int) -> Scope:
    """Return the scope of a proposal's research-plan documents (研究提案書, F6)."""
    return Scope("proposal", proposal_id)


def key_store_of(deps: SealedDeps, kind: str) -> KeyStore:
    """Return the key store holding the keys of scopes of ``kind`` (council, commission or proposal)."""
    if kind == "commission":
        return deps.commission_keys
    if kind == "proposal":
        return deps.proposal_keys
    return deps.council_keys


def _keys(deps: SealedDeps, scope: Scope) -> KeyStore:
    return key_store_of(deps, scope.kind)


def _aad(scope: Scope, label: str) -> bytes:
    return f"banso:sealed:{scope.kind}:{scope.id}:{label}".encode()


associated_data = _aad  # public for the backup's file check (banso.backup.references)


@dataclass(frozen=True)
class Envelope:
    """What a row keeps of a sealed file: the wrapped data key and the ciphertext's store digest."""

    wrapped_key: bytes
    blob: str


@dataclass(frozen=True)
class Refusal:
    """How a failed opening is audited: the tag, the subject and the ids (never titles or names)."""

    tag: str
    subject: str
    data: Mapping[str, Any]


def file_label(kind: SealedKind, sha256: str) -> str:
    """Return the associated-data label of a sealed file: its kind and plaintext hash."""
    return f"{kind.value}:{sha256}"


def seal_file(deps: SealedDeps, scope: Scope, data: bytes, *, label: str) -> Envelope:
    """Seal ``data`` under a fresh data key wrapped by the scope's key; write the ciphertext blob."""
    data_key = crypto.new_data_key()
    wrapped = _keys(deps, scope).wrap(scope.id, data_key)
    blob = deps.store.put(crypto.seal(data, data_key=data_key, aad=_aad(scope, label)))
    return Envelope(wrapped_key=wrapped, blob=blob)


def _refuse(session: Session, exc: crypto.TamperedCiphertext | crypto.KeyUnavailable, refusal: Refusal, *,
            actor: Principal | None, now: datetime) -> NoReturn:
    audit.refuse(session, exc, refusal.tag, now=now, actor=actor, subject=refusal.subject,
                 data={**refusal.data, "what": "sealed content"})


def _open(session: Session, deps: SealedDeps, scope: Scope, wrapped: bytes, sealed: bytes, *, label: str,
          actor: Principal | None, now: datetime, refusal: Refusal) -> bytes:
    try:
        data_key = _keys(deps, scope).unwrap(scope.id, wrapped)
        return crypto.open_sealed(sealed, data_key=data_key, aad=_aad(scope, label))
    except (crypto.TamperedCiphertext, crypto.KeyUnavailable) as exc:
        _refuse(session, exc, refusal, actor=actor, now=now)


def open_file(session: Session, deps: SealedDeps, scope: Scope, envelope: Envelope, *, label: str,
              actor: Principal | None, now: datetime, refusal: Refusal) -> bytes:
    """Decrypt a sealed file (callers have made the access decision); refusals are audited."""
    try:
        sealed = deps.store.get(envelope.blob)
    except FileNotFoundError:
        _refuse(session, crypto.TamperedCiphertext("暗号化ファイルが見つかりません / the stored file is missing"),
                refusal, actor=actor, now=now)
    return _open(session, deps, scope, envelope.wrapped_key, sealed, label=label, actor=actor, now=now,
                 refusal=refusal)


def destroy_key(session: Session, deps: SealedDeps, scope: Scope, *, actor: Principal | None,
                now: datetime) -> None:
    """Record the destruction of the scope's key in the audit log, then destroy the key (I11, O2).

    The entry is what a restore reads to keep the key destroyed (``banso.backup``): a backup
    taken before this moment still holds the key file. The entry is flushed first (the head lock is
    taken), then the key destroyed; should the caller's commit still fail, the key is gone without
    its record, so run the destruction again (the tombstone makes the second revoke a no-op).
    """
    tag = {"commission": AuditTag.KEYS_COMMISSION_DESTROYED,
           "proposal": AuditTag.KEYS_PROPOSAL_DESTROYED}.get(scope.kind, AuditTag.KEYS_COUNCIL_DESTROYED)
    audit.record_for(session, tag, now=now, actor=actor, subject=scope.subject,
                     data={"scope": scope.kind, "id": scope.id})
    session.flush()
    _keys(deps, scope).revoke(scope.id)


def seal_text(deps: SealedDeps, scope: Scope, text: str, *, label: str) -> bytes:
    """Seal a short text (minutes, a decision) into one self-contained value kept in its row."""
    data_key = crypto.new_data_key()
    wrapped = _keys(deps, scope).wrap(scope.id, data_key)
    body = crypto.seal(text.encode(), data_key=data_key, aad=_aad(scope, label))
    return join_text(wrapped, body)


def join_text(wrapped: bytes, body: bytes) -> bytes:
    """Return the stored form of a sealed text: magic, wrapped data key, sealed body."""
    return _TEXT_MAGIC + struct.pack(">H", len(wrapped)) + wrapped + body


def split_text(value: bytes) -> tuple[bytes, bytes] | None:
    """Return the wrapped data key and sealed body of a stored sealed text (None if it is not one)."""
    if len(value) < 6 or not value.startswith(_TEXT_MAGIC):
        return None
    (size,) = struct.unpack(">H", value[4:6])
    return value[6:6 + size], value[6 + size:]


def open_text(session: Session, deps: SealedDeps, scope: Scope, value: bytes | None, *, label: str,
              actor: Principal | None, now: datetime, refusal: Refusal) -> str:
    """Decrypt a text made by :func:`seal_text` (callers have made the access decision)."""
    parts = None if value is None else split_text(value)
    if parts is None:
        _refuse(session, crypto.TamperedCiphertext("暗号化テキストが壊れています / the sealed text is damaged"),
                refusal, actor=actor, now=now)
    wrapped, sealed = parts
    return _open(session, deps, scope, wrapped, sealed, label=label, actor=actor, now=now,
                 refusal=refusal).decode()


# ---------------------------------------------------------------------------------------------
# Per-recipient copies (I8)


@dataclass(frozen=True)
class Copy:
    """A file as handed to one recipient."""

    filename: str
    content_type: str
    data: bytes
    distribution_id: int | None  # None for public content (no stamp, no record)


# The line a copy gains when none of its own paragraphs or cells can hold a mark (numbers only, empty).
COPY_RECORD_LINE = "交付記録：この写しは受領者ごとに識別されます / copy record: this copy identifies its recipient"


def stamp_plain(text: str, *, code: bytes, csv: bool) -> str:
    """Put zero-width marks into every paragraph (text) or row (CSV); formula-like CSV cells are neutralised.

    No copy of non-public content leaves unmarked (I8): a CSV whose rows hold only numbers and ids is marked in
    its header's names; a text or CSV with no place at all gains one last line, :data:`COPY_RECORD_LINE`,
    carrying the mark.
    """
    if csv:  # O1: a participant's "=HYPERLINK(…)" cell reaches no reader as a formula (banso.kit.cells)
        text, _ = neutralise_csv_text(text)
    try:
        return stamp_csv(text, code=code) if csv else stamp_text(text, code=code)
    except CannotFingerprint:
        pass
    if csv:
        try:
            return stamp_csv(text, code=code, header=False)  # the column names carry the mark
        except CannotFingerprint:
            pass
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{stamp_text(COPY_RECORD_LINE, code=code)}\n"


def stamp_kind(data: bytes, *, kind: str, footer: str, code: bytes) -> bytes:
    """Stamp ``data`` of a known kind (``pdf``, ``docx`` …, ``text``, ``csv``) with footer and fingerprint."""
    if kind == "pdf":
        return stamp_pdf(data, footer=footer, code=code)
    if kind in OFFICE:
        return stamp_office(data, kind=kind, footer=footer, code=code)
    if kind in IMAGES:
        return stamp_image(data, kind=kind, footer=footer, code=code)
    if kind in ("csv", "text"):
        return stamp_plain(data.decode("utf-8-sig"), code=code, csv=kind == "csv").encode()
    return data


def detect_kind(data: bytes, *, filename: str, content_type: str) -> str:
    """Return the stamp a stored file takes: its sniffed kind, ``text`` for other UTF-8, else ``raw``."""
    try:
        return identify(data, filename, content_type, max_bytes=_SNIFF_LIMIT).kind
    except UploadRejected:
        pass
    # Answer files and deliverables were not type-checked at upload (unlike item files); a
    # mislabelled text still gets marks, a binary of an unknown type is recorded but unmarked.
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "raw"
    return "text"


def _channel(kind: str) -> str:
    if kind in OFFICE:
        return "office"
    if kind in IMAGES:
        return "image"
    return kind  # pdf, text, csv, raw


def footer_for(session: Session, actor: Principal, label: str, now: datetime) -> str:
    """Return the visible footer of a copy: recipient, organisation, JST time and the content's number."""
    user = accounts_repo.user_by_id(session, actor.user_id)
    name = user.name_ja if user else actor.email
    org = user.organization.name_ja if user and user.organization else ""
    return (f"{name}（{org}）に交付 {to_jst(now).strftime('%Y-%m-%d %H:%M')} JST {label} "
            "— 守秘義務対象 / confidential, issued to this recipient")


def _fingerprint(deps: SealedDeps, kind: SealedKind, object_id: int, user_id: int) -> bytes:
    nonce = secrets.token_bytes(8)  # every copy differs, so two downloads by one person are told apart
    message = f"sealed:{kind.value}:{object_id}:{user_id}:".encode() + nonce
    return hmac.new(deps.fingerprint_key, message, hashlib.sha256).digest()[:8]


@dataclass(frozen=True)
class Original:
    """Plaintext content about to be handed out, and what it is."""

    kind: SealedKind
    object_id: int
    scope: Scope
    filename: str
    content_type: str
    data: bytes
    label: str  # what the footer calls it, e.g. "資料提供ファイル #7"


@dataclass(frozen=True)
class Stamped:
    """A copy stamped for one recipient and not yet recorded (:func:`record_copy`)."""

    data: bytes
    code: bytes
    channel: str


def stamp_copy(deps: SealedDeps, original: Original, *, actor: Principal, footer: str) -> Stamped:
    """Stamp a copy of ``original`` for ``actor`` with a fresh fingerprint; no session (heavy work, O4)."""
    code = _fingerprint(deps, original.kind, original.object_id, actor.user_id)
    kind = detect_kind(original.data, filename=original.filename, content_type=original.content_type)
    return Stamped(stamp_kind(original.data, kind=kind, footer=footer, code=code), code, _channel(kind))


def copy_in_steps(session: Session, deps: SealedDeps, *, actor: Principal, now: datetime,
                  decide: Callable[[], D], open_original: Callable[[D], Original]) -> tuple[D, Copy, SealedDistribution]:
    """Hand out a stamped copy in the three steps of O4 and return (the second decision, the copy, its row).

    ``decide`` applies the policy and loads the rows (raising 404/403); ``open_original`` decrypts. Both run in
    a read step (no write lock); the stamp runs with no transaction open; then ``decide`` runs again, so the gate
    decides at the moment of egress (I12), and the distribution row is recorded with the fingerprint already in
    the stamp (I8). The caller audits with the ids and sends the copy only after its unit commits.
    """
    with read_step(session):
        original = open_original(decide())
        footer = footer_for(session, actor, original.label, now)
    with released(session):
        stamped = stamp_copy(deps, original, actor=actor, footer=footer)
    decided = decide()
    copy, row = record_copy(session, original, stamped, actor=actor, now=now)
    return decided, copy, row


def record_copy(session: Session, original: Original, stamped: Stamped, *, actor: Principal,
                now: datetime) -> tuple[Copy, SealedDistribution]:
    """Record the distribution row of a stamped copy (I8; the caller audits with the ids) and return the copy."""
    row = SealedDistribution(
        kind=original.kind.value, object_id=original.object_id,
        council_id=original.scope.id if original.scope.kind == "council" else None,
        commission_id=original.scope.id if original.scope.kind == "commission" else None,
        user_id=actor.user_id, organization_id=actor.organization_id, fingerprint=stamped.code.hex(),
        channel=stamped.channel, created_at=now)
    session.add(row)
    session.flush()
    return Copy(original.filename, original.content_type, stamped.data, row.id), row
