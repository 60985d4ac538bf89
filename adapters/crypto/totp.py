"""Two-factor sign-in codes (TOTP, RFC 6238, with pyotp) and recovery codes.

A secret is 32 base32 characters (160 bits); an authenticator app learns it from the
``otpauth://`` address, shown as a QR code (segno, SVG). A code is accepted for the current
30-second step and one step either side (clocks drift), and each step once only: the step of
the code used is kept and an earlier or equal one refused (a code seen over a shoulder cannot be
replayed). Recovery codes are ten random ``xxxx-xxxx`` codes shown once; only their SHA-256 is
kept, and each works once.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime

import pyotp
import segno

ISSUER = "Kontor"
RECOVERY_CODES = 10
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


def new_secret() -> str:
    return pyotp.random_base32(32)


def address(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue().decode()


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step whose code ``code`` is (now, or one step before or after), or None."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            return candidate
    return None


def recovery_codes() -> list[str]:
    def one() -> str:
        letters = "".join(secrets.choice(_ALPHABET) for _ in range(12))
        return f"{letters[:4]}-{letters[4:8]}-{letters[8:]}"

    return [one() for _ in range(RECOVERY_CODES)]


def recovery_hash(code: str) -> str:
    normal = code.strip().lower().replace(" ", "").replace("-", "")
    return hashlib.sha256(normal.encode()).hexdigest()
