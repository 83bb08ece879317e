"""Starts the assistant's processes, prints how to reach them, and stops them all on Ctrl-C."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bot.config import PROJECT_ROOT, Settings


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
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions",
         "--port", str(settings.action_port)],
        cwd=PROJECT_ROOT,
        # rasa_sdk binds 0.0.0.0 unless SANIC_HOST says otherwise
        env={**os.environ, **(environment or {}), "SANIC_HOST": settings.host},
        start_new_session=True,
    )
    _wait_until_up(f"http://{settings.host}:{settings.action_port}/health", process)
    return process


def rasa_environment(settings: Settings) -> dict[str, str]:
    """The environment for Rasa: endpoints.yml reads the action server's URL from it."""
    return {**os.environ, "ACTION_SERVER_URL": settings.action_server_url}


def bridge_secret(settings: Settings) -> str:
    """TELEGRAM_BRIDGE_SECRET, or a random one for this run (given to Rasa and Telegram)."""
    return settings.telegram_bridge_secret or secrets.token_urlsafe(32)


def start_rasa(model: Path, settings: Settings, environment: dict[str, str] | None = None,
               timeout: float = 180.0) -> subprocess.Popen:
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


def rasa_command(subcommand: str, model: Path, settings: Settings) -> list[str]:
    """`rasa run` or `rasa shell` with our model, endpoints and credentials."""
    command = [
        sys.executable, "-m", "rasa", subcommand,
        "--model", str(model), "--endpoints", "endpoints.yml",
        "--port", str(settings.rasa_port), "--interface", settings.host,
    ]
    if subcommand == "run":
        command += ["--enable-api", "--credentials", "credentials.yml"]
    return command


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
    """`make run`: the action server, Rasa and (with a bot token) Telegram, until Ctrl-C."""
    signal.signal(signal.SIGTERM, _interrupt)
    processes: list[subprocess.Popen] = []
    bridge = {"TELEGRAM_BRIDGE_SECRET": bridge_secret(settings)}
    try:
        processes.append(start_action_server(settings))
        processes.append(start_rasa(model, settings, bridge))
        if settings.telegram_bot_token:
            processes.append(start_telegram(bridge))
        base = f"http://{settings.host}:{settings.rasa_port}"
        telegram = ("running (long polling, or the webhook of TELEGRAM_WEBHOOK_URL)"
                    if settings.telegram_bot_token else "off (set TELEGRAM_BOT_TOKEN, see README)")
        print(
            "\nStaj Asistanı is running. Talk to it:\n"
            f"  curl -s {base}/webhooks/rest/webhook -H 'Content-Type: application/json' \\\n"
            "       -d '{\"sender\": \"deneme\", \"message\": \"staj ücreti ödenecek mi?\"}'\n"
            "  or, in another terminal: make shell (stop this one first: both use the same ports)\n"
            f"HTTP API: {base}/status (bound to {settings.host} only)\n"
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
