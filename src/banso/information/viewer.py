"""Viewing view-only files in the browser (閲覧のみ, I3, I8, I12).

A designation whose handling is view-only or no-download forbids taking a copy, yet the people in
scope must still be able to read the file. They read it here: PDF pages and images as
server-rendered PNGs, one page per request, each stamped for the viewer with tiled visible text
and invisible marks (:mod:`banso.leak.screen`) and recorded like a copy (a distribution row with
a fresh fingerprint, an ``information:file:view`` audit entry). Text and CSV are shown in the page
with a banner and zero-width marks. Office files are not rendered (no converter on the server):
the page says that they can be seen at the provider's office or on request.

Who may view is decided in one place, :func:`decide`, from the information policy; out of scope
is 404 (I7). There is no download link, no export and no body.txt on these pages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from sqlalchemy.orm import Session

from banso.authz.egress import Egress
from banso.authz.principal import Principal
from banso.information import content, distribution, service
from banso.information.deps import InformationDeps
from banso.information.models import Item, ItemFile
from banso.kit.clock import to_jst
from banso.kit.errors import BansoError, NotFound
from banso.kit.unit import read_step, released
from banso.leak import limits
from banso.leak.image import NotAnImage, open_reduced
from banso.leak.pdf import PDFIUM_LOCK
from banso.leak.screen import stamp_view, unambiguous, visible_line
from banso.sealed.store import IMAGES, stamp_plain

if TYPE_CHECKING:
    from PIL import Image as PILImage

MAX_PAGES: Final = 100  # PDF pages offered per file (one image per request)
MAX_PAGE_PIXELS: Final = limits.MAX_VIEW_PAGE_PIXELS  # per rendered page image
SCALE: Final = 1.5  # PDF points to pixels (108 dpi) unless the pixel budget asks for less
MAX_TEXT_CHARS: Final = 500_000  # of a text or CSV file shown in the page
_PDFIUM = PDFIUM_LOCK  # PDFium is not thread-safe: one document at a time per process (shared with validation)


class Mode(StrEnum):
    """How a file is shown on screen."""

    PAGES = "pages"  # PDF pages or an image, as stamped PNGs
    TEXT = "text"  # text or CSV in the page, with zero-width marks
    NOTICE = "notice"  # metadata only (Office files: no converter on the server)


class Unviewable(BansoError):
    """The stored file cannot be rendered for viewing."""

    status_code = 422
    code = "unviewable"


@dataclass(frozen=True)
class Viewable:
    """A file ``actor`` may view, with its item."""

    item: Item
    file: ItemFile
    mode: Mode


@dataclass(frozen=True)
class ViewPage:
    """What the viewer page shows."""

    item: Item
    file: ItemFile
    mode: Mode
    pages: int  # page images offered (PDF: at most MAX_PAGES; an image: 1)
    total_pages: int
    text: str | None  # text mode: the stamped text
    truncated: bool
    banner: str  # the viewer's visible line (text mode: with the code of this view)
    distribution_id: int | None


def mode_of(kind: str) -> Mode:
    """Return how a file of ``kind`` is shown."""
    if kind == "pdf" or kind in IMAGES:
        return Mode.PAGES
    if kind in ("text", "csv"):
        return Mode.TEXT
    return Mode.NOTICE


def decide(session: Session, *, item_id: int, file_id: int, actor: Principal | None,
           now: datetime | None = None) -> Viewable:
    """Return the file when ``actor`` may view it on screen, else raise 404 (I7, I12).

    The gate decides (``Egress.VIEW``): whoever may read the file (the provider, the secretariat while
    the vote runs, the scope once designated) may view it, whatever the handling; the handling only
    decides whether a copy may be taken.
    """
    access = service.open_item(session, item_id, actor, now=now)
    row = session.get(ItemFile, file_id)
    if row is None or row.item_id != access.item.id:
        raise NotFound("ファイルが見つかりません / file not found")  # I7: a file out of scope looks missing
    if now is not None:
        service.require(session, access, Egress.VIEW, now=now, file_id=row.id, version=row.version)
    elif not access.decide(Egress.VIEW, file_id=row.id, version=row.version).allowed:
        raise NotFound("ファイルが見つかりません / file not found")
    return Viewable(item=access.item, file=row, mode=mode_of(row.kind))


def _line(session: Session, actor: Principal, item: Item, now: datetime) -> str:
    name, org = distribution.recipient(session, actor)
    return f"{name}（{org}） {actor.email} 閲覧 {to_jst(now).strftime('%Y-%m-%d %H:%M')} JST 情報 #{item.id}"


def _pdf_call(data: bytes, page: int | None) -> tuple[int, PILImage.Image | None]:
    """Return the page count of a PDF and, when ``page`` is given, that page rendered within the pixel budget."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise Unviewable("このPDFは表示できません / This PDF cannot be displayed") from exc
        try:
            count = len(pdf)
            if page is None:
                return count, None
            if not 1 <= page <= min(count, MAX_PAGES):
                raise NotFound(f"{page} ページ目が見つかりません / page {page} not found")
            sheet = pdf[page - 1]
            width, height = sheet.get_size()
            if width <= 0 or height <= 0:
                raise Unviewable("このページは表示できません / This page cannot be displayed")
            scale = min(SCALE, math.sqrt(MAX_PAGE_PIXELS / (width * height)))
            try:
                return count, sheet.render(scale=scale).to_pil()
            except pdfium.PdfiumError as exc:
                raise Unviewable("このページは表示できません / This page cannot be displayed") from exc
        finally:
            pdf.close()


