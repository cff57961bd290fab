"""Per-recipient PDF watermarks (I8): a visible footer and an invisible fingerprint on every page.

Channels written by :func:`stamp_pdf`, each carrying the 64-bit code with its checksum:

* ``pdf-footer`` — a visible line at the foot of every page: the caller's footer text (recipient
  name, organisation, JST time, item id) followed by the short code ``BNS xxxx-xxxx-xxxx-xxxx-cccc``.
  It deters, survives print-and-scan and photographs (read it by eye or OCR), and appears in text
  extraction. It can be cut off or painted over by a determined leaker.
* ``pdf-invisible-text`` — the marker ``BNSFP:<16 hex>:<4 hex>`` drawn twice per page (top and
  bottom margin) in text render mode 3 (neither filled nor stroked: invisible on screen and paper,
  but part of the page's text). It survives extracting pages into a new PDF, "print to PDF" of
  the text layer, and text extraction or copy-all (the marker then rides along in the text).
* ``pdf-page-metadata`` — the marker under the key ``/BansoFP`` in every page dictionary; survives
  page extraction with common PDF libraries, not re-rendering.
* ``pdf-metadata`` — the marker in the document information dictionary (``/BansoFP``); lost when
  pages are copied into a new document, kept when the whole file is forwarded.

Limits: printing and scanning (or screenshots) destroy every invisible channel; only the visible
footer remains on paper. Re-rendering to images, "redact"/"sanitise" tools and rewriting the text
layer remove the invisible text. Two recipients comparing copies see which bytes differ.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, Final

from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.errors import LimitReachedError
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    StreamObject,
    TextStringObject,
)
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus.flowables import Flowable

from banso.kit.errors import BansoError
from banso.leak import limits
from banso.leak.fingerprint import check_code, footer_code, marker

GOTHIC: Final = "HeiseiKakuGo-W5"
MINCHO: Final = "HeiseiMin-W3"
MARKER_FONT: Final = "Helvetica"
METADATA_KEY: Final = "/BansoFP"
JST: Final = timezone(timedelta(hours=9), "JST")
_FOOTER_SIZE: Final = 7.0
_FOOTER_MIN_SIZE: Final = 4.0
_MARGIN: Final = 18.0
_fonts_lock = threading.Lock()
PDFIUM_LOCK: Final = threading.Lock()  # PDFium is not thread-safe: one document at a time per process
_fonts_ready = False


class NotAPdf(BansoError):
    """The bytes are not a PDF that can be read and stamped (I8)."""

    status_code = 422
    code = "not_a_pdf"


DAMAGED: Final = "PDF が壊れているため読み取れません / The PDF document is damaged and cannot be read."


def _register_fonts() -> None:
    """Register the Japanese CID fonts once per process."""
    global _fonts_ready
    with _fonts_lock:
        if not _fonts_ready:
            # CID fonts are not embedded: every PDF viewer in Japan ships them (or a substitute),
            # and output stays small and extractable as Unicode text.
            pdfmetrics.registerFont(UnicodeCIDFont(GOTHIC))
            pdfmetrics.registerFont(UnicodeCIDFont(MINCHO))
            _fonts_ready = True


def format_footer(*, recipient: str, organisation: str, issued_at: datetime, item_id: int | str) -> str:
    """Return the visible footer text: recipient, organisation, JST time and item id (I8)."""
    if issued_at.tzinfo is None:
        raise ValueError("issued_at must be timezone-aware")
    when = issued_at.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")
    return f"配布先 {recipient}（{organisation}） {when} 項目 #{item_id} 複製・転送禁止"


_OVERLAY_FONTS: Final = ("/BansoFP1", "/BansoFP2")  # (marker font, footer font), names unlikely to collide
_fonts_template: DictionaryObject | None = None


def _font_template() -> DictionaryObject:
    """Return the two overlay fonts as reportlab writes them (once per process: they depend on no recipient)."""
    global _fonts_template
    if _fonts_template is None:
        _register_fonts()
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=A4, invariant=1)
        c.setFont(MARKER_FONT, 4)
        c.drawString(0, 0, "BNSFP")
        c.setFont(GOTHIC, _FOOTER_SIZE)
        c.drawString(0, 10, "配布先")
        c.save()
        resources = _dictionary(PdfReader(io.BytesIO(buf.getvalue())).pages[0][NameObject("/Resources")])
        fonts = _dictionary(resources["/Font"])
        by_base = {str(f.get_object()["/BaseFont"]): f.get_object() for f in fonts.values()}
        _fonts_template = DictionaryObject({NameObject(_OVERLAY_FONTS[0]): by_base["/" + MARKER_FONT],
                                            NameObject(_OVERLAY_FONTS[1]): by_base["/" + GOTHIC]})
    return _fonts_template


def _overlay_ops(width: float, height: float, footer: str, code: bytes) -> bytes:
    """Return the overlay's content stream for a page of the given size: the footer and the invisible markers.

    Written directly (the operators reportlab would write) rather than drawn on a canvas, parsed and merged:
    this is the part of a copy that depends on its recipient, so it is built per copy (I8).
    """
    _register_fonts()
    line = f"{footer}  {footer_code(code)}"
    size = _FOOTER_SIZE
    available = width - 2 * _MARGIN
    while size > _FOOTER_MIN_SIZE and pdfmetrics.stringWidth(line, GOTHIC, size) > available:
        size -= 0.5
    mark = marker(code).encode("ascii")  # hex digits, colon and letters: nothing to escape
    ops = [b"q .35 g", b"BT 1 0 0 1 %s 10 Tm %s %s Tf <%s> Tj ET" % (
        _num(_MARGIN), _OVERLAY_FONTS[1].encode(), _num(size), line.encode("utf-16-be").hex().encode())]
    # I8: render mode 3 = invisible; two places so cropping one margin away does not remove both.
    for x, y in ((_MARGIN, height - 8), (_MARGIN, 10 + size + 2)):
        ops.append(b"BT 1 0 0 1 %s %s Tm 3 Tr %s 4 Tf (%s) Tj ET" % (_num(x), _num(y), _OVERLAY_FONTS[0].encode(),
                                                                     mark))
    ops.append(b"Q")
    return b"\n".join(ops) + b"\n"


def _dictionary(value: Any) -> DictionaryObject:
    """Return ``value`` resolved as a dictionary, or raise NotAPdf (a damaged page tree)."""
    resolved = value.get_object()
    if not isinstance(resolved, DictionaryObject):
        raise NotAPdf(DAMAGED)
    return resolved


def _num(value: float) -> bytes:
    return (f"{value:.4f}".rstrip("0").rstrip(".") or "0").encode()


def _stream(writer: PdfWriter, data: bytes) -> IndirectObject:
    stream = StreamObject()
    stream.set_data(data)
    return writer._add_object(stream.flate_encode())


def _append_overlay(writer: PdfWriter, page: PageObject, fonts: DictionaryObject, ops: bytes,
                    left: float, bottom: float) -> None:
    """Draw ``ops`` over ``page``: its own content kept in a saved graphics state, the overlay appended after it
    (what merging a stamped page does, without parsing the page's content or renaming its resources)."""
    resources = _dictionary(page[NameObject("/Resources")])
    if "/Font" not in resources:
        resources[NameObject("/Font")] = DictionaryObject()
    _dictionary(resources["/Font"]).update(fonts)
    contents = page.get("/Contents")
    own: list[Any] = []
    if contents is not None:
        resolved = contents.get_object()
        own = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    shift = b"1 0 0 1 %s %s cm\n" % (_num(left), _num(bottom))
    page[NameObject("/Contents")] = ArrayObject([_stream(writer, b"q\n"), *own, _stream(writer, b"Q\n" + shift + ops)])


def _open(pdf: bytes) -> PdfReader:
    """Parse ``pdf`` or raise NotAPdf."""
    if not isinstance(pdf, bytes | bytearray) or b"%PDF-" not in bytes(pdf[:1024]):
        raise NotAPdf("PDF ではありません / The file is not a PDF document.")
    try:
        reader = PdfReader(io.BytesIO(pdf))
        # An owner password alone (permissions) opens with the empty user password; a user password cannot be
        # opened on the server, so no copy could carry its recipient's marks.
        if reader.is_encrypted and not reader.decrypt(""):
            raise NotAPdf("パスワードで保護された PDF には透かしを入れられません。保護を解除してから登録してください / "
                          "The PDF is password-protected and cannot be watermarked; remove the password and upload "
                          "it again.")
        pages = len(reader.pages)
    except NotAPdf:
        raise
    except Exception as exc:
        # pypdf raises assorted errors (PdfReadError, ValueError, KeyError, ...) on damaged files.
        raise NotAPdf(DAMAGED) from exc
    if pages == 0:
        raise NotAPdf("PDF にページがありません / The PDF has no pages.")
    if pages > limits.MAX_PDF_PAGES:
        raise NotAPdf(f"PDF のページ数 {pages:,} が上限 {limits.MAX_PDF_PAGES:,} を超えています / "
                      f"The PDF has {pages:,} pages; the limit is {limits.MAX_PDF_PAGES:,}.")
    return reader


def _mb(n: int) -> str:
    return f"{n / limits.MIB:,.0f} MB"


def _page_content_size(page: PageObject, number: int) -> int:
    """Return the decoded size of a page's content (what rotating it rewrites), or raise NotAPdf."""
    try:
        contents = page.get_contents()
        size = 0 if contents is None else len(contents.get_data())
    except LimitReachedError as exc:  # pypdf's own cap (75 MB) is above ours
        raise NotAPdf(f"PDF の {number} ページ目の内容が展開後 {_mb(limits.MAX_PDF_STREAM_BYTES)} を超えます / The content "
                      f"of page {number} expands beyond {_mb(limits.MAX_PDF_STREAM_BYTES)}.") from exc
    except Exception as exc:  # a broken filter, a dangling reference
        raise NotAPdf(f"PDF の {number} ページ目の内容が壊れていて展開できません / The content of page "
                      f"{number} is damaged and cannot be decoded.") from exc
    if size > limits.MAX_PDF_STREAM_BYTES:
        raise NotAPdf(f"PDF の {number} ページ目の内容が展開後 {_mb(size)} で上限 {_mb(limits.MAX_PDF_STREAM_BYTES)} を"
                      f"超えています / The content of page {number} expands to {_mb(size)}; the limit is "
                      f"{_mb(limits.MAX_PDF_STREAM_BYTES)}.")
    return size


def _number(value: Any) -> int:
    """Return a PDF number, following an indirect reference (0 when absent)."""
    return 0 if value is None else int(value.get_object())


def _check_page_images(page: PageObject, number: int) -> None:
    """Refuse a page that draws an image larger than the pixel budget (read from its dictionary, not decoded)."""
    try:
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources is not None else None
        items = list(xobjects.get_object().values()) if xobjects is not None else []
        sizes = []
        for ref in items:
            xobject = ref.get_object()
            if xobject.get("/Subtype") == "/Image":
                sizes.append(_number(xobject.get("/Width")) * _number(xobject.get("/Height")))
    except Exception as exc:
        raise NotAPdf(f"PDF の {number} ページ目の資源が壊れています / The resources of page {number} are "
                      "damaged.") from exc
    biggest = max(sizes, default=0)
    if biggest > limits.MAX_PDF_IMAGE_PIXELS:
        raise NotAPdf(f"PDF の {number} ページ目の画像が {biggest:,} 画素で上限 {limits.MAX_PDF_IMAGE_PIXELS:,} を超えて"
                      f"います / Page {number} draws an image of {biggest:,} pixels; the limit is "
                      f"{limits.MAX_PDF_IMAGE_PIXELS:,}.")


def check_pdf(pdf: bytes) -> None:
    """Refuse a PDF a copy could not be stamped or shown from (O1): parse it as :func:`stamp_pdf` does.

    A PDF with active content (:func:`active_content`) is refused first: it would run in every reader's viewer.

    Every page must be reachable, its content decodable within :data:`limits.MAX_PDF_STREAM_BYTES` (all pages
    within :data:`limits.MAX_PDF_CONTENT_BYTES`), its images within :data:`limits.MAX_PDF_IMAGE_PIXELS`; then
    a copy is stamped for nobody and thrown away, so whatever stamping needs has been done once.
    """
    reader = _open(pdf)
    _refuse_active_content(reader)
    total = 0
    for number in range(1, len(reader.pages) + 1):
        try:
            page = reader.pages[number - 1]
        except Exception as exc:
            raise NotAPdf(f"PDF の {number} ページ目を読み取れません / Page {number} of the PDF cannot be "
                          "read.") from exc
        total += _page_content_size(page, number)
        if total > limits.MAX_PDF_CONTENT_BYTES:
            raise NotAPdf(f"PDF の内容が展開後 {_mb(limits.MAX_PDF_CONTENT_BYTES)} を超えます / The pages' content "
                          f"expands beyond {_mb(limits.MAX_PDF_CONTENT_BYTES)}.")
        _check_page_images(page, number)
    _check_pdfium(pdf)
    stamp_pdf(pdf, footer=format_footer(recipient="検証", organisation="banso", issued_at=_DRY_RUN_AT, item_id=0),
              code=bytes(8))


_DRY_RUN_AT: Final = datetime(2000, 1, 1, tzinfo=JST)


# ---------------------------------------------------------------------------------------------
# Active content (O1, I8): what a viewer would run or drop on a reader's disk, refused at upload and
# disarmed in the copies of files stored before the rule


# Action types (/S) that run something; /GoToE opens an embedded file.
_ACTIVE_ACTIONS: Final = {"/JavaScript": "javascript", "/Launch": "launch", "/GoToE": "embedded",
                          "/RichMediaExecute": "richmedia"}
_ACTIVE_ANNOTATIONS: Final = {"/FileAttachment": "embedded", "/RichMedia": "richmedia"}
# What was found → (Japanese, English), in the order a message lists them.
ACTIVE_LABELS: Final = {
    "javascript": ("JavaScript", "JavaScript"),
    "launch": ("外部プログラムを起動する動作（Launch）", "a Launch action (it starts a program)"),
    "embedded": ("埋め込みファイル（添付ファイル）", "embedded files (attachments)"),
    "xfa": ("XFA フォーム", "an XFA form"),
    "richmedia": ("リッチメディア（Flash など）", "rich media (Flash and the like)"),
}


def _resolved(value: Any) -> Any:
    return value.get_object() if value is not None else None


def _active_kind(d: DictionaryObject) -> str | None:
    """Return what makes ``d`` itself active (an action or an annotation), or None."""
    if "/JS" in d:
        return "javascript"
    kind = _ACTIVE_ACTIONS.get(str(_resolved(d.get("/S"))))
    if kind is None and str(_resolved(d.get("/Type"))) != "/Action":
        kind = _ACTIVE_ANNOTATIONS.get(str(_resolved(d.get("/Subtype"))))
    return kind


def _findings(d: DictionaryObject) -> set[str]:
    """Return the kinds of active content ``d`` holds directly (its own entries, not those of its children)."""
    found = set()
    kind = _active_kind(d)
    if kind is not None:
        found.add(kind)
    if "/JavaScript" in d:  # the document-level scripts of the /Names dictionary
        found.add("javascript")
    if "/EmbeddedFiles" in d or "/EF" in d or str(_resolved(d.get("/Type"))) == "/EmbeddedFile":
        found.add("embedded")
    if "/XFA" in d:
        found.add("xfa")
    return found


def _walk(root: Any, visit: Callable[[DictionaryObject], None]) -> set[tuple[int, int]]:
    """Call ``visit`` on every dictionary (and stream) reachable from ``root``, then walk what it left in it;
    return the indirect objects reached.

    A loop over a stack with a set of visited indirect objects, never recursion: reference cycles (every page
    points to its parent) end, and more than :data:`limits.MAX_PDF_OBJECTS` containers are refused.
    """
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    count = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if not isinstance(item, DictionaryObject | ArrayObject):
            continue
        count += 1
        if count > limits.MAX_PDF_OBJECTS:
            raise NotAPdf(f"PDF のオブジェクトが多すぎて検査できません（上限 {limits.MAX_PDF_OBJECTS:,}） / The PDF "
                          f"has more than {limits.MAX_PDF_OBJECTS:,} objects to inspect.")
        if isinstance(item, DictionaryObject):
            visit(item)
            stack.extend(item.values())
        else:
            stack.extend(item)
    return seen


def active_content(reader: PdfReader) -> list[str]:
    """Return the kinds of active content (keys of :data:`ACTIVE_LABELS`) reachable in the document.

    JavaScript anywhere (document, page and annotation actions, /AA, /OpenAction, /Names /JavaScript), Launch
    actions, embedded files and file-attachment annotations, XFA forms and rich media. Links (URI and GoTo
    actions) are not active content.
    """
    found: set[str] = set()
    _walk(reader.trailer, lambda d: found.update(_findings(d)))
    return [kind for kind in ACTIVE_LABELS if kind in found]


def _refuse_active_content(reader: PdfReader) -> None:
    try:
        found = active_content(reader)
    except NotAPdf:
        raise
    except Exception as exc:  # a dangling reference, a broken object stream
        raise NotAPdf(DAMAGED) from exc
    if found:
        ja = "、".join(ACTIVE_LABELS[kind][0] for kind in found)
        en = ", ".join(ACTIVE_LABELS[kind][1] for kind in found)
        raise NotAPdf(f"PDF に実行される内容（{ja}）が含まれています。取り除いてから登録してください / The PDF "
                      f"contains active content ({en}), which banso does not accept; remove it and upload the "
                      "file again.")


def _is_active(value: Any) -> bool:
    resolved = _resolved(value)
    return isinstance(resolved, DictionaryObject) and _active_kind(resolved) is not None


def _disarm(d: DictionaryObject, dropped: list[Any]) -> None:
    """Remove the active entries of ``d`` in a copy (I8 defence in depth), adding what was removed to ``dropped``."""
    for key in ("/AA", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA"):
        if key in d:
            dropped.append(d.raw_get(key))
            del d[NameObject(key)]
    for key in ("/OpenAction", "/A", "/Next"):
        if key in d and _is_active(d.raw_get(key)):
            dropped.append(d.raw_get(key))
            del d[NameObject(key)]
    for key in ("/Annots", "/Next"):  # an array of annotations, or of the actions that follow one
        array = _resolved(d.get(key))
        if isinstance(array, ArrayObject) and any(_is_active(a) for a in array):
            dropped.extend(a for a in array if _is_active(a))
            d[NameObject(key)] = ArrayObject(a for a in array if not _is_active(a))
    if _active_kind(d) is not None:  # an action or annotation reached some other way: emptied, it does nothing
        dropped.extend(d.values())
        d.clear()


def _disarm_copy(writer: PdfWriter) -> None:
    """Drop JavaScript, Launch actions, embedded files and XFA from a copy of a file stored before uploads were
    refused for them (O1, I8), and the objects only they used (the script, the attached file's bytes)."""
    dropped: list[Any] = []
    root = writer.root_object.indirect_reference
    _walk(root, lambda d: _disarm(d, dropped))
    if not dropped:
        return
    kept = _walk(root, lambda d: None)
    for idnum, _generation in _walk(ArrayObject(dropped), lambda d: None) - kept:
        writer._objects[idnum - 1] = None  # written as a free entry: the script or attachment is not in the copy


def _check_pdfium(pdf: bytes) -> None:
    """Refuse a PDF that PDFium, the viewer's renderer (I12), cannot open, or whose first page it cannot load."""
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(pdf)
        except pdfium.PdfiumError as exc:
            raise NotAPdf("PDF を表示用に開けません（壊れています） / The PDF cannot be opened for viewing: it is "
                          "damaged.") from exc
        try:
            if len(document) == 0:
                raise NotAPdf("PDF にページがありません / The PDF has no pages.")
            width, height = document[0].get_size()
            if width <= 0 or height <= 0:
                raise NotAPdf("PDF の 1 ページ目に大きさがありません / Page 1 of the PDF has no size.")
        except pdfium.PdfiumError as exc:
            raise NotAPdf("PDF の 1 ページ目を表示用に読み込めません / Page 1 of the PDF cannot be loaded for "
                          "viewing.") from exc
        finally:
            document.close()


def stamp_pdf(pdf: bytes, *, footer: str, code: bytes) -> bytes:
    """Return ``pdf`` with a visible footer and an invisible fingerprint on every page (I8)."""
    check_code(code)
    reader = _open(pdf)
    try:
        return _stamp(reader, footer=footer, code=code)
    except NotAPdf:
        raise
    except Exception as exc:
        # A file stored before upload validation parsed it (or one pypdf cannot rewrite): a clear 422, never a 500.
        raise NotAPdf(DAMAGED) from exc


def _stamp(reader: PdfReader, *, footer: str, code: bytes) -> bytes:
    writer = PdfWriter(clone_from=reader)
    _disarm_copy(writer)
    text = TextStringObject(marker(code))
    overlays: dict[tuple[float, float], bytes] = {}
    fonts = DictionaryObject({name: writer._add_object(font.clone(writer))
                              for name, font in _font_template().items()})
    for page in writer.pages:
        # Fold /Rotate into the content so "bottom" is the bottom the reader sees.
        if page.rotation:
            page.transfer_rotation_to_content()
        if "/Resources" not in page:
            page[NameObject("/Resources")] = DictionaryObject()
        box = page.cropbox
        width, height = float(box.width), float(box.height)
        key = (round(width, 2), round(height, 2))
        if key not in overlays:
            overlays[key] = _overlay_ops(width, height, footer, code)
        _append_overlay(writer, page, fonts, overlays[key], float(box.left), float(box.bottom))
        page[NameObject(METADATA_KEY)] = text
    # clone_from kept the original information dictionary; add the marker to it.
    writer.add_metadata({METADATA_KEY: str(text)})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def make_sample_pdf(title: str, paragraphs: list[str], *, paragraphs_per_page: int | None = None) -> bytes:
    """Return an A4 PDF with a title and Japanese-capable paragraphs (for tests and the demo)."""
    _register_fonts()
    title_style = ParagraphStyle("title", fontName=GOTHIC, fontSize=16, leading=22, spaceAfter=12,
                                 wordWrap="CJK")
    body_style = ParagraphStyle("body", fontName=MINCHO, fontSize=10.5, leading=17, spaceAfter=8,
                                wordWrap="CJK")
    story: list[Flowable] = [Paragraph(_escape(title), title_style), Spacer(1, 6)]
    for i, text in enumerate(paragraphs):
        if paragraphs_per_page and i and i % paragraphs_per_page == 0:
            story.append(PageBreak())
        story.append(Paragraph(_escape(text), body_style))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, title=title, invariant=1,
                            leftMargin=56, rightMargin=56, topMargin=56, bottomMargin=56)
    doc.build(story)
    return buf.getvalue()


def _escape(text: str) -> str:
    # reportlab Paragraph parses a small XML dialect; user text must not be read as markup.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
