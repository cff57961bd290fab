"""Uploads kept across a refused form (issue 14): sealed, bound to one person and one form, short-lived.

When a form with a file field is refused for another field, the files that passed the upload checks
(:func:`banso.sealed.uploads.sniff`, run by the route as always: O1, as hostile input) are kept here and
the page shows 「添付済み：名前（大きさ）」 with a hidden **token**; the next submit of the same form
uses the file without choosing it again.

* **Sealed at rest** (I11): each kept file is one AES-256-GCM blob under a fresh data key. The data key
  lives only in the token (``id ‖ key``, base64url), i.e. in the refused page of the person who
  uploaded it; the server keeps the ciphertext alone, named by a hash of the id. Nothing of the file
  (name, type, bytes) is on disk in plaintext.
* **Bound** to the person and the form: the associated data is ``user id ‖ form`` (the form's POST
  path), so another person's token, or a token sent to another form, does not open (422), even with
  the key in hand.
* **Single-use**: a token is deleted when it is taken; a form refused again keeps the files under
  fresh tokens.
* **Short-lived**: :data:`KEEP_MINUTES`; the expiry is in the blob's name (for the sweep, which needs no
  key) and inside the sealed header (authenticated). Expired blobs are swept on every keep and by
  the minute job (:meth:`PendingUploads.sweep`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
import struct
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final, Protocol, TypeVar

from banso.kit.errors import ValidationFailed
from banso.sealed import crypto
from banso.sealed.files import make_directories
from banso.sealed.uploads import FileKind
from banso.web.context import AppContext

R = TypeVar("R")
KEEP_MINUTES: Final = 30
_ID_BYTES: Final = 16
_KEY_BYTES: Final = 32
_TOKEN_CHARS: Final = 64  # base64url of 48 bytes, no padding


class PendingRefused(ValidationFailed):
    """A kept file cannot be used: unknown, used, expired, or another person's or another form's."""

    status_code = 422
    code = "pending_upload_refused"


@dataclass(frozen=True)
class Kept:
    """A kept file as the refused page shows it: the token for the hidden field, its name and size."""

    token: str
    filename: str
    size: int

    @property
    def size_label(self) -> str:
        """Return the size for people (B, KB, MB)."""
        return size_label(self.size)


@dataclass(frozen=True)
class Pending:
    """A kept file taken back: the bytes and what the upload checks found when it arrived (O1)."""

    filename: str
    content_type: str | None
    data: bytes
    kind: FileKind


def size_label(size: int) -> str:
    """Return a byte count as people read it: ``532 B``, ``12 KB``, ``3.4 MB``."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _refused(field: str) -> PendingRefused:
    return PendingRefused(
        "添付済みのファイルは使えません（期限切れ、使用済み、または別の利用者か別の画面のものです）。"
        "ファイルをもう一度選んでください / the attached file can no longer be used (it expired, was used, or "
        "belongs to another person or form); choose the file again", field=field)


def _aad(user_id: int, form: str) -> bytes:
    return f"banso:pending:v1:{user_id}:{form}".encode()


def _expiry(path: Path) -> int:
    try:
        return int(path.suffix.lstrip("."))
    except ValueError:
        return 0  # not a kept file's name: swept


def _split_token(token: str, field: str) -> tuple[bytes, bytes]:
    if len(token) != _TOKEN_CHARS:
        raise _refused(field)
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise _refused(field) from None
    if len(raw) != _ID_BYTES + _KEY_BYTES:
        raise _refused(field)
    return raw[:_ID_BYTES], raw[_ID_BYTES:]


