"""How long the action server takes to start, and how much memory it holds once it answers.

    python -m bot.benchmarks.startup [--runs 5] [--root DIR ...]

Starts `python -m bot actions` on a free port from each checkout `--root` names (default: this
one; the checkout's own code wins, as its directory comes first on `sys.path`), polls `/health`
every 10 ms, and reads the process's memory from `/proc/<pid>/status` the moment it answers.
Checkouts take turns run by run, so a busy moment of the machine falls on all of them alike.
Prints one Markdown row per checkout: the median of the runs.

Figures per run:
- seconds from starting the interpreter to the first answer of `/health` (wall clock);
- VmRSS and VmHWM (peak) in MiB, Linux's own accounting of the process's resident memory;
- whether TensorFlow's shared library is mapped into the process (`/proc/<pid>/maps`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bot.config import PROJECT_ROOT
from bot.runner import free_port

POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Start:
    """One start of the action server: seconds to /health, memory in MiB, TensorFlow mapped."""

    seconds: float
    rss_mib: float
    peak_mib: float
    tensorflow: bool


def _memory_mib(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM of the process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024  # kB
    return fields["VmRSS"], fields["VmHWM"]


def _maps_tensorflow(pid: int) -> bool:
    return "tensorflow" in Path(f"/proc/{pid}/maps").read_text()


def start_once(root: Path) -> Start:
    """Starts the action server of the checkout at `root`, measures it, stops it."""
    port = free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "actions", "--port", str(port)],
        cwd=root,
        env={**os.environ, "ACTION_SERVER_SANIC_WORKERS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the action server of {root} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() - started > TIMEOUT_SECONDS:
                    raise RuntimeError(f"no answer from {root} in {TIMEOUT_SECONDS} s") from None
                time.sleep(POLL_SECONDS)
        seconds = time.monotonic() - started
        rss, peak = _memory_mib(process.pid)
        return Start(seconds, rss, peak, _maps_tensorflow(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Measures each checkout `--runs` times and prints the medians as Markdown rows."""
    parser = argparse.ArgumentParser(prog="python -m bot.benchmarks.startup")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", type=Path, action="append", help="a checkout (repeatable)")
    args = parser.parse_args(argv)
    roots = [root.resolve() for root in args.root or [PROJECT_ROOT]]
    starts: dict[Path, list[Start]] = {root: [] for root in roots}
    for _ in range(args.runs):
        for root in roots:
            starts[root].append(start_once(root))
    print(f"load average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| checkout | start to /health | RSS when ready | peak RSS | TensorFlow loaded |")
    print("|---|---|---|---|---|")
    for root, runs in starts.items():
        print(
            f"| {root} | {statistics.median(s.seconds for s in runs):.2f} s "
            f"({min(s.seconds for s in runs):.2f}–{max(s.seconds for s in runs):.2f}) "
            f"| {statistics.median(s.rss_mib for s in runs):.0f} MiB "
            f"| {statistics.median(s.peak_mib for s in runs):.0f} MiB "
            f"| {'yes' if any(s.tensorflow for s in runs) else 'no'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
