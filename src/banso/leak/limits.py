"""The one home of the limits a stored file must keep so that it can always be served (O1, I8, I12).

Upload validation (``banso.sealed.uploads``) runs the same parsing as the stampers of a recipient's
copy (``banso.leak.pdf``, ``banso.leak.image``, ``banso.leak.office``) and the on-screen viewer
(``banso.leak.screen``, ``banso.information.viewer``), with these values: a file accepted at upload is
a file they can stamp and show. They live here, at the lowest layer both sides import, so the two
cannot drift apart.
"""

from __future__ import annotations

from typing import Final

MIB: Final = 1024 * 1024

# --- PDF ----------------------------------------------------------------------------------------
MAX_PDF_PAGES: Final = 2_000  # pages stamped per copy
# Decoded size of one page's content stream. pypdf refuses more than 75 MB itself (LimitReachedError);
# ours is lower so that a refusal names our limit.
MAX_PDF_STREAM_BYTES: Final = 64 * MIB
MAX_PDF_CONTENT_BYTES: Final = 256 * MIB  # decoded content streams of all pages together
MAX_PDF_IMAGE_PIXELS: Final = 40_000_000  # one image drawn on a page: PDFium decodes it to render the page
# Dictionaries and arrays visited when a PDF is searched for active content (JavaScript, Launch, embedded
# files): the walk is a loop over a visited set, never recursion, and stops here.
MAX_PDF_OBJECTS: Final = 500_000

# --- images (PNG, JPEG, GIF, WebP) --------------------------------------------------------------
# Width × height read from the header, before anything is decoded. 40 MP is a 7,300 × 5,475 photo; a
# decoded RGB(A) image takes 4 bytes a pixel in Pillow, so one copy costs at most ~160 MB while it is stamped.
MAX_IMAGE_PIXELS: Final = 40_000_000

# --- on-screen viewing (view-only files) --------------------------------------------------------
MAX_VIEW_PIXELS: Final = 4_000_000  # of an image handed to a viewer, and of one read back
MAX_VIEW_PAGE_PIXELS: Final = 2_500_000  # of one rendered PDF page

# --- Office Open XML (docx, xlsx, pptx) ---------------------------------------------------------
MAX_OFFICE_EXPANDED: Final = 200 * MIB  # all members of the package, expanded
MAX_OFFICE_MEMBER: Final = 64 * MIB  # one member, expanded (the watermarker reads members whole)
MAX_OFFICE_ENTRIES: Final = 10_000


def image_pixel_limit() -> int:
    """Return the pixel limit of a stamped image: ours, or Pillow's ``Image.MAX_IMAGE_PIXELS`` when lower."""
    from PIL import Image

    pillow = Image.MAX_IMAGE_PIXELS
    return min(MAX_IMAGE_PIXELS, pillow) if pillow else MAX_IMAGE_PIXELS
