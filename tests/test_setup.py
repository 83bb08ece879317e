"""Self-setup: finding Python 3.10, retraining only when inputs change, and `make run`."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.channels.rest import rest_sender_id
from bot.config import PROJECT_ROOT
from bot.db import linking
from bot.db.session import Database
from bot.model import TRAINING_INPUTS, current_model_path, fingerprint
from bot.runner import rasa_command
from tests.conftest import free_port

FIND_PYTHON = PROJECT_ROOT / "scripts" / "find-python310.sh"


def fake_pyenv(tmp_path: Path, versions: dict[str, str]) -> dict[str, str]:
    """An environment whose only Python is a fake pyenv root with the given versions."""
    root = tmp_path / "pyenv"
    for version, target in versions.items():
        bin_dir = root / "versions" / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python").symlink_to(target)
    tools = tmp_path / "bin"
    tools.mkdir()
    pyenv = tools / "pyenv"
    pyenv.write_text(f"#!/bin/sh\necho {root}\n")
    pyenv.chmod(0o755)
    return {"PATH": f"{tools}:/usr/bin:/bin", "HOME": str(tmp_path)}


def test_newest_python_310_under_pyenv_is_found(tmp_path: Path) -> None:
    python310 = os.path.realpath(sys.executable)
    env = fake_pyenv(tmp_path, {"3.10.2": python310, "3.10.13": python310, "3.11.7": "/bin/false"})
    result = subprocess.run([str(FIND_PYTHON)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("versions/3.10.13/bin/python")


def test_without_python_310_it_stops_with_a_clear_message(tmp_path: Path) -> None:
    env = fake_pyenv(tmp_path, {"3.11.7": "/bin/false"})
    result = subprocess.run([str(FIND_PYTHON)], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "Rasa 3.6 needs Python 3.8–3.10" in result.stderr


def copy_training_inputs(target_root: Path) -> None:
    """The project's training inputs, copied under `target_root`."""
    for name in TRAINING_INPUTS:
        source, target = PROJECT_ROOT / name, target_root / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, target)


def test_model_fingerprint_follows_training_inputs_only(tmp_path: Path) -> None:
    copy_training_inputs(tmp_path)
    assert fingerprint(tmp_path) == fingerprint(PROJECT_ROOT)
    (tmp_path / "README.md").write_text("not a training input")
    assert fingerprint(tmp_path) == fingerprint(PROJECT_ROOT)
    with (tmp_path / "data" / "nlu" / "chitchat.yml").open("a") as nlu:
        nlu.write("\n")
    assert fingerprint(tmp_path) != fingerprint(PROJECT_ROOT)
    assert current_model_path(tmp_path).name != current_model_path(PROJECT_ROOT).name


def test_the_text_rules_the_tokenizer_applies_are_training_inputs(tmp_path: Path) -> None:
    copy_training_inputs(tmp_path)
    with (tmp_path / "bot" / "text" / "turkish.py").open("a") as rules:
        rules.write("\n")
    assert fingerprint(tmp_path) != fingerprint(PROJECT_ROOT)


