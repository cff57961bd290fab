"""I8: per-recipient watermarks in PNG, JPEG, GIF and WebP — visible strip and metadata fingerprint."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from PIL import Image, PngImagePlugin

from banso.kit.errors import BansoError
from banso.leak.attribute import attribute, extract_codes
from banso.leak.fingerprint import marker
from banso.leak.image import NotAnImage, cjk_font_path, stamp_image
from banso.leak.pdf import format_footer
from tests.support.leak import RECIPIENTS, issue_code

ISSUED_AT = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}


def footer_for(k: int) -> str:
    return format_footer(recipient=f"山田太郎{k}", organisation="東京大学", issued_at=ISSUED_AT, item_id=42)


def make_image(kind: str, mode: str = "RGB", size: tuple[int, int] = (360, 240)) -> bytes:
    image = Image.new("RGB", size, (235, 235, 235))
    for x in range(0, size[0], 20):
        for y in range(size[1]):
            image.putpixel((x, y), (30, 90, 160))
    converted = image.convert(mode)
    buf = io.BytesIO()
    converted.save(buf, format=FORMATS[kind])
    return buf.getvalue()


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("kind", list(FORMATS))
def test_every_recipient_is_attributed(kind: str, candidates: dict[str, bytes]) -> None:
    original = make_image(kind)
    for k in range(RECIPIENTS):
        stamped = stamp_image(original, kind=kind, footer=footer_for(k), code=issue_code(k))
        result = attribute(stamped, candidates, filename=f"leak.{kind}")
        assert result.best == f"dl-{k}", result.explanation
        assert result.confidence > 0.99
    evidence = extract_codes(stamped)
    assert {e.channel for e in evidence} == {"image-metadata"}
    assert all(e.verified for e in evidence)


@pytest.mark.parametrize(("kind", "mode"), [
    ("png", "RGB"), ("png", "RGBA"), ("png", "L"), ("png", "P"), ("png", "LA"),
    ("jpeg", "RGB"), ("jpeg", "L"), ("jpeg", "CMYK"),
    ("gif", "P"), ("gif", "L"),
    ("webp", "RGB"), ("webp", "RGBA"),
])
def test_format_size_and_mode_are_kept(kind: str, mode: str) -> None:
    original = make_image(kind, mode)
    before = opened(original)
    stamped = stamp_image(original, kind=kind, footer=footer_for(1), code=issue_code(1))
    after = opened(stamped)
    assert (after.format, after.size, after.mode) == (before.format, before.size, before.mode)


def test_visible_strip_darkens_the_bottom_and_leaves_the_top() -> None:
    original = make_image("png")
    stamped = opened(stamp_image(original, kind="png", footer=footer_for(1), code=issue_code(1))).convert("RGB")
    clean = opened(original).convert("RGB")
    width, height = clean.size
    assert stamped.getpixel((width - 3, height - 2)) != clean.getpixel((width - 3, height - 2))
    r, g, b = stamped.getpixel((width - 3, height - 2))  # type: ignore[misc]
    assert max(r, g, b) < 150  # a dark, semi-transparent strip
    assert stamped.crop((0, 0, width, height // 2)).tobytes() == clean.crop((0, 0, width, height // 2)).tobytes()


def test_japanese_font_is_used_when_installed() -> None:
    # scripts/test.sh installs fonts-noto-cjk; without it the strip falls back to ASCII.
    if cjk_font_path() is None:
        pytest.skip("no Noto CJK font installed")
    assert "CJK" in cjk_font_path() or "JP" in (cjk_font_path() or "")


def test_existing_metadata_is_kept() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "secretariat")
    info.add_itxt("Title", "協議会資料")
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, format="PNG", pnginfo=info, dpi=(144, 144))
    stamped = opened(stamp_image(buf.getvalue(), kind="png", footer=footer_for(1), code=issue_code(1)))
    assert isinstance(stamped, PngImagePlugin.PngImageFile)
    assert stamped.text == {"Author": "secretariat", "Title": "協議会資料", "BansoFP": marker(issue_code(1))}
    assert tuple(round(v) for v in stamped.info["dpi"]) == (144, 144)


def test_jpeg_carries_comment_and_xmp() -> None:
    stamped = stamp_image(make_image("jpeg"), kind="jpeg", footer=footer_for(2), code=issue_code(2))
    image = opened(stamped)
    assert image.info["comment"] == marker(issue_code(2)).encode()
    assert marker(issue_code(2)).encode() in image.info["xmp"]
    (evidence,) = extract_codes(stamped)
    assert evidence.occurrences == 2


def test_animated_gif_keeps_the_first_frame() -> None:
    frames = [Image.new("P", (120, 80), i) for i in (1, 2, 3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    stamped = opened(stamp_image(buf.getvalue(), kind="gif", footer=footer_for(3), code=issue_code(3)))
    assert stamped.size == (120, 80) and getattr(stamped, "n_frames", 1) == 1


@pytest.mark.parametrize("kind", list(FORMATS))
def test_clean_image_names_nobody(kind: str, candidates: dict[str, bytes]) -> None:
    result = attribute(make_image(kind), candidates)
    assert result.best is None and result.confidence == 0.0 and result.evidence == []


@pytest.mark.parametrize(("data", "kind"), [
    (lambda: make_image("png"), "jpeg"),
    (lambda: make_image("jpeg"), "png"),
    (lambda: make_image("gif"), "webp"),
    (lambda: b"%PDF-1.7 hello", "png"),
    (lambda: make_image("png")[:40], "png"),
])
def test_wrong_kind_is_refused_with_422(data: object, kind: str) -> None:
    assert callable(data)
    with pytest.raises(NotAnImage) as caught:
        stamp_image(data(), kind=kind, footer="x", code=issue_code(1))
    assert isinstance(caught.value, BansoError) and caught.value.status_code == 422


def test_decompression_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(NotAnImage, match="too large"):
        stamp_image(make_image("png"), kind="png", footer="x", code=issue_code(1))


@pytest.mark.parametrize("kind", ["jpeg", "png"])
def test_an_image_for_the_screen_is_decoded_reduced(kind: str) -> None:
    """Issue 17 (bounded memory): the viewer's decode is about screen size, whatever the stored size."""
    from banso.leak.image import open_reduced

    with open_reduced(make_image(kind, size=(3000, 2000)), kind, max_pixels=200_000) as image:
        assert image.width * image.height <= 200_000 and image.width >= 300
        assert abs(image.width / image.height - 1.5) < 0.05  # aspect kept
    with open_reduced(make_image(kind), kind, max_pixels=200_000) as small:
        assert small.size == (360, 240)  # already small enough: untouched


def test_the_pixel_limit_is_read_from_the_header_before_decoding() -> None:
    """Issue 17: a 30,000² PNG is refused by its IHDR alone (900 MP would need 3.6 GB decoded)."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 30_000, 30_000, 8, 2, 0, 0, 0)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
           + chunk(b"IEND", b""))
    with pytest.raises(NotAnImage, match="900,000,000 pixels") as caught:
        stamp_image(png, kind="png", footer="x", code=issue_code(1))
    assert caught.value.message.startswith("画像が")  # Japanese first
