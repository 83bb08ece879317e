"""The action server: rasa-sdk's server for the actions in `actions/`.

    python -m bot actions --port 5055 [--host 127.0.0.1]

What `python -m rasa_sdk --actions actions` does, bound to loopback by default (rasa-sdk binds
0.0.0.0 unless told otherwise) and with the start-up heap left out of garbage collection once
the server is up (bot/heap.py). ACTION_SERVER_SANIC_WORKERS sets the worker processes, as it
does for rasa-sdk (checked at start-up with the other settings, bot/config.py); LOG_LEVEL
(INFO by default, as for Rasa) the log level. Every log record is masked (bot/log_masking.py):
rasa-sdk logs requests, with what the student wrote, when an action fails and at debug level.
"""

from __future__ import annotations

import argparse

from rasa_sdk import utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic

from bot import log_masking
from bot.config import load_settings
from bot.heap import freeze_startup_heap

ACTIONS_PACKAGE = "actions"


async def _freeze(app: Sanic, loop: object) -> None:
    freeze_startup_heap()


def main(argv: list[str] | None = None) -> int:
    """Serves the actions until stopped."""
    parser = argparse.ArgumentParser(
        prog="python -m bot actions",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    utils.configure_colored_logging(load_settings().log_level)
    utils.update_sanic_log_level()
    log_masking.install()
    # Only Rasa calls the action server, never a browser: no CORS headers.
    app = create_app(ACTIONS_PACKAGE, cors_origins=None)
    app.register_listener(_freeze, "after_server_start")
    app.run(args.host, args.port, workers=load_settings().action_server_sanic_workers)
    return 0
