"""Time-based one-time passwords (RFC 6238) and single-use recovery codes."""

from __future__ import annotations

import base64
import hmac
import io
import secrets

import pyotp
import segno

from portal.backend import clock

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def new_secret() -> str:
    """A 160-bit base32 secret (RFC 4226's recommended length)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, *, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_code(uri: str) -> str:
    """The provisioning URI as an SVG QR code, as a data: URI for an <img> (rendered here, on
    the server, so the secret never goes to a third-party QR service)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def readable_secret(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def current_step() -> int:
    return int(clock.now().timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str) -> int | None:
    """The time step whose code this is, within ±1 step of now, or None."""
    digits = "".join(c for c in code if c.isdigit())
    if len(digits) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = current_step()
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None


def code_for(secret: str, step: int | None = None) -> str:
    """The code of a time step (for the demo's `portal demo-code` and for tests)."""
    return pyotp.TOTP(secret).generate_otp(current_step() if step is None else step)


def new_recovery_codes() -> list[str]:
    """Ten codes like `K7QM-2XHD-9F`: 50 bits each, easy to read aloud and type."""
    return [_recovery_code() for _ in range(RECOVERY_CODES)]


def normalize_recovery_code(code: str) -> str:
    return "".join(c for c in code.upper() if c in _RECOVERY_ALPHABET)


def looks_like_recovery_code(code: str) -> bool:
    return len(normalize_recovery_code(code)) == 10


def _recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
