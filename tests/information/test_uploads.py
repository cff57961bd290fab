"""Upload validation ("bad input"): content decides, names and declared types must agree; pure, no database."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable

import pytest
from PIL import Image

from banso.kit.errors import BansoError
from banso.sealed.uploads import (
    ALLOWED,
    DEFAULT_MAX_BYTES,
    FileKind,
    UploadRejected,
    UploadTooLarge,
    safe_filename,
    sniff,
)

# --- real sample files -----------------------------------------------------------------------------


def make_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    page = canvas.Canvas(buf, pagesize=A4)
    page.drawString(72, 760, "Council briefing - draft")
    page.showPage()
    page.save()
    return buf.getvalue()


def make_xlsx() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["technology", "papers"])
    sheet.append(["量子暗号", 128])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def make_ooxml(main: str, part: str, *, content_types: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        if content_types:
            archive.writestr(
                "[Content_Types].xml",
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                f'<Override PartName="/{part}" ContentType="{main}"/>'
                "</Types>",
            )
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(part, '<?xml version="1.0"?><root/>')
    return buf.getvalue()


DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def make_docx() -> bytes:
    return make_ooxml(DOCX_MAIN, "word/document.xml")


def make_pptx() -> bytes:
    return make_ooxml(PPTX_MAIN, "ppt/presentation.xml")


def make_image(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


def make_png_raw() -> bytes:
    """A 1×1 PNG built by hand, independent of any image library."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


CSV = "organisation,technology,papers\r\n東京大学,量子暗号,12\r\n\"Kyoto, Univ.\",AI,7\r\n".encode()
TEXT = "# 議事メモ\n\n- 次回は4月。\n".encode()

SAMPLES: dict[str, Callable[[], bytes]] = {
    "pdf": make_pdf,
    "docx": make_docx,
    "xlsx": make_xlsx,
    "pptx": make_pptx,
    "csv": lambda: CSV,
    "text": lambda: TEXT,
    "png": lambda: make_image("PNG"),
    "jpeg": lambda: make_image("JPEG"),
    "gif": lambda: make_image("GIF"),
    "webp": lambda: make_image("WEBP"),
}


# --- accepted ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ALLOWED))
def test_each_allowed_kind_is_accepted(kind: str) -> None:
    spec = ALLOWED[kind]
    ext = spec.extensions[0]
    data = SAMPLES[kind]()
    expected = FileKind(kind, spec.content_type, ext)
    assert sniff(data, f"資料{ext}", spec.content_type) == expected
    assert sniff(data, f"資料{ext}", None) == expected
    assert sniff(data, f"資料{ext}", "application/octet-stream") == expected


def test_raw_png_jpeg_alias_and_markdown() -> None:
    assert sniff(make_png_raw(), "dot.png", "image/png").kind == "png"
    assert sniff(make_image("JPEG"), "photo.JPEG", "image/jpg") == FileKind("jpeg", "image/jpeg", ".jpeg")
    assert sniff(TEXT, "notes.md", "text/markdown") == FileKind("text", "text/plain", ".md")


def test_browser_quirks_are_tolerated() -> None:
    # Windows browsers declare .csv as Excel; some send text/plain; charset parameters are fine.
    assert sniff(CSV, "a.csv", "application/vnd.ms-excel").kind == "csv"
    assert sniff(CSV, "a.csv", "text/plain; charset=utf-8").kind == "csv"
    assert sniff(CSV, "a.txt", "text/csv").kind == "text"
    assert sniff(make_docx(), "a.docx", "application/zip").kind == "docx"
    assert sniff(b"\xef\xbb\xbf" + CSV, "bom.csv", "text/csv").kind == "csv"


def test_name_without_extension_is_judged_by_content() -> None:
    assert sniff(make_pdf(), "report", None) == FileKind("pdf", "application/pdf", ".pdf")
    assert sniff(CSV, "export", "text/csv").kind == "csv"
    assert sniff(CSV, "export", None).kind == "text"


def test_csv_single_column_and_semicolons() -> None:
    assert sniff(b"name\nA\nB\n", "one.csv", "text/csv").kind == "csv"
    assert sniff(b"a;b;c\n1;2;3\n4;5;6\n", "semi.csv", "text/csv").kind == "csv"


# --- lies -----------------------------------------------------------------------------------------

