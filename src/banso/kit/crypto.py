"""Generic symmetric crypto for small secrets, keyed from the app secret (wired in ``banso.app.wiring``)."""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


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
