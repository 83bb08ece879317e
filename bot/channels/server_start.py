"""What every Rasa server of the assistant does as it starts, hooked on through our channels.

Rasa puts one piece of our code on its Sanic app before it starts serving: the blueprints of the
input channels in credentials.yml (rasa.core.channels.channel.register, before `app.run`).
Listeners on a blueprint are Sanic's supported start-up hooks, so each of our channels adds:
- `main_process_start`: bot.patches.install() and the masking of log records
  (bot/log_masking.py), in the process that then binds the port and, for
  several workers, forks them (they inherit the replacements). It runs before Sanic binds, as
  the Sanic replacement needs, and before any model is loaded.
- `after_server_start`: the start-up heap left out of garbage collection (bot/heap.py), in each
  worker once it serves: Rasa loads the model `before_server_start`, so the model is in it.
Each runs once per process, however many channels add it.
"""

from __future__ import annotations

import asyncio
import functools

from sanic import Blueprint, Sanic

from bot import log_masking, patches
from bot.heap import freeze_startup_heap


def _install_patches(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
    patches.install()
    log_masking.install()


@functools.cache
def _freeze_startup_heap_once() -> None:
    freeze_startup_heap()


def _freeze_startup_heap(app: Sanic, loop: asyncio.AbstractEventLoop) -> None:
    _freeze_startup_heap_once()


def with_start_listeners(blueprint: Blueprint) -> Blueprint:
    """The blueprint, with the listeners every Rasa server of the assistant needs."""
    blueprint.listener("main_process_start")(_install_patches)
    blueprint.listener("after_server_start")(_freeze_startup_heap)
    return blueprint
