"""Encryption at rest of the most sensitive personal data (issue 15 §3; PIPL art. 28, 31).

Two keys, both from the environment and apart from ``SECRET_KEY``:

- ``FIELD_ENCRYPTION_KEYS``: AES-256-GCM keys (URL-safe base64 of 32 bytes), comma-separated.
  The first seals new values; every key listed opens values sealed with it, so that a key is
  rotated by putting the new one first, running ``manage.py rotate_keys`` and then dropping
  the old one. A sealed value names its key by a 4-byte fingerprint.
- ``LOOKUP_HASH_KEY``: the HMAC-SHA256 key of the look-up hashes, which let a sealed value
  (an ID number) be found, joined and kept unique without decrypting anything. Changing it
  needs ``manage.py rotate_keys --lookup-hash`` (every hash is computed afresh).
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.signals import setting_changed

KEY_BYTES = 32
NONCE_BYTES = 12
FINGERPRINT_BYTES = 4
# The layout of a sealed value: version, key fingerprint, nonce, ciphertext with its tag.
VERSION = b"\x01"
HEADER_BYTES = len(VERSION) + FINGERPRINT_BYTES + NONCE_BYTES
# Look-up hashes keep 128 bits (32 hex digits): no collision in any number of children.
LOOKUP_HASH_LENGTH = 32


class SealError(ValueError):
    """A key in the environment is missing or malformed, or a value was sealed with a key
    that is no longer configured."""


def parse_key(value: str, name: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(value.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SealError(
            f"{name}: each key must be URL-safe base64 of {KEY_BYTES} random bytes "
            "(make one with `python manage.py rotate_keys --new-key`)."
        )
    return key


def parse_keys(value: str, name: str) -> list[bytes]:
    keys = [parse_key(part, name) for part in value.split(",") if part.strip()]
    if not keys:
        raise SealError(f"{name} is not set: the encrypted fields cannot be read or written.")
    return keys


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def fingerprint(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()[:FINGERPRINT_BYTES]


@dataclass(frozen=True)
class KeyRing:
    ciphers: dict[bytes, AESGCM]
    current: bytes
    # HMAC-SHA256 keyed with LOOKUP_HASH_KEY and fed nothing yet: each look-up hash copies
    # it, rather than keying a new one for each of a list's million values.
    lookup: hmac.HMAC

    def lookup_digest(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under the look-up key, in hex."""
        digest = self.lookup.copy()
        digest.update(data)
        return digest.hexdigest()

    @classmethod
    def from_settings(cls) -> "KeyRing":
        from django.conf import settings

        keys = parse_keys(",".join(settings.FIELD_ENCRYPTION_KEYS), "FIELD_ENCRYPTION_KEYS")
        lookup = settings.LOOKUP_HASH_KEY
        if not lookup:
            raise SealError("LOOKUP_HASH_KEY is not set: ID numbers cannot be looked up.")
        return cls(
            ciphers={fingerprint(key): AESGCM(key) for key in keys},
            current=fingerprint(keys[0]),
            lookup=hmac.new(parse_key(lookup, "LOOKUP_HASH_KEY"), digestmod=hashlib.sha256),
        )


@functools.cache
def ring() -> KeyRing:
    return KeyRing.from_settings()


def reset(**_) -> None:
    """Forget the keys read so far: the settings changed (tests, key rotation)."""
    ring.cache_clear()


setting_changed.connect(reset)


def seal(text: str) -> bytes:
    keys = ring()
    nonce = os.urandom(NONCE_BYTES)
    body = keys.ciphers[keys.current].encrypt(nonce, text.encode("utf-8"), None)
    return VERSION + keys.current + nonce + body


def key_of(data: bytes) -> bytes:
    return bytes(data[len(VERSION) : len(VERSION) + FINGERPRINT_BYTES])


def is_current(data: bytes) -> bool:
    return key_of(data) == ring().current


def unseal(data: bytes) -> str:
    data = bytes(data)
    if data[:1] != VERSION or len(data) < HEADER_BYTES:
        raise SealError("not a sealed value")
    # Sliced here, not through key_of: a stream of millions of values opens every one.
    key = data[len(VERSION) : len(VERSION) + FINGERPRINT_BYTES]
    cipher = ring().ciphers.get(key)
    if cipher is None:
        raise SealError(
            "a value was sealed with a key that FIELD_ENCRYPTION_KEYS no longer holds "
            f"(fingerprint {key.hex()})"
        )
    try:
        return cipher.decrypt(
            data[len(VERSION) + FINGERPRINT_BYTES : HEADER_BYTES], data[HEADER_BYTES:], None
        ).decode("utf-8")
    except InvalidTag as exc:
        raise SealError("a sealed value does not match its key (altered or damaged)") from exc


def lookup_hash(text: str | None) -> str | None:
    """The keyed hash by which a value is looked up; None for no value."""
    if not text:
        return None
    return ring().lookup_digest(text.encode("utf-8"))[:LOOKUP_HASH_LENGTH]


def match_hash(text: str | None) -> str:
    """The hash to filter by: "" for no value, which matches no row (rows without a value
    store NULL), where None would match every row without one."""
    return lookup_hash(text) or ""
