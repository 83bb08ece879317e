"""Several Sanic workers (SANIC_WORKERS) share the connections out: each listens on its own socket.

Sanic 21.12, Rasa 3.6's, binds one listening socket and hands it to every worker. A worker's
event loop, woken by a new connection, accepts every connection waiting (up to the backlog), so
the first worker to wake took a burst of connections and kept them: clients keep their
connections open (the Telegram process's bridge calls, the web chat's WebSockets). Under load
one worker was busy and the other half idle (docs/BENCHMARKS.md, "make bench-channels").

Here the main process binds the address with SO_REUSEPORT but does not listen on it, and each
worker listens on a socket of its own bound to the same address; the kernel spreads new
connections across the workers' sockets. One worker changes nothing. Installed by
bot.patches.install() in the main process, before Sanic binds (bot/channels/server_start.py).
"""

from __future__ import annotations

import socket
from ipaddress import ip_address
from typing import Any

from sanic.server import runners

from bot.patches import Replacement

_sanic_serve = runners.serve


def bind_without_listening(host: str, port: int, *, backlog: int = 100) -> socket.socket:
    """The address, bound with SO_REUSEPORT so the workers can bind it too; not listening, so
    no connection waits on this socket (`backlog` is the workers' to use)."""
    try:
        family = socket.AF_INET6 if ip_address(host).version == 6 else socket.AF_INET
    except ValueError:  # a host name
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def serve_on_own_socket(**settings: Any) -> Any:
    """A worker of several: Sanic's `serve` on a listening socket of its own (SO_REUSEPORT)."""
    shared = settings.get("sock")
    if (
        settings.get("run_multiple")
        and shared is not None
        and shared.family in (socket.AF_INET, socket.AF_INET6)
    ):
        host, port = shared.getsockname()[:2]
        shared.close()  # this worker's copy; the main process keeps the address bound
        settings.update(sock=None, host=host, port=port, reuse_port=True)
    return _sanic_serve(**settings)


REPLACEMENTS = (
    Replacement(
        runners,
        "bind_socket",
        bind_without_listening,
        "the main process binds the address without listening on it",
    ),
    Replacement(
        runners,
        "serve",
        serve_on_own_socket,
        "each worker listens on a socket of its own (SO_REUSEPORT): the kernel spreads connections",
    ),
)
