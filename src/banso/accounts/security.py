"""Cryptographic helpers: argon2 password hashes, encrypted TOTP secrets, random tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

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


class SecretBox:
    """Symmetric encryption of small secrets (TOTP seeds) with a key derived from the app secret."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"banso", info=b"totp-secrets").derive(
            secret_key.encode()
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, plaintext: str) -> bytes:
        """Encrypt ``plaintext``."""
        return self._fernet.encrypt(plaintext.encode())

    def open(self, token: bytes) -> str:
        """Decrypt; raises ValueError if the value was not sealed with this key."""
        try:
            return self._fernet.decrypt(token).decode()
        except InvalidToken as exc:
            raise ValueError("secret cannot be decrypted with the configured BANSO_SECRET_KEY") from exc
