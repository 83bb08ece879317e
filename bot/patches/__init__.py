"""Our replacements of Rasa's, Sanic's and aiohttp's internals, fenced in one place.

Each replacement does what the library's own code does, cheaper or for several messages at
once (bot/patches/rasa.py), spreads connections over Sanic's workers (bot/patches/sanic.py), or
checks button payloads where Rasa parses them (bot/patches/payloads.py);
why, and what it saved, is written beside each. They are assignments onto the libraries'
classes and modules, so:
- nothing is replaced on import: `install()` does it, once per process;
- only on the library versions they were written against (PINNED); on any other version
  `install()` logs a warning and replaces nothing, so an upgrade runs the libraries' own code;
- tests/test_rasa_patches.py records a SHA-256 of each replaced original's source: an upgrade
  that changes one fails there, loudly, until the replacement is checked against it;
- STAJ_RASA_PATCHES=off (bot/config.py) leaves every library's own code in place, to bisect a
  problem.

Who calls `install()`: between them, every Rasa process of the assistant.
- The `main_process_start` listener our input channels put on Rasa's Sanic app
  (bot/channels/server_start.py; credentials.yml): `rasa run`'s main process, before Sanic
  binds the port and forks the workers, which inherit the replacements. It is the only hook
  that runs before the bind, which the Sanic replacement needs.
- The creation of our tracker store (bot/tracker_store.py; endpoints.yml): `rasa shell`, and
  agents loaded in-process with it.
- Code that loads an agent itself (the tests' agents, `make bench-channels`'s profile).
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

logger = logging.getLogger(__name__)

# The versions the replacements were written against (requirements.lock).
PINNED = {"rasa": "3.6.21", "sanic": "21.12.2", "aiohttp": "3.9.5"}


@dataclass(frozen=True)
class Replacement:
    """One attribute of a library's class or module, and what install() puts in its place.

    `original` is the library's own attribute, taken when the Replacement is made (on import of
    the module that makes it, before anything is installed); `why` is the reason, in a line.
    """

    owner: type | ModuleType
    name: str
    replacement: Callable[..., Any]
    why: str
    original: Callable[..., Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "original", vars(self.owner)[self.name])

    @property
    def target(self) -> str:
        """The replaced attribute's dotted name, e.g. rasa.core.processor.MessageProcessor.x."""
        if isinstance(self.owner, ModuleType):
            return f"{self.owner.__name__}.{self.name}"
        return f"{self.owner.__module__}.{self.owner.__qualname__}.{self.name}"


def replacements() -> tuple[Replacement, ...]:
    """Every replacement, in the order install() makes them (imports Rasa and Sanic)."""
    from bot.patches import payloads, rasa, sanic

    return (*rasa.REPLACEMENTS, *sanic.REPLACEMENTS, *payloads.REPLACEMENTS)


def installed_versions() -> dict[str, str | None]:
    """The installed version of each pinned distribution (None when it is missing)."""
    versions: dict[str, str | None] = {}
    for distribution in PINNED:
        try:
            versions[distribution] = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            versions[distribution] = None
    return versions


def refusal(switched_on: bool, versions: Mapping[str, str | None]) -> str | None:
    """Why install() must replace nothing, or None when it may."""
    if not switched_on:
        return "STAJ_RASA_PATCHES=off: the libraries' own code runs"
    other = {name: version for name, version in versions.items() if version != PINNED[name]}
    if other:
        found = ", ".join(f"{name} {version}" for name, version in sorted(other.items()))
        pinned = ", ".join(f"{name} {PINNED[name]}" for name in sorted(other))
        return f"written for {pinned}, found {found}: the libraries' own code runs"
    return None


@functools.cache
def install() -> bool:
    """Installs every replacement in this process, the first time it is called; True when they
    are in place. Refuses (a warning, nothing replaced) on other library versions, and stays
    off with STAJ_RASA_PATCHES=off."""
    from bot.config import load_settings

    reason = refusal(load_settings().rasa_patches, installed_versions())
    if reason is not None:
        logger.warning("Replacements of Rasa internals not installed (bot/patches): %s", reason)
        return False
    made = replacements()
    for replacement in made:
        setattr(replacement.owner, replacement.name, replacement.replacement)
    logger.info("Installed %d replacements of Rasa and Sanic internals (bot/patches)", len(made))
    return True
