"""Cryptographic helpers: argon2 password hashes, random tokens (the TOTP secret box is ``kit.crypto``)."""

from __future__ import annotations

import hashlib
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_ALNUM = string.ascii_letters + string.digits


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Return True if ``password`` matches ``password_hash``."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Why a constant dummy hash: verifying against it for unknown e-mails keeps response times
# alike, so login timing does not reveal which addresses have accounts.
DUMMY_PASSWORD_HASH = _hasher.hash("banso-dummy-password-for-timing")


def sha256_hex(value: str) -> str:
    """Return the hex SHA-256 of a string (tokens and session ids are stored only hashed)."""
    return hashlib.sha256(value.encode()).hexdigest()


def random_alnum(length: int) -> str:
    """Return a random alphanumeric string."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def new_recovery_codes(count: int = 10) -> list[str]:
    """Return fresh human-typable recovery codes like ``k7dq-2mxa-9pte``."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)) for _ in range(count)]


def normalise_recovery_code(code: str) -> str:
    """Return the canonical form of a typed recovery code."""
    return code.strip().lower().replace(" ", "")
