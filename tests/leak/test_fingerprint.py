"""I8: fingerprint codes, checksums and their textual forms."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from banso.kit.errors import ValidationFailed
from banso.leak.fingerprint import (
    FOOTER_CODE_RE,
    MARKER_RE,
    bits_to_code,
    checksum,
    code_from_hex,
    code_to_bits,
    code_to_hex,
    footer_code,
    hamming,
    marker,
    parse_marker,
)

CODE = bytes.fromhex("0123456789abcdef")


def test_hex_round_trip_and_lenient_parsing() -> None:
    assert code_to_hex(CODE) == "0123456789abcdef"
    assert code_from_hex("0123 4567-89AB-cdef") == CODE


@pytest.mark.parametrize("bad", ["", "0123", "zz23456789abcdef", "0123456789abcdef00"])
def test_bad_hex_is_rejected(bad: str) -> None:
    with pytest.raises(ValidationFailed):
        code_from_hex(bad)


def test_code_must_be_eight_bytes() -> None:
    with pytest.raises(ValidationFailed):
        marker(b"1234567")


def test_zero_code_has_nonzero_checksum() -> None:
    # An all-zero run of marks must not verify by accident.
    assert checksum(bytes(8)) != 0


def test_marker_and_footer_forms_parse_back() -> None:
    m = MARKER_RE.search(f"xx {marker(CODE)} yy")
    assert m is not None
    assert parse_marker(m.group(1), m.group(2)) == (CODE, True)
    f = FOOTER_CODE_RE.search(footer_code(CODE))
    assert f is not None
    digits = "".join(f.groups())
    assert parse_marker(digits[:16], digits[16:]) == (CODE, True)


def test_hamming() -> None:
    assert hamming(CODE, CODE) == 0
    assert hamming(bytes(8), b"\xff" * 8) == 64
    assert hamming(bytes(8), b"\x00" * 7 + b"\x05") == 2


@given(code=st.binary(min_size=8, max_size=8), flip=st.integers(min_value=0, max_value=79))
def test_bits_round_trip_and_any_single_flip_is_detected(code: bytes, flip: int) -> None:
    bits = code_to_bits(code)
    assert len(bits) == 80
    assert bits_to_code(bits) == (code, True)
    bits[flip] ^= 1
    assert bits_to_code(bits)[1] is False
