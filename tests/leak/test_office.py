"""I8: per-recipient watermarks in docx, xlsx and pptx — custom property and visible footer."""

from __future__ import annotations

import io
import struct
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook, load_workbook

from banso.kit.errors import BansoError
from banso.leak import office
from banso.leak.attribute import attribute, extract_codes
from banso.leak.fingerprint import footer_code, marker
from banso.leak.office import NotAnOfficeFile, stamp_office
from banso.leak.pdf import format_footer
from tests.support.leak import RECIPIENTS, issue_code

ISSUED_AT = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCX_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
PPTX_MAIN = "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"


def footer_for(k: int) -> str:
    return format_footer(recipient=f"山田太郎{k}", organisation="東京大学", issued_at=ISSUED_AT, item_id=42)


# --- sample files ----------------------------------------------------------------------------------


def make_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "技術"
    sheet.append(["technology", "papers"])
    sheet.append(["量子暗号", 128])
    second = book.create_sheet("notes")
    second.append(["R&D <draft>"])
    second.oddFooter.center.text = "Page &P"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _package(kind_main: str, main: str, parts: dict[str, str], *, overrides: dict[str, str] | None = None,
             package_rels: str = "") -> bytes:
    types = "".join(f'<Override PartName="/{p}" ContentType="{ct}"/>' for p, ct in (overrides or {}).items())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            f'<Types xmlns="{CT_NS}">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/{main}" ContentType="{kind_main}"/>{types}</Types>',
        )
        archive.writestr(
            "_rels/.rels",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELS_NS}">'
            f'<Relationship Id="rId1" Type="{R}/officeDocument" Target="{main}"/>{package_rels}</Relationships>',
        )
        for name, text in parts.items():
            archive.writestr(name, text)
    return buf.getvalue()


def _document(body: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="{W}" xmlns:r="{R}">'
            f"<w:body>{body}</w:body></w:document>")


SECTPR = '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1985" w:right="1701" w:bottom="1701" ' \
         'w:left="1701" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr>'


def make_docx() -> bytes:
    return _package(DOCX_MAIN, "word/document.xml", {
        "word/document.xml": _document(
            "<w:p><w:r><w:t>協議会資料 第3回会合</w:t></w:r></w:p><w:p><w:r><w:t>R&amp;D plan</w:t></w:r></w:p>"
            + SECTPR
        ),
    })


CUSTOM_CT = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
FOOTER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"


def make_docx_with_footer_and_properties() -> bytes:
    """A docx with its own footer, a second section, and a custom property of its own."""
    return _package(
        DOCX_MAIN, "word/document.xml",
        {
            "word/document.xml": _document(
                '<w:p><w:pPr><w:sectPr><w:footerReference w:type="default" r:id="rId7"/>'
                '<w:pgSz w:w="11906" w:h="16838"/></w:sectPr></w:pPr><w:r><w:t>一</w:t></w:r></w:p>'
                "<w:p><w:r><w:t>二</w:t></w:r></w:p>" + SECTPR
            ),
            "word/_rels/document.xml.rels": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="{RELS_NS}">'
                f'<Relationship Id="rId7" Type="{R}/footer" Target="footer1.xml"/></Relationships>'
            ),
            "word/footer1.xml": (
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:ftr xmlns:w="{W}">'
                "<w:p><w:r><w:t>社外秘</w:t></w:r></w:p></w:ftr>"
            ),
            "docProps/custom.xml": (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
                'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
                '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Project">'
                "<vt:lpwstr>K Program</vt:lpwstr></property></Properties>"
            ),
        },
        overrides={"word/footer1.xml": FOOTER_CT, "docProps/custom.xml": CUSTOM_CT},
        package_rels=f'<Relationship Id="rId9" Type="{R}/custom-properties" Target="docProps/custom.xml"/>',
    )


def make_pptx() -> bytes:
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    return _package(PPTX_MAIN, "ppt/presentation.xml", {
        "ppt/presentation.xml": f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><p:presentation '
                                f'xmlns:p="{p}" xmlns:r="{R}"><p:sldSz cx="9144000" cy="6858000"/></p:presentation>',
    })


SAMPLES: dict[str, Callable[[], bytes]] = {"xlsx": make_xlsx, "docx": make_docx, "pptx": make_pptx}


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def assert_all_xml_parses(data: bytes) -> None:
    for name, body in parts(data).items():
        if name.endswith((".xml", ".rels")):
            ET.fromstring(body)


def custom_properties(data: bytes) -> dict[str, str]:
    root = ET.fromstring(parts(data)["docProps/custom.xml"])
    return {prop.get("name", ""): "".join(prop.itertext()) for prop in root}


