"""Render a signed pledge (守秘義務誓約書) as a PDF with a built-in Japanese CID font (no font file)."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

FONT = "HeiseiKakuGo-W5"  # Adobe-Japan1 CID font: every PDF viewer has it, nothing to embed
_registered = False


def _font() -> str:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True
    return FONT


def render_pledge_pdf(*, text: str, footer: str, doc_title: str = "守秘義務誓約書") -> bytes:
    """Return the PDF of a pledge text; ``footer`` carries the record (id, signed time, SHA-256); ``doc_title``
    is the PDF's title (the think tank's Art. 64 acknowledgement reuses this layout)."""
    font = _font()
    body = ParagraphStyle("body", fontName=font, fontSize=10.5, leading=17, wordWrap="CJK")
    title = ParagraphStyle("title", parent=body, fontSize=16, leading=24, alignment=1, spaceAfter=8)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=11)
    lines = text.splitlines()
    story = [Paragraph(escape(lines[0]) if lines else "", title)]
    for line in lines[1:]:
        story.append(Paragraph(escape(line), body) if line.strip() else Spacer(1, 4 * mm))
    story += [Spacer(1, 10 * mm), Paragraph(escape(footer), small)]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title=doc_title, author="banso", invariant=1)
    doc.build(story)
    return buf.getvalue()
