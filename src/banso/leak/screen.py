"""Per-viewer watermarks for on-screen viewing (I8, I12): tiled diagonal text and a pixel mark.

A view-only file is shown as server-rendered images; each image handed to one viewer carries:

Method
------
* **Visible tiles**: the viewer's line (name, organisation, JST time, item id and the short code
  ``BNS xxxx-…``) repeated in rows across the whole image, rotated 30°, semi-transparent. Cropping
  any sizeable part keeps whole copies of the line.
* **Pixel mark** (channel ``image-pixels``): the 80 bits of code and CRC-16 in the least
  significant bit of the blue channel, laid out as an 8 × 10 tile repeated over the image. The
  reader takes a per-position majority and tries the 80 alignments a crop can cause; a code counts
  only when its checksum verifies and the majority is clear.
* **Metadata** (channel ``image-metadata``): the ``BNSFP:<code>:<crc>`` marker as a PNG ``tEXt``
  chunk, as :mod:`banso.leak.image` writes it.

Limits
------
The pixel mark survives lossless copies at 1:1 — saving the image, a PNG screenshot at 100 % zoom,
cropping — but not scaling, JPEG re-compression, printing or photographs; then only the visible
tiles remain (read them by eye). The metadata goes with any re-encoding.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING, Final

from banso.leak import limits
from banso.leak.fingerprint import CHECK_BITS, CODE_BITS, bits_to_code, code_to_bits, footer_code, marker
from banso.leak.image import PNG_KEY, _font

if TYPE_CHECKING:
    from PIL import Image as PILImage

TILE: Final = (8, 10)  # rows × columns of the repeated bit tile (8 · 10 = 80 = code + checksum bits)
MAX_PIXELS: Final = limits.MAX_VIEW_PIXELS  # of an image handed out, and of one read back
MIN_SIDE: Final = 480  # a smaller image is enlarged to this longer side before stamping
_ANGLE: Final = 30
_ALPHA: Final = 72  # of 255: readable on light and dark pages without hiding the content
_MIN_SAMPLES: Final = 16  # pixels per bit position before a majority means anything
_MIN_CLARITY: Final = 0.25  # mean |share of ones − ½| · 2 over the 80 positions

assert TILE[0] * TILE[1] == CODE_BITS + CHECK_BITS


def visible_line(footer: str, code: bytes) -> str:
    """Return the text tiled over a viewed image: the footer and the short code."""
    return f"{footer}  {footer_code(code)}"


def _tiles(size: tuple[int, int], text: str) -> PILImage.Image:
    """Return an RGBA layer of ``size`` with ``text`` tiled in rotated rows."""
    from PIL import Image, ImageDraw

    width, height = size
    font_size = max(12, min(28, min(width, height) // 32))
    font, cjk = _font(font_size)
    if not cjk:
        text = text.encode("ascii", "replace").decode()
    side = math.ceil(math.hypot(width, height)) + 2 * font_size
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    step_x = int(font.getlength(text)) + 4 * font_size
    step_y = font_size * 5
    for row, y in enumerate(range(0, side, step_y)):
        shift = (row % 2) * step_x // 2  # staggered rows: a vertical strip still holds a whole line
        for x in range(-shift, side, step_x):
            draw.text((x, y), text, font=font, fill=(170, 20, 20, _ALPHA),
                      stroke_width=1, stroke_fill=(255, 255, 255, _ALPHA // 2))
    rotated = layer.rotate(_ANGLE, resample=Image.Resampling.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    return rotated.crop((left, top, left + width, top + height))


def _embed_bits(image: PILImage.Image, code: bytes) -> PILImage.Image:
    """Return an RGB copy of ``image`` with the code's bits in the blue channel's lowest bit."""
    import numpy as np
    from PIL import Image

    pixels = np.array(image.convert("RGB"), dtype=np.uint8)
    height, width = pixels.shape[:2]
    bits = np.array(code_to_bits(code), dtype=np.uint8).reshape(TILE)
    tiled = np.tile(bits, (-(-height // TILE[0]), -(-width // TILE[1])))[:height, :width]
    pixels[..., 2] = (pixels[..., 2] & 0xFE) | tiled
    return Image.fromarray(pixels, "RGB")


def fit(image: PILImage.Image, max_pixels: int = MAX_PIXELS) -> PILImage.Image:
    """Return ``image`` scaled to at most ``max_pixels`` pixels, and up to ``MIN_SIDE`` when tiny (aspect kept)."""
    from PIL import Image

    width, height = image.size
    if width * height > max_pixels:
        ratio = math.sqrt(max_pixels / (width * height))
        return image.resize((max(1, int(width * ratio)), max(1, int(height * ratio))), Image.Resampling.LANCZOS)
    if max(width, height) < MIN_SIDE:  # room for a legible line and enough pixels for the mark
        ratio = min(MIN_SIDE / max(width, height), math.sqrt(max_pixels / (width * height)))
        return image.resize((max(1, round(width * ratio)), max(1, round(height * ratio))), Image.Resampling.NEAREST)
    return image


def stamp_view(image: PILImage.Image, *, footer: str, code: bytes) -> bytes:
    """Return ``image`` as a PNG with tiled visible text, a pixel mark and a metadata marker (I8)."""
    from PIL import Image, PngImagePlugin

    base = fit(image).convert("RGBA")
    white = Image.new("RGBA", base.size, (255, 255, 255, 255))  # transparency would hide the tiles
    shown = Image.alpha_composite(Image.alpha_composite(white, base), _tiles(base.size, visible_line(footer, code)))
    marked = _embed_bits(shown, code)
    info = PngImagePlugin.PngInfo()
    info.add_text(PNG_KEY, marker(code))
    out = io.BytesIO()
    marked.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _verifying_alignments(share_bits: list[list[int]]) -> set[bytes]:
    """Return the codes of every alignment of a TILE of bits whose checksum verifies."""
    import numpy as np

    tile = np.array(share_bits)
    found: set[bytes] = set()
    for dy in range(TILE[0]):  # a crop moves the tile: every alignment is a candidate
        for dx in range(TILE[1]):
            code, ok = bits_to_code(np.roll(tile, (dy, dx), axis=(0, 1)).ravel().tolist())
            if ok:
                found.add(code)
    return found


def unambiguous(code: bytes) -> bool:
    """Return True if ``code``'s pixel tile verifies in one alignment only (I8).

    Another alignment of the 80-bit tile can pass the 16-bit checksum by chance: 210 of 100,000
    random codes did (about 1 in 480), and their marks read back as two codes, that is as no clear
    mark. The viewer draws such codes again (:func:`banso.information.viewer.page_image`).
    """
    return len(_verifying_alignments([code_to_bits(code)[i:i + TILE[1]]
                                      for i in range(0, TILE[0] * TILE[1], TILE[1])])) == 1


def read_pixel_mark(image: PILImage.Image) -> tuple[bytes, bool] | None:
    """Return the code in an image's pixel mark and whether its checksum verifies, or None if none is clear."""
    import numpy as np

    if image.width * image.height > MAX_PIXELS * 4:
        return None
    lsb = np.array(image.convert("RGB"), dtype=np.uint8)[..., 2] & 1
    rows, cols = TILE
    if lsb.shape[0] < rows * 4 or lsb.shape[1] < cols * 4 or lsb.size < rows * cols * _MIN_SAMPLES:
        return None
    share = np.array([[lsb[r::rows, c::cols].mean() for c in range(cols)] for r in range(rows)])
    if float(np.abs(share - 0.5).mean() * 2) < _MIN_CLARITY:
        return None
    found = _verifying_alignments((share > 0.5).astype(int).tolist())
    if len(found) != 1:
        return None  # nothing verifies, or two alignments disagree: no clear answer (see unambiguous)
    return found.pop(), True


def read_pixel_mark_bytes(data: bytes) -> tuple[bytes, bool] | None:
    """Open image bytes and return their pixel mark (see :func:`read_pixel_mark`), or None."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS * 4:
                    return None
                image.load()
                return read_pixel_mark(image)
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
                Image.DecompressionBombWarning, Image.DecompressionBombError):
            return None
