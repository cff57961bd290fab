"""Shared data for the I8 leak-attribution tests: 20 recipients with HMAC-derived codes."""

from __future__ import annotations

import hashlib
import hmac

RECIPIENTS = 20
_SECRET = b"test-fingerprint-secret"


def issue_code(download_id: int) -> bytes:
    """Derive a code the way the service does: HMAC over item, file, user and download id."""
    msg = f"item:42:file:7:user:{100 + download_id}:download:{download_id}".encode()
    return hmac.new(_SECRET, msg, hashlib.sha256).digest()[:8]
