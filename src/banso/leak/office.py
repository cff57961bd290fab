"""Per-recipient watermarks in Office Open XML files: docx, xlsx, pptx (I8).

Method
------
The package (a ZIP archive) is rewritten entry by entry — same names, same order, same
compression — with these changes:

* **Invisible fingerprint** (all three kinds): a custom document property ``BansoFP`` whose value
  is the marker ``BNSFP:<code>:<crc>``, in ``docProps/custom.xml`` (the part, its content-type
  override and its package relationship are created when missing; existing custom properties are
  kept, an earlier ``BansoFP`` is replaced). Office shows it under File → Properties → Custom.
* **Visible mark**:

  - xlsx: the left section of the page footer of every worksheet (``headerFooter/oddFooter``, and
    ``evenFooter``/``firstFooter`` where the sheet has them) carries the footer text and the short
    code ``BNS xxxx-…``; it is printed on every page and shown in page layout view. Existing centre
    and right footer sections are kept.
  - docx: a paragraph with the footer text and short code is appended to every existing footer
    part, and a new footer part is referenced from the first section when it has no default
    footer (later sections inherit it); the same paragraph is also appended at the end of the body,
    so that the code survives "copy all text".
  - pptx: none (slides have no natural footer that every layout shows; a text box would change the
    slides). Only the custom property.

Parts are edited as text, never parsed and re-serialised, so namespace prefixes, ``mc:Ignorable``
declarations and everything we do not touch stay byte-identical.

Limits
------
The custom property survives forwarding and saving in Office or LibreOffice, but not "Inspect
Document → remove properties", copy-paste of content into a new file, or export to PDF/CSV. The
visible marks can be deleted by anyone who edits the file. Chart sheets get no footer.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from banso.kit.errors import BansoError
from banso.leak import limits
from banso.leak.fingerprint import check_code, footer_code, marker

KINDS: Final = ("docx", "xlsx", "pptx")
MAIN_CONTENT_TYPES: Final = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
}
PROPERTY_NAME: Final = "BansoFP"
CUSTOM_PART: Final = "docProps/custom.xml"
MAX_EXPANDED: Final = limits.MAX_OFFICE_EXPANDED
MAX_ENTRIES: Final = limits.MAX_OFFICE_ENTRIES

CUSTOM_CT: Final = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
FOOTER_CT: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"
WORKSHEET_CT: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_REL: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
REL_CUSTOM: Final = _REL + "/custom-properties"
REL_FOOTER: Final = _REL + "/footer"
REL_OFFICE_DOCUMENT: Final = _REL + "/officeDocument"
_NS_CUSTOM: Final = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_NS_VT: Final = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_NS_W: Final = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_NS_RELS: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_FMTID: Final = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_XLSX_FOOTER_MAX: Final = 255  # Excel refuses longer header/footer strings


class NotAnOfficeFile(BansoError):
    """The bytes are not an Office Open XML package of the declared kind, or cannot be stamped (I8)."""

    status_code = 422
    code = "not_an_office_file"


_DTD_MESSAGE: Final = ("文書に DTD（DOCTYPE 又は ENTITY 宣言）が含まれています。Office 文書には無いもので、XML 爆弾の手口です / "
                       "The document contains a DTD (a DOCTYPE or ENTITY declaration), which Office files never have "
                       "and XML bombs use.")
_DTD_RE: Final = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


# --- a minimal XML tag scanner (no parser on untrusted input, no re-serialisation) ---------------

_TAG_RE: Final = re.compile(
    r"<(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>|!(?P<decl>[^>]*)>"
    r"|(?P<close>/)?(?P<name>[^\s/>!?]+)(?P<attrs>(?:[^>\"']|\"[^\"]*\"|'[^']*')*?)(?P<empty>/)?>)",
    re.DOTALL,
)
_ATTR_RE: Final = re.compile(r"([^\s=]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


@dataclass(frozen=True)
class _Tag:
    start: int
    end: int
    qname: str
    attrs: str
    close: bool
    empty: bool
    depth: int  # depth of the element (root = 0)

    @property
    def local(self) -> str:
        return self.qname.rsplit(":", 1)[-1]

    @property
    def prefix(self) -> str:
        return self.qname.rsplit(":", 1)[0] + ":" if ":" in self.qname else ""

    def attr(self, name: str) -> str | None:
        for m in _ATTR_RE.finditer(self.attrs):
            if m.group(1) == name or m.group(1).rsplit(":", 1)[-1] == name:
                value = m.group(2) if m.group(2) is not None else m.group(3)
                return html.unescape(value)
        return None


def _tags(xml: str, start: int = 0, depth: int = 0) -> Iterator[_Tag]:
    for m in _TAG_RE.finditer(xml, start):
        if m.group("decl") is not None:
            if m.group("decl").upper().startswith(("DOCTYPE", "ENTITY")):
                # OOXML never has a DTD; entity declarations are how XML bombs start.
                raise NotAnOfficeFile(_DTD_MESSAGE)
            continue
        name = m.group("name")
        if name is None:
            continue
        close, empty = m.group("close") is not None, m.group("empty") is not None
        if close:
            depth -= 1
        yield _Tag(m.start(), m.end(), name, m.group("attrs") or "", close, empty, depth)
        if not close and not empty:
            depth += 1


_TAIL_RE: Final = re.compile(r"(?:\s|<!--.*?-->|<\?.*?\?>)*\Z", re.DOTALL)


def _root(xml: str) -> tuple[_Tag, _Tag | None]:
    """Return the root's start tag and its end tag (None if the root is an empty element).

    The end tag is looked for from the end of the part (where it stands in well-formed XML, followed only by
    comments and processing instructions): a 100,000-row worksheet is not scanned tag by tag to find it.
    """
    first = next(_tags(xml), None)
    root = first if first is not None and not first.close else None
    if root is not None and root.empty:
        return root, None
    if root is not None:
        at = xml.rfind("</" + root.qname)
        end = re.compile(r"</" + re.escape(root.qname) + r"\s*>").match(xml, at) if at > root.start else None
        if end is not None and _TAIL_RE.match(xml, end.end()):
            return root, _Tag(end.start(), end.end(), root.qname, "", True, False, 0)
    return _root_by_scan(xml)


def _root_by_scan(xml: str) -> tuple[_Tag, _Tag | None]:
    root: _Tag | None = None
    for tag in _tags(xml):
        if root is None:
            if tag.close:
                break
            root = tag
            if tag.empty:
                return root, None
        elif tag.close and tag.depth == 0:
            return root, tag
    raise NotAnOfficeFile("文書の XML 要素が壊れています / An XML part of the document is damaged.")


def _ns_prefix(xml: str, namespace: str) -> str | None:
    """Return ``"p:"`` (or ``""`` for the default namespace) bound to ``namespace`` anywhere, else None."""
    m = re.search(r"xmlns(?::([\w.-]+))?\s*=\s*[\"']" + re.escape(namespace) + "[\"']", xml)
    if m is None:
        return None
    return m.group(1) + ":" if m.group(1) else ""


def _append_child(xml: str, child: str) -> str:
    """Return ``xml`` with ``child`` appended as the last child of the root element."""
    root, end = _root(xml)
    if end is None:
        opening = xml[root.start : root.end - 2].rstrip() + ">"
        return xml[: root.start] + opening + child + f"</{root.qname}>" + xml[root.end :]
    return xml[: end.start] + child + xml[end.start :]


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


# --- package helpers -----------------------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotAnOfficeFile(f"文書の要素 {name} が UTF-8 の XML ではありません / The part {name} of the document "
                              "is not UTF-8 XML.") from None


def _resolve(source_part: str, target: str) -> str:
    """Return the part name a relationship target of ``source_part`` points to (no leading slash)."""
    if target.startswith("/"):
        parts: list[str] = []
        rel = target[1:]
    else:
        parts = source_part.split("/")[:-1]
        rel = target
    for piece in rel.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _rels_name(part: str) -> str:
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


@dataclass(frozen=True)
class _Rel:
    id: str
    type: str
    target: str  # resolved part name
    external: bool


def _relationships(xml: str, source_part: str) -> list[_Rel]:
    rels = []
    for tag in _tags(xml):
        if tag.local == "Relationship" and not tag.close:
            rels.append(_Rel(
                id=tag.attr("Id") or "",
                type=tag.attr("Type") or "",
                target=_resolve(source_part, tag.attr("Target") or ""),
                external=(tag.attr("TargetMode") or "") == "External",
            ))
    return rels


def _add_relationship(xml: str, rel_type: str, target: str, id_hint: str) -> tuple[str, str]:
    """Append a relationship; return the new rels XML and the id used."""
    used = {r.id for r in _relationships(xml, "")}
    n, rid = 1, id_hint
    while rid in used:
        n += 1
        rid = f"{id_hint}{n}"
    root, _ = _root(xml)
    prefix = root.prefix
    return _append_child(xml, f'<{prefix}Relationship Id="{rid}" Type="{rel_type}" Target="{_esc(target)}"/>'), rid


def _overrides(content_types: str) -> dict[str, str]:
    """Return part name (no leading slash) → content type of the Override entries."""
    out = {}
    for tag in _tags(content_types):
        if tag.local == "Override" and not tag.close:
            part, ctype = tag.attr("PartName"), tag.attr("ContentType")
            if part and ctype:
                out[part.lstrip("/")] = ctype
    return out


def _add_override(content_types: str, part: str, ctype: str) -> str:
    if part.lower() in {p.lower() for p in _overrides(content_types)}:
        return content_types
    root, _ = _root(content_types)
    return _append_child(content_types, f'<{root.prefix}Override PartName="/{part}" ContentType="{ctype}"/>')


_WHAT: Final = {"docx": ("Word 文書", "a Word document"), "xlsx": ("Excel ブック", "an Excel workbook"),
                "pptx": ("PowerPoint プレゼンテーション", "a PowerPoint presentation")}


def _not(kind: str, why_ja: str = "", why_en: str = "") -> NotAnOfficeFile:
    ja, en = _WHAT[kind]
    return NotAnOfficeFile(f"{ja}ではありません{why_ja} / The file is not {en}{why_en}.")


def _mb(n: int) -> str:
    return f"{n / limits.MIB:,.0f} MB"


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a package over the entry, member or expanded-size limits (a zip bomb), from its directory."""
    if len(infos) > MAX_ENTRIES:
        raise NotAnOfficeFile(f"パッケージの要素が {len(infos):,} 個で上限 {MAX_ENTRIES:,} を超えています / The package has "
                              f"{len(infos):,} members; the limit is {MAX_ENTRIES:,}.")
    total = sum(i.file_size for i in infos)
    if total > MAX_EXPANDED:
        raise NotAnOfficeFile(f"パッケージが展開後 {_mb(total)} で上限 {_mb(MAX_EXPANDED)} を超えるため透かしを入れられません / "
                              f"The archive expands to {_mb(total)}, more than {_mb(MAX_EXPANDED)}, and is not "
                              "watermarked.")
    biggest = max(infos, key=lambda i: i.file_size, default=None)
    if biggest is not None and biggest.file_size > limits.MAX_OFFICE_MEMBER:
        raise NotAnOfficeFile(f"パッケージの要素 {biggest.filename} が展開後 {_mb(biggest.file_size)} で上限 "
                              f"{_mb(limits.MAX_OFFICE_MEMBER)} を超えています / The member {biggest.filename} expands "
                              f"to {_mb(biggest.file_size)}; the limit is {_mb(limits.MAX_OFFICE_MEMBER)}.")


