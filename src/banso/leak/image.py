"""Per-recipient watermarks in images: PNG, JPEG, GIF, WebP (I8).

Method
------
* **Visible strip**: a semi-transparent dark strip along the bottom edge with the footer text and
  the short code ``BNS xxxx-…`` in white, drawn with Noto Sans CJK when installed (Japanese
  glyphs), else Pillow's built-in font with the non-ASCII characters replaced by ``?``. Wrapped
  onto several lines when the image is narrow. Size and mode are kept (palette images are
  re-quantised, so their palette changes).
* **Invisible fingerprint** (metadata, channel ``image-metadata``): the marker
  ``BNSFP:<code>:<crc>`` as a PNG ``tEXt`` chunk (key ``BansoFP``), a JPEG comment (COM) plus an XMP
  packet, a WebP XMP chunk, a GIF comment extension. Existing text chunks, EXIF, ICC profiles and
  XMP are kept (our XMP description is added to an existing packet).

Limits
------
Re-encoding by most web services, "remove metadata" tools, screenshots, printing and photographs
remove the metadata; then only the visible strip remains (read it by eye; cropping it away removes
it). Animated GIFs and WebPs keep only their first frame. JPEGs are re-encoded once (with the
source quantisation tables where available, so the loss is small).
"""

from __future__ import annotations

import glob
import io
import re
import warnings
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from banso.kit.errors import BansoError
from banso.leak.fingerprint import check_code, footer_code, marker

if TYPE_CHECKING:
    from PIL import Image as PILImage
    from PIL import ImageFont

KINDS: Final = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}
PNG_KEY: Final = "BansoFP"
XMP_NS: Final = "https://banso.invalid/ns/fingerprint/1.0/"
_FONT_GLOBS: Final = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
    "/usr/share/fonts/**/NotoSansJP*.[ot]tf",
    "/usr/share/fonts/**/*CJK*.tt[cf]",
)
_STRIP_ALPHA: Final = 150  # of 255


class NotAnImage(BansoError):
    """The bytes are not an image of the declared kind, or cannot be stamped (I8)."""

    status_code = 422
    code = "not_an_image"


@cache
def cjk_font_path() -> str | None:
    """Return the path of a font with Japanese glyphs (Noto Sans CJK), or None."""
    for pattern in _FONT_GLOBS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    return None


def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """Return a font of ``size`` pixels and whether it has Japanese glyphs."""
    from PIL import ImageFont

    path = cjk_font_path()
    if path is not None:
        try:
            # Index 0 of NotoSansCJK-Regular.ttc is the JP face.
            return ImageFont.truetype(path, size, index=0), True
        except OSError:
            pass
    try:
        return ImageFont.load_default(size), False
    except TypeError:  # very old Pillow: no sizes
        return ImageFont.load_default(), False


