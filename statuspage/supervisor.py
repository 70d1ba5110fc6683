"""Keep ``statuspage up``'s processes running: a child that exits is started again.

Each child runs in its own process group, so Ctrl-C reaches only the supervisor, which
stops the children in order, and the remains of a dead child (granian's or Celery's own
worker processes) are removed with it before it is started again. Restarts back off from
one second, doubling up to thirty, while a child keeps failing; a child that had run for a
minute counts as healthy again, so its next restart waits one second.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
HEALTHY_AFTER = 60.0
STOP_TIMEOUT = 15.0


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


@dataclass
class Child:
    name: str
    args: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None

    def start(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(self.args, env=env, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None

    def delay(self) -> float:
        return min(MAX_DELAY, FIRST_DELAY * 2 ** min(self.failures, 5))


class Supervisor:
    """Start ``children`` in order, restart any that exits, stop them in reverse order."""

    def __init__(
        self, children: list[Child], env: dict[str, str], log: Callable[[str], None]
    ) -> None:
        self.children = children
        self.env = env
        self.log = log

    def start(self) -> None:
        for child in self.children:
            child.start(self.env)

    def check(self) -> None:
        """Notice exits and start what is due; called a few times a second."""
        now = time.monotonic()
        for child in self.children:
            proc = child.proc
            if child.restart_at is None and proc is not None and proc.poll() is not None:
                _kill_group(proc.pid)
                if now - child.started_at >= HEALTHY_AFTER:
                    child.failures = 0
                wait = child.delay()
                child.failures += 1
                child.restart_at = now + wait
                self.log(f"{child.name} {describe_exit(proc.returncode)}; restarting in {wait:g}s")
            elif child.restart_at is not None and now >= child.restart_at:
                child.start(self.env)

    def stop(self) -> None:
        """Stop the children last to first, each given the rest of a common deadline."""
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in reversed(self.children):
            proc = child.proc
            if proc is None:
                continue
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{child.name} did not stop in time; killing it")
            # The whole group: a child's own workers outlive it otherwise.
            _kill_group(proc.pid)
            proc.wait()
