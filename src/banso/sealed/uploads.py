"""Upload validation for stored files (I11 stores them; this decides what may be stored).

Information items validate their files here, and the sealed store sniffs a file's kind to pick the
stamp of a recipient's copy (I8); both sit above this package.

Pure: bytes in, a verdict out. A file is judged by its content (magic bytes, and for Office Open XML
the package's ``[Content_Types].xml``), then its name and the browser's declared type must agree with
what the content is. Empty, oversized, damaged and mislabelled files are refused with a message that
says what is wrong ("bad input"): a file whose type lies about itself never reaches the store, the
watermarker (I8) or a reader's screen.

Then the file is validated completely (O1): :func:`sniff` runs the parsing the stampers of a recipient's
copy and the viewer will run, with the same limits (``banso.leak.limits``), so that a stored file can
always be served — PDFs parsed page by page, refused when they hold active content (JavaScript, Launch
actions, embedded files: ``banso.leak.pdf.active_content``) and stamped once for nobody, images measured by pixel count
from the header and decoded, Office packages measured by expanded size, searched for DTDs and stamped
once for nobody. :func:`identify` is the cheap first half alone, for picking the stamp of a stored file.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from types import MappingProxyType

from banso.kit.cells import allow_fields_of, csv_dialect
from banso.kit.errors import ValidationFailed
from banso.kit.text import forbidden_character, is_windows_device_name
from banso.leak.image import NotAnImage, check_image
from banso.leak.office import NotAnOfficeFile, check_office
from banso.leak.pdf import NotAPdf, check_pdf

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MIB
MAX_FILENAME_LENGTH = 255


class UploadRejected(ValidationFailed):
    """An upload is empty, malformed, not an accepted type, lies about its type, or cannot be served (O1)."""

    status_code = 422
    code = "upload_rejected"


class UploadTooLarge(UploadRejected):
    """An upload is larger than the limit."""

    status_code = 413
    code = "upload_too_large"


@dataclass(frozen=True)
class FileKind:
    """What an accepted file is: ``kind`` (``pdf``, ``docx`` …), canonical MIME type and extension."""

    kind: str
    content_type: str
    extension: str  # with the dot, e.g. ".pdf"


@dataclass(frozen=True)
class AllowedKind:
    """One accepted file type."""

    content_type: str
    extensions: tuple[str, ...]  # the first is canonical
    label: str  # what a name or a declared type claims: "PDF"
    description: str  # what content is: "a PDF document"
    also_declared: tuple[str, ...] = ()  # other MIME types browsers send for it


_OOXML_CONTAINERS = ("application/zip", "application/x-zip-compressed")

ALLOWED: Mapping[str, AllowedKind] = MappingProxyType({
    "pdf": AllowedKind("application/pdf", (".pdf",), "PDF", "a PDF document", ("application/x-pdf",)),
    "docx": AllowedKind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",),
        "a Word document (.docx)", "a Word document (.docx)", _OOXML_CONTAINERS,
    ),
    "xlsx": AllowedKind(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",),
        "an Excel workbook (.xlsx)", "an Excel workbook (.xlsx)", _OOXML_CONTAINERS,
    ),
    "pptx": AllowedKind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",),
        "a PowerPoint presentation (.pptx)", "a PowerPoint presentation (.pptx)", _OOXML_CONTAINERS,
    ),
    # Windows browsers declare .csv as Excel's type; CSV is text, so text/plain is no lie either.
    "csv": AllowedKind(
        "text/csv", (".csv",), "CSV", "CSV text",
        ("application/csv", "text/x-csv", "text/comma-separated-values", "application/vnd.ms-excel", "text/plain"),
    ),
    "text": AllowedKind("text/plain", (".txt", ".md"), "plain text", "plain text",
                        ("text/markdown", "text/x-markdown")),
    "png": AllowedKind("image/png", (".png",), "a PNG image", "a PNG image"),
    "jpeg": AllowedKind("image/jpeg", (".jpg", ".jpeg"), "a JPEG image", "a JPEG image",
                        ("image/jpg", "image/pjpeg")),
    "gif": AllowedKind("image/gif", (".gif",), "a GIF image", "a GIF image"),
    "webp": AllowedKind("image/webp", (".webp",), "a WebP image", "a WebP image"),
})

_TEXT_KINDS = frozenset({"text", "csv"})
# What a file is, as the Japanese half of a refusal says it (issue 14: no English in a Japanese message).
_JA_DESCRIPTIONS: Mapping[str, str] = MappingProxyType({
    "PDF": "PDF", "a PDF document": "PDF 文書", "a Word document (.docx)": "Word 文書（.docx）",
    "an Excel workbook (.xlsx)": "Excel ブック（.xlsx）",
    "a PowerPoint presentation (.pptx)": "PowerPoint プレゼンテーション（.pptx）", "CSV": "CSV",
    "CSV text": "CSV テキスト", "plain text": "テキスト", "a PNG image": "PNG 画像", "a JPEG image": "JPEG 画像",
    "a GIF image": "GIF 画像", "a WebP image": "WebP 画像",
    "a legacy or password-protected Microsoft Office document": "旧形式又はパスワード付きの Microsoft Office 文書",
    "an ELF executable": "ELF 実行ファイル", "a gzip archive": "gzip 圧縮ファイル", "a 7-Zip archive": "7-Zip 圧縮ファイル",
    "a RAR archive": "RAR 圧縮ファイル", "a Mach-O or Java class file": "Mach-O 又は Java class ファイル",
    "a Mach-O executable": "Mach-O 実行ファイル", "a TIFF image": "TIFF 画像",
    "a ZIP archive that expands far beyond its size": "展開すると極端に大きくなる ZIP ファイル",
    "a ZIP archive (not an Office Open XML document)": "ZIP ファイル（Office 文書ではありません）",
    "an Office Open XML package": "Office 文書", "a ZIP-based file": "ZIP 形式のファイル",
    "a macro-enabled Office document": "マクロ付きの Office 文書",
    "an Office Open XML package of a kind banso does not accept": "受け付けていない種類の Office 文書",
    "binary data": "バイナリデータ", "text that is not UTF-8": "UTF-8 ではないテキスト",
    "an empty ZIP archive": "空の ZIP ファイル", "a Windows executable": "Windows 実行ファイル",
})


def _ja(description: str) -> str:
    """Return how the Japanese half names a kind of file (the English words when none is listed)."""
    return _JA_DESCRIPTIONS.get(description, description)
_EXTENSIONS = {ext: kind for kind, spec in ALLOWED.items() for ext in spec.extensions}
# Declared types that claim nothing: a browser that does not know the type sends these.
_UNCLAIMED_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})


# ---------------------------------------------------------------------------------------------
# File names
# ---------------------------------------------------------------------------------------------

_WINDOWS_RESERVED = re.compile(r'[<>:"|?*]')


def safe_filename(name: str) -> str:
    """Return the bare file name to keep: no directories, NFC, Japanese kept; refuse control characters."""
    # NFC: macOS sends decomposed kana (か + ゛), which would not match the same name typed elsewhere.
    name = unicodedata.normalize("NFC", name)
    # One definition with the text rule (kit.text): bidirectional overrides let "report\u202Efdp.exe"
    # display as "reportexe.pdf"; controls, separators, private-use and unassigned code points go too.
    bad = forbidden_character(name)
    if bad is not None:
        raise UploadRejected(f"ファイル名に使用できない文字（U+{ord(bad):04X}）が含まれています / "
                             f"file name contains control characters or other characters that are not "
                             f"allowed (U+{ord(bad):04X})", field="file")
    base = re.split(r"[\\/]", name)[-1]  # Windows browsers may send the whole "C:\Users\…" path
    # Leading dots make hidden files (".htaccess") or traversal (".."); Windows drops trailing ones.
    base = base.strip().lstrip(".").strip().rstrip(". ")
    base = _WINDOWS_RESERVED.sub("_", base)
    if not base:
        raise UploadRejected("ファイル名が空です / file name is empty", field="file")
    if is_windows_device_name(base):  # "CON.txt" cannot be saved on Windows: a reader could never open it
        raise UploadRejected(f"ファイル名 '{base}' は Windows の予約名のため使用できません / "
                             f"file name '{base}' is a reserved Windows device name", field="file")
    if len(base) > MAX_FILENAME_LENGTH:
        raise UploadRejected(
            f"ファイル名が {len(base)} 文字あります（上限 {MAX_FILENAME_LENGTH} 文字） / "
            f"file name is {len(base)} characters long; the limit is {MAX_FILENAME_LENGTH}", field="file"
        )
    return base


# ---------------------------------------------------------------------------------------------
# Content detection
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Detected:
    kind: str | None  # an ALLOWED key, or None when the content is of a type banso refuses
    description: str  # what the content is, for messages
    text_problem: str | None = None  # set when the content is text but not acceptable text ("日本語 / English")


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_OTHER_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy or password-protected Microsoft Office document"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
)
_OOXML_MAIN = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "word/"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xl/"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml", "ppt/"),
}
_OOXML_MACRO = re.compile(r"application/vnd\.ms-[a-z]+\.[a-z]+\.macroEnabled", re.IGNORECASE)
_MAX_ZIP_ENTRIES = 10_000
_MAX_ZIP_EXPANDED = 1024 * MIB


def _damaged(name: str, what: str, detail: str) -> UploadRejected:
    return UploadRejected(f"ファイル「{name}」は{_ja(what)}ですが、壊れています / "
                          f"file '{name}' is {what} but it is damaged: {detail}", field="file")


def _check_pdf(data: bytes, name: str) -> None:
    # Every complete PDF (incremental updates too) ends with %%EOF; an upload cut short does not.
    if b"%%EOF" not in data[-2048:]:
        raise _damaged(name, "a PDF document", "it is truncated (no %%EOF marker)")


def _check_png(data: bytes, name: str) -> None:
    pos = len(_PNG_SIGNATURE)
    first = True
    while True:
        if pos + 12 > len(data):
            raise _damaged(name, "a PNG image", "it is truncated (no IEND chunk)")
        length, chunk = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise _damaged(name, "a PNG image", f"chunk {chunk!r} runs past the end of the file")
        if first and chunk != b"IHDR":
            raise _damaged(name, "a PNG image", "it does not start with an IHDR chunk")
        (crc,) = struct.unpack(">I", data[end - 4:end])
        if zlib.crc32(data[pos + 4:end - 4]) != crc:
            raise _damaged(name, "a PNG image", f"chunk {chunk!r} fails its CRC check")
        if chunk == b"IEND":
            return
        pos, first = end, False


def _check_jpeg(data: bytes, name: str) -> None:
    if data.rfind(b"\xff\xd9") < 3:
        raise _damaged(name, "a JPEG image", "it is truncated (no end-of-image marker)")


def _check_gif(data: bytes, name: str) -> None:
    if len(data) < 14:
        raise _damaged(name, "a GIF image", "it is truncated")
    width, height = struct.unpack("<HH", data[6:10])
    if not width or not height:
        raise _damaged(name, "a GIF image", "it has no size")


def _check_webp(data: bytes, name: str) -> None:
    (riff_size,) = struct.unpack("<I", data[4:8])
    if len(data) < 20 or riff_size + 8 > len(data):
        raise _damaged(name, "a WebP image", "it is truncated")
    if data[12:16] not in (b"VP8 ", b"VP8L", b"VP8X"):
        raise _damaged(name, "a WebP image", "it has no VP8 image data")


def _detect_zip(data: bytes, name: str) -> _Detected:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        names = [info.filename for info in infos]
        if len(infos) > _MAX_ZIP_ENTRIES or sum(info.file_size for info in infos) > _MAX_ZIP_EXPANDED:
            # A zip bomb would exhaust whoever indexes or previews it later.
            return _Detected(None, "a ZIP archive that expands far beyond its size")
        if "[Content_Types].xml" not in names:
            return _Detected(None, "a ZIP archive (not an Office Open XML document)")
        if archive.getinfo("[Content_Types].xml").file_size > MIB:
            raise _damaged(name, "an Office Open XML package", "[Content_Types].xml is implausibly large")
        # No XML parser on untrusted input: the content types we need are fixed strings.
        content_types = archive.read("[Content_Types].xml").decode("utf-8", errors="replace")
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _damaged(name, "a ZIP-based file", f"the archive cannot be read ({exc})") from exc
    for kind, (main, folder) in _OOXML_MAIN.items():
        if main in content_types:
            if not any(entry.startswith(folder) for entry in names):
                raise _damaged(name, ALLOWED[kind].description, f"the package has no {folder} part")
            return _Detected(kind, ALLOWED[kind].description)
    if _OOXML_MACRO.search(content_types):
        return _Detected(None, "a macro-enabled Office document")
    return _Detected(None, "an Office Open XML package of a kind banso does not accept")


def _detect_text(data: bytes) -> _Detected:
    if b"\x00" in data:
        return _Detected(None, "binary data")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        hint = hint_ja = ""
        try:
            if re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", data.decode("cp932")):
                hint, hint_ja = " (it looks like Shift_JIS)", "（Shift_JIS のようです）"
        except UnicodeDecodeError:
            pass
        problem = (f"は UTF-8 のテキストではありません{hint_ja}（{exc.start} バイト目）。UTF-8 で保存してください"
                   f"（Excel では「CSV UTF-8」） / is not UTF-8 text{hint}: invalid byte 0x{data[exc.start]:02x} at "
                   f"offset {exc.start}; save it as UTF-8 (in Excel: “CSV UTF-8”)")
        return _Detected(None, "text that is not UTF-8", problem)
    text = text.removeprefix("\ufeff")
    if re.search(r"[\x01-\x08\x0b\x0e-\x1f]", text):
        return _Detected(None, "binary data")
    return _Detected("text", "plain text")


def _detect(data: bytes, name: str) -> _Detected:
    if data.startswith(b"%PDF-"):
        _check_pdf(data, name)
        return _Detected("pdf", ALLOWED["pdf"].description)
    if data.startswith(_PNG_SIGNATURE):
        _check_png(data, name)
        return _Detected("png", ALLOWED["png"].description)
    if data.startswith(b"\xff\xd8\xff"):
        _check_jpeg(data, name)
        return _Detected("jpeg", ALLOWED["jpeg"].description)
    if data.startswith((b"GIF87a", b"GIF89a")):
        _check_gif(data, name)
        return _Detected("gif", ALLOWED["gif"].description)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        _check_webp(data, name)
        return _Detected("webp", ALLOWED["webp"].description)
    if data.startswith(b"PK\x03\x04"):
        return _detect_zip(data, name)
    if data.startswith(b"PK\x05\x06"):
        return _Detected(None, "an empty ZIP archive")
    for magic, description in _OTHER_MAGIC:
        if data.startswith(magic):
            return _Detected(None, description)
    detected = _detect_text(data)
    if detected.kind is None and detected.text_problem is None and data.startswith(b"MZ"):
        return _Detected(None, "a Windows executable")
    return detected


def _not_csv(name: str, ja: str, en: str) -> UploadRejected:
    return UploadRejected(f"ファイル「{name}」は正しい CSV ではありません：{ja} / file '{name}' is not well-formed CSV: {en}",
                          field="file")


def _check_csv(data: bytes, name: str) -> None:
    """Parse the whole file as it will be served (O1): the dialect and field limit of banso.kit.cells."""
    text = data.decode("utf-8").removeprefix("\ufeff")
    dialect = csv_dialect(text)
    allow_fields_of(text)
    header: int | None = None
    try:
        reader = csv.reader(io.StringIO(text), dialect, strict=True)
        for row in reader:
            if not row:
                continue
            if header is None:
                header = len(row)
            elif len(row) != header:
                raise _not_csv(name, f"{reader.line_num} 行目の項目数 {len(row)} が 1 行目の {header} と異なります",
                               f"line {reader.line_num} has {len(row)} fields, the first row has {header}")
    except csv.Error as exc:
        raise _not_csv(name, f"{reader.line_num} 行目を読めません（{exc}）", str(exc)) from exc
    if header is None:
        raise _not_csv(name, "行がありません", "it has no rows")


# ---------------------------------------------------------------------------------------------
# The verdict
# ---------------------------------------------------------------------------------------------


def _declared_kinds(declared: str) -> frozenset[str]:
    return frozenset(
        kind for kind, spec in ALLOWED.items() if declared == spec.content_type or declared in spec.also_declared
    )


def _compatible(claimed: str, kind: str) -> bool:
    return claimed == kind or (claimed in _TEXT_KINDS and kind in _TEXT_KINDS)


def _allowed_list(*, ja: bool = False) -> str:
    labels = dict.fromkeys(spec.label for spec in ALLOWED.values())
    return "、".join(_ja(label) for label in labels) if ja else ", ".join(labels)


def _size(n: int) -> str:
    return f"{n / MIB:.1f} MiB" if n >= MIB else f"{n} bytes"


_IMAGE_KINDS = frozenset({"png", "jpeg", "gif", "webp"})
_OFFICE_KINDS = frozenset({"docx", "xlsx", "pptx"})


def _check_servable(data: bytes, kind: str, name: str) -> None:
    """Refuse a file that a recipient's copy could not be stamped from, or the viewer could not show (O1)."""
    try:
        if kind == "pdf":
            check_pdf(data)
        elif kind in _IMAGE_KINDS:
            check_image(data, kind)
        elif kind in _OFFICE_KINDS:
            check_office(data, kind)
    except (NotAPdf, NotAnImage, NotAnOfficeFile) as exc:
        ja, _, en = exc.message.partition(" / ")
        raise UploadRejected(f"ファイル「{name}」は保存できません：{ja} / file '{name}' cannot be stored: {en or ja}",
                             field="file") from exc