def _open(data: bytes, kind: str) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    if kind not in KINDS:
        raise ValueError(f"unsupported Office kind {kind!r}")
    if not isinstance(data, bytes | bytearray) or not bytes(data[:4]).startswith(b"PK"):
        raise _not(kind)
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise _not(kind, "（アーカイブを読み取れません）", ": the archive cannot be read") from exc
    names = [i.filename for i in infos]
    _check_sizes(infos)
    if len(set(names)) != len(names):
        raise NotAnOfficeFile("アーカイブに同じ名前の要素が重複しています / The archive has duplicate entries.")
    if "[Content_Types].xml" not in names or "_rels/.rels" not in names:
        raise _not(kind, "（Office Open XML パッケージではありません）", ": it is not an Office Open XML package")
    return archive, infos


def _read(archive: zipfile.ZipFile, name: str) -> bytes:
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise NotAnOfficeFile(f"文書の要素 {name} を読み取れません / The part {name} of the document cannot be "
                              "read.") from exc


# --- custom property -----------------------------------------------------------------------------


def _custom_xml(existing: str | None, value: str) -> str:
    if existing is None:
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Properties xmlns="{_NS_CUSTOM}" xmlns:vt="{_NS_VT}">'
            f'<property fmtid="{_FMTID}" pid="2" name="{PROPERTY_NAME}"><vt:lpwstr>{_esc(value)}</vt:lpwstr>'
            "</property></Properties>"
        )
    root, _ = _root(existing)
    # Drop an earlier BansoFP (a re-uploaded copy) so the file carries exactly one code.
    edits: list[tuple[int, int]] = []
    pids = [1]
    open_prop: _Tag | None = None
    for tag in _tags(existing):
        if tag.local != "property" or tag.depth != 1:
            continue
        if not tag.close:
            pid = tag.attr("pid")
            if pid and pid.isdigit():
                pids.append(int(pid))
            if tag.attr("name") == PROPERTY_NAME:
                if tag.empty:
                    edits.append((tag.start, tag.end))
                else:
                    open_prop = tag
        elif open_prop is not None:
            edits.append((open_prop.start, tag.end))
            open_prop = None
    for start, end in reversed(edits):
        existing = existing[:start] + existing[end:]
    vt = _ns_prefix(existing, _NS_VT)
    value_xml = (
        f"<{vt}lpwstr>{_esc(value)}</{vt}lpwstr>" if vt
        else f'<vt:lpwstr xmlns:vt="{_NS_VT}">{_esc(value)}</vt:lpwstr>'
    )
    prop = (f'<{root.prefix}property fmtid="{_FMTID}" pid="{max(pids) + 1}" name="{PROPERTY_NAME}">'
            f"{value_xml}</{root.prefix}property>")
    return _append_child(existing, prop)


