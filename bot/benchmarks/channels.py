"""`make bench-channels`: the chat channels under load, our assistant beside `rasa init`'s bot.

    python -m bot.benchmarks.channels [--users 50] [--turns 10] [--pause 2]
                                      [--levels 1,2,4,8,16,32,64] [--step-seconds 12]
                                      [--long-session 300] [--skip-production]
                                      [--skip-init-bot]

Everything runs as `make run` runs it (separate processes on free ports, per-run secrets) and
is stopped at the end. Two set-ups of our assistant: the default one (SQLite, one Rasa process,
one Sanic worker) and the production one (PostgreSQL tracker store and database, Redis lock
store, two Sanic workers, then one).

1. Open load, on each set-up: the action server, `rasa run` and `python -m bot telegram`
   against a local fake Bot API server (bot/benchmarks/fake_telegram.py). Each Telegram user
   links their chat with a one-time code from bot.db.linking (`/start <code>`, the real flow);
   each web chat client connects over a WebSocket, as the widget does, with a portal token of
   a real demo student. Every user then holds a conversation of FAQ and status questions,
   pausing between a reply and their next message. Measured: reply latency (until the first
   reply message), errors (failures, "try again later" answers), lost replies.
2. Saturation, on each set-up: users posting back-to-back to Rasa's Telegram bridge channel
   (verified senders `tg:<id>`, linked to students, so status questions run the actions and
   the database), at rising user counts until throughput stops rising. The same for the
   `rasa init` example bot (created and trained once in var/bench/rasa-init), served the same
   way: `rasa run` with the same bridge channel, and its own action server.
3. Long sessions, on the default set-up: one sender's messages back-to-back in one session,
   latency by position in the session.
4. Where the time goes: the model loaded in this process (Rasa's Agent) against the action
   server, each stage of a message timed (NLU, policies, tracker load and save, the review
   index within the save, the action server round trip), per tracker store.

Figures go to docs/BENCHMARKS.md (section "make bench-channels").
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import itertools
import json
import logging
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot import patches
from bot.benchmarks import fake_telegram
from bot.benchmarks.report import percentile, write_section
from bot.config import PROJECT_ROOT, RASA_PROCESS_ENVIRONMENT, Settings, load_settings
from bot.db import demo, linking
from bot.db.migrate import upgrade
from bot.db.session import Database
from bot.portal import token as portal_token
from bot.runner import (
    free_port,
    start_action_server,
    start_rasa,
    start_telegram,
    stop,
    with_run_secrets,
)
from bot.senders import TELEGRAM
from bot.telegram.handlers import UNAVAILABLE
from bot.telegram.protocol import SECRET_HEADER, bridge_url

BENCH_DIRECTORY = PROJECT_ROOT / "var" / "bench"
INIT_BOT_DIRECTORY = BENCH_DIRECTORY / "rasa-init"
LOG_DIRECTORY = BENCH_DIRECTORY / "logs"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO_STUDENTS = 1000
REPLY_TIMEOUT = 30.0  # a reply later than this counts as lost
SATURATION_P95_MS = 1000.0
FLOOR_P95_MS = 500.0
FLOOR_FACTOR = 3.0
FIRST_TELEGRAM_USER = 700_000_000
# Fresh senders every run: a run stopped mid-message leaves its tickets in the Redis lock store,
# which hold that conversation for the lock lifetime (60 s). Within a run, each conversation of
# each phase is a new sender too: a sender's every message lengthens its session, and a longer
# session costs more per message ("Long sessions" below).
FRESH_BRIDGE_USERS = itertools.count(800_000_000 + random.randrange(1000) * 100_000)
DEFAULT_SETUP = "SQLite, 1 worker"
FIRST_STUDENT = len(demo.NAMED_STUDENTS) + 1  # bulk demo students
BRIDGE_USERS = 2000  # saturation senders of one set-up: each conversation is a new one

# A conversation of FAQ and status questions (typos and missing Turkish letters included).
CONVERSATION = (
    "staj ücreti ödenecek mi",
    "bekleyen tekliflerim neler",
    "stj suresi kac gun",
    "takvimlerimi göster",
    "sigortami kim yapicak",
    "sigorta girişim yapıldı mı",
    "ucretim ne zaman yatar",
    "bu yıl kaç hakkım kaldı",
    "mülakatlarım ne zaman",
    "teşekkürler",
)
# The `rasa init` bot's conversation: its own training examples (data/nlu.yml).
INIT_BOT_CONVERSATION = (
    "hello",
    "I am sad",
    "yes",
    "hey there",
    "very good",
    "are you a bot?",
    "good morning",
    "not good",
    "no",
    "bye",
)


# --- measurements -------------------------------------------------------------------------------


@dataclasses.dataclass
class Tally:
    """Latencies (ms) of answered messages, errors and lost replies of one run."""

    latencies: list[float] = dataclasses.field(default_factory=list)
    errors: int = 0
    lost: int = 0
    sent: int = 0

    def row(self, name: str) -> str:
        """A Markdown table row: sent, p50, p95, max, errors, lost."""
        if not self.latencies:
            return f"| {name} | {self.sent} | – | – | – | {self.errors} | {self.lost} |"
        return (
            f"| {name} | {self.sent} | {percentile(self.latencies, 0.5):.0f} | "
            f"{percentile(self.latencies, 0.95):.0f} | {max(self.latencies):.0f} | "
            f"{self.errors} | {self.lost} |"
        )


@dataclasses.dataclass
class OpenLoad:
    """The open load on one set-up: each channel's tally, and how many Telegram users linked."""

    name: str
    telegram: Tally
    web: Tally
    linked: int

    @property
    def both(self) -> Tally:
        """Both channels together."""
        return Tally(
            self.telegram.latencies + self.web.latencies,
            self.telegram.errors + self.web.errors,
            self.telegram.lost + self.web.lost,
            self.telegram.sent + self.web.sent,
        )

    @property
    def floor_met(self) -> bool:
        """0 errors, 0 lost replies, p95 under FLOOR_P95_MS."""
        both = self.both
        return (
            bool(both.latencies)
            and both.errors == 0
            and both.lost == 0
            and percentile(both.latencies, 0.95) < FLOOR_P95_MS
        )


