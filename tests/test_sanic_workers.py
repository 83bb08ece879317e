"""Several Sanic workers each listen on a socket of their own (bot/patches/sanic.py), so the
kernel spreads connections over them instead of the first worker to wake taking a burst; the
listeners our input channels bring (bot/channels/server_start.py) install it before Sanic
binds, and freeze each worker's start-up heap."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SERVER = """
import gc, os, sys
from sanic import Blueprint, Sanic, response
from bot.channels.server_start import with_start_listeners

app = Sanic("workers")
app.blueprint(with_start_listeners(Blueprint("channel")))  # as each of our input channels does

@app.get("/")
async def pid(request):
    return response.text(f"{os.getpid()} {gc.get_freeze_count() > 0}")

app.run("127.0.0.1", int(sys.argv[1]), workers=2, access_log=False)
"""


def listening_sockets(port: int) -> set[str]:
    """Inodes of the sockets listening on `port` (one per socket, however many processes
    share it)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "0A":  # TCP_LISTEN
            inodes.add(fields[9])
    return inodes


def worker_of_a_new_connection(url: str) -> str:
    with httpx.Client() as client:  # a connection of its own
        return client.get(url, timeout=30).text


def test_two_workers_listen_on_two_sockets_and_both_take_connections() -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(listening_sockets(port)) < 2 and time.monotonic() < deadline:
            assert server.poll() is None, "the server stopped"
            time.sleep(0.1)
        assert len(listening_sockets(port)) == 2  # Sanic's own start: one shared socket

        with ThreadPoolExecutor(16) as pool:
            answers = set(pool.map(worker_of_a_new_connection, [f"http://127.0.0.1:{port}/"] * 64))
        workers = {answer.split()[0] for answer in answers}
        assert len(workers) == 2 and str(server.pid) not in workers
        assert {answer.split()[1] for answer in answers} == {"True"}  # each heap frozen
    finally:
        subprocess.run(["kill", "--", f"-{server.pid}"], check=False)
        server.wait(timeout=30)
