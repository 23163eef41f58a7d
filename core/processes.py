"""Processes recorded in the database by name (`host:pid`: job workers, importers) and whether one runs."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def process_name() -> str:
    """host:pid of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def local_pid(name: str | None) -> int | None:
    """The pid of a process named host:pid when it runs on this host, else None."""
    host, _, pid = (name or "").rpartition(":")
    return int(pid) if host == socket.gethostname() and pid.isdigit() else None


def is_alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except PermissionError:  # another account's process: it exists
        pass
    except OSError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not status.is_file() or "State:\tZ" not in status.read_text()
