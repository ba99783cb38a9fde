"""The keys that sign the audit trail, and what exactly they sign.

The key (`AUDIT_KEY`) is never stored in the database, so whoever can write to the database
but does not hold the key cannot make an event, a chain head or a checkpoint that verifies.
Each signature names its key by a short id (`key_id`): eight hex digits of a hash of the key,
which tell nothing about the key itself. `AUDIT_PREVIOUS_KEYS` keeps the keys used before a
rotation, so that what they signed still verifies.

Pure functions only: no database, no app (the migration that keys the trail uses them too).
"""
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Mapping

# The key id of events written before the trail was keyed: hashed with plain SHA-256, no key.
# Never a real key id, which is hex.
LEGACY = "legacy"


class AuditKeyError(RuntimeError):
    """The audit keys are missing or do not fit together; nothing can be signed or checked."""


def canonical(content: dict) -> bytes:
    """One byte string per content, whatever the order its fields were written in."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def key_id(key: str) -> str:
    return hashlib.sha256(b"coordination audit key id\x00" + key.encode("utf-8")).hexdigest()[:8]


def mac(key: str, content: dict) -> str:
    return hmac.new(key.encode("utf-8"), canonical(content), hashlib.sha256).hexdigest()


def matches(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected, given)


def head_signature(key: str, last_event_id: int, last_hash: str, event_count: int) -> str:
    """The chain head's signature: its last event, that event's hash and the number of events."""
    return mac(key, {"purpose": "audit head", "last_event_id": last_event_id, "last_hash": last_hash,
                     "event_count": event_count})


@dataclass(frozen=True)
class Keyring:
    """The current key, which signs everything new, and every key that may have signed before."""

    current_id: str
    keys: Mapping[str, str]  # key id -> key

    @property
    def current(self) -> str:
        return self.keys[self.current_id]

    @classmethod
    def from_config(cls, config: Mapping) -> "Keyring":
        current = (config.get("AUDIT_KEY") or "").strip()
        if not current:
            raise AuditKeyError("AUDIT_KEY is not set: the audit trail cannot be signed or verified")
        previous = config.get("AUDIT_PREVIOUS_KEYS") or ()
        if isinstance(previous, str):
            previous = previous.split(",")
        keys: dict[str, str] = {}
        for key in [current, *previous]:
            key = key.strip()
            if not key:
                continue
            kid = key_id(key)
            if keys.setdefault(kid, key) != key:
                raise AuditKeyError(f"two different audit keys have the same key id {kid}; make a new AUDIT_KEY")
        return cls(current_id=key_id(current), keys=keys)