@dataclasses.dataclass
class Step:
    """One saturation step: users, answered messages per second, latency percentiles."""

    users: int
    throughput: float
    p50: float
    p95: float
    errors: int


@dataclasses.dataclass
class Saturation:
    """A saturation run and its answer: the best throughput with p95 under the limit."""

    name: str
    steps: list[Step]

    @property
    def best(self) -> Step | None:
        """The step with the highest throughput whose p95 stays under SATURATION_P95_MS."""
        under = [s for s in self.steps if s.p95 < SATURATION_P95_MS and not s.errors]
        return max(under, key=lambda s: s.throughput, default=None)


# --- processes ----------------------------------------------------------------------------------


def log_file(name: str) -> Any:
    """A log file for one process of the run (var/bench/logs/)."""
    LOG_DIRECTORY.mkdir(parents=True, exist_ok=True)
    return open(LOG_DIRECTORY / f"{name}.log", "w")


@contextmanager
def quiet(name: str) -> Iterator[None]:
    """Sends this process's inherited stdout/stderr (children's output) to a log file."""
    handle = log_file(name)
    saved = os.dup(1), os.dup(2)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(handle.fileno(), 1)
    os.dup2(handle.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(saved[0])
        os.close(saved[1])
        handle.close()


def say(message: str) -> None:
    """Progress on the terminal."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def stack_settings(redis_url: str | None = None) -> Settings:
    """Settings of one run of our assistant: free ports, per-run secrets, no auth token file."""
    settings = dataclasses.replace(
        load_settings(),
        host="127.0.0.1",
        rasa_port=free_port(),
        action_port=free_port(),
        portal_port=free_port(),
        rasa_auth_token=secrets.token_urlsafe(16),
        portal_jwt_secret="",
        telegram_bridge_secret=None,
        redis_url=redis_url,
    )
    return with_run_secrets(settings)


@contextmanager
def our_stack(
    model: Path,
    database_url: str,
    *,
    redis_url: str | None = None,
    workers: int = 1,
    name: str = "ours",
) -> Iterator[Settings]:
    """The action server and `rasa run` on `database_url`, as `make run` starts them."""
    settings = stack_settings(redis_url)
    environment = {"DATABASE_URL": database_url, "SANIC_WORKERS": str(workers)}
    processes: list[subprocess.Popen] = []
    try:
        with quiet(f"{name}-action-server"):
            processes.append(start_action_server(settings, environment))
        with quiet(f"{name}-rasa"):
            processes.append(start_rasa(model, settings, environment, timeout=600))
        yield settings
    finally:
        stop(processes)


@contextmanager
def telegram_process(
    settings: Settings, database_url: str, api_url: str
) -> Iterator[subprocess.Popen]:
    """`python -m bot telegram` against the fake Bot API (reminders checked once at start)."""
    environment = {
        "TELEGRAM_BOT_TOKEN": fake_telegram.TOKEN,
        "TELEGRAM_API_URL": api_url,
        "TELEGRAM_BRIDGE_SECRET": settings.telegram_bridge_secret or "",
        "RASA_PORT": str(settings.rasa_port),
        "BIND_HOST": settings.host,
        "DATABASE_URL": database_url,
        "REMINDER_INTERVAL_SECONDS": "86400",
    }
    with quiet("ours-telegram"):
        process = start_telegram(environment)
    try:
        yield process
    finally:
        stop([process])


def seeded_sqlite(path: Path) -> str:
    """A fresh SQLite database with the demo data set (`seed-demo`)."""
    path.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    seed(url)
    return url


def seed(url: str) -> None:
    """Migrates and fills the database with DEMO_STUDENTS demo students."""
    upgrade(url)
    db = Database(url)
    demo.seed(db, DEMO_STUDENTS, dt.datetime.now(dt.timezone.utc), progress=False)
    db.dispose()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database with the demo data, dropped at the end."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"staj_bench_channels_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        seed(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def link_bridge_users(database_url: str, count: int = BRIDGE_USERS) -> list[int]:
    """Telegram user ids linked to demo students through the link-code flow (bot.db.linking)."""
    db = Database(database_url)
    now = dt.datetime.now(dt.timezone.utc)
    users = []
    for index in range(count):
        user_id = next(FRESH_BRIDGE_USERS)
        code = linking.issue_code(db, FIRST_STUDENT + 200 + index % 700, now)
        result = linking.redeem_code(db, TELEGRAM.name, str(user_id), code, now)
        if result.outcome is not linking.LinkOutcome.LINKED:
            raise RuntimeError(f"could not link {user_id}: {result.outcome}")
        users.append(user_id)
    db.dispose()
    return users


# --- rasa init's example bot --------------------------------------------------------------------


def init_bot_model() -> Path:
    """The `rasa init` project's trained model; created and trained on the first run only."""
    models = sorted((INIT_BOT_DIRECTORY / "models").glob("*.tar.gz"))
    if not models:
        say("creating and training the rasa init example bot (once)")
        INIT_BOT_DIRECTORY.mkdir(parents=True, exist_ok=True)  # rasa init wants it to exist
        with quiet("rasa-init-train"):
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rasa",
                    "init",
                    "--no-prompt",
                    "--init-dir",
                    str(INIT_BOT_DIRECTORY),
                ],
                check=True,
                cwd=PROJECT_ROOT,
            )
        models = sorted((INIT_BOT_DIRECTORY / "models").glob("*.tar.gz"))
    return models[-1]


