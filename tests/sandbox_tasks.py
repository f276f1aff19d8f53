"""Tasks that misbehave on purpose, for the sandbox's tests: run only in its child process."""

from __future__ import annotations

import os
import time

from federation.errors import ValidationError


def spin() -> None:
    while True:
        pass


def sleep(seconds: int) -> None:
    time.sleep(seconds)


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    return len(block)


def abort() -> None:
    os.abort()


def chatter(megabytes: int) -> bytes:
    return b"x" * (megabytes * 1024 * 1024)


def refuse(message: str) -> None:
    raise ValidationError(message)


def environment() -> list[str]:
    return sorted(os.environ)


def write_file(path: str) -> str:
    with open(path, "w") as file:
        file.write("written")
    return path


def leave_a_process(marker: str) -> str:
    """Start a process that outlives this one and holds its stdout open."""
    import subprocess

    subprocess.Popen(["sleep", "60", marker])
    return "left"
