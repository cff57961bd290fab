"""Attribute a leaked copy to its recipient (I8, I9): read the fingerprints, compare with issued codes.

Scoring
-------
Let ``N`` be the number of candidate codes and ``d`` the Hamming distance between the observed
code and a candidate's code (0–64 bits). Issued codes are HMAC outputs, so a code issued to
someone who is *not* the source behaves like 64 random bits:

* ``chance(d) = min(1, N · P[Binomial(64, ½) ≤ d])`` bounds (union bound) the probability that
  any candidate's code lands within ``d`` bits of the observed code by coincidence. An exact match
  gives ``N · 2⁻⁶⁴``.
* If a candidate *is* the source, the observed code is its code with bits damaged at an unknown
  rate ε (uniform on [0, ½]); the likelihood of distance ``d`` is
  ``L(d) = 2 ∫₀^½ εᵈ (1−ε)^(64−d) dε``. Normalising ``L`` over the candidates gives each one's
  share of the belief, which splits evenly between equally close candidates.

A candidate's score is ``(1 − chance(d)) · share``; the best candidate's score is the
``confidence``. Two candidates with the best distance make the result *ambiguous* (no best).
If the observed code passed its checksum yet matches nobody exactly, it is an intact code issued
to someone outside the candidate list, and the scores are multiplied by 2⁻¹⁶, the chance that a
damaged code passes a 16-bit checksum.
"""

from __future__ import annotations

import io
import logging
import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cache
from typing import Final

from banso.leak.fingerprint import (
    CHECK_BITS,
    CODE_BITS,
    CODE_BYTES,
    FOOTER_CODE_RE,
    MARKER_RE,
    check_code,
    code_to_hex,
    hamming,
    parse_marker,
)
from banso.leak.office import read_office_text
from banso.leak.pdf import METADATA_KEY
from banso.leak.screen import read_pixel_mark_bytes
from banso.leak.text import find_marks

CHANNELS: Final = (
    "pdf-invisible-text", "pdf-page-metadata", "pdf-metadata", "pdf-footer", "text-zero-width",
    "office-custom-property", "office-footer", "image-metadata", "image-pixels",
)
_IMAGE_MAGIC: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
MIN_CONFIDENCE: Final = 0.5
_CHECKSUM_FALSE_PASS: Final = 2.0**-CHECK_BITS
log = logging.getLogger("banso.leak")


@dataclass(frozen=True)
class Evidence:
    """A fingerprint found in a copy: channel, code, how many independent places, checksum verified."""

    channel: str
    code: bytes
    occurrences: int
    verified: bool

    @property
    def code_hex(self) -> str:
        """Return the code as 16 hex digits."""
        return code_to_hex(self.code)


@dataclass(frozen=True)
class Attribution:
    """The outcome of attributing a copy: best recipient (or None), confidence, ranking, reasons."""

    best: str | None
    confidence: float
    ranked: list[tuple[str, float]]
    evidence: list[Evidence]
    explanation: str
    observed: list[bytes] = field(default_factory=list)
    distance: int | None = None
    ambiguous: bool = False


# --- extraction ---------------------------------------------------------------------------------


def _is_pdf(data: bytes, filename: str | None) -> bool:
    return b"%PDF-" in data[:1024] or (filename is not None and filename.lower().endswith(".pdf"))


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    # Damaged bytes must not hide the marks around them.
    return data.decode("utf-8-sig", errors="replace")


def _scan_text(text: str, found: Counter[tuple[str, bytes, bool]]) -> None:
    for mark in find_marks(text):
        found["text-zero-width", mark.code, mark.verified] += 1
    for m in MARKER_RE.finditer(text):
        code, ok = parse_marker(m.group(1), m.group(2))
        found["pdf-invisible-text", code, ok] += 1
    for m in FOOTER_CODE_RE.finditer(text):
        digits = "".join(m.groups())
        code, ok = parse_marker(digits[:16], digits[16:])
        found["pdf-footer", code, ok] += 1


def _scan_metadata(value: object, channel: str, found: Counter[tuple[str, bytes, bool]]) -> None:
    if value is None:
        return
    m = MARKER_RE.search(str(value))
    if m:
        code, ok = parse_marker(m.group(1), m.group(2))
        found[channel, code, ok] += 1