class PendingUploads:
    """The kept files of refused forms, one sealed blob each under ``root`` (``data_dir/pending``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _stem(self, file_id: bytes) -> str:
        return hashlib.sha256(b"banso:pending:" + file_id).hexdigest()

    def _find(self, file_id: bytes) -> Path | None:
        found = sorted(self.root.glob(self._stem(file_id) + ".*")) if self.root.is_dir() else []
        return found[0] if found else None

    def keep(self, *, user_id: int, form: str, filename: str, content_type: str | None, data: bytes,
             kind: FileKind, now: datetime) -> Kept:
        """Seal one file that passed the upload checks for ``user_id`` and ``form``; return its token."""
        self.sweep(now)
        file_id, key = secrets.token_bytes(_ID_BYTES), crypto.new_data_key()
        expires = int((now + timedelta(minutes=KEEP_MINUTES)).timestamp())
        header = json.dumps({"user": user_id, "form": form, "expires": expires, "filename": filename,
                             "content_type": content_type, "kind": kind.kind, "mime": kind.content_type,
                             "extension": kind.extension}).encode()
        blob = crypto.seal(struct.pack(">I", len(header)) + header + data, data_key=key, aad=_aad(user_id, form))
        make_directories(self.root)
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(blob)
            os.replace(tmp, self.root / f"{self._stem(file_id)}.{expires}")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        token = base64.urlsafe_b64encode(file_id + key).decode("ascii")
        return Kept(token=token, filename=filename, size=len(data))

    def _open(self, token: str, *, user_id: int, form: str, now: datetime, field: str) -> tuple[Path, Pending]:
        file_id, key = _split_token(token, field)
        path = self._find(file_id)
        if path is None:
            raise _refused(field)
        if _expiry(path) <= now.timestamp():
            path.unlink(missing_ok=True)
            raise _refused(field)
        try:
            plain = crypto.open_sealed(path.read_bytes(), data_key=key, aad=_aad(user_id, form))
        except (crypto.TamperedCiphertext, OSError):
            raise _refused(field) from None  # another person's or another form's token opens nothing
        (length,) = struct.unpack(">I", plain[:4])
        header = json.loads(plain[4:4 + length])
        if header["user"] != user_id or header["form"] != form or header["expires"] <= now.timestamp():
            raise _refused(field)
        kind = FileKind(header["kind"], header["mime"], header["extension"])
        return path, Pending(filename=header["filename"], content_type=header["content_type"],
                             data=plain[4 + length:], kind=kind)

    def take(self, tokens: Sequence[str], *, user_id: int, form: str, now: datetime,
             field: str = "files") -> list[Pending]:
        """Return the kept files of ``tokens`` and delete them (single use); refuse all if one cannot be used."""
        opened = [self._open(token, user_id=user_id, form=form, now=now, field=field)
                  for token in dict.fromkeys(tokens)]
        for path, _ in opened:
            path.unlink(missing_ok=True)
        return [pending for _, pending in opened]

    def discard(self, tokens: Sequence[str], *, user_id: int, form: str, now: datetime) -> None:
        """Delete the kept files the person removed (or replaced); a token that cannot be used is ignored."""
        for token in tokens:
            try:
                self.take([token], user_id=user_id, form=form, now=now)
            except PendingRefused:
                pass

    def carry(self, kept: Sequence[str] | None, drop: Sequence[str] | None, *, user_id: int, form: str,
              now: datetime, field: str = "files") -> list[Pending]:
        """Return the kept files a resubmitted form still carries (``kept`` less ``drop``); delete the dropped."""
        dropped = set(drop or ())
        self.discard(sorted(dropped), user_id=user_id, form=form, now=now)
        return self.take([t for t in kept or () if t not in dropped], user_id=user_id, form=form, now=now,
                         field=field)

    def sweep(self, now: datetime) -> int:
        """Delete the kept files whose time is up (and stray temporary files); return how many."""
        if not self.root.is_dir():
            return 0
        gone = 0
        cutoff = now.timestamp()
        for path in self.root.iterdir():
            stale = path.name.startswith(".tmp-") and path.stat().st_mtime < cutoff - 3600
            expired = not path.name.startswith(".") and _expiry(path) <= cutoff
            if stale or expired:
                path.unlink(missing_ok=True)
                gone += 1
        return gone


def keeping(page: Callable[..., R], form: dict[str, Any], key: str,
            keep: Callable[[], list[Kept]]) -> Callable[..., R]:
    """Return ``page`` that first keeps the refused submit's files into ``form[key]``.

    ``web.forms.refused`` calls the page after it settled the refusal, so no transaction is held while the
    files are sealed and written (O4: up to 20 MB, about 0.2 s).
    """
    def render(**kwargs: Any) -> R:
        form[key] = keep()
        return page(**kwargs)
    return render


class CheckedFile(Protocol):
    """An upload as the forms hold it: its bytes and what the upload checks found (a ``FileKind`` if it passed)."""

    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str | None: ...
    @property
    def data(self) -> bytes: ...
    @property
    def checked(self) -> object: ...


@dataclass(frozen=True)
class KeptForm:
    """One submit of one person's form with a single file field (issue 14): what it carries, what it keeps.

    The views of the single-file forms (meeting material, exclusion-claim evidence, plan documents, leak
    attribution) share it instead of repeating the carry/replace/keep steps.
    """

    store: PendingUploads
    user_id: int
    form: str
    now: datetime

    def single(self, chosen: bool, kept: Sequence[str] | None, drop: Sequence[str] | None,
               field: str = "file") -> Pending | None:
        """Return the kept file this submit carries; a newly chosen file replaces (deletes) the kept one."""
        if chosen:
            self.store.discard(kept or (), user_id=self.user_id, form=self.form, now=self.now)
            return None
        carried = self.store.carry(kept, drop, user_id=self.user_id, form=self.form, now=self.now, field=field)
        return carried[0] if carried else None

    def carry(self, kept: Sequence[str] | None, drop: Sequence[str] | None) -> list[Pending]:
        """Return the kept files a multi-file form still carries (new files are added to them, not replacing)."""
        return self.store.carry(kept, drop, user_id=self.user_id, form=self.form, now=self.now)

    def keep(self, files: Sequence[CheckedFile | None]) -> list[Kept]:
        """Keep the refused submit's files that passed the upload checks (a refused file is never kept)."""
        return [self.store.keep(user_id=self.user_id, form=self.form, filename=f.filename,
                                content_type=f.content_type, data=f.data, kind=f.checked, now=self.now)
                for f in files if f is not None and isinstance(f.checked, FileKind)]

    def page(self, page: Callable[..., R], form: dict[str, Any], files: Callable[[], Sequence[CheckedFile | None]],
             key: str = "kept") -> Callable[..., R]:
        """Return ``page`` that first keeps ``files()`` (read when the refusal is settled) into ``form[key]``."""
        return keeping(page, form, key, lambda: self.keep(files()))


def kept_form(ctx: AppContext, user_id: int, form: str) -> KeptForm:
    """Return the kept-files view of one submit of ``form`` (its POST path) by ``user_id``."""
    return KeptForm(pending_uploads(ctx), user_id, form, ctx.clock.now())


def pending_at(data_dir: Path) -> PendingUploads:
    """Return the kept-files store under ``data_dir`` (``banso.app.wiring`` builds it once)."""
    return PendingUploads(data_dir / "pending")


def pending_uploads(ctx: AppContext) -> PendingUploads:
    """Return the kept-files store ``banso.app.wiring`` built for ``ctx``."""
    return ctx.collaborators.get(PendingUploads)
