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
from banso.leak import limits
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


def _strip_layout(width: int, height: int, text: str) -> tuple[Any, list[str], int, int]:
    """Return the strip's font, its lines, the line height and the padding for an image of this size."""
    size = max(8, min(24, width // 45, height // 8 if height >= 64 else 8))
    font, cjk = _font(size)
    if not cjk:
        text = text.encode("ascii", "replace").decode()
    pad = max(2, size // 3)
    return font, _wrap(text, font, max(1, width - 2 * pad)), size + max(1, size // 4), pad


def _draw_strip(image: PILImage.Image, text: str) -> None:
    """Draw the footer strip along the bottom of ``image``, in place.

    Only the strip's rows are converted to RGBA and composited: the rest of the image is never copied, so a
    large image costs its decoded size once, not four times (bounded memory, issue 17).
    """
    from PIL import Image, ImageDraw

    width, height = image.size
    font, lines, line_height, pad = _strip_layout(width, height, text)
    top = max(0, height - (len(lines) * line_height + 2 * pad))
    with image.crop((0, top, width, height)) as region, region.convert("RGBA") as base:
        overlay = Image.new("RGBA", base.size, (0, 0, 0, _STRIP_ALPHA))
        draw = ImageDraw.Draw(overlay)
        for i, line in enumerate(lines):
            draw.text((pad, pad + i * line_height), line, font=font, fill=(255, 255, 255, 235))
        with Image.alpha_composite(base, overlay) as shown, shown.convert(image.mode) as back:
            image.paste(back, (0, top))


def _working_copy(image: PILImage.Image) -> PILImage.Image:
    """Return ``image`` itself when the strip can be drawn into its mode, else a converted copy.

    Palette images are drawn in RGB and re-quantised (a fresh palette); 16-bit and float images become RGB.
    """
    if image.mode in ("RGB", "RGBA", "L", "LA", "CMYK", "1"):
        return image
    return image.convert("RGBA" if "A" in image.mode else "RGB")


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


def _too_large(pixels: int, limit: int) -> NotAnImage:
    return NotAnImage(f"画像が {pixels:,} 画素で、透かしを入れられる上限 {limit:,} 画素を超えています / The image has "
                      f"{pixels:,} pixels, too large to be watermarked (the limit is {limit:,}).")


def probe_image(data: bytes, kind: str) -> PILImage.Image:
    """Open ``data`` as an image of ``kind`` from its header only, or raise NotAnImage.

    Nothing is decoded: an image over the pixel limit (:func:`banso.leak.limits.image_pixel_limit`, which
    honours Pillow's ``Image.MAX_IMAGE_PIXELS``) is refused by its width × height before it costs memory.
    """
    from PIL import Image, UnidentifiedImageError

    if kind not in KINDS:
        raise ValueError(f"unsupported image kind {kind!r}")
    if not isinstance(data, bytes | bytearray):
        raise NotAnImage("画像ではありません / The file is not an image.")
    unreadable = NotAnImage(f"{KINDS[kind]} 画像として読み取れません / The file is not a readable {KINDS[kind]} image.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit decides, below
        try:
            image = Image.open(io.BytesIO(bytes(data)))
        except Image.DecompressionBombError as exc:
            raise _too_large(_header_pixels(exc), limits.image_pixel_limit()) from exc
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
            raise unreadable from exc
    if image.format != KINDS[kind]:
        image.close()
        raise NotAnImage(f"{KINDS[kind]} 画像ではありません / The file is not a {KINDS[kind]} image.")
    pixels, limit = image.width * image.height, limits.image_pixel_limit()
    if pixels > limit or not pixels:
        image.close()
        raise _too_large(pixels, limit) if pixels else unreadable
    return image


def _header_pixels(exc: Exception) -> int:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    return int(found.group(1)) if found else 0


def _decode(image: PILImage.Image, kind: str) -> PILImage.Image:
    """Decode a probed image (``load``), closing it and raising NotAnImage when its data is damaged."""
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, MemoryError) as exc:
        image.close()
        raise NotAnImage(f"{KINDS[kind]} 画像のデータが壊れています / The {KINDS[kind]} image data is "
                         "damaged.") from exc
    return image


def open_image(data: bytes, kind: str) -> PILImage.Image:
    """Open and decode ``data`` as an image of ``kind`` within the pixel limit, or raise NotAnImage."""
    return _decode(probe_image(data, kind), kind)


def open_reduced(data: bytes, kind: str, max_pixels: int = limits.MAX_VIEW_PIXELS) -> PILImage.Image:
    """Open ``data`` for the screen: decoded at about ``max_pixels`` pixels, never a full-size copy more.

    JPEG is decoded reduced by the decoder itself (``draft``: 1/2, 1/4 or 1/8 scale); other formats are
    decoded, then shrunk by an integer factor (``reduce``) and the full-size image is released at once.
    """
    import math

    image = probe_image(data, kind)
    pixels = image.width * image.height
    if pixels <= max_pixels:
        return _decode(image, kind)
    ratio = math.sqrt(max_pixels / pixels)
    if kind == "jpeg":
        image.draft(image.mode, (max(1, int(image.width * ratio)), max(1, int(image.height * ratio))))
    _decode(image, kind)
    factor = math.ceil(math.sqrt(image.width * image.height / max_pixels))
    if factor <= 1:
        return image
    with image:
        return image.reduce(factor)


def check_image(data: bytes, kind: str) -> None:
    """Refuse an image a copy could not be stamped from (O1): within the pixel limit, fully decodable, and its
    mode, profile and metadata accepted by the encoder (a stamp of a small image like it, thrown away)."""
    from PIL import Image

    with open_image(data, kind) as image:
        palette = image.getpalette() if image.mode == "P" else None
        with Image.new(image.mode, (64, 48)) as sample:
            if palette:
                sample.putpalette(palette)
            _stamp_decoded(image, sample, KINDS[kind], f"検証 / validation  {footer_code(bytes(8))}",
                           marker(bytes(8)))


def stamp_image(data: bytes, *, kind: str, footer: str, code: bytes) -> bytes:
    """Return the png/jpeg/gif/webp ``data`` with a visible footer strip and metadata fingerprint (I8)."""
    check_code(code)
    with open_image(data, kind) as image:
        return _stamp_decoded(image, image, KINDS[kind], f"{footer}  {footer_code(code)}", marker(code))


def _stamp_decoded(source: PILImage.Image, canvas: PILImage.Image, fmt: str, line: str, value: str) -> bytes:
    """Draw the strip on ``canvas`` (``source`` itself, or a sample like it) and encode it with ``source``'s
    metadata and the fingerprint ``value``."""
    work = _working_copy(canvas)
    try:
        _draw_strip(work, line)
        if canvas.mode == "P":
            with work.quantize(256) as quantized:
                return _encode(source, quantized, fmt, value)
        return _encode(source, work, fmt, value)
    finally:
        if work is not canvas:
            work.close()


def _encode(image: PILImage.Image, stamped: PILImage.Image, fmt: str, value: str) -> bytes:
    """Return ``stamped`` encoded as ``fmt`` with ``image``'s metadata and the fingerprint ``value``."""
    from PIL import PngImagePlugin

    info = dict(image.info)
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
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise NotAnImage(f"この {fmt} 画像には透かしを入れられません / The {fmt} image cannot be watermarked.") from exc
    return out.getvalue()