# --- xlsx footer ---------------------------------------------------------------------------------

_HF_SUCCESSORS: Final = frozenset({
    "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
    "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls", "webPublishItems",
    "tableParts", "extLst",
})
_HF_SECTION_RE: Final = re.compile(r"&&|&[LCR]")


def _split_sections(value: str) -> dict[str, str]:
    """Split an Excel header/footer string into its &L, &C, &R sections (text before any code is &C)."""
    sections = {"L": "", "C": "", "R": ""}
    current, last = "C", 0
    for m in _HF_SECTION_RE.finditer(value):
        if m.group() == "&&":
            continue
        sections[current] += value[last : m.start()]
        current, last = m.group()[1], m.end()
    sections[current] += value[last:]
    return sections


def _xlsx_footer_value(existing: str, text: str) -> str:
    sections = _split_sections(existing)
    ours = text.replace("&", "&&")
    left = sections["L"]
    rest = "".join(f"&{k}{v}" for k in ("C", "R") if (v := sections[k]))
    budget = _XLSX_FOOTER_MAX - len(rest) - 2 - (len(left) + 1 if left else 0)
    if budget < 40:  # the existing footer leaves too little room: ours wins
        left, rest = "", ""
        budget = _XLSX_FOOTER_MAX - 2
    if len(ours) > budget:
        # Keep the short code at the end: shorten the footer text in front of it.
        code_part = ours[ours.rfind("BNS ") :]
        ours = ours[: max(0, budget - len(code_part) - 1)].rstrip() + " " + code_part
    return "&L" + ours + (" " + left if left else "") + rest


