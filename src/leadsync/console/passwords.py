"""Console passwords, stored as argon2id hashes (argon2-cffi's defaults: memory-hard)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MIN_LENGTH = 8
#: Longer passwords are refused rather than hashed: hashing cost grows with length.
MAX_LENGTH = 1024


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


#: Verified against when the name given is unknown, so that an unknown name takes as long to
#: refuse as a wrong password.
DECOY_HASH = hash_password("leadsync console decoy password")


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be a console password, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password may have at most {MAX_LENGTH} characters"
    return None
