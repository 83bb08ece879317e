"""The production path: PostgreSQL tracker store, Redis lock store, several Rasa processes.

Two `rasa run` processes share one PostgreSQL database (tracker store and offer data) and the
Redis lock store (REDIS_URL, written into the endpoints file by bot/runner.py); one conversation
served by both, alternately and at the same time, stays whole and in order. Real PostgreSQL
and Redis, no mocks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis
import yaml
from rasa.utils.endpoints import EndpointConfig
from telegram import Update

from bot.benchmarks import fake_telegram
from bot.channels.rest import rest_sender_id
from bot.config import ConfigError, load_settings, read_settings
from bot.db.migrate import upgrade
from bot.lock_store import RedisTicketLockStore
from bot.model import ensure_trained
from bot.runner import (
    free_port,
    start_action_server,
    start_rasa,
    stop,
    write_endpoints,
)
from bot.telegram.application import PerChatUpdateProcessor
from tests.db_fixtures import _postgres_database

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIMEOUT = 120.0  # a guard against hanging, not a latency assertion
QUESTIONS = (
    "staj ücreti ödenecek mi",
    "stj suresi kac gun",
    "sigortami kim yapicak",
    "ucretim ne zaman yatar",
    "staj süresi kaç gün",
    "staj ücretini kim öder",
)


# --- the endpoints file -------------------------------------------------------------------------


def test_without_redis_the_endpoints_keep_the_in_memory_lock_store(tmp_path) -> None:
    settings = dataclasses.replace(load_settings(), redis_url=None, rasa_port=free_port())
    endpoints = yaml.safe_load(write_endpoints(settings, tmp_path).read_text())
    assert "lock_store" not in endpoints
    assert endpoints["tracker_store"]["url"] == "${DATABASE_URL}"
    assert endpoints["action_endpoint"]["url"] == "${ACTION_SERVER_URL}"


def test_redis_url_becomes_rasas_redis_lock_store(tmp_path) -> None:
    settings = dataclasses.replace(
        load_settings(), rasa_port=free_port(), redis_url="redis://:s%40cret@cache.internal:6380/3"
    )
    path = write_endpoints(settings, tmp_path)
    assert yaml.safe_load(path.read_text())["lock_store"] == {
        "type": "bot.lock_store.RedisTicketLockStore",
        "url": "cache.internal",
        "port": 6380,
        "db": 3,
        "key_prefix": "stajasistani",
        "use_ssl": False,
        "password": "s@cret",
    }
    assert path.stat().st_mode & 0o077 == 0  # the password stays the owner's


def test_a_malformed_redis_url_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="REDIS_URL"):
        read_settings({"REDIS_URL": "127.0.0.1:6379"})


# --- the lock store ------------------------------------------------------------------------------


def redis_or_skip() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=5).ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {error}")


def lock_store() -> RedisTicketLockStore:
    parsed = urlsplit(REDIS_URL)
    return RedisTicketLockStore(
        EndpointConfig(
            parsed.hostname,
            port=parsed.port or 6379,
            db=int(parsed.path.strip("/") or 0),
            key_prefix="test",
        )
    )


def test_the_lock_lets_one_holder_in_at_a_time_in_ticket_order_across_connections() -> None:
    redis_or_skip()
    conversation = f"lock-{secrets.token_hex(4)}"

    async def scenario() -> tuple[list[str], int]:
        stores = [lock_store(), lock_store()]  # two connections, as two processes have
        log: list[str] = []
        inside = most_inside = 0

        async def hold(number: int) -> None:
            nonlocal inside, most_inside
            async with stores[number % 2].lock(conversation):
                inside += 1
                most_inside = max(most_inside, inside)
                log.append(f"in {number}")
                await asyncio.sleep(0.01)
                inside -= 1

        holders = []
        for number in range(12):  # each takes its ticket before the next starts
            holders.append(asyncio.create_task(hold(number)))
            await asyncio.sleep(0.005)
        await asyncio.gather(*holders)
        for store in stores:
            await store.red.close()
        return log, most_inside

    log, most_inside = asyncio.run(scenario())
    assert most_inside == 1
    assert log == [f"in {number}" for number in range(12)]


def test_a_ticket_whose_holder_died_is_skipped_after_the_lifetime() -> None:
    redis_or_skip()
    conversation = f"dead-{secrets.token_hex(4)}"

    async def scenario() -> bool:
        store = lock_store()
        keys = store._keys(conversation)
        await store._take(keys=keys, args=[60_000])  # a holder that never finishes
        async with store.lock(conversation, lock_lifetime=0.2):
            acquired = True
        await store.red.close()
        return acquired

    assert asyncio.run(scenario())


# --- Telegram: chats at once, each chat in order -------------------------------------------------


def test_telegram_updates_of_one_chat_wait_for_each_other_and_other_chats_do_not() -> None:
    def update(user_id: int, update_id: int) -> Update:
        return Update.de_json(
            {"update_id": update_id, **fake_telegram.message(user_id, "merhaba")}, None
        )

    async def scenario() -> list[str]:
        processor = PerChatUpdateProcessor(8)
        log: list[str] = []
        first_may_end = asyncio.Event()

        async def handle(name: str, gate: asyncio.Event | None = None) -> None:
            log.append(f"{name} start")
            if gate is not None:
                await gate.wait()
            log.append(f"{name} end")

        tasks = [
            asyncio.create_task(
                processor.process_update(update(1, 1), handle("a1", first_may_end))
            ),
            asyncio.create_task(processor.process_update(update(1, 2), handle("a2"))),
            asyncio.create_task(processor.process_update(update(2, 3), handle("b1"))),
        ]
        while "b1 end" not in log:
            await asyncio.sleep(0)
        first_may_end.set()
        await asyncio.gather(*tasks)
        return log

    log = asyncio.run(scenario())
    assert log.index("b1 end") < log.index("a1 end")  # another chat is not held up
    assert log.index("a1 end") < log.index("a2 start")  # the same chat waits its turn


# --- two Rasa processes, one PostgreSQL tracker store, the Redis lock store ----------------------


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    databases = _postgres_database()
    url = next(databases)
    upgrade(url)
    yield url
    for _ in databases:  # drops the database
        pass


@pytest.fixture(scope="module")
def two_rasa_processes(postgres_url: str) -> Iterator[tuple[list[str], str]]:
    """Two `rasa run` processes (one Sanic worker each) on the same PostgreSQL database and
    Redis lock store, and one action server; yields their base URLs and the API token."""
    redis_or_skip()
    token = secrets.token_urlsafe(16)
    base = dataclasses.replace(
        load_settings(),
        host="127.0.0.1",
        action_port=free_port(),
        redis_url=REDIS_URL,
        rasa_auth_token=token,
    )
    environment = {"DATABASE_URL": postgres_url}
    model = ensure_trained()
    processes = [start_action_server(base, environment)]
    try:
        replicas = [dataclasses.replace(base, rasa_port=free_port()) for _ in range(2)]
        with ThreadPoolExecutor(2) as pool:
            starting = [
                pool.submit(start_rasa, model, replica, environment, 600) for replica in replicas
            ]
            for future in starting:
                processes.append(future.result())
        yield [replica.rasa_url for replica in replicas], token
    finally:
        stop(processes)


def ask(client: httpx.Client, rasa_url: str, sender: str, text: str) -> list[dict[str, Any]]:
    """A message through the REST channel (which makes the sender id `rest:<pseudonym>`)."""
    reply = client.post(
        f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
    )
    assert reply.status_code == 200
    return reply.json()


def transcript(
    client: httpx.Client, rasa_url: str, token: str, sender: str
) -> list[dict[str, Any]]:
    reply = client.get(
        f"{rasa_url}/conversations/{rest_sender_id(sender)}/tracker",
        params={"token": token, "include_events": "ALL"},
    )
    assert reply.status_code == 200
    return reply.json()["events"]


def turns(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """Each user message with the number of bot messages that follow it before the next."""
    result: list[tuple[str, int]] = []
    for event in events:
        if event["event"] == "user":
            result.append((event["text"], 0))
        elif event["event"] == "bot" and result:
            result[-1] = (result[-1][0], result[-1][1] + 1)
    return result


def test_one_conversation_served_alternately_by_two_processes_stays_whole(
    two_rasa_processes: tuple[list[str], str],
) -> None:
    urls, token = two_rasa_processes
    sender = f"alternating-{secrets.token_hex(4)}"
    with httpx.Client(timeout=TIMEOUT) as client:
        for number, question in enumerate(QUESTIONS):
            assert ask(client, urls[number % 2], sender, question)
        for url in urls:
            said = turns(transcript(client, url, token, sender))
            assert [text for text, _ in said] == list(QUESTIONS)
            assert all(bot_messages for _, bot_messages in said)


def test_messages_at_the_same_time_on_both_processes_are_taken_one_at_a_time(
    two_rasa_processes: tuple[list[str], str],
) -> None:
    urls, token = two_rasa_processes
    sender = f"concurrent-{secrets.token_hex(4)}"

    async def both_at_once(first: str, second: str) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            replies = await asyncio.gather(
                client.post(
                    f"{urls[0]}/webhooks/rest/webhook", json={"sender": sender, "message": first}
                ),
                client.post(
                    f"{urls[1]}/webhooks/rest/webhook", json={"sender": sender, "message": second}
                ),
            )
        assert all(reply.status_code == 200 and reply.json() for reply in replies)

    for pair in range(3):
        asyncio.run(both_at_once(QUESTIONS[2 * pair], QUESTIONS[2 * pair + 1]))
    with httpx.Client(timeout=TIMEOUT) as client:
        events = transcript(client, urls[0], token, sender)
    said = turns(events)
    # Every message is there once, each answered before the next one was taken up.
    assert sorted(text for text, _ in said) == sorted(QUESTIONS)
    assert all(bot_messages for _, bot_messages in said)
    assert sum(e["event"] == "action" and e["name"] == "action_session_start" for e in events) == 1
