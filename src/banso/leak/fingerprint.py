"""Fingerprint codes (I8): the 64-bit per-recipient identifier every watermark channel carries.

The service derives a code per download (an HMAC over item, file, user and download id, truncated
to 8 bytes) and keeps the issued codes; this module only formats and checks them. Every channel
carries the code together with a 16-bit checksum (CRC-16/CCITT-FALSE) so that a reader can tell
an intact code from a damaged one.
"""

from __future__ import annotations

import binascii
import re
from typing import Final

from banso.kit.errors import ValidationFailed

CODE_BYTES: Final = 8
CODE_BITS: Final = 8 * CODE_BYTES
CHECK_BITS: Final = 16
MARKER_PREFIX: Final = "BNSFP"
# ``BNSFP:<16 hex code>:<4 hex checksum>`` — the form written into PDFs (invisible text, metadata).
MARKER_RE: Final = re.compile(r"BNSFP:([0-9a-fA-F]{16}):([0-9a-fA-F]{4})")
# The visible short form in the PDF footer, e.g. ``BNS 1a2b-3c4d-5e6f-7081-9abc``.
FOOTER_CODE_RE: Final = re.compile(
    r"BNS\s*([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})-([0-9a-fA-F]{4})"
)


def check_code(code: bytes) -> bytes:
    """Return ``code`` if it is a valid 8-byte fingerprint, else raise ValidationFailed."""
    if not isinstance(code, bytes) or len(code) != CODE_BYTES:
        raise ValidationFailed(f"識別符号はちょうど {CODE_BYTES} バイトです / A fingerprint code is exactly {CODE_BYTES} bytes.", field="code")
    return code


def checksum(code: bytes) -> int:
    """Return the 16-bit checksum carried with ``code`` (CRC-16/CCITT-FALSE)."""
    # Initial value 0xFFFF, not 0: an all-zero run of marks must not verify by accident.
    return binascii.crc_hqx(check_code(code), 0xFFFF)


def code_to_hex(code: bytes) -> str:
    """Return the 16-digit lower-case hex form of a code."""
    return check_code(code).hex()


def code_from_hex(text: str) -> bytes:
    """Parse a 16-digit hex code (spaces and dashes allowed), else raise ValidationFailed."""
    cleaned = re.sub(r"[\s-]", "", text)
    try:
        code = bytes.fromhex(cleaned)
    except ValueError:
        raise ValidationFailed("識別符号は16桁の16進数です / A fingerprint code is 16 hexadecimal digits.", field="code") from None
    return check_code(code)


def marker(code: bytes) -> str:
    """Return the ``BNSFP:<hex>:<crc>`` marker string for ``code``."""
    return f"{MARKER_PREFIX}:{code_to_hex(code)}:{checksum(code):04x}"


def footer_code(code: bytes) -> str:
    """Return the short visible form ``BNS xxxx-xxxx-xxxx-xxxx-cccc`` (code and checksum)."""
    digits = code_to_hex(code) + f"{checksum(code):04x}"
    return "BNS " + "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def code_to_bits(code: bytes) -> list[int]:
    """Return the code followed by its checksum as a list of bits, most significant first."""
    value = (int.from_bytes(check_code(code), "big") << CHECK_BITS) | checksum(code)
    total = CODE_BITS + CHECK_BITS
    return [(value >> (total - 1 - i)) & 1 for i in range(total)]


def bits_to_code(bits: list[int]) -> tuple[bytes, bool]:
    """Split code-plus-checksum bits into the code and whether the checksum verifies."""
    if len(bits) != CODE_BITS + CHECK_BITS:
        raise ValueError(f"expected {CODE_BITS + CHECK_BITS} bits, got {len(bits)}")
    value = 0
    for bit in bits:
        value = (value << 1) | (bit & 1)
    code = (value >> CHECK_BITS).to_bytes(CODE_BYTES, "big")
    return code, checksum(code) == value & 0xFFFF


def parse_marker(code_hex: str, check_hex: str) -> tuple[bytes, bool]:
    """Return the code of a parsed marker and whether its checksum verifies."""
    code = bytes.fromhex(code_hex)
    return code, checksum(code) == int(check_hex, 16)


def hamming(a: bytes, b: bytes) -> int:
    """Return the number of differing bits between two codes."""
    return (int.from_bytes(check_code(a), "big") ^ int.from_bytes(check_code(b), "big")).bit_count()