@contextmanager
def init_bot_stack(model: Path) -> Iterator[tuple[str, str]]:
    """`rasa run` of the init bot with our bridge channel, and its action server.

    Yields the bridge URL and its secret.
    """
    import yaml

    host, rasa_port, action_port = "127.0.0.1", free_port(), free_port()
    secret = secrets.token_urlsafe(32)
    run_directory = BENCH_DIRECTORY / "rasa-init-run"
    run_directory.mkdir(parents=True, exist_ok=True)
    endpoints = run_directory / "endpoints.yml"
    endpoints.write_text(
        yaml.safe_dump({"action_endpoint": {"url": f"http://{host}:{action_port}/webhook"}})
    )
    credentials = run_directory / "credentials.yml"
    credentials.write_text("bot.channels.telegram_bridge.TelegramBridgeInput:\n")
    # served as ours is: the same TensorFlow threads, no telemetry (bot/runner.py); Rasa's own
    # code throughout (our bridge channel would install our replacements of it)
    settings = load_settings()
    environment = {
        **os.environ,
        **RASA_PROCESS_ENVIRONMENT,
        "STAJ_RASA_PATCHES": "off",
        "PYTHONPATH": str(PROJECT_ROOT),
        "TELEGRAM_BRIDGE_SECRET": secret,
        "SANIC_HOST": host,
        "TF_INTER_OP_PARALLELISM_THREADS": str(settings.tf_inter_op_parallelism_threads),
        "TF_INTRA_OP_PARALLELISM_THREADS": str(settings.tf_intra_op_parallelism_threads),
    }
    processes: list[subprocess.Popen] = []
    try:
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rasa_sdk",
                    "--actions",
                    "actions",
                    "--port",
                    str(action_port),
                ],
                cwd=INIT_BOT_DIRECTORY,
                env=environment,
                start_new_session=True,
                stdout=log_file("init-action-server"),
                stderr=subprocess.STDOUT,
            )
        )
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "rasa",
                    "run",
                    "--model",
                    str(model),
                    "--endpoints",
                    str(endpoints),
                    "--credentials",
                    str(credentials),
                    "--port",
                    str(rasa_port),
                    "--interface",
                    host,
                ],
                cwd=INIT_BOT_DIRECTORY,
                env=environment,
                start_new_session=True,
                stdout=log_file("init-rasa"),
                stderr=subprocess.STDOUT,
            )
        )
        from bot.runner import _wait_until_up

        _wait_until_up(f"http://{host}:{action_port}/health", processes[0])
        _wait_until_up(f"http://{host}:{rasa_port}/", processes[1], 600)
        yield bridge_url(host, rasa_port), secret
    finally:
        stop(processes)