# --- all kinds -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "docx", "pptx"])
def test_every_recipient_is_attributed(kind: str, candidates: dict[str, bytes]) -> None:
    original = SAMPLES[kind]()
    for k in range(RECIPIENTS):
        stamped = stamp_office(original, kind=kind, footer=footer_for(k), code=issue_code(k))
        result = attribute(stamped, candidates, filename=f"leak.{kind}")
        assert result.best == f"dl-{k}", result.explanation
        assert result.confidence > 0.99
    channels = {e.channel for e in extract_codes(stamped)}
    expected = {"office-custom-property"} | ({"office-footer"} if kind != "pptx" else set())
    assert channels == expected
    assert all(e.verified and e.code == issue_code(RECIPIENTS - 1) for e in extract_codes(stamped))


@pytest.mark.parametrize("kind", ["xlsx", "docx", "pptx"])
def test_package_structure_is_kept_and_valid(kind: str) -> None:
    original = SAMPLES[kind]()
    stamped = stamp_office(original, kind=kind, footer=footer_for(1), code=issue_code(1))
    assert_all_xml_parses(stamped)
    before, after = parts(original), parts(stamped)
    # Same entries in the same order, new parts only at the end.
    assert list(after)[: len(before)] == list(before)
    with zipfile.ZipFile(io.BytesIO(original)) as a, zipfile.ZipFile(io.BytesIO(stamped)) as b:
        assert [i.compress_type for i in a.infolist()] == [i.compress_type for i in b.infolist()][: len(before)]
    assert custom_properties(stamped) == {"BansoFP": marker(issue_code(1))}
    types = ET.fromstring(after["[Content_Types].xml"])
    assert any(o.get("PartName") == "/docProps/custom.xml" and o.get("ContentType") == CUSTOM_CT for o in types)
    rels = ET.fromstring(after["_rels/.rels"])
    assert [r.get("Target") for r in rels if r.get("Type") == f"{R}/custom-properties"] == ["docProps/custom.xml"]


@pytest.mark.parametrize("kind", ["xlsx", "docx", "pptx"])
def test_clean_file_names_nobody(kind: str, candidates: dict[str, bytes]) -> None:
    result = attribute(SAMPLES[kind](), candidates)
    assert result.best is None and result.confidence == 0.0 and result.evidence == []


def test_restamping_replaces_the_code(candidates: dict[str, bytes]) -> None:
    first = stamp_office(make_docx(), kind="docx", footer=footer_for(2), code=issue_code(2))
    again = stamp_office(first, kind="docx", footer=footer_for(3), code=issue_code(3))
    assert custom_properties(again) == {"BansoFP": marker(issue_code(3))}
    codes = {e.code for e in extract_codes(again) if e.channel == "office-custom-property"}
    assert codes == {issue_code(3)}
    # The first recipient's visible footer is content of the file now and stays: the copy carries both
    # codes and is reported as mixed, naming both.
    result = attribute(again, candidates)
    assert result.ambiguous and "dl-2" in result.explanation and "dl-3" in result.explanation


# --- xlsx ------------------------------------------------------------------------------------------


def test_xlsx_footer_shows_in_openpyxl_and_cells_are_unchanged() -> None:
    stamped = stamp_office(make_xlsx(), kind="xlsx", footer=footer_for(5), code=issue_code(5))
    book = load_workbook(io.BytesIO(stamped))
    assert [s.title for s in book.worksheets] == ["技術", "notes"]
    for sheet in book.worksheets:
        left = sheet.oddFooter.left.text or ""
        assert footer_for(5) in left and left.endswith(footer_code(issue_code(5)))
    assert book["notes"].oddFooter.center.text == "Page &P"  # the existing centre section is kept
    assert [list(r) for r in book["技術"].iter_rows(values_only=True)] == [["technology", "papers"], ["量子暗号", 128]]
    assert book["notes"]["A1"].value == "R&D <draft>"
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props == {"BansoFP": marker(issue_code(5))}


def test_xlsx_header_footer_goes_to_its_schema_position() -> None:
    sheet = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1"><v>1</v></c></row></sheetData>'
        '<conditionalFormatting sqref="A1"><cfRule type="expression" priority="1"><formula>1</formula>'
        "<extLst/></cfRule></conditionalFormatting>"
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9"/><drawing r:id="rId1" xmlns:r="x"/><extLst/></worksheet>'
    )
    out = office._stamp_worksheet(sheet, "配布先 A & B  BNS 0000-0000-0000-0000-0000")
    root = ET.fromstring(out)
    order = [child.tag.split("}")[1] for child in root]
    assert order == ["sheetData", "conditionalFormatting", "pageMargins", "pageSetup", "headerFooter", "drawing",
                     "extLst"]
    footer = root.find("{*}headerFooter/{*}oddFooter")
    assert footer is not None and footer.text == "&L配布先 A && B  BNS 0000-0000-0000-0000-0000"