LIES = [
    (lambda: make_image("PNG"), "report.pdf", "application/pdf",
     "file 'report.pdf' claims to be PDF but its content is a PNG image"),
    (make_pdf, "data.csv", "text/csv", "file 'data.csv' claims to be CSV but its content is a PDF document"),
    (make_pdf, "report.pdf", "text/csv", "file 'report.pdf' is declared as text/csv but its content is a PDF document"),
    (lambda: make_ooxml(DOCX_MAIN, "word/document.xml", content_types=False), "memo.docx", None,
     "claims to be a Word document (.docx) but its content is a ZIP archive (not an Office Open XML document)"),
    (make_xlsx, "memo.docx", None, "claims to be a Word document (.docx) but its content is an Excel workbook"),
    (make_docx, "slides.pptx", None, "claims to be a PowerPoint presentation (.pptx) but its content is a Word"),
    (lambda: b"\x00\x01\x02\x03binary\xff\xfe" * 10, "data.csv", "text/csv",
     "file 'data.csv' claims to be CSV but its content is binary data"),
    (lambda: b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "invoice.pdf", None, "its content is a Windows executable"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.docx", None,
     "legacy or password-protected Microsoft Office document"),
    (lambda: make_image("JPEG"), "photo.png", "image/png", "claims to be a PNG image but its content is a JPEG image"),
    (lambda: TEXT, "notes.txt", "image/png", "is declared as image/png but its content is plain text"),
    (lambda: TEXT, "page.html", "text/html", "the extension .html, which banso does not accept"),
    (make_pdf, "report.exe", None, "the extension .exe, which banso does not accept; its content is a PDF"),
    (lambda: make_ooxml("application/vnd.ms-word.document.macroEnabled.main+xml", "word/document.xml"),
     "macro.docx", None, "its content is a macro-enabled Office document"),
    (lambda: b"\x1f\x8b\x08\x00" + b"\x00" * 20, "archive.bin", None,
     "is a gzip archive, which banso does not accept (accepted: PDF,"),
]