def _stamp_worksheet(xml: str, text: str) -> str:
    root, root_end = _root(xml)
    if root.local != "worksheet":
        return xml
    p = root.prefix
    if root_end is None:
        return xml  # an empty worksheet element is not a valid sheet; leave it alone
    # Skip the (possibly huge) cell data: nothing we look for is inside it.
    start = root.end
    m = re.search(rf"</{re.escape(p)}sheetData\s*>|<{re.escape(p)}sheetData\b[^>]*/>", xml)
    if m:
        start = m.end()
    insert_at = root_end.start
    hf_open: _Tag | None = None
    for tag in _tags(xml, start, depth=1):
        if tag.depth == 1 and not tag.close and tag.local in _HF_SUCCESSORS and hf_open is None:
            insert_at = min(insert_at, tag.start)
            break
        if tag.depth == 1 and tag.local == "headerFooter":
            if tag.close and hf_open is not None:
                return _edit_header_footer(xml, hf_open, tag, text)
            if tag.empty:
                return _edit_header_footer(xml, tag, None, text)
            hf_open = tag
        if tag.depth < 1:
            break
    footer = _esc(_xlsx_footer_value("", text))
    return xml[:insert_at] + f"<{p}headerFooter><{p}oddFooter>{footer}</{p}oddFooter></{p}headerFooter>" + xml[insert_at:]


