"""Files that could never be served are refused at upload (issue 17, O1, I8, I12).

Found from outside on the code before: a PDF with a 100 MB stream was stored and every download was a 500;
a PDF with garbage inside, a 30,000² PNG, a docx with a DTD and a docx expanding past the watermark cap were
stored (201) and answered 422 forever after. Every hostile file is built here, small, and uploaded over HTTP
through each door a file comes in by (items, new versions, material-request answers, commission
deliverables); files stored before this check answer a clear 422 naming the problem, never a 500; and every
file the validator accepts — a corpus of good files, and any corruption of them it lets through — can be
downloaded (stamped) and viewed.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.councils import service as councils
from banso.councils.models import MeetingMaterial
from banso.information import service, viewer
from banso.information.deps import information_deps
from banso.information.models import Item, ItemFile
from banso.kit.clock import FakeClock
from banso.leak import limits
from banso.leak.image import open_reduced
from banso.leak.pdf import active_content, make_sample_pdf
from banso.sealed import uploads
from banso.sealed.store import stamp_kind
from banso.sealed.uploads import UploadRejected, sniff
from banso.web.context import AppContext
from tests.councils.test_meetings_api import _held_meeting
from tests.councils.test_meetings_api import _url as _meeting_url
from tests.information.test_uploads import make_pptx
from tests.information.test_viewer import _files, _url, _view_only
from tests.support.councils import Cast, active_council
from tests.support.factories import Factory
from tests.support.http import bearer, sign_in
from tests.support.information import API, item_form, provide_item
from tests.support.programme import Scene

MIB = 1024 * 1024
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# --- hostile files, built small ---------------------------------------------------------------------


def _pdf(objects: list[bytes]) -> bytes:
    """Return a PDF of the given objects (1 = catalog), with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d /Filter /FlateDecode >>\nstream\n" % (dictionary, len(data)) + data + b"\nendstream"


def pdf_with_stream(expanded: int, *, rotate: int = 0) -> bytes:
    """A one-page PDF whose content stream expands to ``expanded`` bytes (about 100 KB as stored)."""
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 (b"<< /Type /Page /Parent 2 0 R /Rotate %d /MediaBox [0 0 595 842] /Contents 4 0 R "
                  b"/Resources << >> >>" % rotate),
                 _stream(b"", zlib.compress(b" " * expanded, 9))])


def pdf_with_huge_image() -> bytes:
    """A PDF drawing a 12,000 × 12,000 image: a few bytes stored, 144 MP for PDFium to decode on every view."""
    return _pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                 (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                  b"/Resources << /XObject << /Im1 5 0 R >> >> >>"),
                 _stream(b"", zlib.compress(b"q 595 0 0 842 0 0 cm /Im1 Do Q")),
                 _stream(b"/Type /XObject /Subtype /Image /Width 12000 /Height 12000 /ColorSpace /DeviceGray "
                         b"/BitsPerComponent 8", zlib.compress(b"\x00" * 1000))])


def garbage_pdf() -> bytes:
    """A PDF header and trailer around random bytes (it passes the old %%EOF check)."""
    noise = random.Random(17).randbytes(5000)
    return b"%PDF-1.7\n" + noise + b"\n%%EOF\n"


def password_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_sample_pdf("機密", ["本文"]))))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG declaring ``width`` × ``height`` with valid chunks and CRCs, and almost no pixel data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 1000))
            + _chunk(b"IEND", b""))


_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/word/document.xml" '
       'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="word/document.xml"/></Relationships>')
