"""Keyed pseudonyms for REST sender ids and Redis key names (bot/pseudonyms.py)."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from rasa.utils.endpoints import EndpointConfig

from bot import pseudonyms
from bot.channels.rest import rest_sender_id
from bot.lock_store import RedisTicketLockStore

PHONE_ID = "0532 417 28 93"
EMAIL_ID = "ayse.kaya98@gmail.com"


@pytest.fixture()
def fresh_key() -> Iterator[None]:
    """The key read again from the environment (and forgotten afterwards)."""
    pseudonyms.deployment_key.cache_clear()
    yield
    pseudonyms.deployment_key.cache_clear()


def test_a_pseudonym_is_stable_and_reveals_nothing() -> None:
    first = pseudonyms.pseudonym(PHONE_ID, "rest-sender")
    assert first == pseudonyms.pseudonym(PHONE_ID, "rest-sender")
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != pseudonyms.pseudonym(PHONE_ID, "redis-key")  # one use, one name
    assert first != pseudonyms.pseudonym("0532 417 28 94", "rest-sender")


def test_the_key_comes_from_the_environment(environment, fresh_key) -> None:
    environment.set(PSEUDONYM_SECRET="bir-anahtar")
    one = pseudonyms.pseudonym(PHONE_ID, "rest-sender")
    pseudonyms.deployment_key.cache_clear()
    environment.set(PSEUDONYM_SECRET="başka-bir-anahtar")
    assert pseudonyms.pseudonym(PHONE_ID, "rest-sender") != one


def test_the_key_file_is_made_once_owner_only_and_shared(tmp_path: Path) -> None:
    path = tmp_path / "var" / "pseudonym-secret"
    with ThreadPoolExecutor(8) as pool:  # processes starting at the same moment agree
        keys = set(pool.map(lambda _: pseudonyms._key_from_file(path), range(16)))
    assert len(keys) == 1 and len(keys.pop()) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["pseudonym-secret"]  # no drafts left


def test_rest_sender_ids_hold_no_phone_number_or_email() -> None:
    for client in (PHONE_ID, EMAIL_ID, "tg:555"):
        sender = rest_sender_id(client)
        assert sender.startswith("rest:") and sender == rest_sender_id(client)
        assert client not in sender and "tg:" not in sender
    assert rest_sender_id(PHONE_ID) != rest_sender_id(EMAIL_ID)
    digits = PHONE_ID.replace(" ", "")
    assert digits not in rest_sender_id(PHONE_ID)


def test_redis_key_names_hold_a_pseudonym_of_the_conversation() -> None:
    store = RedisTicketLockStore(EndpointConfig("127.0.0.1", port=6379, key_prefix="test"))
    for conversation in (rest_sender_id(EMAIL_ID), f"tg:{5321234567}", EMAIL_ID):
        keys = store._keys(conversation)
        assert keys == store._keys(conversation)
        assert all(conversation not in key and key.startswith("test:ticket_lock:") for key in keys)
        assert "5321234567" not in "".join(keys)
