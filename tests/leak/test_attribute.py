"""I8, I9: attribution of leaked copies — confidence, damage, ambiguity, outsiders."""

from __future__ import annotations

import pytest

from banso.leak.attribute import attribute, chance_within, extract_codes
from banso.leak.fingerprint import marker
from banso.leak.text import FRAME, ONE, ZERO, find_marks, stamp_text
from tests.support.leak import issue_code

from .test_text import DOCUMENT, excerpt


def _flip(text: str, bit_positions: list[list[int]]) -> str:
    """Flip the given bit positions (0–79) of successive marks in ``text``."""
    chars = list(text)
    starts = [m.offset for m in find_marks(text)]
    for start, positions in zip(starts, bit_positions, strict=False):
        for p in positions:
            chars[start + p] = ONE if chars[start + p] == ZERO else ZERO
    return "".join(chars)


def test_clean_text_gives_none_with_zero_confidence(candidates: dict[str, bytes]) -> None:
    result = attribute(DOCUMENT.encode(), candidates)
    assert result.best is None
    assert result.confidence == 0.0
    assert result.evidence == []
    assert "No fingerprint" in result.explanation


def test_exact_match_confidence_is_principled(candidates: dict[str, bytes]) -> None:
    result = attribute(excerpt(stamp_text(DOCUMENT, code=issue_code(4))), candidates)
    assert result.best == "dl-4"
    # 1 − 20 · 2^-64 rounds to 1.0 in floating point.
    assert result.confidence == pytest.approx(1.0, abs=1e-15)
    assert chance_within(0) == 2.0**-64
    assert "exactly" in result.explanation and "20 × 2^-64" in result.explanation


def test_damaged_code_still_attributes_with_lower_confidence(candidates: dict[str, bytes]) -> None:
    leaked = excerpt(stamp_text(DOCUMENT, code=issue_code(11))).decode()
    # The same three code bits flipped in every mark: no checksum verifies and no vote can repair it.
    damaged = _flip(leaked, [[3, 20, 41]] * 3)
    evidence = extract_codes(damaged.encode())
    assert evidence and not any(e.verified for e in evidence)
    result = attribute(damaged.encode(), candidates)
    assert result.best == "dl-11"
    assert result.distance == 3
    exact = attribute(leaked.encode(), candidates)
    assert 0.99 < result.confidence < exact.confidence
    assert "damaged" in result.explanation and "3 of 64 bits" in result.explanation


def test_heavily_damaged_code_gives_low_confidence(candidates: dict[str, bytes]) -> None:
    leaked = excerpt(stamp_text(DOCUMENT, code=issue_code(11))).decode()
    damaged = _flip(leaked, [list(range(0, 64, 3))] * 3)  # 22 of 64 code bits wrong
    result = attribute(damaged.encode(), candidates)
    assert result.distance == 22
    assert result.confidence < 0.9


def test_scattered_damage_is_repaired_by_majority(candidates: dict[str, bytes]) -> None:
    leaked = excerpt(stamp_text(DOCUMENT, code=issue_code(12))).decode()
    damaged = _flip(leaked, [[1], [30], [60]])  # a different bit in each of three marks
    result = attribute(damaged.encode(), candidates)
    assert result.best == "dl-12" and result.distance == 0
    assert result.confidence > 0.99
    assert "majority" in result.explanation


def test_marks_without_frames_still_decode(candidates: dict[str, bytes]) -> None:
    leaked = excerpt(stamp_text(DOCUMENT, code=issue_code(13))).decode().replace(FRAME, "")
    assert attribute(leaked.encode(), candidates).best == "dl-13"


def test_stripped_marks_leave_no_evidence(candidates: dict[str, bytes]) -> None:
    leaked = excerpt(stamp_text(DOCUMENT, code=issue_code(13))).decode()
    sanitised = "".join(ch for ch in leaked if ch not in (ZERO, ONE, FRAME))
    result = attribute(sanitised.encode(), candidates)
    assert result.best is None and result.confidence == 0.0


def test_mixed_copies_are_ambiguous(candidates: dict[str, bytes]) -> None:
    a = stamp_text(DOCUMENT, code=issue_code(1)).split("\n\n")
    b = stamp_text(DOCUMENT, code=issue_code(2)).split("\n\n")
    mixed = "\n\n".join([a[0], b[1], a[2], b[3]])
    result = attribute(mixed.encode(), candidates)
    assert result.best is None and result.ambiguous
    assert result.confidence == 0.0
    assert {k for k, _ in result.ranked[:2]} == {"dl-1", "dl-2"}
    assert "dl-1" in result.explanation and "dl-2" in result.explanation


def test_code_issued_to_an_outsider(candidates: dict[str, bytes]) -> None:
    leaked = excerpt(stamp_text(DOCUMENT, code=issue_code(999)))
    result = attribute(leaked, candidates)
    assert result.best is None
    assert result.confidence == 0.0
    assert result.ranked[0][1] < 1e-4
    assert "outside the candidate list" in result.explanation


def test_damaged_marker_in_text_with_no_candidates() -> None:
    result = attribute(f"see {marker(issue_code(1))}".encode(), {})
    assert result.best is None and result.evidence
    assert "No candidate" in result.explanation


def test_bad_candidate_code_is_rejected() -> None:
    from banso.kit.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        attribute(b"text", {"x": b"short"})
