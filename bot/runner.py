"""Starts the assistant's processes, prints how to reach them, and stops them all on Ctrl-C."""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from bot.config import PROJECT_ROOT, RASA_PROCESS_ENVIRONMENT, Settings


def free_port() -> int:
    """A TCP port nobody listens on right now (tests and benchmarks start servers on them)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def start_action_server(
    settings: Settings, environment: dict[str, str] | None = None
) -> subprocess.Popen:
    """Starts the action server on the configured host and port; waits until it answers."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "actions",
            "--host",
            settings.host,
            "--port",
            str(settings.action_port),
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(environment or {})},
        start_new_session=True,
    )
    _wait_until_up(f"http://{settings.host}:{settings.action_port}/health", process)
    return process


def start_review_server(settings: Settings) -> subprocess.Popen:
    """Starts the staff review app (bot/review/) on REVIEW_PORT; waits until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "review"], cwd=PROJECT_ROOT, start_new_session=True
    )
    _wait_until_up(f"http://{settings.host}:{settings.review_port}/login", process)
    return process


def rasa_environment(settings: Settings) -> dict[str, str]:
    """The environment for Rasa: the action server's and the database's URLs (endpoints.yml),
    what the web chat channel needs (the portal's secret and origin), the Telegram bridge's
    secret, and the checked values of the variables Rasa reads itself."""
    return {
        **os.environ,
        **RASA_PROCESS_ENVIRONMENT,
        # One TensorFlow thread per Rasa process by default: a message's model is too small to
        # gain from more, and each worker's thread pools fought the other processes for the
        # cores (measured in docs/BENCHMARKS.md).
        "TF_INTER_OP_PARALLELISM_THREADS": str(settings.tf_inter_op_parallelism_threads),
        "TF_INTRA_OP_PARALLELISM_THREADS": str(settings.tf_intra_op_parallelism_threads),
        "SANIC_WORKERS": str(settings.sanic_workers),
        "ACTION_SERVER_URL": settings.action_server_url,
        "DATABASE_URL": settings.database_url,
        "BIND_HOST": settings.host,
        "PORTAL_PORT": str(settings.portal_port),
        "PORTAL_JWT_SECRET": settings.portal_jwt_secret,
        "TELEGRAM_BRIDGE_SECRET": settings.telegram_bridge_secret or "",
    }


def start_rasa(
    model: Path,
    settings: Settings,
    environment: dict[str, str] | None = None,
    timeout: float = 180.0,
) -> subprocess.Popen:
    """Starts `rasa run` (REST, Telegram bridge, HTTP API); waits until it answers."""
    process = subprocess.Popen(
        rasa_command("run", model, settings),
        cwd=PROJECT_ROOT,
        env={**rasa_environment(settings), **(environment or {})},
        start_new_session=True,
    )
    _wait_until_up(f"http://{settings.host}:{settings.rasa_port}/", process, timeout)
    return process


def start_telegram(environment: dict[str, str] | None = None) -> subprocess.Popen:
    """Starts the Telegram channel process (`python -m bot telegram`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "telegram"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **(environment or {})},
        start_new_session=True,
    )


ENDPOINTS = PROJECT_ROOT / "endpoints.yml"
RUN_DIRECTORY = PROJECT_ROOT / "var" / "run"


def lock_store_endpoint(redis_url: str | None) -> dict[str, object] | None:
    """endpoints.yml's `lock_store` for REDIS_URL (redis://[:password@]host[:port][/db], checked
    by bot.config): our atomic Redis lock store (bot/lock_store.py; Rasa's own RedisLockStore
    races between processes). None keeps Rasa's in-memory lock store: one Rasa process, one
    Sanic worker."""
    if not redis_url:
        return None
    parsed = urlsplit(redis_url)
    endpoint: dict[str, object] = {
        "type": "bot.lock_store.RedisTicketLockStore",
        "url": parsed.hostname,
        "port": parsed.port or 6379,
        "db": int(parsed.path.strip("/") or 0),
        "key_prefix": "stajasistani",
        "use_ssl": parsed.scheme == "rediss",
    }
    if parsed.username:
        endpoint["username"] = unquote(parsed.username)
    if parsed.password:
        endpoint["password"] = unquote(parsed.password)
    return endpoint


def write_endpoints(settings: Settings, directory: Path = RUN_DIRECTORY) -> Path:
    """endpoints.yml plus, with REDIS_URL, the Redis lock store, as a file for one Rasa process.

    endpoints.yml itself stays valid without Redis (Rasa substitutes `${VAR}` but has no
    defaults, so an optional section cannot live there). The file is owner-only: it may hold
    Redis's password.
    """
    endpoints = yaml.safe_load(ENDPOINTS.read_text(encoding="utf-8"))
    lock_store = lock_store_endpoint(settings.redis_url)
    if lock_store is not None:
        endpoints["lock_store"] = lock_store
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"endpoints-{settings.rasa_port}.yml"
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        yaml.safe_dump(endpoints, handle, allow_unicode=True, sort_keys=False)
    return path