_DOC = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{dtd}'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        '<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p><w:sectPr/></w:body></w:document>')
BILLION_LAUGHS = ('<!DOCTYPE w:document [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                  '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>')


def docx(*, dtd: str = "", text: str = "水中航法の評価", filler: int = 0) -> bytes:
    """A minimal Word document; ``dtd`` goes before the root, ``filler`` zero bytes into a media part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        package.writestr("[Content_Types].xml", _CT)
        package.writestr("_rels/.rels", _RELS)
        package.writestr("word/document.xml", _DOC.format(dtd=dtd, text=text))
        if filler:
            with package.open("word/media/filler.bin", "w") as part:
                block = bytes(MIB)
                for _ in range(filler // MIB):
                    part.write(block)
    return out.getvalue()


def zip_bomb_docx() -> bytes:
    """A docx of about 200 KB whose parts expand past the watermarker's cap (200 MB)."""
    return docx(filler=limits.MAX_OFFICE_EXPANDED + 10 * MIB)


# Active content (F3 of the outside test): a valid PDF that runs JavaScript on open and carries evil.exe was
# stored, and every member's stamped copy still ran it. Built with pypdf from a plain sample PDF.
EVIL_EXE = b"MZ\x90\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode."


def _n(name: str) -> NameObject:
    return NameObject(name)


def _js_action(script: str = 'app.alert("attack2")') -> DictionaryObject:
    return DictionaryObject({_n("/Type"): _n("/Action"), _n("/S"): _n("/JavaScript"),
                             _n("/JS"): TextStringObject(script)})


def _link(action: DictionaryObject, subtype: str = "/Link") -> DictionaryObject:
    return DictionaryObject({_n("/Type"): _n("/Annot"), _n("/Subtype"): _n(subtype), _n("/A"): action,
                             _n("/Rect"): ArrayObject([FloatObject(v) for v in (56, 700, 256, 720)])})


def _active_pdf(*parts: Callable[[PdfWriter], None]) -> bytes:
    """Return a plain two-paragraph PDF with each of ``parts`` applied to it."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_sample_pdf("配布資料", ["試験計画の概要", "日程"]))))
    for part in parts:
        part(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action_js(w: PdfWriter) -> None:
    w.root_object[_n("/OpenAction")] = _js_action()


def _page_aa_js(w: PdfWriter) -> None:  # runs when the page is opened
    w.pages[0][_n("/AA")] = DictionaryObject({_n("/O"): _js_action()})


def _names_js(w: PdfWriter) -> None:  # document-level scripts, run on open
    w.root_object[_n("/Names")] = DictionaryObject({_n("/JavaScript"): DictionaryObject(
        {_n("/Names"): ArrayObject([TextStringObject("attack2"), _js_action()])})})


def _attached_exe(w: PdfWriter) -> None:
    w.add_attachment("evil.exe", EVIL_EXE)


def _launch_link(w: PdfWriter) -> None:
    w.add_annotation(0, _link(DictionaryObject({_n("/S"): _n("/Launch"), _n("/F"): TextStringObject("evil.exe")})))


def _attachment_annotation(w: PdfWriter) -> None:
    annotation = _link(DictionaryObject(), "/FileAttachment")
    del annotation[_n("/A")]
    annotation[_n("/FS")] = DictionaryObject({_n("/Type"): _n("/Filespec"), _n("/F"): TextStringObject("evil.exe")})
    w.add_annotation(0, annotation)


def _xfa_form(w: PdfWriter) -> None:
    w.root_object[_n("/AcroForm")] = DictionaryObject({_n("/Fields"): ArrayObject(),
                                                       _n("/XFA"): TextStringObject("<xdp:xdp/>")})


def _uri_link(w: PdfWriter) -> None:
    w.add_annotation(0, _link(DictionaryObject({_n("/S"): _n("/URI"),
                                                _n("/URI"): TextStringObject("https://www.cao.go.jp/")})))


# name → (builder, declared type, what the refusal names)
HOSTILE: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "stream-100mb.pdf": (lambda: pdf_with_stream(100 * MIB), "application/pdf", "64 MB"),
    "garbage.pdf": (garbage_pdf, "application/pdf", "damaged"),
    "password.pdf": (password_pdf, "application/pdf", "password-protected"),
    "huge-image.pdf": (pdf_with_huge_image, "application/pdf", "144,000,000 pixels"),
    "huge-30000.png": (lambda: png_header_only(30_000, 30_000), "image/png", "900,000,000 pixels"),
    "dtd.docx": (lambda: docx(dtd=BILLION_LAUGHS), DOCX, "DTD"),
    "bomb.docx": (zip_bomb_docx, DOCX, "more than 200 MB"),
    # What the outside tester sent: JavaScript on open and an attached Windows executable.
    "attack2.pdf": (lambda: _active_pdf(_open_action_js, _attached_exe), "application/pdf",
                    "active content (JavaScript, embedded files (attachments))"),
    "page-aa.pdf": (lambda: _active_pdf(_page_aa_js), "application/pdf", "active content (JavaScript)"),
    "names-js.pdf": (lambda: _active_pdf(_names_js), "application/pdf", "active content (JavaScript)"),
    "embedded.pdf": (lambda: _active_pdf(_attached_exe), "application/pdf",
                     "active content (embedded files (attachments))"),
    "launch.pdf": (lambda: _active_pdf(_launch_link), "application/pdf", "active content (a Launch action"),
    "attach-annotation.pdf": (lambda: _active_pdf(_attachment_annotation), "application/pdf",
                              "active content (embedded files (attachments))"),
    "xfa.pdf": (lambda: _active_pdf(_xfa_form), "application/pdf", "active content (an XFA form)"),
}
ACTIVE = ["attack2.pdf", "page-aa.pdf", "names-js.pdf", "embedded.pdf", "launch.pdf", "attach-annotation.pdf",
          "xfa.pdf"]
_BUILT: dict[str, bytes] = {}


def hostile(name: str) -> bytes:
    """Return the hostile file ``name``, built once per session (the bomb takes a moment to compress)."""
    if name not in _BUILT:
        _BUILT[name] = HOSTILE[name][0]()
    return _BUILT[name]


def _assert_refused(response_status: int, body: dict[str, str], name: str) -> None:
    reason = HOSTILE[name][2]
    assert response_status == 422, body
    assert body["error"] == "upload_rejected"
    message = body["message"]
    # Japanese first, then English, both naming the file and the reason.
    assert message.startswith(f"ファイル「{name}」は保存できません：") and f" / file '{name}' cannot be stored: " in message
    assert reason in message


# --- every door refuses them ----------------------------------------------------------------------


@pytest.fixture
def active(factory: Factory, db: Session, clock: FakeClock) -> Cast:
    return active_council(factory, db, clock, bystander=True)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_when_an_item_is_provided(client: TestClient, db: Session, active: Cast,
                                                            clock: FakeClock, name: str) -> None:
    made = client.post(f"{API}/items", headers=bearer(db, active.company, clock), data=item_form(active, clock),
                       files=[("files", (name, hostile(name), HOSTILE[name][1]))])
    _assert_refused(made.status_code, made.json(), name)
    assert db.scalar(select(func.count()).select_from(Item)) == 0
    # Audited as a refused upload (A1), with the extension and size only.
    assert db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.tag == "information:upload:rejected")) == 1


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_in_a_new_version(client: TestClient, db: Session, active: Cast,
                                                    clock: FakeClock, name: str) -> None:
    headers = bearer(db, active.company, clock)
    made = client.post(f"{API}/items", headers=headers, data=item_form(active, clock))
    assert made.status_code == 201, made.text
    version = client.post(f"{API}/items/{made.json()['id']}/versions", headers=headers,
                          data={"body": "改訂", "note": "差し替え"},
                          files=[("files", (name, hostile(name), HOSTILE[name][1]))])
    _assert_refused(version.status_code, version.json(), name)


@pytest.mark.parametrize("name", ["stream-100mb.pdf", "huge-30000.png", "dtd.docx", "bomb.docx", *ACTIVE])
def test_a_hostile_file_is_refused_as_a_deliverable_and_as_an_answer(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext, name: str) -> None:
    scene = Scene(db, factory, clock, ctx)
    filed = client.post(f"/api/v1/programme/commissions/{scene.commission.id}/deliverables",
                        headers=bearer(db, scene.analyst, clock), data={"title": "最終報告書"},
                        files={"file": (name, hostile(name), HOSTILE[name][1])})
    _assert_refused(filed.status_code, filed.json(), name)
    cast = scene.council
    request = councils.create_request(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                      now=clock.now(), title="諸外国の動向", body="まとめてください",
                                      matter="useful_information", addressee_kind="participant",
                                      addressee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=14))
    db.commit()
    answered = client.post(f"/api/v1/councils/{cast.council.id}/requests/{request.id}/answer",
                           headers=bearer(db, cast.company, clock), data={"text": "別添のとおり"},
                           files=[("files", (name, hostile(name), HOSTILE[name][1]))])
    _assert_refused(answered.status_code, answered.json(), name)


@pytest.mark.parametrize("name", ACTIVE)
def test_a_pdf_with_active_content_is_refused_as_a_meeting_material(client: TestClient, db: Session, active: Cast,
                                                                    clock: FakeClock, name: str) -> None:
    headers = bearer(db, active.officer, clock)
    meeting = _held_meeting(client, active, headers, clock)
    made = client.post(f"{_meeting_url(active, meeting)}/materials", headers=headers, data={"title": "資料2"},
                       files={"file": (name, hostile(name), HOSTILE[name][1])})
    _assert_refused(made.status_code, made.json(), name)
    assert db.scalar(select(func.count()).select_from(MeetingMaterial)) == 0


def test_deliverables_and_answers_take_files_past_the_app_wide_body_limit(
        client: TestClient, db: Session, factory: Factory, clock: FakeClock, ctx: AppContext) -> None:
    """A 5 MB file is within the 20 MB cap of both doors, so the 2 MB app-wide body limit must not refuse it."""
    text = ("水中航法の評価結果\n" * 190_000).encode()  # 5.3 MB
    scene = Scene(db, factory, clock, ctx)
    filed = client.post(f"/api/v1/programme/commissions/{scene.commission.id}/deliverables",
                        headers=bearer(db, scene.analyst, clock), data={"title": "最終報告書"},
                        files={"file": ("report.txt", text, "text/plain")})
    assert filed.status_code == 201, filed.text
    cast = scene.council
    request = councils.create_request(db, council_id=cast.council.id, actor=cast.officer.principal(),
                                      now=clock.now(), title="諸外国の動向", body="まとめてください",
                                      matter="useful_information", addressee_kind="participant",
                                      addressee_id=cast.company.user.id, due_at=clock.now() + timedelta(days=14))
    db.commit()
    answered = client.post(f"/api/v1/councils/{cast.council.id}/requests/{request.id}/answer",
                           headers=bearer(db, cast.company, clock), data={"text": "別添のとおり"},
                           files=[("files", ("answer.txt", text, "text/plain"))])
    assert answered.status_code == 200, answered.text


def test_a_file_over_the_size_limit_is_413(client: TestClient, db: Session, active: Cast, clock: FakeClock) -> None:
    big = b"%PDF-1.4\n" + bytes(20 * MIB) + b"\n%%EOF\n"
    made = client.post(f"{API}/items", headers=bearer(db, active.company, clock), data=item_form(active, clock),
                       files=[("files", ("big.pdf", big, "application/pdf"))])
    assert made.status_code == 413, made.text


# --- files stored before this check: a clear 422, never a 500 -------------------------------------

# The 100 MB stream on a rotated page: stamping decodes the content to rotate it (the old 500).
LEGACY: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "stream-100mb-rotated.pdf": (lambda: pdf_with_stream(100 * MIB, rotate=90), "application/pdf", "damaged"),
    **{name: HOSTILE[name] for name in ("garbage.pdf", "huge-30000.png", "dtd.docx", "bomb.docx")},
}


@pytest.mark.parametrize("name", list(LEGACY))
def test_a_file_stored_before_validation_answers_a_clear_422(
        client: TestClient, db: Session, active: Cast, ctx: AppContext, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    build, declared, reason = LEGACY[name]
    data = build()
    # Stored as the old upload check did: its kind recognised, nothing parsed.
    monkeypatch.setattr(service, "sniff", uploads.identify)
    shared = provide_item(db, information_deps(ctx), active, clock, files=[service.Upload(name, declared, data)])
    db.commit()
    viewed = _view_only(db, ctx, active, clock, [service.Upload(name, declared, data)])
    monkeypatch.undo()
    # Council-shared: a pledged member takes a copy, and its stamp fails, clearly.
    row = _files(db, shared)[0]
    copy = client.get(f"{API}/items/{shared.id}/files/{row.id}", headers=bearer(db, active.researcher, clock))
    assert copy.status_code == 422, copy.text
    assert reason in copy.json()["message"] or "cannot" in copy.json()["message"]
    assert not copy.json()["message"].isascii()  # Japanese first
    # View-only and decided: the viewer says it cannot show it (PDF and images) or shows the notice (Office).
    row = _files(db, viewed)[0]
    sign_in(client, db, active.researcher, ctx)
    page = client.get(_url(viewed, row))
    if row.kind in ("docx", "xlsx", "pptx"):
        assert page.status_code == 200
        return
    image = client.get(f"{_url(viewed, row)}/1.png") if page.status_code == 200 else page
    # PDFium renders the rotated page's 100 MB of spaces within the page budget; the others cannot be shown.
    assert image.status_code == (200 if name == "stream-100mb-rotated.pdf" else 422), image.status_code


def test_copies_of_a_stored_pdf_with_active_content_come_without_it(
        client: TestClient, db: Session, active: Cast, ctx: AppContext, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Defence in depth (I8): a PDF stored before the rule keeps its scripts and attachments in the store, but the
    stamper drops them from every copy; its links stay."""
    data = _active_pdf(_open_action_js, _page_aa_js, _names_js, _attached_exe, _launch_link,
                       _attachment_annotation, _xfa_form, _uri_link)
    assert b"attack2" in data and EVIL_EXE in data
    monkeypatch.setattr(service, "sniff", uploads.identify)  # stored as the old upload check did
    shared = provide_item(db, information_deps(ctx), active, clock,
                          files=[service.Upload("legacy.pdf", "application/pdf", data)])
    db.commit()
    monkeypatch.undo()
    row = _files(db, shared)[0]
    copy = client.get(f"{API}/items/{shared.id}/files/{row.id}", headers=bearer(db, active.researcher, clock))
    assert copy.status_code == 200, copy.text
    reader = PdfReader(io.BytesIO(copy.content))
    assert active_content(reader) == [] and not reader.attachments
    assert "/OpenAction" not in reader.root_object and "/AA" not in reader.pages[0]
    # The script and the executable's bytes are gone from the file, not merely unreferenced.
    assert b"attack2" not in copy.content and b"This program cannot be run" not in copy.content
    annotations = reader.pages[0]["/Annots"]
    assert isinstance(annotations, ArrayObject)
    # The Launch link is left without its action; the file-attachment annotation is gone; the URI link stays.
    actions = [a.get_object().get("/A") for a in annotations]
    assert [a["/URI"] for a in actions if a is not None] == ["https://www.cao.go.jp/"] and len(actions) == 2
    assert str(reader.pages[0]["/BansoFP"]).startswith("BNSFP:")  # still stamped for its recipient


def test_a_pdf_with_a_link_is_accepted_and_its_copy_keeps_the_link(client: TestClient, db: Session, active: Cast,
                                                                   clock: FakeClock) -> None:
    data = _active_pdf(_uri_link)
    made = client.post(f"{API}/items", headers=bearer(db, active.company, clock), data=item_form(active, clock),
                       files=[("files", ("リンク.pdf", data, "application/pdf"))])
    assert made.status_code == 201, made.text
    file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == made.json()["id"]))
    copy = client.get(f"{API}/items/{made.json()['id']}/files/{file_id}", headers=bearer(db, active.researcher, clock))
    assert copy.status_code == 200
    annotations = PdfReader(io.BytesIO(copy.content)).pages[0]["/Annots"]
    assert isinstance(annotations, ArrayObject)
    assert annotations[0].get_object()["/A"]["/URI"] == "https://www.cao.go.jp/"


