"""Pure account rules: passwords, TOTP steps and replay, login throttling, token format.

No session, no clock, no environment: every input is passed in.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp

TOTP_PERIOD = 30
TOTP_DIGITS = 6
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "bns"
_TOKEN_RE = re.compile(r"^bns_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{32,64})$")
_CODE_RE = re.compile(r"^\d{6}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def password_problems(password: str, *, email: str) -> list[str]:
    """Return why ``password`` is unacceptable (empty when it is fine)."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください / password must have at least {MIN_PASSWORD_LENGTH} characters")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in password.lower():
        problems.append("パスワードにメールアドレスを含めないでください / password must not contain the e-mail address")
    if len(set(password)) < 5:
        problems.append("パスワードに同じ文字が多すぎます / password is too repetitive")
    return problems


def normalise_email(email: str) -> str:
    """Return the canonical (ASCII lower-case, trimmed) e-mail, or raise ValueError; only ASCII is accepted."""
    value = email.strip()
    # str.lower() maps non-ASCII onto ASCII ("\u212Aato" -> "kato", Kelvin sign): a provider's look-alike
    # address would then link to another person's account (issue 17). Addresses are ASCII, lowered as ASCII.
    if not value.isascii():
        raise ValueError(f"メールアドレスは半角英数字で入力してください（{email!r}） / e-mail address must be ASCII: {email!r}")
    value = value.lower()
    if not _EMAIL_RE.match(value) or len(value) > 254:
        raise ValueError(f"メールアドレスの形式が正しくありません（{email!r}） / not a valid e-mail address: {email!r}")
    return value


def totp_step(when: datetime) -> int:
    """Return the TOTP time-step number of ``when``."""
    return int(when.timestamp()) // TOTP_PERIOD


def match_totp(secret: str, code: str, when: datetime, *, window: int = 1) -> int | None:
    """Return the time-step ``code`` belongs to (±``window`` steps of clock drift), or None."""
    code = code.strip().replace(" ", "")
    if not _CODE_RE.match(code):
        return None
    totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_PERIOD)
    now_step = totp_step(when)
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(totp.at(step * TOTP_PERIOD), code):
            return step
    return None


def is_replay(step: int, last_step: int | None) -> bool:
    """Return True if a code of ``step`` was already used (or an older one was accepted later)."""
    return last_step is not None and step <= last_step


@dataclass(frozen=True)
class ThrottleDecision:
    """The throttle state after a failure: new counters and whether the key is now locked."""

    failures: int
    first_failure_at: datetime
    locked_until: datetime | None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Return True while a lockout is in force."""
    return locked_until is not None and now < locked_until


def after_failure(
    *,
    failures: int,
    first_failure_at: datetime | None,
    now: datetime,
    max_failures: int,
    lockout: timedelta,
) -> ThrottleDecision:
    """Count one more failure; lock for ``lockout`` when ``max_failures`` fall within the lockout window."""
    if first_failure_at is None or now - first_failure_at > lockout:
        failures, first_failure_at = 0, now  # old failures age out
    failures += 1
    locked_until = now + lockout if failures >= max_failures else None
    return ThrottleDecision(failures=failures, first_failure_at=first_failure_at, locked_until=locked_until)


def parse_token(raw: str) -> tuple[str, str] | None:
    """Split an API token ``bns_<prefix>_<secret>`` into (prefix, secret), or None if malformed."""
    match = _TOKEN_RE.match(raw.strip())
    if match is None:
        return None
    return match.group(1), match.group(2)


def format_token(prefix: str, secret: str) -> str:
    """Return the printable API token."""
    return f"{TOKEN_PREFIX}_{prefix}_{secret}"


def session_expired(
    *, created_at: datetime, last_seen_at: datetime, now: datetime, max_age: timedelta, idle: timedelta
) -> bool:
    """Return True if a session is past its absolute or idle limit."""
    return now - created_at > max_age or now - last_seen_at > idle


def token_expiry(*, now: datetime, expires_in_days: int | None, max_days: int) -> datetime:
    """Return when a new token expires: ``expires_in_days`` from now, or the maximum when none is given.

    Raises ValueError with a reason when the asked lifetime is below one day or above the maximum:
    a token never lives forever, and a blank expiry means the maximum, never "never".
    """
    days = max_days if expires_in_days is None else expires_in_days
    if not 1 <= days <= max_days:
        raise ValueError(
            f"有効期間は1日から{max_days}日までです / expiry must be between 1 and {max_days} days"
        )
    return now + timedelta(days=days)


def token_expired(
    *, created_at: datetime, expires_at: datetime | None, now: datetime, max_lifetime: timedelta | None
) -> bool:
    """Return True if a token is past its own expiry or past ``created_at`` + the maximum lifetime.

    The cap also ends tokens issued before there was a maximum (no expiry) or under a longer one.
    """
    if expires_at is not None and now >= expires_at:
        return True
    return max_lifetime is not None and now >= created_at + max_lifetime