def _edit_header_footer(xml: str, hf: _Tag, hf_end: _Tag | None, text: str) -> str:
    p = hf.prefix
    if hf_end is None:  # <headerFooter/>
        opening = xml[hf.start : hf.end - 2].rstrip() + ">"
        footer = _esc(_xlsx_footer_value("", text))
        return xml[: hf.start] + opening + f"<{p}oddFooter>{footer}</{p}oddFooter></{p}headerFooter>" + xml[hf.end :]
    inner_start, inner_end = hf.end, hf_end.start
    inner = xml[inner_start:inner_end]
    # Children in schema order: oddHeader, oddFooter, evenHeader, evenFooter, firstHeader, firstFooter.
    order = ["oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"]
    found: dict[str, tuple[int, int, str]] = {}  # local → (start, end, text) within inner
    open_tag: _Tag | None = None
    for tag in _tags(inner):
        if tag.depth != 0:
            continue
        if not tag.close and tag.empty:
            found[tag.local] = (tag.start, tag.end, "")
        elif not tag.close:
            open_tag = tag
        elif open_tag is not None:
            found[open_tag.local] = (open_tag.start, tag.end, html.unescape(inner[open_tag.end : tag.start]))
            open_tag = None
    wanted = ["oddFooter"] + [k for k in ("evenFooter", "firstFooter") if k in found]
    edits: list[tuple[int, int, str]] = []
    for local in wanted:
        if local in found:
            s, e, value = found[local]
            edits.append((s, e, f"<{p}{local}>{_esc(_xlsx_footer_value(value, text))}</{p}{local}>"))
        else:
            # Insert before the first present element that comes after it in schema order.
            later = [found[k][0] for k in order[order.index(local) + 1 :] if k in found]
            pos = min(later) if later else len(inner)
            edits.append((pos, pos, f"<{p}{local}>{_esc(_xlsx_footer_value('', text))}</{p}{local}>"))
    for s, e, new in sorted(edits, reverse=True):
        inner = inner[:s] + new + inner[e:]
    return xml[:inner_start] + inner + xml[inner_end:]


# --- docx footer ---------------------------------------------------------------------------------


def _w_paragraph(w: str, text: str) -> str:
    return (f"<{w}p><{w}pPr><{w}jc {w}val=\"left\"/></{w}pPr><{w}r><{w}rPr><{w}color {w}val=\"595959\"/>"
            f"<{w}sz {w}val=\"14\"/></{w}rPr><{w}t xml:space=\"preserve\">{_esc(text)}</{w}t></{w}r></{w}p>")