# --- open load: Telegram users and web chat clients ---------------------------------------------


class TelegramUsers:
    """Simulated Telegram users: updates into the fake Bot API, the bot's messages out of it."""

    def __init__(self, api: fake_telegram.FakeBotApi, loop: asyncio.AbstractEventLoop) -> None:
        self.api = api
        self.loop = loop
        self.inboxes: dict[int, asyncio.Queue] = {}
        api.listeners.append(self._sent)

    def _sent(self, sent: fake_telegram.Sent) -> None:
        inbox = self.inboxes.get(sent.chat_id)
        if inbox is not None:
            arrived = time.perf_counter()
            self.loop.call_soon_threadsafe(inbox.put_nowait, (arrived, sent.text))

    async def ask(self, user_id: int, text: str) -> tuple[float, str] | None:
        """Sends a message; the first reply's latency (ms) and text, None if none came."""
        inbox = self.inboxes.setdefault(user_id, asyncio.Queue())
        while not inbox.empty():
            inbox.get_nowait()
        started = time.perf_counter()
        self.api.push(fake_telegram.message(user_id, text))
        try:
            arrived, reply = await asyncio.wait_for(inbox.get(), REPLY_TIMEOUT)
        except asyncio.TimeoutError:
            return None
        return (arrived - started) * 1000, reply


class WebUser:
    """A web chat client as the widget in a browser: socket.io over a WebSocket.

    It speaks the packets itself (engine.io 4, socket.io 5): python-socketio's WebSocket client
    needs a newer aiohttp than Rasa allows, and its long-polling costs the server several HTTP
    requests per message, which browsers do not send.
    """

    def __init__(self) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.socket: Any = None
        self.reader: asyncio.Task | None = None

    async def connect(self, url: str, token: str) -> None:
        """Opens the WebSocket and joins with the portal token; raises if refused."""
        import websockets

        address = url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
        self.socket = await websockets.connect(address, max_size=2**20)
        opening = await self.socket.recv()
        if not opening.startswith("0"):
            raise RuntimeError(f"no engine.io opening: {opening[:80]}")
        await self.socket.send("40" + json.dumps({"token": token}))
        joined = await self.socket.recv()
        if not joined.startswith("40"):
            raise RuntimeError(f"web chat refused the connection: {joined[:200]}")
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for packet in self.socket:
            if packet == "2":  # the server's ping
                await self.socket.send("3")
            elif packet.startswith("42"):
                name, data = json.loads(packet[2:])[:2]
                if name == "bot_uttered":
                    self.inbox.put_nowait((time.perf_counter(), data.get("text") or ""))

    async def ask(self, text: str) -> tuple[float, str] | None:
        """Sends a message; the first reply's latency (ms) and text, None if none came."""
        while not self.inbox.empty():
            self.inbox.get_nowait()
        started = time.perf_counter()
        await self.socket.send("42" + json.dumps(["user_uttered", {"message": text}]))
        try:
            arrived, reply = await asyncio.wait_for(self.inbox.get(), REPLY_TIMEOUT)
        except asyncio.TimeoutError:
            return None
        return (arrived - started) * 1000, reply

    async def close(self) -> None:
        """Closes the WebSocket."""
        if self.reader is not None:
            self.reader.cancel()
        if self.socket is not None:
            await self.socket.close()


async def converse(
    ask: Callable[[str], Awaitable[tuple[float, str] | None]],
    tally: Tally,
    turns: int,
    pause: float,
) -> None:
    """One user's conversation: a message, its reply, a pause, the next message."""
    await asyncio.sleep(random.uniform(0, pause))  # users do not all start at the same instant
    for turn in range(turns):
        tally.sent += 1
        try:
            answer = await ask(CONVERSATION[turn % len(CONVERSATION)])
        except Exception:  # a failed send is an error, and the user goes on
            tally.errors += 1
        else:
            if answer is None:
                tally.lost += 1
            elif UNAVAILABLE in answer[1]:
                tally.errors += 1
            else:
                tally.latencies.append(answer[0])
        await asyncio.sleep(pause)


