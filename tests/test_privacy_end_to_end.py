"""After real conversations, no raw personal value is anywhere: in no table (every column of
every table), in no log line (at debug level), in no Redis key. And no message is lost over its
content: a lone surrogate, a payload nested thousands deep, an object where a topic key belongs.

Two set-ups, both with the real trained model and a real action server:
- in this process, the agent saving through the masking tracker store, on SQLite and on
  PostgreSQL, with every log record of the process captured at debug level;
- the production path as processes: `rasa run --debug` with the REST channel, the PostgreSQL
  tracker store and the Redis lock store, and the action server at LOG_LEVEL=DEBUG, their whole
  output captured; REST clients whose chosen sender ids are a phone number and an e-mail address.

The corpus is tests/data/pii_corpus.yml. A value counts as found in its raw form, in its
normalised form (ASCII digits) and, for numbers, as its bare digits; stored JSON and logged JSON
are read with their escapes decoded, so "\\uff10" counts as the fullwidth digit it stands for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import MetaData, create_engine, select
from sqlalchemy import text as sql

from bot.channels.rest import rest_sender_id
from bot.config import PROJECT_ROOT, load_settings
from bot.db.migrate import upgrade
from bot.log_masking import unescape_json_unicode
from bot.masking import shadow
from bot.model import ensure_trained
from bot.runner import _wait_until_up, free_port, rasa_command, rasa_environment, stop
from bot.tracker_store import MaskingSQLTrackerStore
from tests.conftest import Conversation, load_yaml, start_agent
from tests.db_fixtures import _postgres_database

CORPUS = load_yaml("tests/data/pii_corpus.yml")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIMEOUT = 120.0  # a guard against hanging, not a latency assertion
# REST clients that chose personal data as their sender id
SENDER_PHONE = "0532 417 28 93"
SENDER_EMAIL = "ayse.kaya98@gmail.com"
PROGRAM_EMAIL = "ulusalstajprogrami@cbiko.gov.tr"
SURROGATE_MESSAGE = "\udfff staj ücreti"
DEEP_PAYLOAD = '/choose_faq{"faq_key": ' + "[" * 5000 + '"x"' + "]" * 5000 + "}"
OBJECT_PAYLOAD = '/choose_faq{"faq_key": {"konu": "staj_ucreti"}}'
CONTACT_PAYLOAD = '/choose_faq{"faq_key": "other_questions_contact"}'
NOT_UNDERSTOOD = "Sorunu tam anlayamadım"


def needles(raw: str) -> set[str]:
    """The forms of a raw value that must not be found: as typed, with ASCII digits, and (for
    numbers of 7 digits or more) its bare digits."""
    forms = {raw, shadow(raw)}
    digits = "".join(ch for ch in shadow(raw) if ch.isdigit())
    if len(digits) >= 7:
        forms.add(digits)
    return forms


RAW_VALUES = sorted(
    {raw for message in CORPUS["messages"] for raw in message["raw"]} | {SENDER_PHONE, SENDER_EMAIL}
)
NEEDLES = {form: raw for raw in RAW_VALUES for form in needles(raw)}


def readable(text: str) -> str:
    """Text as the rules see it: JSON escapes decoded, every digit ASCII."""
    return shadow(unescape_json_unicode(text))


def leaks(places: Iterable[tuple[str, str]]) -> list[str]:
    """Every (place, raw value) where a form of a raw value is found."""
    found = []
    for place, text in places:
        haystack = text + "\n" + readable(text)
        found += [
            f"{place}: {raw!r} as {form!r}" for form, raw in NEEDLES.items() if form in haystack
        ]
    return found


def stored_texts(url: str) -> Iterator[tuple[str, str]]:
    """(table.column, text) for every value of every column of every table: strings as they
    are and, when they hold JSON, decoded; other values as their JSON or string form."""
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            for table in metadata.sorted_tables:
                for row in connection.execute(select(table)):
                    for column, value in zip(table.columns, row, strict=True):
                        if value is None or isinstance(value, (int, float)):
                            continue
                        if isinstance(value, (dict, list)):
                            text = json.dumps(value, ensure_ascii=False)
                        elif isinstance(value, bytes):
                            text = value.decode("utf-8", "replace")
                        else:
                            text = str(value)
                        yield f"{table.name}.{column.name}", text
    finally:
        engine.dispose()


def stored_rows(url: str, query: str, **params: Any) -> list[Any]:
    """The rows a query over the stored tables gives."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sql(query), params))
    finally:
        engine.dispose()


# --- in this process: the agent and the masking tracker store ---------------------------------