def _scan_pdf(data: bytes, found: Counter[tuple[str, bytes, bool]]) -> bool:
    """Collect PDF evidence into ``found``; return False if the PDF could not be parsed."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            reader.decrypt("")
        pages = list(reader.pages)
        info = reader.metadata
    except Exception:  # pypdf raises assorted errors on damaged files
        # The caller falls back to scanning the raw bytes as text.
        log.info("leaked copy is not a readable PDF; scanning it as text", exc_info=True)
        return False
    for number, page in enumerate(pages, start=1):
        try:
            _scan_text(page.extract_text(), found)
        except Exception:  # one unreadable page must not hide the evidence on the others
            log.info("cannot extract the text of page %d of a leaked copy", number, exc_info=True)
        _scan_metadata(page.get(METADATA_KEY), "pdf-page-metadata", found)
    if info is not None:
        _scan_metadata(info.get(METADATA_KEY), "pdf-metadata", found)
    return True


def _is_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _scan_markers(text: str, channel: str, found: Counter[tuple[str, bytes, bool]]) -> None:
    for m in MARKER_RE.finditer(text):
        code, ok = parse_marker(m.group(1), m.group(2))
        found[channel, code, ok] += 1


def _scan_office(data: bytes, found: Counter[tuple[str, bytes, bool]]) -> bool:
    """Collect Office evidence into ``found``; return False if ``data`` is no readable Office package."""
    office = read_office_text(data)
    if office is None:
        return False
    for xml in office.custom_properties:
        _scan_markers(xml, "office-custom-property", found)
    for text in office.visible_text:
        for m in FOOTER_CODE_RE.finditer(text):
            digits = "".join(m.groups())
            code, ok = parse_marker(digits[:16], digits[16:])
            found["office-footer", code, ok] += 1
    return True


def extract_codes(data: bytes, *, filename: str | None = None) -> list[Evidence]:
    """Return the fingerprints found in a PDF, Office, image, text or CSV file, by channel and code."""
    found: Counter[tuple[str, bytes, bool]] = Counter()
    if _is_image(data):
        # PNG tEXt, JPEG COM and XMP, WebP XMP and GIF comments store the marker uncompressed.
        _scan_markers(data.decode("latin-1"), "image-metadata", found)
        pixels = read_pixel_mark_bytes(data)  # a viewed page's mark, kept by lossless screenshots
        if pixels is not None:
            found["image-pixels", pixels[0], pixels[1]] += 1
    elif data.startswith(b"PK\x03\x04") and _scan_office(data, found):
        pass
    elif not (_is_pdf(data, filename) and _scan_pdf(data, found)):
        # Text, CSV, or a PDF too damaged to parse (uncompressed marker text may still be there).
        _scan_text(_decode_text(data), found)
    order = {name: i for i, name in enumerate(CHANNELS)}
    return sorted(
        (Evidence(channel=ch, code=code, occurrences=n, verified=ok) for (ch, code, ok), n in found.items()),
        key=lambda e: (order.get(e.channel, len(order)), not e.verified, -e.occurrences, e.code),
    )


# --- scoring ------------------------------------------------------------------------------------


@cache
def chance_within(d: int) -> float:
    """Return P[a random 64-bit code is within ``d`` bits of a given code]."""
    return float(Fraction(sum(math.comb(CODE_BITS, i) for i in range(d + 1)), 2**CODE_BITS))


@cache
def _likelihood(d: int) -> Fraction:
    """Return L(d) up to a constant factor: ∫₀^½ εᵈ(1−ε)^(64−d) dε, exactly.

    With integer exponents, ∫₀^x tᵃ(1−t)ᵇ dt = B(a+1, b+1) · P[Binomial(a+b+1, x) ≥ a+1] and
    B(d+1, 65−d) = 1 / (65 · C(64, d)); constant factors cancel when normalising.
    """
    n = CODE_BITS + 1
    tail = sum(math.comb(n, i) for i in range(d + 1, n + 1))
    return Fraction(tail, math.comb(CODE_BITS, d) * 2**n)


def _consensus(evidence: list[Evidence]) -> tuple[list[bytes], bool]:
    """Return the observed codes and whether they verified.

    Verified codes are taken as they are (several distinct ones mean mixed copies). Without any,
    a bitwise majority over all damaged occurrences gives the best single estimate.
    """
    verified = sorted({e.code for e in evidence if e.verified})
    if verified:
        return verified, True
    weights = [0] * CODE_BITS
    total = 0
    for e in evidence:
        value = int.from_bytes(e.code, "big")
        total += e.occurrences
        for i in range(CODE_BITS):
            if (value >> (CODE_BITS - 1 - i)) & 1:
                weights[i] += e.occurrences
    value = 0
    for w in weights:
        # A tied vote (even number of damaged marks) counts as 0; the distance absorbs the doubt.
        value = (value << 1) | (1 if 2 * w > total else 0)
    return [value.to_bytes(CODE_BYTES, "big")], False


def _fmt_p(p: float) -> str:
    return f"{p:.1e}" if p < 0.001 else f"{p:.3f}"


def _summary(evidence: list[Evidence]) -> str:
    parts = []
    for e in evidence:
        state = "checksum verified" if e.verified else "checksum failed: damaged"
        parts.append(f"{e.channel} ×{e.occurrences} code {e.code_hex} ({state})")
    return "Evidence: " + "; ".join(parts) + "."


def attribute(data: bytes, candidates: Mapping[str, bytes], *, filename: str | None = None) -> Attribution:
    """Return who most likely leaked ``data``, among ``candidates`` (recipient key → issued code)."""
    for code in candidates.values():
        check_code(code)
    evidence = extract_codes(data, filename=filename)
    if not evidence:
        return Attribution(
            best=None, confidence=0.0, ranked=[(k, 0.0) for k in sorted(candidates)], evidence=[],
            explanation=(
                "No fingerprint was found. The copy may have been retyped, photographed or OCR'd, "
                "or passed through a tool that removes invisible characters; on a printed or scanned "
                "PDF page, read the visible footer (name, organisation, time, item, BNS code) by eye."
            ),
        )
    observed, verified = _consensus(evidence)
    summary = _summary(evidence)
    if not candidates:
        return Attribution(
            best=None, confidence=0.0, ranked=[], evidence=evidence, observed=observed,
            explanation=f"{summary} No candidate codes were given to compare with.",
        )

    n = len(candidates)
    distance = {k: min(hamming(code, o) for o in observed) for k, code in candidates.items()}
    weight = {k: _likelihood(d) for k, d in distance.items()}
    total = sum(weight.values())
    d_best = min(distance.values())
    # An intact code that matches nobody: only a checksum false pass could make it a damaged copy.
    outsider = verified and d_best > 0
    score = {}
    for k, d in distance.items():
        s = (1.0 - min(1.0, n * chance_within(d))) * float(weight[k] / total)
        score[k] = s * _CHECKSUM_FALSE_PASS if outsider else s
    ranked = sorted(score.items(), key=lambda kv: (-kv[1], distance[kv[0]], kv[0]))
    tied = sorted(k for k, d in distance.items() if d == d_best)
    top_key, top_score = ranked[0]
    p_chance = min(1.0, n * chance_within(d_best))

    if len(tied) > 1:
        if d_best == 0 and len(observed) > 1:
            why = (f"The copy carries {len(observed)} different intact codes, issued to {', '.join(tied)}: "
                   "it combines parts of several recipients' copies (or recipients colluded).")
        else:
            why = (f"Candidates {', '.join(tied)} are equally close to the observed code "
                   f"({d_best} of {CODE_BITS} bits differ); the copy cannot be attributed to one of them.")
        return Attribution(best=None, confidence=0.0, ranked=ranked, evidence=evidence, observed=observed,
                           distance=d_best, ambiguous=True, explanation=f"{summary} {why}")

    if outsider:
        why = (f"The code {code_to_hex(observed[0])} is intact (its checksum verifies) but was not issued "
               f"to any of the {n} candidates; the nearest, {top_key}, differs in {d_best} of {CODE_BITS} bits, "
               "which is chance. The copy was issued to someone outside the candidate list.")
    elif d_best == 0:
        matched = candidates[top_key]
        why = (f"The code {code_to_hex(matched)} matches the code issued to {top_key} exactly (all "
               f"{CODE_BITS} bits). The probability that a code issued to someone else matches this well "
               f"by chance is at most {n} × 2^-64 = {_fmt_p(p_chance)}.")
        others = [code_to_hex(o) for o in observed if o != matched]
        if others:
            why += (f" The copy also carries intact code(s) {', '.join(others)} issued to none of the "
                    "candidates: it combines parts of another copy.")
        if not verified:
            why += (" Every mark failed its checksum, but a majority vote over the damaged marks "
                    "restored the full code.")
    else:
        why = (f"No mark passed its checksum: the fingerprint is damaged (characters changed or lost). "
               f"A bitwise majority over {sum(e.occurrences for e in evidence)} damaged mark(s) gives "
               f"{code_to_hex(observed[0])}, which differs from the code issued to {top_key} in {d_best} "
               f"of {CODE_BITS} bits. A random code comes this close with probability "
               f"{_fmt_p(chance_within(d_best))} (× {n} candidates = {_fmt_p(p_chance)}); the confidence is "
               "lower than for an intact mark.")
    best = top_key if top_score >= MIN_CONFIDENCE else None
    if best is None and not outsider:
        why += f" The match is too weak to name a recipient (confidence {top_score:.3f} < {MIN_CONFIDENCE})."
    return Attribution(best=best, confidence=top_score if best else 0.0, ranked=ranked, evidence=evidence,
                       observed=observed, distance=d_best, explanation=f"{summary} {why}")