def _stamp_docx_document(xml: str, text: str, footer_rid: str | None) -> tuple[str, bool]:
    """Append the footer paragraph to the body and reference the new footer from the first section.

    Return the new XML and whether the footer part ``footer_rid`` is now referenced.
    """
    w = _ns_prefix(xml, _NS_W)
    if w is None:
        return xml, False
    r = _ns_prefix(xml, _REL)
    body_end: _Tag | None = None
    body_sectpr: _Tag | None = None
    first_sectpr: _Tag | None = None
    first_has_default = False
    in_first = False
    for tag in _tags(xml):
        if tag.local == "body" and tag.close and tag.depth == 1:
            body_end = tag
        elif tag.local == "sectPr" and not tag.close:
            if tag.depth == 2:
                body_sectpr = tag
            if first_sectpr is None:
                first_sectpr = tag
                in_first = not tag.empty
        elif in_first and tag.local == "sectPr" and tag.close and first_sectpr is not None and (
            tag.depth == first_sectpr.depth
        ):
            in_first = False
        elif in_first and tag.local == "footerReference" and first_sectpr is not None and (
            tag.depth == first_sectpr.depth + 1 and (tag.attr("type") or "default") == "default"
        ):
            first_has_default = True
    if body_end is None:
        return xml, False
    edits: list[tuple[int, int, str]] = []
    para = _w_paragraph(w, text)
    edits.append((body_sectpr.start if body_sectpr else body_end.start, 0, para))
    referenced = False
    if footer_rid is not None and not first_has_default:
        rattr = f'{r}id="{footer_rid}"' if r else f'r:id="{footer_rid}" xmlns:r="{_REL}"'
        ref = f'<{w}footerReference {w}type="default" {rattr}/>'
        if first_sectpr is None:
            edits.append((body_end.start, 0, f"<{w}sectPr>{ref}</{w}sectPr>"))
        elif first_sectpr.empty:
            opening = xml[first_sectpr.start : first_sectpr.end - 2].rstrip() + ">"
            edits.append((first_sectpr.start, first_sectpr.end - first_sectpr.start,
                          opening + ref + f"</{first_sectpr.qname}>"))
        else:
            edits.append((first_sectpr.end, 0, ref))
        referenced = True
    for pos, length, new in sorted(edits, key=lambda e: e[0], reverse=True):
        xml = xml[:pos] + new + xml[pos + length :]
    return xml, referenced


def _footer_part(text: str) -> str:
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:ftr xmlns:w="{_NS_W}" xmlns:r="{_REL}">{_w_paragraph("w:", text)}</w:ftr>')


# --- stamping ------------------------------------------------------------------------------------


def _main_part(rels: str, kind: str) -> str:
    for rel in _relationships(rels, ""):
        if rel.type == REL_OFFICE_DOCUMENT and not rel.external:
            return rel.target
    return {"docx": "word/document.xml", "xlsx": "xl/workbook.xml", "pptx": "ppt/presentation.xml"}[kind]


def _new_part_name(names: set[str], base: str, ext: str) -> str:
    n, name = 1, f"{base}{ext}"
    while name.lower() in names:
        n += 1
        name = f"{base}{n}{ext}"
    return name


def check_office(data: bytes, kind: str) -> None:
    """Refuse an Office file a copy could not be stamped from (O1): within the size limits, no DTD in any XML
    part (XXE, billion laughs), and a stamp for nobody made and thrown away, so every part the watermarker
    rewrites has been parsed once."""
    archive, infos = _open(data, kind)
    with archive:
        for info in infos:
            if info.filename.lower().endswith((".xml", ".rels")) and _DTD_RE.search(_read(archive, info.filename)):
                raise NotAnOfficeFile(_DTD_MESSAGE)
    stamp_office(data, kind=kind, footer="検証 / validation", code=bytes(8))


def stamp_office(data: bytes, *, kind: str, footer: str, code: bytes) -> bytes:
    """Return the docx/xlsx/pptx ``data`` with a per-recipient fingerprint and visible mark (I8)."""
    check_code(code)
    archive, infos = _open(data, kind)
    try:
        with archive:
            return _stamp(archive, infos, kind, footer, code)
    except NotAnOfficeFile:
        raise
    except Exception as exc:
        # A file stored before upload validation parsed it: a clear 422, never a 500.
        raise NotAnOfficeFile("文書を読み取れないため透かしを入れられません / The document cannot be read and is not "
                              "watermarked.") from exc