@dataclasses.dataclass
class Talked:
    """What the in-process conversations left behind."""

    url: str
    log: str
    replies: dict[str, Any]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def talked(request, tmp_path_factory) -> Iterator[Talked]:
    """The corpus and the awkward messages through the agent, logging at debug level."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    upgrade(url)
    store = MaskingSQLTrackerStore(host=url)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    try:
        for agent, loop in start_agent(url, tracker_store=store):
            root.addHandler(handler)
            root.setLevel(logging.DEBUG)
            try:
                by_phone = Conversation(agent, loop, rest_sender_id(SENDER_PHONE))
                by_email = Conversation(agent, loop, rest_sender_id(SENDER_EMAIL))
                for number, message in enumerate(CORPUS["messages"]):
                    (by_phone if number % 2 else by_email).say(message["text"])
                replies = {
                    name: Conversation(agent, loop, f"rest:{name}").say(text)
                    for name, text in (
                        ("surrogate", SURROGATE_MESSAGE),
                        ("deep", DEEP_PAYLOAD),
                        ("object", OBJECT_PAYLOAD),
                        ("contact", CONTACT_PAYLOAD),
                    )
                }
            finally:
                root.removeHandler(handler)
                root.setLevel(level)
            yield Talked(url, stream.getvalue(), replies)
    finally:
        store.db.dispose()
        for _ in urls:  # drops the PostgreSQL database
            pass


def test_no_raw_value_is_in_any_table(talked: Talked) -> None:
    places = list(stored_texts(talked.url))
    tables = {place.split(".")[0] for place, _ in places}
    assert {"events", "review_messages", "review_conversations"} <= tables
    assert leaks(places) == []


def test_no_raw_value_is_in_the_debug_log(talked: Talked) -> None:
    # Rasa's debug logging ran, and with it what students wrote (masked)
    assert "rule_policy.actions.find" in talked.log and "staj yerimle ilgili" in talked.log
    assert rest_sender_id(SENDER_PHONE) in talked.log  # pseudonyms stay readable
    assert leaks([("log", line) for line in talked.log.splitlines()]) == []


def test_the_turns_are_stored_masked_with_their_review_rows(talked: Talked) -> None:
    for client in (SENDER_PHONE, SENDER_EMAIL):
        sender = rest_sender_id(client)
        events = stored_rows(
            talked.url,
            "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'",
            s=sender,
        )
        messages = stored_rows(
            talked.url,
            "SELECT m.text, m.folded_text FROM review_messages m JOIN review_conversations c"
            " ON c.id = m.conversation_id WHERE c.sender_id = :s AND m.kind = 'user'",
            s=sender,
        )
        said = sum(1 for n in range(len(CORPUS["messages"])) if (n % 2) == (client == SENDER_PHONE))
        assert len(events) == len(messages) == said
        assert any("[telefon]" in text for text, _ in messages)
        # the search column is folded from the masked text and holds no digits of a number
        assert all(not re.search(r"\d{7}", folded.replace(" ", "")) for _, folded in messages)


@pytest.mark.parametrize(
    ("name", "stored_text"),
    [
        ("surrogate", "\ufffd staj ücreti"),
        ("deep", DEEP_PAYLOAD),
        ("object", OBJECT_PAYLOAD),
    ],
)
def test_a_message_is_answered_and_stored_whatever_its_content(
    talked: Talked, name: str, stored_text: str
) -> None:
    reply = talked.replies[name]
    assert reply.texts, f"no reply to the {name} message"
    if name != "surrogate":
        assert reply.intent == "choose_faq" and NOT_UNDERSTOOD in reply.text
    events = stored_rows(
        talked.url,
        "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'",
        s=f"rest:{name}",
    )
    assert [json.loads(data)["text"] for (data,) in events] == [stored_text]
    messages = stored_rows(
        talked.url,
        "SELECT m.text FROM review_messages m JOIN review_conversations c"
        " ON c.id = m.conversation_id WHERE c.sender_id = :s AND m.kind = 'user'",
        s=f"rest:{name}",
    )
    assert [text for (text,) in messages] == [stored_text]


def test_the_assistants_own_answers_are_stored_as_said(talked: Talked) -> None:
    assert PROGRAM_EMAIL in talked.replies["contact"].text
    bot_texts = stored_rows(
        talked.url,
        "SELECT m.text FROM review_messages m JOIN review_conversations c"
        " ON c.id = m.conversation_id WHERE c.sender_id = 'rest:contact' AND m.kind = 'bot'",
    )
    assert any(PROGRAM_EMAIL in text for (text,) in bot_texts)


# --- the production path: rasa run, REST, PostgreSQL, Redis, action server -------------------


@dataclasses.dataclass
class Served:
    """What the production-path conversations left behind."""

    url: str
    log: str
    redis_keys: list[str]
    replies: dict[str, list[dict[str, Any]]]


def redis_client() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {error}")
    return client


@contextlib.contextmanager
def started(command: list[str], environment: dict[str, str], log: Path, health: str) -> Any:
    """A process with its whole output in `log`, up once `health` answers; stopped at the end."""
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            _wait_until_up(health, process, timeout=600)
            yield process
        finally:
            stop([process])


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    """The corpus through `rasa run --debug` (REST) and an action server at debug level."""
    client = redis_client()
    directory = tmp_path_factory.mktemp("production")
    databases = _postgres_database()
    url = next(databases)
    upgrade(url)
    settings = dataclasses.replace(
        load_settings(),
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        redis_url=REDIS_URL,
        rasa_auth_token="e2e-token",
    )
    model = ensure_trained()
    environment = {**rasa_environment(settings), "DATABASE_URL": url, "LOG_LEVEL": "DEBUG"}
    actions = [sys.executable, "-m", "bot", "actions", "--host", settings.host]
    actions += ["--port", str(settings.action_port)]
    rasa = [*rasa_command("run", model, settings), "--debug"]
    action_health = f"http://{settings.host}:{settings.action_port}/health"
    replies: dict[str, list[dict[str, Any]]] = {}
    try:
        with (
            started(actions, environment, directory / "actions.log", action_health),
            started(rasa, environment, directory / "rasa.log", f"{settings.rasa_url}/"),
            httpx.Client(timeout=TIMEOUT) as http,
        ):
            webhook = f"{settings.rasa_url}/webhooks/rest/webhook"
            for number, message in enumerate(CORPUS["messages"]):
                sender = SENDER_PHONE if number % 2 else SENDER_EMAIL
                reply = http.post(webhook, json={"sender": sender, "message": message["text"]})
                assert reply.status_code == 200, reply.text
            for name, text in (
                ("surrogate", SURROGATE_MESSAGE),
                ("deep", DEEP_PAYLOAD),
                ("object", OBJECT_PAYLOAD),
            ):
                # JSON as a client sends it: a lone surrogate travels as the escape "\udfff"
                body = json.dumps({"sender": name, "message": text}).encode("ascii")
                reply = http.post(
                    webhook, content=body, headers={"Content-Type": "application/json"}
                )
                assert reply.status_code == 200, reply.text
                replies[name] = reply.json()
            keys = [key.decode("utf-8", "replace") for key in client.scan_iter(count=1000)]
        log = "\n".join(
            (directory / name).read_text(encoding="utf-8", errors="replace")
            for name in ("rasa.log", "actions.log")
        )
        yield Served(url, log, keys, replies)
    finally:
        client.close()
        for _ in databases:  # drops the database
            pass


def test_production_path_no_raw_value_in_any_table(served: Served) -> None:
    places = list(stored_texts(served.url))
    senders = {text for place, text in places if place == "events.sender_id"}
    assert rest_sender_id(SENDER_PHONE) in senders and rest_sender_id(SENDER_EMAIL) in senders
    assert leaks(places) == []


def test_production_path_no_raw_value_in_the_logs(served: Served) -> None:
    assert leaks([("log", line) for line in served.log.splitlines()]) == []
    # Rasa and the action server logged at debug level, what students wrote included (masked)
    assert "rule_policy.actions.find" in served.log and "staj yerimle ilgili" in served.log
    assert "Received request to run" in served.log


def test_production_path_no_raw_value_in_redis_keys(served: Served) -> None:
    ours = [key for key in served.redis_keys if key.startswith("stajasistani:ticket_lock:")]
    assert ours, "the Redis lock store was not used"
    assert leaks([("redis key", key) for key in served.redis_keys]) == []
    conversations = {rest_sender_id(SENDER_PHONE), rest_sender_id(SENDER_EMAIL)}
    assert not any(sender in key for key in served.redis_keys for sender in conversations)


def test_production_path_answers_and_stores_awkward_messages(served: Served) -> None:
    for name in ("surrogate", "deep", "object"):
        assert served.replies[name], f"no reply to the {name} message"
        rows = stored_rows(
            served.url,
            "SELECT m.text FROM review_messages m JOIN review_conversations c"
            " ON c.id = m.conversation_id WHERE c.sender_id = :s AND m.kind = 'user'",
            s=rest_sender_id(name),
        )
        assert len(rows) == 1, name
    assert NOT_UNDERSTOOD in served.replies["object"][0]["text"]
    events = stored_rows(
        served.url,
        "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'",
        s=rest_sender_id("surrogate"),
    )
    assert [json.loads(data)["text"] for (data,) in events] == ["\ufffd staj ücreti"]