async def open_load(
    name: str,
    settings: Settings,
    database_url: str,
    api: fake_telegram.FakeBotApi,
    users: int,
    turns: int,
    pause: float,
) -> OpenLoad:
    """Telegram users and web clients conversing at once."""
    loop = asyncio.get_running_loop()
    telegram_users = TelegramUsers(api, loop)
    db = Database(database_url)
    now = dt.datetime.now(dt.timezone.utc)
    telegram_ids = [FIRST_TELEGRAM_USER + index for index in range(users)]

    async def link(index: int, user_id: int) -> bool:
        code = linking.issue_code(db, FIRST_STUDENT + index, now)
        await telegram_users.ask(user_id, f"/start {code}")
        return linking.linked_student(db, TELEGRAM.name, str(user_id)) == FIRST_STUDENT + index

    linked = sum(await asyncio.gather(*(link(i, u) for i, u in enumerate(telegram_ids))))
    web_users = [WebUser() for _ in range(users)]
    for index, web_user in enumerate(web_users):
        token = portal_token.issue(
            FIRST_STUDENT + users + index,
            settings.portal_jwt_secret,
            dt.datetime.now(dt.timezone.utc),
        )
        await web_user.connect(settings.rasa_url, token)
    telegram_tally, web_tally = Tally(), Tally()
    try:
        await asyncio.gather(
            *(
                converse(
                    lambda text, u=u: telegram_users.ask(u, text), telegram_tally, turns, pause
                )
                for u in telegram_ids
            ),
            *(converse(w.ask, web_tally, turns, pause) for w in web_users),
        )
    finally:
        await asyncio.gather(*(w.close() for w in web_users), return_exceptions=True)
        db.dispose()
    result = OpenLoad(name, telegram_tally, web_tally, linked)
    say(
        f"  {name}: Telegram p95 {percentile(telegram_tally.latencies or [0], 0.95):.0f} ms, "
        f"web p95 {percentile(web_tally.latencies or [0], 0.95):.0f} ms, errors "
        f"{result.both.errors}, lost {result.both.lost}"
    )
    return result


# --- saturation ---------------------------------------------------------------------------------


def bridge_of(settings: Settings) -> tuple[str, str]:
    """Our stack's Telegram bridge URL and its secret."""
    return bridge_url(settings.host, settings.rasa_port), settings.telegram_bridge_secret or ""


async def saturate(
    name: str,
    bridge: tuple[str, str],
    user_ids: Sequence[int],
    conversation: Sequence[str],
    levels: Sequence[int],
    step_seconds: float,
) -> Saturation:
    """Users posting back-to-back to the bridge, more at each level, until throughput stops
    rising (or the levels run out), to `bridge` (URL, secret). Each user holds `conversation`
    as a sender of `user_ids` (the next one each time), then starts over as the next."""
    bridge_url, secret = bridge
    result = Saturation(name, [])
    senders = iter(user_ids)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT * 2)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, headers={SECRET_HEADER: secret}
    ) as session:
        for users in levels:
            step = await _step(session, bridge_url, users, senders, conversation, step_seconds)
            result.steps.append(step)
            say(f"  {name}: {users} users -> {step.throughput:.1f} msg/s, p95 {step.p95:.0f} ms")
            best_before = max((s.throughput for s in result.steps[:-1]), default=0.0)
            if (
                len(result.steps) >= 3
                and step.throughput < best_before * 1.05
                and step.p95 >= SATURATION_P95_MS
            ):
                break
    return result


async def _step(
    session: aiohttp.ClientSession,
    url: str,
    users: int,
    senders: Iterator[int],
    conversation: Sequence[str],
    seconds: float,
) -> Step:
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    end = started + seconds

    async def user() -> None:
        nonlocal errors
        while time.perf_counter() < end:
            sender = next(senders, None)  # each conversation as a new user, as in real life
            if sender is None:
                raise RuntimeError("saturation ran out of fresh senders: raise BRIDGE_USERS")
            for message in conversation:
                if time.perf_counter() >= end:
                    return
                sent = time.perf_counter()
                try:
                    async with session.post(
                        url, json={"user_id": sender, "text": message}
                    ) as reply:
                        body = await reply.json()
                        ok = reply.status == 200 and isinstance(body.get("messages"), list)
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    ok = False
                done = time.perf_counter()
                if done <= end:
                    if ok:
                        latencies.append((done - sent) * 1000)
                    else:
                        errors += 1

    await asyncio.gather(*(user() for _ in range(users)))
    if not latencies:
        return Step(users, 0.0, float("nan"), float("nan"), errors)
    return Step(
        users,
        len(latencies) / seconds,
        percentile(latencies, 0.5),
        percentile(latencies, 0.95),
        errors,
    )


# --- long sessions ------------------------------------------------------------------------------