def rasa_command(subcommand: str, model: Path, settings: Settings) -> list[str]:
    """`rasa run` or `rasa shell` with our model, endpoints and credentials."""
    command = [
        sys.executable,
        "-m",
        "rasa",
        subcommand,
        "--model",
        str(model),
        "--endpoints",
        str(write_endpoints(settings)),
        "--port",
        str(settings.rasa_port),
        "--interface",
        settings.host,
    ]
    if subcommand == "run":
        command += ["--enable-api", "--credentials", "credentials.yml"]
        if settings.rasa_auth_token:
            # one argument: a generated token may start with "-", which argparse would take
            # for an option when it stands on its own
            command.append(f"--auth-token={settings.rasa_auth_token}")
    return command


def start_portal(settings: Settings) -> subprocess.Popen:
    """The demo portal page with the web chat widget; waits until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "portal"],
        cwd=PROJECT_ROOT,
        env={
            **os.environ,
            "BIND_HOST": settings.host,
            "PORTAL_PORT": str(settings.portal_port),
            "RASA_PORT": str(settings.rasa_port),
            "PORTAL_JWT_SECRET": settings.portal_jwt_secret,
        },
        start_new_session=True,
    )
    _wait_until_up(f"http://{settings.host}:{settings.portal_port}/", process)
    return process


RASA_AUTH_TOKEN_FILE = PROJECT_ROOT / "var" / "rasa-auth-token"


def with_run_secrets(settings: Settings, token_file: Path = RASA_AUTH_TOKEN_FILE) -> Settings:
    """Random per-run secrets for those not set: the portal token key, the HTTP API token, the
    Telegram bridge's secret.

    A generated HTTP API token is written to var/rasa-auth-token (readable by the owner only),
    so an operator can use it while `make run` runs.
    """
    if not settings.rasa_auth_token:
        settings = dataclasses.replace(settings, rasa_auth_token=secrets.token_urlsafe(24))
        token_file.parent.mkdir(exist_ok=True)
        token_file.unlink(missing_ok=True)
        descriptor = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(settings.rasa_auth_token + "\n")
    if not settings.portal_jwt_secret:
        settings = dataclasses.replace(settings, portal_jwt_secret=secrets.token_urlsafe(32))
    if not settings.telegram_bridge_secret:
        settings = dataclasses.replace(settings, telegram_bridge_secret=secrets.token_urlsafe(32))
    return settings


def stop(processes: Sequence[subprocess.Popen]) -> None:
    """Stops the processes (their whole process groups), newest first."""
    for process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in reversed(processes):
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run(model: Path, settings: Settings) -> int:
    """`make run`: action server, Rasa, the demo portal, the staff review app and (with a bot
    token) Telegram, until Ctrl-C (or SIGTERM)."""
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C stops everything even when started from a shell that ignores SIGINT (a background
    # job), whose ignoring the children would otherwise inherit.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    token_hint = "$RASA_AUTH_TOKEN" if settings.rasa_auth_token else "$(cat var/rasa-auth-token)"
    settings = with_run_secrets(settings)
    processes: list[subprocess.Popen] = []
    try:
        processes.append(start_action_server(settings))
        processes.append(start_rasa(model, settings))
        processes.append(start_portal(settings))
        processes.append(start_review_server(settings))
        if settings.telegram_bot_token:
            processes.append(
                start_telegram({"TELEGRAM_BRIDGE_SECRET": settings.telegram_bridge_secret or ""})
            )
        base = f"http://{settings.host}:{settings.rasa_port}"
        telegram = (
            "running (long polling, or the webhook of TELEGRAM_WEBHOOK_URL)"
            if settings.telegram_bot_token
            else "off (set TELEGRAM_BOT_TOKEN, see README)"
        )
        print(
            "\nStaj Asistanı is running. Talk to it:\n"
            f"  web chat on the demo portal: http://{settings.host}:{settings.portal_port}/\n"
            f"  curl -s {base}/webhooks/rest/webhook -H 'Content-Type: application/json' \\\n"
            '       -d \'{"sender": "deneme", "message": "staj ücreti ödenecek mi?"}\'\n'
            "  or, in another terminal: make shell (stop this one first: both use the same ports)\n"
            f"HTTP API (bound to {settings.host} only, token required):\n"
            f'  curl -s "{base}/status?token={token_hint}"\n'
            f"Staff review: http://{settings.host}:{settings.review_port}/ "
            "(create an account: python -m bot staff add NAME --role admin)\n"
            f"Telegram: {telegram}\n"
            "Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop(processes)


def shell(model: Path, settings: Settings) -> int:
    """`make shell`: the action server plus `rasa shell` in this terminal."""
    action_server = start_action_server(settings)
    try:
        return subprocess.call(
            rasa_command("shell", model, settings), cwd=PROJECT_ROOT, env=rasa_environment(settings)
        )
    except KeyboardInterrupt:
        return 0
    finally:
        stop([action_server])