@pytest.mark.parametrize(("make", "filename", "declared", "message"), LIES)
def test_each_lie_is_rejected(make: Callable[[], bytes], filename: str, declared: str | None, message: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        sniff(make(), filename, declared)
    assert message in caught.value.message
    assert caught.value.status_code == 422
    assert isinstance(caught.value, BansoError)


@pytest.mark.parametrize(("data", "filename", "message"), [
    ("Café crème\n".encode("latin-1"), "notes.txt", "is not UTF-8 text: invalid byte 0xe9 at offset 3"),
    ("会社名,件数\n東京,1\n".encode("cp932"), "社名.csv", "is not UTF-8 text (it looks like Shift_JIS)"),
    ("Café\n".encode("latin-1"), "notes", "save it as UTF-8"),
])
def test_text_must_be_utf8(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(UploadRejected, match="UTF-8") as caught:
        sniff(data, filename, "text/plain")
    assert message in caught.value.message


@pytest.mark.parametrize(("data", "message"), [
    (b"a,b,c\n1,2,3\n4,5\n", "line 3 has 2 fields, the first row has 3"),
    (b'a,b\n1,"unterminated\n', "not well-formed CSV"),
    (b"\n\n\n", "it has no rows"),
])
def test_malformed_csv_is_rejected(data: bytes, message: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        sniff(data, "bad.csv", "text/csv")
    assert message in caught.value.message


def test_csv_is_validated_whole_with_its_sniffed_dialect() -> None:
    # Only the first 50 rows were read: a broken row 60 was stored and broke the served copy (issue 17).
    rows = b"".join(b"%d;x\n" % i for i in range(60))
    with pytest.raises(UploadRejected) as caught:
        sniff(b"n;v\n" + rows + b"1;2;3\n", "late.csv", "text/csv")
    assert caught.value.message.startswith("ファイル「late.csv」は正しい CSV ではありません：")
    assert "line 62 has 3 fields, the first row has 2" in caught.value.message
    with pytest.raises(UploadRejected, match="unexpected end of data|EOF"):
        sniff(b"n,v\n" + b"1,x\n" * 60 + b'2,"open\n', "open.csv", "text/csv")
    # A field longer than csv's default limit (131,072 characters) is data, not a malformed file.
    assert sniff(b"n,v\n1," + b"x" * 200_000 + b"\n", "long.csv", "text/csv").kind == "csv"


def test_control_characters_in_text_mean_binary() -> None:
    with pytest.raises(UploadRejected, match="content is binary data"):
        sniff(b"hello\x07world\n", "bell.txt", "text/plain")


@pytest.mark.parametrize(("make", "filename", "message"), [
    (lambda: make_pdf()[:-200], "cut.pdf", "is a PDF document but it is damaged: it is truncated"),
    (lambda: make_png_raw()[:-12], "cut.png", "is a PNG image but it is damaged: it is truncated"),
    (lambda: make_png_raw()[:30] + b"X" + make_png_raw()[31:], "crc.png", "fails its CRC check"),
    (lambda: make_image("JPEG")[:-2], "cut.jpg", "no end-of-image marker"),
    (lambda: make_image("WEBP")[:-10], "cut.webp", "WebP image but it is damaged"),
    (lambda: make_docx()[:-30], "cut.docx", "the archive cannot be read"),
    (lambda: make_ooxml(DOCX_MAIN, "other/document.xml"), "hollow.docx", "the package has no word/ part"),
])
def test_damaged_files_are_rejected(make: Callable[[], bytes], filename: str, message: str) -> None:
    with pytest.raises(UploadRejected) as caught:
        sniff(make(), filename, None)
    assert message in caught.value.message


def test_zip_bomb_is_refused() -> None:
    data = bytearray(make_docx())
    # Claim a 2 GiB uncompressed size in the central directory, as a bomb's header would.
    entry = data.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack("<H", data[entry + 28:entry + 30])[0]
        if data[entry + 46:entry + 46 + name_len] == b"word/document.xml":
            data[entry + 24:entry + 28] = struct.pack("<I", 0x7FFFFFFF)
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    with pytest.raises(UploadRejected, match="expands far beyond its size"):
        sniff(bytes(data), "bomb.docx", None)


# --- size ------------------------------------------------------------------------------------------


def test_oversized_is_413() -> None:
    data = make_pdf()
    with pytest.raises(UploadTooLarge) as caught:
        sniff(data, "big.pdf", "application/pdf", max_bytes=len(data) - 1)
    assert caught.value.status_code == 413
    assert isinstance(caught.value, UploadRejected)
    assert "the limit is" in caught.value.message
    assert sniff(data, "big.pdf", "application/pdf", max_bytes=len(data)).kind == "pdf"


def test_default_limit_is_20_mib() -> None:
    assert DEFAULT_MAX_BYTES == 20 * 1024 * 1024
    with pytest.raises(UploadTooLarge, match="20.0 MiB"):
        sniff(b"x" * (DEFAULT_MAX_BYTES + 1), "huge.txt", "text/plain")


def test_empty_is_422() -> None:
    with pytest.raises(UploadRejected) as caught:
        sniff(b"", "empty.pdf", "application/pdf")
    assert caught.value.status_code == 422
    assert caught.value.message == "ファイル「empty.pdf」は空です / file 'empty.pdf' is empty"


# --- file names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\system.ini", "system.ini"),
    ("C:\\Users\\山田\\Desktop\\報告書（案）.pdf", "報告書（案）.pdf"),
    ("/tmp/../.htaccess", "htaccess"),
    ("  議事録 2026年4月.docx  ", "議事録 2026年4月.docx"),
    ("trailing dots. . .", "trailing dots"),
    ('what?<is>"this"*.txt', "what__is__this__.txt"),
])
def test_safe_filename_cleans(raw: str, clean: str) -> None:
    assert safe_filename(raw) == clean


def test_safe_filename_composes_decomposed_japanese() -> None:
    decomposed = "か\u3099いこく.pdf"  # macOS sends が as か + combining dakuten
    assert safe_filename(decomposed) == "がいこく.pdf"


@pytest.mark.parametrize(("raw", "message"), [
    ("report\x00.pdf", "control characters"),
    ("line\nbreak.txt", "control characters"),
    ("invoice\u202efdp.exe", "control characters"),
    ("..", "empty"),
    ("dir/", "empty"),
    ("   ", "empty"),
    ("あ" * 252 + ".pdf", "256 characters long; the limit is 255"),
])
def test_safe_filename_rejects(raw: str, message: str) -> None:
    with pytest.raises(UploadRejected, match=message):
        safe_filename(raw)


def test_long_japanese_name_within_limit_is_kept() -> None:
    name = "あ" * 251 + ".pdf"
    assert safe_filename(name) == name
    assert sniff(make_pdf(), f"../{name}", "application/pdf").kind == "pdf"


def test_sniff_reports_cleaned_name_in_messages() -> None:
    with pytest.raises(UploadRejected, match="file 'report.pdf' claims to be PDF"):
        sniff(make_image("PNG"), "../../secret/report.pdf", None)