# --- whatever the validator accepts can be served ----------------------------------------------------


def _image(fmt: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    picture = Image.new("RGB", size, (235, 235, 235))
    for x in range(0, size[0], 16):
        for y in range(size[1]):
            picture.putpixel((x, y), (30, 90, 160))
    out = io.BytesIO()
    picture.convert(mode).save(out, format=fmt)
    return out.getvalue()


def _xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["技術", "論文数"])
    sheet.append(["量子暗号", 128])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _rotated_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_sample_pdf("回転", ["横向きの頁"]))))
    writer.pages[0].rotate(90)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


GOOD: dict[str, tuple[Callable[[], bytes], str]] = {
    "報告.pdf": (lambda: make_sample_pdf("評価報告", [f"第{n}節 誤差は 0.{n}%。" for n in range(1, 5)],
                                          paragraphs_per_page=2), "application/pdf"),
    "回転.pdf": (_rotated_pdf, "application/pdf"),
    "リンク.pdf": (lambda: _active_pdf(_uri_link), "application/pdf"),  # a URI link is not active content
    "写真.png": (lambda: _image("PNG", (640, 480), "RGBA"), "image/png"),
    "写真.jpg": (lambda: _image("JPEG", (1200, 900)), "image/jpeg"),
    "図.gif": (lambda: _image("GIF", (320, 200), "P"), "image/gif"),
    "図.webp": (lambda: _image("WEBP", (320, 200)), "image/webp"),
    "評価.docx": (docx, DOCX),
    "集計.xlsx": (_xlsx, XLSX),
    "説明.pptx": (make_pptx, PPTX),
    "動向.csv": ("国,論文数\nJP,10\nUS,42\n".encode, "text/csv"),
    "メモ.txt": ("水中航法の誤差は 0.3%。\n\n次の段落。\n".encode, "text/plain"),
}


