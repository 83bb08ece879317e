"""Light processes stay light: what the action server, the staff review app and the Telegram
process import.

The action server (rasa-sdk, no machine learning), the review app and the Telegram process (a
client of the Rasa server) need neither Rasa nor TensorFlow; importing them there cost seconds
and hundreds of MiB per process (docs/BENCHMARKS.md, "Action server start-up"). Each check
imports the modules in a fresh interpreter and lists the top-level packages it loaded.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from types import ModuleType

import actions
import bot.telegram
from bot.config import PROJECT_ROOT


def modules_of(package: ModuleType) -> list[str]:
    """Every module of the package."""
    return sorted(f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__))


ACTION_MODULES = modules_of(actions)
TELEGRAM_MODULES = modules_of(bot.telegram)


def top_level_packages_imported_by(modules: list[str]) -> set[str]:
    """The top-level packages in sys.modules after importing `modules` in a fresh interpreter."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({name.partition('.')[0] for name in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(result.stdout))


def test_there_are_action_modules_to_check() -> None:
    assert "actions.offers" in ACTION_MODULES and "actions.input_guard" in ACTION_MODULES


def test_the_action_server_imports_neither_rasa_nor_tensorflow() -> None:
    imported = top_level_packages_imported_by(["bot.action_server", *ACTION_MODULES])
    assert "rasa_sdk" in imported
    assert not imported & {"rasa", "tensorflow", "keras"}


def test_the_review_app_imports_neither_rasa_nor_tensorflow() -> None:
    imported = top_level_packages_imported_by(["bot.review.server"])
    assert "aiohttp" in imported
    assert not imported & {"rasa", "rasa_sdk", "tensorflow", "keras"}


def test_the_telegram_process_imports_neither_rasa_nor_sanic() -> None:
    assert "bot.telegram.application" in TELEGRAM_MODULES
    # what `python -m bot telegram` loads before the application: the CLI, the migrations
    imported = top_level_packages_imported_by(
        ["bot.__main__", "bot.model", "bot.db.migrate", *TELEGRAM_MODULES]
    )
    assert "telegram" in imported
    assert not imported & {"rasa", "rasa_sdk", "sanic", "tensorflow", "keras"}
