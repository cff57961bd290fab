"""I8, I12: the on-screen watermark — tiled visible text, a pixel mark that survives lossless crops, metadata."""

from __future__ import annotations

import io
import secrets

import numpy as np
from PIL import Image

from banso.leak import attribute
from banso.leak.fingerprint import footer_code, marker
from banso.leak.screen import MIN_SIDE, fit, read_pixel_mark, read_pixel_mark_bytes, stamp_view, unambiguous

FOOTER = "山田太郎（東京大学） yamada@example.jp 閲覧 2026-12-06 17:40 JST 情報 #42"


def _page() -> Image.Image:
    """A light page with some dark 'text' blocks, like a rendered PDF page."""
    pixels = np.full((900, 640, 3), 248, dtype=np.uint8)
    rng = np.random.default_rng(7)
    for top in range(60, 840, 40):
        pixels[top:top + 14, 60:60 + int(rng.integers(200, 520))] = 30
    return Image.fromarray(pixels, "RGB")


def _code() -> bytes:
    """A fresh code as the viewer issues them: one whose tile verifies in one alignment only."""
    while not unambiguous(code := secrets.token_bytes(8)):
        pass
    return code


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_pixel_mark_and_metadata_carry_the_code() -> None:
    code = _code()
    png = stamp_view(_page(), footer=FOOTER, code=code)
    assert read_pixel_mark_bytes(png) == (code, True)
    assert marker(code).encode() in png
    channels = {e.channel: e.code for e in attribute.extract_codes(png)}
    assert channels == {"image-metadata": code, "image-pixels": code}


def test_pixel_mark_survives_a_lossless_crop_at_any_offset() -> None:
    code = _code()
    image = Image.open(io.BytesIO(stamp_view(_page(), footer=FOOTER, code=code)))
    for left, top in ((0, 0), (1, 3), (7, 5), (123, 401)):
        crop = image.crop((left, top, left + 200, top + 160))
        assert read_pixel_mark(crop) == (code, True), (left, top)
        # a re-saved crop (a screenshot) has no metadata: the pixels alone attribute it
        found = attribute.attribute(_png(crop), {"mine": code, "other": secrets.token_bytes(8)})
        assert found.best == "mine" and found.confidence > 0.99


def test_unmarked_images_give_no_code() -> None:
    assert read_pixel_mark(_page()) is None
    assert read_pixel_mark(Image.new("RGB", (400, 300), (255, 255, 255))) is None
    noise = np.random.default_rng(1).integers(0, 256, (500, 500, 3), dtype=np.uint8)
    assert read_pixel_mark(Image.fromarray(noise, "RGB")) is None
    assert read_pixel_mark_bytes(b"not an image") is None


def test_scaling_or_jpeg_removes_the_pixel_mark_but_not_the_visible_text() -> None:
    # The documented limit: only lossless 1:1 copies keep the pixel mark.
    code = _code()
    image = Image.open(io.BytesIO(stamp_view(_page(), footer=FOOTER, code=code))).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    assert read_pixel_mark_bytes(out.getvalue()) is None
    assert read_pixel_mark(image.resize((image.width // 2, image.height // 2))) is None


def test_visible_tiles_cover_the_whole_image() -> None:
    code = _code()
    stamped = np.asarray(Image.open(io.BytesIO(stamp_view(_page(), footer=FOOTER, code=code))).convert("RGB"),
                         dtype=np.int16)
    tinted = (stamped[..., 0] - stamped[..., 1] > 25) & (stamped[..., 0] - stamped[..., 2] > 25)
    height, width = tinted.shape
    # every quarter of the page carries watermark pixels, so cropping any quarter keeps some
    for rows in (slice(0, height // 2), slice(height // 2, height)):
        for cols in (slice(0, width // 2), slice(width // 2, width)):
            assert tinted[rows, cols].mean() > 0.005
    assert footer_code(code).startswith("BNS ")


def test_fit_bounds_large_images_and_enlarges_tiny_ones() -> None:
    width, height = fit(Image.new("RGB", (4000, 3000)), 1_000_000).size
    assert width * height <= 1_000_000 and abs(width / height - 4 / 3) < 0.01
    assert max(fit(Image.new("RGB", (8, 6))).size) == MIN_SIDE
    assert fit(Image.new("RGB", (800, 600))).size == (800, 600)


# A code whose tile also verifies in another alignment (found among 100,000 random codes): two readings.
AMBIGUOUS = bytes.fromhex("d3da83c1fbf2b3c1")


def test_a_code_whose_tile_verifies_twice_is_not_issued_for_pixels() -> None:
    # I8: such a mark reads back as no clear code, even uncropped — so the viewer never stamps one
    assert not unambiguous(AMBIGUOUS)
    assert read_pixel_mark_bytes(stamp_view(_page(), footer=FOOTER, code=AMBIGUOUS)) is None
    good = _code()
    assert unambiguous(good) and read_pixel_mark_bytes(stamp_view(_page(), footer=FOOTER, code=good)) == (good, True)