def test_xlsx_long_footer_is_cut_to_excel_limit_keeping_the_code() -> None:
    text = "配布先 " + "長" * 400 + "  " + footer_code(issue_code(1))
    value = office._xlsx_footer_value("&CPage &P&RConfidential", text)
    assert len(value) <= 255
    assert value.startswith("&L配布先") and footer_code(issue_code(1)) in value


# --- docx ------------------------------------------------------------------------------------------


def test_docx_gets_a_footer_part_and_a_final_paragraph() -> None:
    stamped = stamp_office(make_docx(), kind="docx", footer=footer_for(6), code=issue_code(6))
    files = parts(stamped)
    visible = f"{footer_for(6)}  {footer_code(issue_code(6))}"
    document = ET.fromstring(files["word/document.xml"])
    body = document.find(f"{{{W}}}body")
    assert body is not None
    children = list(body)
    assert children[-1].tag == f"{{{W}}}sectPr"
    assert "".join(children[-2].itertext()) == visible
    ref = children[-1].find(f"{{{W}}}footerReference")
    assert ref is not None and ref.get(f"{{{W}}}type") == "default"
    rels = ET.fromstring(files["word/_rels/document.xml.rels"])
    target = {r.get("Id"): r.get("Target") for r in rels}[ref.get(f"{{{R}}}id")]
    assert "".join(ET.fromstring(files[f"word/{target}"]).itertext()) == visible
    types = ET.fromstring(files["[Content_Types].xml"])
    assert any(o.get("PartName") == f"/word/{target}" and o.get("ContentType") == FOOTER_CT for o in types)


def test_docx_existing_footer_and_properties_are_kept(candidates: dict[str, bytes]) -> None:
    stamped = stamp_office(make_docx_with_footer_and_properties(), kind="docx", footer=footer_for(8),
                           code=issue_code(8))
    assert_all_xml_parses(stamped)
    files = parts(stamped)
    # The first section has its own default footer: it gets our paragraph, no new footer part.
    assert "".join(ET.fromstring(files["word/footer1.xml"]).itertext()).startswith("社外秘" + footer_for(8))
    assert not any("footerBanso" in name for name in files)
    props = ET.fromstring(files["docProps/custom.xml"])
    assert [(p.get("name"), p.get("pid")) for p in props] == [("Project", "2"), ("BansoFP", "3")]
    rels = ET.fromstring(files["_rels/.rels"])
    assert len([r for r in rels if r.get("Type") == f"{R}/custom-properties"]) == 1
    result = attribute(stamped, candidates)
    assert result.best == "dl-8" and result.confidence > 0.99
    footer_evidence = [e for e in result.evidence if e.channel == "office-footer"]
    assert footer_evidence and footer_evidence[0].occurrences == 2  # footer part and body paragraph


# --- refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("make", "kind"), [
    (make_xlsx, "docx"),
    (make_docx, "pptx"),
    (make_pptx, "xlsx"),
    (lambda: b"%PDF-1.7 not a zip", "docx"),
    (lambda: make_docx()[:-30], "docx"),
    (lambda: _zip({"a.txt": b"hello"}), "xlsx"),
])
def test_wrong_kind_is_refused_with_422(make: Callable[[], bytes], kind: str) -> None:
    with pytest.raises(NotAnOfficeFile) as caught:
        stamp_office(make(), kind=kind, footer="x", code=issue_code(1))
    assert isinstance(caught.value, BansoError) and caught.value.status_code == 422


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, body in entries.items():
            archive.writestr(name, body)
    return buf.getvalue()


def test_zip_bomb_is_refused() -> None:
    data = bytearray(make_docx())
    # Claim a 2 GiB uncompressed size in the central directory, as a bomb's header would.
    entry = data.index(b"PK\x01\x02")
    while True:
        name_len = struct.unpack("<H", data[entry + 28 : entry + 30])[0]
        if data[entry + 46 : entry + 46 + name_len] == b"word/document.xml":
            data[entry + 24 : entry + 28] = struct.pack("<I", 0x7FFFFFFF)
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    with pytest.raises(NotAnOfficeFile, match="200 MB"):
        stamp_office(bytes(data), kind="docx", footer="x", code=issue_code(1))


def test_dtd_is_refused() -> None:
    with zipfile.ZipFile(io.BytesIO(make_docx())) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    entries["word/document.xml"] = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + entries[
        "word/document.xml"
    ].split(b"?>", 1)[1]
    with pytest.raises(NotAnOfficeFile, match="DTD"):
        stamp_office(_zip(entries), kind="docx", footer="x", code=issue_code(1))


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        stamp_office(make_docx(), kind="odt", footer="x", code=issue_code(1))
