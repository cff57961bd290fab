"""I8: per-recipient PDF watermarks — visible footer and invisible fingerprint on every page."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader, PdfWriter

from banso.kit.errors import BansoError
from banso.leak.attribute import attribute, extract_codes
from banso.leak.fingerprint import footer_code, marker
from banso.leak.pdf import NotAPdf, format_footer, make_sample_pdf, stamp_pdf
from tests.support.leak import RECIPIENTS, issue_code

PARAGRAPHS = [
    f"第{i}節　経済安全保障重要技術育成プログラムにおける研究開発成果の取扱いについて、協議会は"
    "参加者の合意に基づき情報の管理方法を定める。"
    "The council agrees on how results are handled and who may see them. " * 3
    for i in range(1, 13)
]
ISSUED_AT = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)


def footer_for(k: int) -> str:
    return format_footer(recipient=f"山田太郎{k}", organisation="東京大学", issued_at=ISSUED_AT, item_id=42)


@pytest.fixture(scope="module")
def sample() -> bytes:
    pdf = make_sample_pdf("協議会資料　第3回会合（指定情報）", PARAGRAPHS, paragraphs_per_page=4)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 3
    return pdf


def leak_page(pdf: bytes, index: int) -> bytes:
    """Extract one page into a new PDF, as a leaker would."""
    writer = PdfWriter()
    writer.add_page(PdfReader(io.BytesIO(pdf)).pages[index])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_footer_is_japanese_and_in_jst() -> None:
    assert footer_for(1) == "配布先 山田太郎1（東京大学） 2024-05-01 09:30 JST 項目 #42 複製・転送禁止"
    with pytest.raises(ValueError):
        format_footer(recipient="a", organisation="b", issued_at=datetime(2024, 5, 1), item_id=1)


def test_visible_footer_on_every_page(sample: bytes) -> None:
    code = issue_code(1)
    stamped = PdfReader(io.BytesIO(stamp_pdf(sample, footer=footer_for(1), code=code)))
    assert len(stamped.pages) == 3
    for page in stamped.pages:
        text = page.extract_text()
        assert footer_for(1) in text
        assert footer_code(code) in text
        assert "第" in text  # the original content is still there
    assert stamped.metadata is not None and str(stamped.metadata["/Title"]) == "協議会資料　第3回会合（指定情報）"


def test_invisible_marker_on_every_page(sample: bytes) -> None:
    code = issue_code(2)
    stamped = stamp_pdf(sample, footer=footer_for(2), code=code)
    reader = PdfReader(io.BytesIO(stamped))
    for page in reader.pages:
        assert page.extract_text().count(marker(code)) == 2
        assert str(page["/BansoFP"]) == marker(code)
    assert reader.metadata is not None and str(reader.metadata["/BansoFP"]) == marker(code)
    channels = {e.channel: e for e in extract_codes(stamped)}
    assert set(channels) == {"pdf-invisible-text", "pdf-page-metadata", "pdf-metadata", "pdf-footer"}
    assert all(e.code == code and e.verified for e in channels.values())
    assert channels["pdf-invisible-text"].occurrences == 6
    assert channels["pdf-footer"].occurrences == 3


def test_each_of_twenty_recipients_is_named_from_one_leaked_page(
    sample: bytes, candidates: dict[str, bytes]
) -> None:
    for k in range(RECIPIENTS):
        stamped = stamp_pdf(sample, footer=footer_for(k), code=issue_code(k))
        leaked = leak_page(stamped, k % 3)
        assert len(PdfReader(io.BytesIO(leaked)).pages) == 1
        result = attribute(leaked, candidates, filename="page.pdf")
        assert result.best == f"dl-{k}", result.explanation
        assert result.confidence > 0.99
        assert not result.ambiguous
        assert result.ranked[0][0] == f"dl-{k}" and result.ranked[1][1] < 1e-6
        # The document information dictionary does not travel with a single page; the rest does.
        assert {e.channel for e in result.evidence} == {"pdf-invisible-text", "pdf-page-metadata", "pdf-footer"}


def test_text_extracted_from_a_leaked_page_is_attributed(sample: bytes, candidates: dict[str, bytes]) -> None:
    stamped = stamp_pdf(sample, footer=footer_for(5), code=issue_code(5))
    text = PdfReader(io.BytesIO(leak_page(stamped, 1))).pages[0].extract_text()
    result = attribute(text.encode(), candidates, filename="copied.txt")
    assert result.best == "dl-5" and result.confidence > 0.99


def test_rotated_and_offset_pages_are_stamped() -> None:
    writer = PdfWriter()
    page = writer.add_blank_page(width=400, height=300)
    page.rotate(90)
    page.mediabox.lower_left = (50, 50)
    out = io.BytesIO()
    writer.write(out)
    code = issue_code(9)
    stamped = PdfReader(io.BytesIO(stamp_pdf(out.getvalue(), footer="配布先 テスト", code=code)))
    text = stamped.pages[0].extract_text()
    assert "配布先 テスト" in text and marker(code) in text


def test_clean_pdf_gives_no_attribution(sample: bytes, candidates: dict[str, bytes]) -> None:
    result = attribute(sample, candidates)
    assert result.best is None and result.confidence == 0.0
    assert result.evidence == []
    assert "No fingerprint" in result.explanation


@pytest.mark.parametrize("data", [b"", b"hello, world", b"%PDF-1.7\n garbage without a body", b"\x89PNG\r\n\x1a\n"])
def test_non_pdf_is_refused(data: bytes) -> None:
    with pytest.raises(NotAPdf) as info:
        stamp_pdf(data, footer="x", code=issue_code(0))
    assert isinstance(info.value, BansoError)
    assert info.value.status_code == 422


def test_encrypted_pdf_with_a_password_is_refused(sample: bytes) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(sample)))
    writer.encrypt("secret")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(NotAPdf):
        stamp_pdf(out.getvalue(), footer="x", code=issue_code(0))
