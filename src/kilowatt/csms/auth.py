"""Station passwords: stored only as salted scrypt hashes, checked without a reconnect storm.

scrypt is slow on purpose, which is right for a stolen database and wrong for 10,000 stations
reconnecting at once after a network outage. So a password that verified once is remembered as
a keyed BLAKE2b digest (the key lives only in this process's memory), and later connections with
the same password cost a hash, not an scrypt. Changing the stored hash forgets the digest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["PasswordChecker", "hash_password", "verify_password"]

# RFC 7914 parameters: 4 MiB of memory and some 9 ms of one core per hash. Station passwords
# are machine-generated (OCPP A00: 16 to 40 characters), so the work factor guards the weak
# ones an operator may set; a higher one would turn a CSMS restart, when every station connects
# again and no digest is remembered, into minutes of CPU (10,000 stations x 37 ms at 2**14).
_N, _R, _P = 2**12, 8, 1
# OCPP 2.0.1 SecurityCtrlr.BasicAuthPassword is a passwordString of at most 40 characters; we
# accept anything printable up to that, and at least 8 (the A00 requirement is 16 to 40 for
# stations that generate it, but operators may seed older stations).
MIN_PASSWORD, MAX_PASSWORD = 8, 40


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(password: str) -> str:
    """A salted scrypt hash in the form ``scrypt$N$r$p$salt$hash`` (base64 salt and hash)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether a password matches a hash made by ``hash_password`` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class PasswordChecker:
    """Checks station passwords against stored hashes, remembering the ones that verified."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, tuple[str, bytes]] = {}  # station -> (stored hash, digest)

    def _digest(self, station_id: str, password: str) -> bytes:
        data = station_id.encode() + b"\0" + password.encode()
        return hashlib.blake2b(data, key=self._key, digest_size=32).digest()

    def check_remembered(self, station_id: str, password: str, stored: str) -> bool | None:
        """The answer without scrypt when this station's hash verified before, else None."""
        known = self._verified.get(station_id)
        if known is None or known[0] != stored:
            return None
        return hmac.compare_digest(known[1], self._digest(station_id, password))

    def check(self, station_id: str, password: str, stored: str) -> bool:
        """Verify, with scrypt unless remembered (run it off the event loop: it takes ~50 ms)."""
        remembered = self.check_remembered(station_id, password, stored)
        if remembered is not None:
            return remembered
        if not verify_password(password, stored):
            return False
        self._verified[station_id] = (stored, self._digest(station_id, password))
        return True

    def forget(self, station_id: str) -> None:
        self._verified.pop(station_id, None)