def _stamp(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo], kind: str, footer: str, code: bytes) -> bytes:
    names = [i.filename for i in infos]
    lower = {n.lower() for n in names}
    content_types = _decode(_read(archive, "[Content_Types].xml"), "[Content_Types].xml")
    overrides = _overrides(content_types)
    if MAIN_CONTENT_TYPES[kind] not in overrides.values():
        raise _not(kind)
    package_rels = _decode(_read(archive, "_rels/.rels"), "_rels/.rels")
    changed: dict[str, bytes] = {}
    added: dict[str, bytes] = {}

    # (a) the custom property.
    custom = next((r.target for r in _relationships(package_rels, "")
                   if r.type == REL_CUSTOM and not r.external), None)
    if custom is None:
        custom = CUSTOM_PART if CUSTOM_PART.lower() not in lower else _new_part_name(lower, "docProps/custom", ".xml")
        package_rels, _ = _add_relationship(package_rels, REL_CUSTOM, custom, "rIdBansoFP")
        changed["_rels/.rels"] = package_rels.encode()
    existing = _decode(_read(archive, custom), custom) if custom in names else None
    custom_xml = _custom_xml(existing, marker(code)).encode()
    (changed if existing is not None else added)[custom] = custom_xml
    content_types = _add_override(content_types, custom, CUSTOM_CT)

    # (b) the visible mark.
    visible = f"{footer}  {footer_code(code)}"
    main = _main_part(package_rels, kind)
    if kind == "xlsx":
        for part, ctype in overrides.items():
            if ctype == WORKSHEET_CT and part in names:
                xml = _decode(_read(archive, part), part)
                changed[part] = _stamp_worksheet(xml, visible).encode()
    elif kind == "docx" and main in names:
        rels_name = _rels_name(main)
        doc_rels = (_decode(_read(archive, rels_name), rels_name) if rels_name in names
                    else f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_NS_RELS}"/>')
        for rel in _relationships(doc_rels, main):
            if rel.type == REL_FOOTER and not rel.external and rel.target in names and rel.target not in changed:
                xml = _decode(_read(archive, rel.target), rel.target)
                w = _ns_prefix(xml, _NS_W)
                if w is not None:
                    changed[rel.target] = _append_child(xml, _w_paragraph(w, visible)).encode()
        part_name = _new_part_name(lower | {n.lower() for n in added}, main.rpartition("/")[0] + "/footerBanso", ".xml")
        target = part_name.rpartition("/")[2]
        new_rels, rid = _add_relationship(doc_rels, REL_FOOTER, target, "rIdBansoFooter")
        document, referenced = _stamp_docx_document(_decode(_read(archive, main), main), visible, rid)
        changed[main] = document.encode()
        if referenced:
            added[part_name] = _footer_part(visible).encode()
            content_types = _add_override(content_types, part_name, FOOTER_CT)
            (changed if rels_name in names else added)[rels_name] = new_rels.encode()
    changed["[Content_Types].xml"] = content_types.encode()

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target_zip:
        for info in infos:
            body = changed[info.filename] if info.filename in changed else _read(archive, info.filename)
            copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            copy.compress_type = info.compress_type
            copy.external_attr = info.external_attr
            copy.create_system = info.create_system
            copy.comment = info.comment
            target_zip.writestr(copy, body)
        for name, body in added.items():
            target_zip.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), body,
                                compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# --- reading a leaked copy -----------------------------------------------------------------------

_STRIP_TAGS_RE: Final = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class OfficeText:
    """What attribution reads from an Office package: custom-property XML and visible text per part."""

    custom_properties: list[str]
    visible_text: list[str]


def read_office_text(data: bytes) -> OfficeText | None:
    """Return the custom-property parts and the tag-stripped text of the content parts, or None.

    None means the bytes are not a readable Office Open XML package (or one over the size limit).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError):
        return None
    with archive:
        names = {i.filename for i in infos}
        if (len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_EXPANDED
                or "[Content_Types].xml" not in names):
            return None
        try:
            custom_parts = {CUSTOM_PART}
            if "_rels/.rels" in names:
                rels = archive.read("_rels/.rels").decode("utf-8", "replace")
                custom_parts |= {r.target for r in _relationships(rels, "") if r.type == REL_CUSTOM}
            custom = [archive.read(n).decode("utf-8", "replace") for n in sorted(custom_parts & names)]
            visible = []
            for info in infos:
                name = info.filename
                if name.endswith(".xml") and name.startswith(("word/", "xl/worksheets/", "ppt/")):
                    xml = archive.read(name).decode("utf-8", "replace")
                    visible.append(html.unescape(_STRIP_TAGS_RE.sub("", xml)))
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError,
                NotAnOfficeFile):
            return None
    return OfficeText(custom_properties=custom, visible_text=visible)
