"""Untrusted files are read in a child process with memory and CPU limits, never in `serve`.

A file from a member or from another instance can be built to cost far more to parse than
its size says (a 443 KB glTF whose one mesh 2,500 nodes reference flattens into 4 GB). A
thread cannot be stopped and shares the server's memory, so every parser runs here instead:
`Sandbox.run` starts `python -m objects.sandbox_child` on a named task, the child sets its
own limits (address space, CPU seconds, no core file, no file written, no process started)
before it reads a byte, and the parent kills its process group past a wall-clock deadline.
The child gets no secrets (a minimal environment), no inherited descriptors and no
database; it reads the file by path and answers on stdout with one JSON line and an
optional binary payload, both size-capped.

Whatever goes wrong in the child is the file's fault and comes back as the caller's error
class with a message its owner can read; only failing to start the child is ours (OSError).
The parsing modules themselves (`objects.mesh_render`, `objects.image_read`) and their
libraries are never imported by the server: an import-linter contract in pyproject.toml
refuses such an import anywhere outside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from federation.errors import FederationError, ValidationError
from federation.json_input import MalformedJSON, parse_json

log = logging.getLogger(__name__)
CHILD_MODULE = "objects.sandbox_child"
# A thumbnail is a few hundred KB; an answer beyond this is a child gone wrong.
MAX_ANSWER_BYTES = 16_000_000
MAX_STDERR_BYTES = 20_000
# Kept from the server's environment: what Python needs to start and find its packages.
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "SYSTEMROOT")


@dataclass(frozen=True)
class Task:
    """A parsing function the child runs, named (never imported here): module and function."""

    module: str
    function: str


@dataclass(frozen=True)
class ParserLimits:
    """Per child: address space (MB), processor time (s) and wall-clock time (s)."""

    memory_mb: int = 2048
    cpu_seconds: int = 30
    wall_seconds: float = 60.0

    def __post_init__(self) -> None:
        if self.memory_mb < 256 or self.cpu_seconds < 1 or self.wall_seconds <= 0:
            raise ValidationError(
                "parser limits: memory must be at least 256 MB, CPU at least 1 s and the"
                f" deadline above 0 s, not {self}"
            )


@dataclass(frozen=True)
class Answer:
    """What a task returned: a JSON value, and the bytes it returned (if it returned bytes)."""

    value: Any
    payload: bytes | None


class Sandbox:
    """Runs tasks on untrusted files in limited child processes, at most `processes` at once
    (each may take `limits.memory_mb`)."""

    def __init__(self, limits: ParserLimits, *, processes: int = 2) -> None:
        self.limits = limits
        self._slots = asyncio.Semaphore(max(1, processes))

    async def run(
        self,
        task: Task,
        *args: str | int,
        label: str,
        error: type[FederationError] = ValidationError,
    ) -> Answer:
        """Run `task(*args)` in a child; `error(message)` if the child refuses the file, goes
        over a limit or dies (`label` names the file in the message)."""
        async with self._slots:
            child = await asyncio.create_subprocess_exec(
                *child_command(task, args, self.limits),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=child_environment(),
                start_new_session=True,  # its own process group, killed as one
            )
            return await self._outcome(child, label, error)

    async def _outcome(
        self, child: asyncio.subprocess.Process, label: str, error: type[FederationError]
    ) -> Answer:
        assert child.stdout is not None and child.stderr is not None
        try:
            async with asyncio.timeout(self.limits.wall_seconds):
                out, err = await asyncio.gather(
                    read_capped(child.stdout, MAX_ANSWER_BYTES, lambda: _kill(child)),
                    read_capped(child.stderr, MAX_STDERR_BYTES, lambda: None),
                )
                await child.wait()
        except TimeoutError:
            raise error(
                f"reading {label} took longer than {self.limits.wall_seconds:g} s,"
                " so it was stopped"
            ) from None
        finally:
            await _stop(child)
        if out is None:
            raise error(f"reading {label} gave an answer too large to be true, so it was stopped")
        return self._answer(child.returncode, out, err or b"", label, error)

    def _answer(
        self,
        code: int | None,
        out: bytes,
        err: bytes,
        label: str,
        error: type[FederationError],
    ) -> Answer:
        if code != 0:
            log.warning("a parser child stopped (%s): %s", code, err.decode(errors="replace"))
            raise error(self._death(code, label))
        header, _, payload = out.partition(b"\n")
        try:
            # The child read a hostile file: its answer is parsed like any outside JSON.
            answer = parse_json(header, "the child's answer")
        except MalformedJSON:
            raise error(f"reading {label} gave no answer") from None
        if not isinstance(answer, dict):
            raise error(f"reading {label} gave no answer")
        if "refused" in answer:
            raise error(str(answer["refused"])[:1000])
        if answer.get("over") == "memory":
            raise error(
                f"reading {label} needed more than {self.limits.memory_mb} MB of memory,"
                " so it was stopped"
            )
        if "failed" in answer:
            raise error(f"{label} could not be read: {str(answer['failed'])[:300]}")
        return Answer(answer.get("value"), payload if answer.get("bytes") else None)

    def _death(self, code: int | None, label: str) -> str:
        if code == -signal.SIGXCPU:
            return (
                f"reading {label} used more than {self.limits.cpu_seconds} s of processor time,"
                " so it was stopped"
            )
        if code == -signal.SIGKILL:
            return f"reading {label} was stopped by the system (most often for memory)"
        if code is not None and code < 0:
            return f"reading {label} crashed the reader ({signal.Signals(-code).name})"
        return f"reading {label} stopped the reader (exit status {code})"


async def read_capped(
    stream: asyncio.StreamReader, cap: int, on_overflow: Callable[[], None]
) -> bytes | None:
    """Everything `stream` gives until its end, or None past `cap` bytes (`on_overflow` is
    called then; the rest is read and dropped, so that the pipe reaches its end)."""
    chunks, size = [], 0
    while chunk := await stream.read(65536):
        size += len(chunk)
        if size <= cap:
            chunks.append(chunk)
        elif size - len(chunk) <= cap:
            on_overflow()
    return b"".join(chunks) if size <= cap else None


def _kill(child: asyncio.subprocess.Process) -> None:
    """The child and anything it started: it leads its own process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)


async def _stop(child: asyncio.subprocess.Process) -> None:
    """Kill the child's process group (the child may be gone while a process it started holds
    its pipes), read the pipes to their end (asyncio's wait() returns only once they are
    closed) and reap the child."""
    _kill(child)
    for stream in (child.stdout, child.stderr):
        if stream is not None:
            while await stream.read(65536):
                pass
    await child.wait()


def child_environment() -> dict[str, str]:
    """The child's whole environment: how to find our packages, and one thread for numeric
    libraries (their thread pools would otherwise reserve memory the limit counts)."""
    env = {name: os.environ[name] for name in KEPT_ENVIRONMENT if name in os.environ}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    return env


def child_command(task: Task, args: Sequence[str | int], limits: ParserLimits) -> list[str]:
    """The command `run` starts (for benches and tests that time or inspect it)."""
    spec = {"task": asdict(task), "args": list(args), "limits": asdict(limits)}
    return [sys.executable, "-m", CHILD_MODULE, json.dumps(spec)]
