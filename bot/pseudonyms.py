"""Keyed pseudonyms for identifiers nobody should be able to read back: REST sender ids chosen
by clients (they may hold a phone number or an e-mail address) and Redis key names.

`pseudonym(value, purpose)` is HMAC-SHA256 under the deployment's key of the purpose and the
value, as 32 hex digits (128 bits). With the same key every process and replica gives the same
pseudonym for the same value, so a REST client keeps its conversation and the Redis lock of a
conversation is the same lock everywhere; without the key nobody can tell which value it stands
for, not even by trying every phone number.

The key is PSEUDONYM_SECRET, else var/pseudonym-secret: made at random the first time (owner
only) and kept across restarts. Replicas on several machines need the same PSEUDONYM_SECRET.
A new key gives REST clients new conversations (stored ones stay as they are).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from bot.config import PROJECT_ROOT, load_settings

KEY_FILE = PROJECT_ROOT / "var" / "pseudonym-secret"
LENGTH = 32  # hex digits


def _key_from_file(path: Path) -> bytes:
    """The key in `path`, made at random (owner-only) if there is none yet. Two processes
    starting at once agree: the file appears whole, once (a hard link of a finished file)."""
    try:
        key = path.read_bytes().strip()
    except FileNotFoundError:
        key = b""
    if key:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process made it first: use theirs
    finally:
        draft.unlink()
    return path.read_bytes().strip()


@functools.lru_cache(maxsize=1)
def deployment_key() -> bytes:
    """PSEUDONYM_SECRET, else the key kept in var/pseudonym-secret."""
    secret = load_settings().pseudonym_secret
    return secret.encode("utf-8") if secret else _key_from_file(KEY_FILE)


def pseudonym(value: str, purpose: str) -> str:
    """32 hex digits standing for `value` (any string) in the context `purpose` ("rest-sender",
    "redis-key"): the same for the same value and key, unreadable without the key."""
    message = f"{purpose}\0{value}".encode("utf-8", "surrogatepass")
    return hmac.new(deployment_key(), message, hashlib.sha256).hexdigest()[:LENGTH]
