"""Two-step sign-in (两步验证): TOTP authenticators and one-time recovery codes.

Which accounts must use it is a setting (MFA_REQUIRED_ROLES: admin, office, leader and auditor
under production). A code is accepted for the current 30-second step and one step either side
(clock drift), and only for a step later than the last one accepted, so that a code seen over
someone's shoulder cannot be used again. The QR code for enrolment is drawn here (segno, inline
SVG): the secret never leaves the server for a third-party service.

Recovery codes are random (12 characters of a 31-letter alphabet, about 59 bits), shown once
and stored as salted slow hashes (Werkzeug, the method passwords use), each good once.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import UTC, datetime

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app
from markupsafe import Markup
from werkzeug.security import check_password_hash, generate_password_hash

from portal.accounts.models import RecoveryCode, TotpCredential, User
from portal.core.extensions import db

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i
_RECOVERY_GROUPS, _RECOVERY_GROUP_LENGTH = 3, 4
_SIX_DIGITS = re.compile(r"^\d{6}$")


# --- who must ---------------------------------------------------------------------------------


def required(user: User) -> bool:
    """Whether `user`'s global roles oblige them to sign in with a second factor."""
    return user.has_role(*current_app.config.get("MFA_REQUIRED_ROLES", ()))


def credential(user: User) -> TotpCredential | None:
    """The user's authenticator, confirmed or in enrolment."""
    return db.session.get(TotpCredential, user.id)


def enrolled(user: User) -> bool:
    row = credential(user)
    return row is not None and row.confirmed_at is not None


def enrolment_required(user: User) -> bool:
    """Whether `user` must enrol before doing anything else."""
    return required(user) and not enrolled(user)


# --- TOTP -------------------------------------------------------------------------------------


def new_secret() -> str:
    """A 160-bit base32 secret (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(user: User, secret: str) -> str:
    issuer = current_app.config.get("MFA_ISSUER", "Rectify")
    return pyotp.TOTP(secret).provisioning_uri(name=user.login, issuer_name=issuer)


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code of `uri` as inline SVG markup (no inline style, no script, no request out)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff", title=title)
    return Markup(svg.replace("<svg ", '<svg role="img" id="totp-qr" ', 1))  # noqa: S704 (segno's own output)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def match_step(secret: str, code: str, now: datetime, last_step: int | None) -> tuple[int | None, bool]:
    """Return (the time step `code` belongs to, replayed): (None, False) for a wrong code,
    (None, True) for a right code of a step already used."""
    code = re.sub(r"\s+", "", code or "")
    if not _SIX_DIGITS.match(code):
        return None, False
    totp = pyotp.TOTP(secret)
    current = totp.timecode(_aware(now))
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if last_step is not None and step <= last_step:
                return None, True
            return step, False
    return None, False


def looks_like_totp(code: str) -> bool:
    return bool(_SIX_DIGITS.match(re.sub(r"\s+", "", code or "")))


# --- recovery codes ---------------------------------------------------------------------------


def _normalized(code: str) -> str:
    return re.sub(r"[\s-]+", "", (code or "").lower())


def new_recovery_codes() -> list[str]:
    def one() -> str:
        groups = (
            "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LENGTH))
            for _ in range(_RECOVERY_GROUPS)
        )
        return "-".join(groups)

    return [one() for _ in range(RECOVERY_CODE_COUNT)]


def hash_recovery_code(code: str) -> str:
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    return generate_password_hash(_normalized(code), method=method)


def unused_recovery_codes(user: User) -> list[RecoveryCode]:
    return db.session.scalars(
        sa.select(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        .order_by(RecoveryCode.id)
    ).all()


def find_recovery_code(user: User, code: str) -> RecoveryCode | None:
    """The user's unused recovery code matching `code`, if any."""
    given = _normalized(code)
    if len(given) != _RECOVERY_GROUPS * _RECOVERY_GROUP_LENGTH:
        return None
    for row in unused_recovery_codes(user):
        if check_password_hash(row.code_hash, given):
            return row
    return None