def sniff(
    data: bytes, filename: str, declared_type: str | None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> FileKind:
    """Return what an upload is, judged by its content and validated completely (O1); refuse it when empty, too
    large, damaged, mislabelled, or beyond what stamping and viewing it would need."""
    kind = identify(data, filename, declared_type, max_bytes=max_bytes)
    _check_servable(data, kind.kind, safe_filename(filename))
    return kind


def identify(
    data: bytes, filename: str, declared_type: str | None, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> FileKind:
    """Return what a file is, judged by its content; refuse it when empty, too large, damaged or mislabelled.

    The cheap half of :func:`sniff` (magic bytes and structure, no full parse): what picks the stamp of a
    stored file.
    """
    name = safe_filename(filename)
    if not data:
        raise UploadRejected(f"ファイル「{name}」は空です / file '{name}' is empty", field="file")
    if len(data) > max_bytes:
        raise UploadTooLarge(f"ファイル「{name}」は {_size(len(data))} あり、上限 {_size(max_bytes)} を超えています / "
                             f"file '{name}' is {_size(len(data))}; the limit is {_size(max_bytes)}", field="file")

    suffix = PurePosixPath(name).suffix.lower()
    claimed = _EXTENSIONS.get(suffix) if suffix else None
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    declared_kinds = None if declared in _UNCLAIMED_TYPES else _declared_kinds(declared)

    detected = _detect(data, name)
    if detected.kind is None:
        if detected.text_problem is not None and (claimed in _TEXT_KINDS or claimed is None):
            ja, _, en = detected.text_problem.partition(" / ")
            raise UploadRejected(f"ファイル「{name}」{ja} / file '{name}' {en}", field="file")
        if claimed is not None:
            raise UploadRejected(
                f"ファイル「{name}」は名前では{_ja(ALLOWED[claimed].label)}ですが、内容は{_ja(detected.description)}です / "
                f"file '{name}' claims to be {ALLOWED[claimed].label} but its content is {detected.description}",
                field="file",
            )
        raise UploadRejected(
            f"ファイル「{name}」は{_ja(detected.description)}のため受け付けられません"
            f"（受け付ける形式: {_allowed_list(ja=True)}） / "
            f"file '{name}' is {detected.description}, which banso does not accept (accepted: {_allowed_list()})",
            field="file",
        )

    kind = detected.kind
    if suffix and claimed is None:
        raise UploadRejected(
            f"ファイル「{name}」の拡張子 {suffix} は受け付けられません（内容は{_ja(detected.description)}） / "
            f"file '{name}' has the extension {suffix}, which banso does not accept; "
            f"its content is {detected.description}",
            field="file",
        )
    if claimed is not None and not _compatible(claimed, kind):
        raise UploadRejected(
            f"ファイル「{name}」は名前では{_ja(ALLOWED[claimed].label)}ですが、内容は{_ja(detected.description)}です / "
            f"file '{name}' claims to be {ALLOWED[claimed].label} but its content is {detected.description}",
            field="file",
        )
    if declared_kinds is not None and not any(_compatible(k, kind) for k in declared_kinds):
        raise UploadRejected(
            f"ファイル「{name}」は {declared} として送られましたが、内容は{_ja(detected.description)}です / "
            f"file '{name}' is declared as {declared} but its content is {detected.description}", field="file"
        )

    if kind in _TEXT_KINDS:
        # Text is CSV when its name (or, nameless, its declared type) says so; then it must parse as CSV.
        wants_csv = claimed == "csv" or (claimed is None and declared_kinds is not None
                                         and "csv" in declared_kinds and "text" not in declared_kinds)
        kind = "csv" if wants_csv else "text"
        if kind == "csv":
            _check_csv(data, name)
    spec = ALLOWED[kind]
    return FileKind(kind, spec.content_type, suffix if suffix in spec.extensions else spec.extensions[0])