@pytest.mark.parametrize("name", list(GOOD))
def test_every_accepted_file_can_be_downloaded_and_viewed(client: TestClient, db: Session, active: Cast,
                                                          ctx: AppContext, clock: FakeClock, name: str) -> None:
    data = GOOD[name][0]()
    made = client.post(f"{API}/items", headers=bearer(db, active.company, clock), data=item_form(active, clock),
                       files=[("files", (name, data, GOOD[name][1]))])
    assert made.status_code == 201, made.text
    item_id = made.json()["id"]
    file_id = db.scalar(select(ItemFile.id).where(ItemFile.item_id == item_id))
    copy = client.get(f"{API}/items/{item_id}/files/{file_id}", headers=bearer(db, active.researcher, clock))
    assert copy.status_code == 200 and copy.content != data  # stamped for its recipient (I8)
    viewed = _view_only(db, ctx, active, clock, [service.Upload(name, GOOD[name][1], data)])
    row = _files(db, viewed)[0]
    sign_in(client, db, active.researcher, ctx)
    page = client.get(_url(viewed, row))
    assert page.status_code == 200
    if viewer.mode_of(row.kind) == viewer.Mode.PAGES:
        image = client.get(f"{_url(viewed, row)}/1.png")
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def _corrupt(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    damaged = bytearray(data)
    for position, value in edits:
        damaged[position % len(damaged)] = value
    return bytes(damaged[: max(1, len(damaged) - cut)])


_CORPUS = {name: build() for name, (build, _) in GOOD.items() if not name.endswith((".csv", ".txt"))}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(_CORPUS)),
       edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=6),
       cut=st.one_of(st.just(0), st.integers(0, 4096)))
def test_whatever_the_validator_accepts_can_be_stamped_and_shown(name: str, edits: list[tuple[int, int]],
                                                                   cut: int) -> None:
    """Property (O1): a good file damaged anywhere is either refused at upload or served — never accepted and
    then refused (or a 500) on download or view."""
    data = _corrupt(_CORPUS[name], edits, cut)
    try:
        kind = sniff(data, name, GOOD[name][1]).kind
    except UploadRejected:
        return
    stamp_kind(data, kind=kind, footer="検証 / property", code=bytes(range(8)))
    if kind == "pdf":
        assert viewer._pdf_call(data, 1)[1] is not None
    elif kind in ("png", "jpeg", "gif", "webp"):
        open_reduced(data, kind).close()