def post_rest(port: int, sender: str, message: str) -> list[dict]:
    """A message through the REST channel; the assistant's replies."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_run_serves_rest_on_loopback_and_a_stop_signal_stops_everything(
    stop_signal: signal.Signals, tmp_path: Path
) -> None:
    rasa_port, action_port, portal_port = free_port(), free_port(), free_port()
    database = tmp_path / "run.db"
    env = {
        **os.environ,
        "RASA_PORT": str(rasa_port),
        "ACTION_PORT": str(action_port),
        "PORTAL_PORT": str(portal_port),
        "REVIEW_PORT": str(free_port()),
        "RASA_AUTH_TOKEN": "setup-test-token",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        started = time.monotonic()
        output = []
        while time.monotonic() - started < 300:
            line = process.stdout.readline()
            output.append(line)
            if "Ctrl-C stops everything" in line or process.poll() is not None:
                break
        assert "webhooks/rest/webhook" in "".join(output), "".join(output)[-3000:]
        assert f"http://127.0.0.1:{portal_port}/" in "".join(output)
        replies = post_rest(rasa_port, "setup-test", "staj süresi kaç gün")
        assert "20 iş günü" in replies[0]["text"]
        # A REST client choosing a linked Telegram user's sender id gets no data.
        db = Database(env["DATABASE_URL"])
        now = dt.datetime.now(dt.timezone.utc)
        linking.redeem_code(db, "telegram", "555", linking.issue_code(db, 1, now), now)
        forged_replies = post_rest(rasa_port, "tg:555", "bekleyen tekliflerim neler")
        assert forged_replies[0]["recipient_id"] == rest_sender_id("tg:555")
        assert "doğrulayabildiğim" in forged_replies[0]["text"]
        db.dispose()
        status_url = f"http://127.0.0.1:{rasa_port}/status"
        with pytest.raises(urllib.error.HTTPError, match="401"):
            urllib.request.urlopen(status_url, timeout=10)  # HTTP API needs the token ...
        with urllib.request.urlopen(f"{status_url}?token=setup-test-token", timeout=10) as status:
            assert status.status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{portal_port}/", timeout=10) as portal:
            assert "Staj Asistanı" in portal.read().decode()  # the demo portal page
        listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
        for port in (rasa_port, action_port, portal_port):  # ... all bound to loopback only
            assert f"127.0.0.1:{port} " in listening
            assert f"0.0.0.0:{port} " not in listening and f"*:{port} " not in listening
    finally:
        if stop_signal == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C in a terminal signals the group
        else:
            process.send_signal(signal.SIGTERM)  # a service manager signals the runner only
        process.wait(timeout=60)
    assert not _port_open(rasa_port)
    assert not _port_open(action_port)
    assert not _port_open(portal_port)
    assert database.exists()  # migrations ran on start-up


def test_shell_binds_its_server_to_loopback_too() -> None:
    # `rasa shell` runs a server of its own; by default Rasa would bind it to 0.0.0.0.
    from bot.config import load_settings

    command = rasa_command("shell", Path("model.tar.gz"), load_settings())
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" not in command


def test_run_makes_secrets_that_are_not_configured(tmp_path: Path) -> None:
    import dataclasses

    from bot.config import load_settings
    from bot.runner import with_run_secrets

    unset = dataclasses.replace(
        load_settings(), portal_jwt_secret="", rasa_auth_token="", telegram_bridge_secret=None
    )
    token_file = tmp_path / "var" / "rasa-auth-token"
    first = with_run_secrets(unset, token_file)
    assert len(first.portal_jwt_secret) >= 32 and len(first.rasa_auth_token) >= 24
    assert len(first.telegram_bridge_secret or "") >= 32
    assert token_file.read_text().strip() == first.rasa_auth_token
    assert token_file.stat().st_mode & 0o777 == 0o600  # the owner's only
    second = with_run_secrets(unset, token_file)
    assert second.portal_jwt_secret != first.portal_jwt_secret
    assert second.rasa_auth_token != first.rasa_auth_token
    configured = dataclasses.replace(
        unset, portal_jwt_secret="a" * 32, rasa_auth_token="t", telegram_bridge_secret="b" * 32
    )
    assert with_run_secrets(configured, tmp_path / "unused") == configured
    assert not (tmp_path / "unused").exists()
    command = rasa_command("run", Path("model.tar.gz"), configured)
    assert "--auth-token=t" in command


def test_rasa_reads_a_generated_token_that_starts_with_a_dash() -> None:
    # secrets.token_urlsafe starts with "-" once in 64 tokens; `make run` must still start
    import dataclasses

    from rasa.__main__ import create_argument_parser

    from bot.config import load_settings

    settings = dataclasses.replace(load_settings(), rasa_auth_token="-Xy_1")
    command = rasa_command("run", Path("model.tar.gz"), settings)
    arguments = create_argument_parser().parse_args(command[command.index("run") :])
    assert arguments.auth_token == "-Xy_1"
    assert arguments.enable_api and arguments.credentials == "credentials.yml"
