"""Salted scrypt password hashes (hashlib), in a self-describing text form."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P = 2**14, 8, 1
_PREFIX = "scrypt"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"{_PREFIX}${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        prefix, n, r, p, salt_b64, digest_b64 = encoded.split("$")
    except ValueError:
        return False
    if prefix != _PREFIX:
        return False
    salt = base64.b64decode(salt_b64)
    expected = base64.b64decode(digest_b64)
    actual = hashlib.scrypt(
        password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), dklen=len(expected)
    )
    return hmac.compare_digest(actual, expected)


def check_password_policy(password: str) -> str | None:
    """Why ``password`` is refused, or None. Salesforce's default: 8+ chars, letters and digits."""
    if len(password) < 8:
        return "Your password must be at least 8 characters long."
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return "Your password must include letters and numbers."
    if len(password) > 256:
        return "Your password is too long."
    return None