def _render(data: bytes, kind: str, page: int) -> PILImage.Image:
    """Return one page of a decrypted file as an image within the pixel budget (no session: heavy work)."""
    if kind == "pdf":
        _, image = _pdf_call(data, page)
        assert image is not None
        return image
    if page != 1:
        raise NotFound(f"{page} ページ目が見つかりません / page {page} not found")
    try:
        # Decoded at about the screen's size (JPEG by the decoder, others shrunk at once): bounded memory.
        return open_reduced(data, kind, limits.MAX_VIEW_PIXELS)
    except NotAnImage as exc:
        ja, _, en = exc.message.partition(" / ")
        raise Unviewable(f"この画像は表示できません：{ja} / This image cannot be displayed: {en or ja}") from exc


def _read(session: Session, deps: InformationDeps, *, item_id: int, file_id: int, actor: Principal,
          now: datetime) -> tuple[Viewable, bytes, str]:
    """The read step of a view (O4, ``banso.kit.unit.read_step``): decide, decrypt, the viewer's line."""
    with read_step(session):
        view = decide(session, item_id=item_id, file_id=file_id, actor=actor, now=now)
        data = b"" if view.mode == Mode.NOTICE else content.file_bytes(session, deps, view.item, view.file,
                                                                        actor=actor, now=now)
        return view, data, _line(session, actor, view.item, now)


def page_image(session: Session, deps: InformationDeps, *, item_id: int, file_id: int, page: int,
               actor: Principal, now: datetime) -> bytes:
    """Return one page of a file as a PNG stamped for ``actor``; the view is recorded and audited (I8).

    In steps (O4): decide and decrypt without the write lock, render and stamp with no transaction open,
    then decide again (I12: at the moment of egress) and record the view with the code the image carries.
    """
    view, data, line = _read(session, deps, item_id=item_id, file_id=file_id, actor=actor, now=now)
    if view.mode != Mode.PAGES:
        raise NotFound("このファイルはページ画像で表示できません / this file is not shown as page images")
    kind = view.file.kind
    code = distribution.fingerprint(deps, item_id=item_id, file_id=file_id, user_id=actor.user_id)
    while not unambiguous(code):  # I8: the pixel mark must read back as this code alone (1 code in ~480)
        code = distribution.fingerprint(deps, item_id=item_id, file_id=file_id, user_id=actor.user_id)
    with released(session), _render(data, kind, page) as image:  # no transaction open
        png = stamp_view(image, footer=line, code=code)
    view = decide(session, item_id=item_id, file_id=file_id, actor=actor, now=now)
    distribution.record_view(session, deps, item=view.item, row=view.file, actor=actor,
                             channel="view-pdf" if kind == "pdf" else "view-image", now=now, page=page, code=code)
    return png


def open_view(session: Session, deps: InformationDeps, *, item_id: int, file_id: int, actor: Principal,
              now: datetime) -> ViewPage:
    """Return the viewer page of a file; text shown in the page is stamped, recorded and audited (I8).

    In the steps of :func:`page_image`: counting pages and marking text happen with no transaction open.
    """
    view, data, line = _read(session, deps, item_id=item_id, file_id=file_id, actor=actor, now=now)
    page = ViewPage(item=view.item, file=view.file, mode=view.mode, pages=0, total_pages=0, text=None,
                    truncated=False, banner=line, distribution_id=None)
    if view.mode == Mode.NOTICE:
        return page
    if view.mode == Mode.PAGES:
        with released(session):
            total = _pdf_call(data, None)[0] if view.file.kind == "pdf" else 1
        return replace(page, pages=min(total, MAX_PAGES), total_pages=total)
    csv = view.file.kind == "csv"
    code = distribution.fingerprint(deps, item_id=item_id, file_id=file_id, user_id=actor.user_id)
    with released(session):
        text = data.decode("utf-8-sig", errors="replace")
        shown = text[:MAX_TEXT_CHARS]  # cut before stamping, so every shown paragraph keeps its marks
        stamped = stamp_plain(shown, code=code, csv=csv)
    view = decide(session, item_id=item_id, file_id=file_id, actor=actor, now=now)  # I12: again, at egress
    dist, _ = distribution.record_view(session, deps, item=view.item, row=view.file, actor=actor,
                                       channel="view-text", now=now, code=code)
    return replace(page, item=view.item, file=view.file, text=stamped, truncated=len(text) > len(shown),
                   banner=visible_line(line, code), distribution_id=dist.id)


def read_item_on_screen(session: Session, deps: InformationDeps, *, item_id: int, actor: Principal, now: datetime,
                        version: int | None = None) -> tuple[service.ItemView, str | None]:
    """The item page's read. Under view-only / no-download handling the body is shown, never copied (I12): the
    text on screen carries zero-width marks of a fresh fingerprint and a visible line naming the viewer, and the
    view is recorded and audited like a copy (I8). Returns the view and that line (None when no copy rule binds).
    """
    view = service.read_item(session, deps, item_id=item_id, actor=actor, now=now, version=version)
    if view.may_take_copy or not view.body.strip():
        return view, None
    _, code = distribution.record_view(session, deps, item=view.item, row=None, actor=actor, channel="view-body",
                                       now=now)
    line = visible_line(_line(session, actor, view.item, now), code)
    # O4: the read (audited, I8) and its record are committed first; the marks are then set with no
    # transaction open (a long body takes a second), and the page's next reads open a new one.
    with released(session):
        body = stamp_plain(view.body, code=code, csv=False)
    return replace(view, body=body), line