async def long_session(bridge: tuple[str, str], user_id: int, messages: int) -> list[float]:
    """One sender's reply latencies (ms), message after message, all in one session."""
    bridge_url, secret = bridge
    latencies = []
    timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT * 2)
    async with aiohttp.ClientSession(timeout=timeout, headers={SECRET_HEADER: secret}) as session:
        for index in range(messages):
            sent = time.perf_counter()
            async with session.post(
                bridge_url,
                json={"user_id": user_id, "text": CONVERSATION[index % len(CONVERSATION)]},
            ) as reply:
                await reply.read()
                if reply.status != 200:
                    raise RuntimeError(f"long session: HTTP {reply.status} at message {index + 1}")
            latencies.append((time.perf_counter() - sent) * 1000)
    return latencies


def long_session_lines(latencies: Sequence[float]) -> list[str]:
    """The latency of 20 messages at a time: the first 20, and the last 20 of each third."""
    count = len(latencies)
    starts = sorted({0, *(count * part // 3 - 20 for part in (1, 2, 3))} - {-20})
    lines = [
        "### Long sessions",
        "",
        f"One linked sender posts {count} messages back-to-back (our 10-turn conversation "
        "over and over) to the default set-up, all in one session, as a student who keeps "
        "chatting would: the latency of 20 messages at a time, from the start of the "
        "session to its end.",
        "",
        "| messages | mean ms | p95 ms |",
        "|---|---|---|",
    ]
    for start in starts:
        window = latencies[start : start + 20]
        lines.append(
            f"| {start + 1}–{start + len(window)} | {statistics.mean(window):.0f} | "
            f"{percentile(window, 0.95):.0f} |"
        )
    return [*lines, ""]


# --- where the time goes ------------------------------------------------------------------------


STAGES = (
    "nlu",
    "policies",
    "tracker load",
    "tracker save",
    "review index (in save)",
    "action server round trip",
)


async def profile(
    model: Path, action_url: str, tracker_store: Any, user_ids: Sequence[int], turns: int
) -> dict[str, float]:
    """Mean milliseconds per message of each stage, and the total, for the Agent in this
    process with `tracker_store`."""
    from rasa.core.actions import action
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.log_utils import configure_structlog

    from bot.db import review

    configure_structlog(logging.INFO)  # as `rasa run` logs: no per-event debug lines
    spent = {stage: 0.0 for stage in STAGES}

    def timed_async(stage: str, function: Callable) -> Callable:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - started

        return wrapper

    def timed(stage: str, function: Callable) -> Callable:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[stage] += time.perf_counter() - started

        return wrapper

    patches.install()  # as in every Rasa process of the assistant
    agent = Agent.load(
        str(model), action_endpoint=EndpointConfig(action_url), tracker_store=tracker_store
    )
    processor = agent.processor
    processor.parse_message = timed_async("nlu", processor.parse_message)
    processor._predict_next_with_tracker = timed("policies", processor._predict_next_with_tracker)
    processor.get_tracker = timed_async("tracker load", processor.get_tracker)
    processor.save_tracker = timed_async("tracker save", processor.save_tracker)
    original_run = action.RemoteAction.run
    original_index = review.index_events
    action.RemoteAction.run = timed_async("action server round trip", original_run)
    review.index_events = timed("review index (in save)", original_index)
    try:
        await agent.handle_text("merhaba", sender_id=TELEGRAM.sender_id(user_ids[0]))  # warm-up
        for stage in spent:
            spent[stage] = 0.0
        messages = 0
        started = time.perf_counter()
        for turn in range(turns):
            for user_id in user_ids:
                await agent.handle_text(
                    CONVERSATION[turn % len(CONVERSATION)], sender_id=TELEGRAM.sender_id(user_id)
                )
                messages += 1
        total = time.perf_counter() - started
    finally:
        action.RemoteAction.run = original_run
        review.index_events = original_index
    result = {stage: seconds * 1000 / messages for stage, seconds in spent.items()}
    result["total"] = total * 1000 / messages
    return result


# --- the run ------------------------------------------------------------------------------------


def load_average() -> str:
    """The 1/5/15-minute load averages."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def saturation_table(runs: Sequence[Saturation]) -> list[str]:
    lines = [
        "| set-up | users | messages/s | p50 ms | p95 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        for step in run.steps:
            lines.append(
                f"| {run.name} | {step.users} | {step.throughput:.1f} | "
                f"{step.p50:.0f} | {step.p95:.0f} | {step.errors} |"
            )
    return lines


def report(
    args: argparse.Namespace,
    load_before: str,
    load_after: str,
    seconds: float,
    loads: Sequence[OpenLoad],
    runs: list[Saturation],
    init_run: Saturation | None,
    long_latencies: Sequence[float],
    profiles: dict[str, dict[str, float]],
) -> str:
    """The Markdown section."""
    lines = [
        "## Channels under load (`make bench-channels`)",
        "",
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU cores "
        f"({platform.processor() or platform.machine()}), Python {platform.python_version()}, "
        f"in {seconds / 60:.0f} min. Load average (1/5/15 min) {load_before} at the start, "
        f"{load_after} at the end: the load generator, the fake Bot API and every server share "
        "these cores.",
        "",
        f"### Open load: {args.users} Telegram users and {args.users} web chat clients",
        "",
        f"Each user holds a {args.turns}-turn conversation of FAQ and status questions with "
        f"{args.pause:g} s between a reply and the next message. Telegram: the real "
        "`python -m bot telegram` (python-telegram-bot, long polling) against the local fake "
        "Bot API, each user linked through `/start <code>`. Web chat: socket.io clients over a "
        "WebSocket, as the widget connects, with portal tokens of real demo students. Latency: "
        "from the message leaving the user to the first reply message arriving. Set-ups: "
        f"{DEFAULT_SETUP} (`make run`), and the production one (PostgreSQL tracker store and "
        'database, Redis lock store; README "Production") with `SANIC_WORKERS=2` and 1.',
        "",
        "| set-up | channel | messages | p50 ms | p95 ms | max ms | errors | lost replies |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for load in loads:
        for channel, tally in (
            ("Telegram", load.telegram),
            ("web chat", load.web),
            ("both", load.both),
        ):
            lines.append(f"| {load.name} " + tally.row(channel))
    lines += [""]
    lines += [
        f"- {load.name}: {load.linked} of {args.users} Telegram users linked; floor "
        f"(0 errors, 0 lost replies, p95 < {FLOOR_P95_MS:.0f} ms) "
        f"**{'met' if load.floor_met else 'not met'}**."
        for load in loads
    ]
    lines += [
        "",
        "### Saturation",
        "",
        "Users post back-to-back (the next message as soon as the reply is in) to Rasa's "
        "Telegram bridge channel, for our assistant and for the `rasa init` example bot "
        f"served the same way; {args.step_seconds:g} s per step, more users per step until "
        "throughput stops rising. Our users are linked students (`tg:<id>`), so status "
        "questions run the actions and the database.",
        "",
        *saturation_table(runs + ([init_run] if init_run else [])),
        "",
    ]
    summary = []
    for run in runs + ([init_run] if init_run else []):
        best = run.best
        summary.append(
            f"- {run.name}: "
            + (
                f"**{best.throughput:.1f} messages/s** at "
                f"{best.users} users (p95 {best.p95:.0f} ms)"
                if best
                else "no step with p95 under 1 s"
            )
        )
    lines += ["Highest throughput with p95 under 1 s:", "", *summary, ""]
    if init_run and init_run.best and runs and runs[0].best:
        factor = (
            max((r.best.throughput for r in runs if r.best), default=0.0) / init_run.best.throughput
        )
        default_factor = runs[0].best.throughput / init_run.best.throughput
        lines += [
            f"Our best set-up against the init bot: **{factor:.1f}×** (floor "
            f"{FLOOR_FACTOR:g}×: {'met' if factor >= FLOOR_FACTOR else 'not met'}); the "
            f"default set-up: {default_factor:.1f}×.",
            "",
        ]
    if long_latencies:
        lines += long_session_lines(long_latencies)
    if profiles:
        names = list(profiles)
        lines += [
            "### Where the time goes",
            "",
            "Mean milliseconds per message, the model loaded in the benchmark process "
            "(Rasa's Agent, the same code `rasa run` uses) against the action server on "
            "the SQLite demo database, one message at a time, our 10-turn conversation, "
            'linked Telegram senders. "Other" is what the stages leave: Rasa\'s '
            "bookkeeping, session checks, the lock.",
            "",
            "| stage | " + " | ".join(names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for stage in (*STAGES, "other", "total"):
            cells = []
            for name in names:
                values = profiles[name]
                if stage == "other":
                    value = values["total"] - sum(
                        values[s] for s in STAGES if s != "review index (in save)"
                    )
                else:
                    value = values[stage]
                cells.append(f"{value:.1f}")
            lines.append(f"| {stage} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


async def run_async(args: argparse.Namespace) -> None:
    """Every phase, in order; the section is written at the end."""
    from bot.model import ensure_trained

    started = time.perf_counter()
    load_before = load_average()
    model = ensure_trained()
    init_model = None if args.skip_init_bot else init_bot_model()
    BENCH_DIRECTORY.mkdir(parents=True, exist_ok=True)
    say("seeding the SQLite demo database")
    sqlite_url = seeded_sqlite(BENCH_DIRECTORY / "channels.db")
    sqlite_users = link_bridge_users(sqlite_url)
    loads: list[OpenLoad] = []
    runs: list[Saturation] = []

    say("the default set-up (SQLite, one Rasa process)")
    with our_stack(model, sqlite_url) as settings:
        loads.append(await open_load_on(DEFAULT_SETUP, settings, sqlite_url, args))
        runs.append(
            await saturate(
                f"ours, {DEFAULT_SETUP}",
                bridge_of(settings),
                sqlite_users,
                CONVERSATION,
                args.levels,
                args.step_seconds,
            )
        )
        long_latencies: list[float] = []
        if args.long_session:
            say(f"long session: {args.long_session} messages")
            long_latencies = await long_session(
                bridge_of(settings), link_bridge_users(sqlite_url, 1)[0], args.long_session
            )

    if not args.skip_production:
        with postgres_database() as postgres_url:
            for workers in (2, 1):
                users = link_bridge_users(postgres_url)
                name = f"PostgreSQL + Redis, {workers} worker{'s' if workers > 1 else ''}"
                say(f"the production set-up: {name}")
                with our_stack(
                    model,
                    postgres_url,
                    redis_url=REDIS_URL,
                    workers=workers,
                    name=f"ours-pg-{workers}",
                ) as settings:
                    loads.append(await open_load_on(name, settings, postgres_url, args))
                    runs.append(
                        await saturate(
                            f"ours, {name}",
                            bridge_of(settings),
                            users,
                            CONVERSATION,
                            args.levels,
                            args.step_seconds,
                        )
                    )

    init_run = None
    if init_model is not None:
        say("the rasa init example bot")
        with init_bot_stack(init_model) as bridge:
            init_run = await saturate(
                "rasa init bot",
                bridge,
                [next(FRESH_BRIDGE_USERS) for _ in range(BRIDGE_USERS)],
                INIT_BOT_CONVERSATION,
                args.levels,
                args.step_seconds,
            )

    profiles: dict[str, dict[str, float]] = {}
    if args.profile_turns:
        profiles = await profile_all(
            model,
            sqlite_url,
            link_bridge_users(sqlite_url, 10),
            args.profile_turns,
            args.skip_production,
        )
    write_section(
        "bench-channels",
        report(
            args,
            load_before,
            load_average(),
            time.perf_counter() - started,
            loads,
            runs,
            init_run,
            long_latencies,
            profiles,
        ),
    )
    say("written to docs/BENCHMARKS.md")


async def open_load_on(
    name: str, settings: Settings, database_url: str, args: argparse.Namespace
) -> OpenLoad:
    """The open load on a running stack, with its own Telegram process and fake Bot API."""
    api = fake_telegram.FakeBotApi()
    api.start()
    try:
        with telegram_process(settings, database_url, api.url):
            say(f"  open load: {name}")
            return await open_load(
                name, settings, database_url, api, args.users, args.turns, args.pause
            )
    finally:
        api.close()


async def profile_all(
    model: Path, sqlite_url: str, user_ids: Sequence[int], turns: int, skip_postgres: bool
) -> dict[str, dict[str, float]]:
    """The stage profile per tracker store, against an action server on the SQLite data."""
    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import MaskingSQLTrackerStore

    settings = stack_settings()
    results: dict[str, dict[str, float]] = {}
    with ExitStack() as cleanup:
        with quiet("profile-action-server"):
            action_server = start_action_server(settings, {"DATABASE_URL": sqlite_url})
        cleanup.callback(stop, [action_server])
        stores: list[tuple[str, Callable[[], Any]]] = [
            ("in-memory tracker store", lambda: InMemoryTrackerStore(Domain.empty())),
            ("masking SQL store, SQLite", lambda: MaskingSQLTrackerStore(host=sqlite_url)),
        ]
        if not skip_postgres:
            postgres_url = cleanup.enter_context(postgres_database())
            stores.append(
                ("masking SQL store, PostgreSQL", lambda: MaskingSQLTrackerStore(host=postgres_url))
            )
        for name, store in stores:
            say(f"profile: {name}")
            with quiet(f"profile-{len(results)}"):
                results[name] = await profile(
                    model, settings.action_server_url, store(), user_ids, turns
                )
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="Telegram users, and web clients")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between turns")
    parser.add_argument(
        "--levels",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[1, 2, 4, 8, 16, 32, 64],
        help="saturation user counts",
    )
    parser.add_argument("--step-seconds", type=float, default=12.0)
    parser.add_argument(
        "--profile-turns",
        type=int,
        default=10,
        help="turns of 10 users in the profile (0: no profile)",
    )
    parser.add_argument(
        "--skip-production", action="store_true", help="no PostgreSQL/Redis/Sanic-workers run"
    )
    parser.add_argument("--skip-init-bot", action="store_true")
    parser.add_argument(
        "--long-session",
        type=int,
        default=300,
        help="messages of the long session (0: none; at least 60)",
    )
    args = parser.parse_args(argv)
    asyncio.run(run_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