def _wrap(text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and font.getlength(current + ch) > width:
            cut = current.rfind(" ")
            if cut > len(current) // 2:
                lines.append(current[:cut])
                current = current[cut + 1 :] + ch
            else:
                lines.append(current)
                current = ch.lstrip()
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


def _draw_strip(image: PILImage.Image, text: str) -> PILImage.Image:
    """Return an RGBA copy of ``image`` with the footer strip drawn along the bottom."""
    from PIL import Image, ImageDraw

    base = image.convert("RGBA")
    width, height = base.size
    size = max(8, min(24, width // 45, height // 8 if height >= 64 else 8))
    font, cjk = _font(size)
    if not cjk:
        text = text.encode("ascii", "replace").decode()
    pad = max(2, size // 3)
    lines = _wrap(text, font, max(1, width - 2 * pad))
    line_height = size + max(1, size // 4)
    strip = len(lines) * line_height + 2 * pad
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    top = max(0, height - strip)
    draw.rectangle((0, top, width, height), fill=(0, 0, 0, _STRIP_ALPHA))
    for i, line in enumerate(lines):
        draw.text((pad, top + pad + i * line_height), line, font=font, fill=(255, 255, 255, 235))
    return Image.alpha_composite(base, overlay)


def _restore_mode(stamped: PILImage.Image, mode: str) -> PILImage.Image:
    """Convert the RGBA result back to the source mode (16-bit and float images become RGB)."""
    if mode == "P":
        # A fresh adaptive palette; a palette entry marked transparent is not carried over.
        return stamped.convert("RGB").quantize(256)
    if mode in ("RGB", "RGBA", "L", "LA", "CMYK", "1"):
        return stamped.convert(mode)
    return stamped.convert("RGBA" if "A" in mode else "RGB")


def _xmp(existing: bytes | str | None, value: str) -> bytes:
    description = (f'<rdf:Description rdf:about="" xmlns:bansofp="{XMP_NS}" '
                   f'bansofp:code="{value}"/>')
    if existing:
        text = existing.decode("utf-8", "replace") if isinstance(existing, bytes) else existing
        m = re.search(r"</rdf:RDF\s*>", text)
        if m:
            return (text[: m.start()] + description + text[m.start() :]).encode()
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f"{description}</rdf:RDF></x:xmpmeta>"
            '<?xpacket end="w"?>').encode()


def open_image(data: bytes, kind: str) -> PILImage.Image:
    """Open and decode ``data`` as an image of ``kind``, or raise NotAnImage (decompression bombs too)."""
    from PIL import Image, UnidentifiedImageError

    if kind not in KINDS:
        raise ValueError(f"unsupported image kind {kind!r}")
    if not isinstance(data, bytes | bytearray):
        raise NotAnImage("The file is not an image.")
    with warnings.catch_warnings():
        # Treat Pillow's decompression-bomb warning (> ~89 Mpx) as an error.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(bytes(data)))
            image.load()
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise NotAnImage(f"The file is not a readable {KINDS[kind]} image.") from exc
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
            raise NotAnImage("The image is too large to be watermarked.") from exc
    if image.format != KINDS[kind]:
        raise NotAnImage(f"The file is not a {KINDS[kind]} image.")
    return image


def stamp_image(data: bytes, *, kind: str, footer: str, code: bytes) -> bytes:
    """Return the png/jpeg/gif/webp ``data`` with a visible footer strip and metadata fingerprint (I8)."""
    from PIL import PngImagePlugin

    check_code(code)
    image = open_image(data, kind)
    fmt = KINDS[kind]
    value = marker(code)
    info = dict(image.info)
    mode = image.mode
    stamped = _restore_mode(_draw_strip(image, f"{footer}  {footer_code(code)}"), mode)
    options: dict[str, Any] = {}
    if info.get("icc_profile"):
        options["icc_profile"] = info["icc_profile"]
    if info.get("exif") and fmt != "GIF":
        options["exif"] = info["exif"]
    if fmt == "PNG":
        pnginfo = PngImagePlugin.PngInfo()
        for key, text in getattr(image, "text", {}).items():
            if key != PNG_KEY and isinstance(text, str):
                if text.isascii():
                    pnginfo.add_text(key, text)
                else:
                    pnginfo.add_itxt(key, text)
        pnginfo.add_text(PNG_KEY, value)
        options["pnginfo"] = pnginfo
        if "dpi" in info:
            options["dpi"] = info["dpi"]
    elif fmt == "JPEG":
        options["comment"] = value
        options["xmp"] = _xmp(info.get("xmp"), value)
        quantization = getattr(image, "quantization", None)
        if quantization and stamped.mode in ("RGB", "L", "CMYK"):
            from PIL import JpegImagePlugin

            options["qtables"] = quantization
            sampling = JpegImagePlugin.get_sampling(image)
            if sampling != -1:
                options["subsampling"] = sampling
        else:
            options["quality"] = 90
        if "dpi" in info:
            options["dpi"] = info["dpi"]
    elif fmt == "WEBP":
        options["xmp"] = _xmp(info.get("xmp"), value)
        options["lossless"] = bool(info.get("lossless")) or getattr(image, "_lossless", False)
        options["quality"] = 90
    elif fmt == "GIF":
        options["comment"] = value
    out = io.BytesIO()
    try:
        stamped.save(out, format=fmt, **options)
    except (OSError, ValueError) as exc:
        raise NotAnImage(f"The {fmt} image cannot be watermarked.") from exc
    return out.getvalue()
