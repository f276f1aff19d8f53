"""The child process of `objects.sandbox`: limit itself, run one task, answer on stdout.

    python -m objects.sandbox_child '{"task": {...}, "args": [...], "limits": {...}}'

The limits are set before the task's module is even imported, so nothing the file does can
outgrow them. The answer is one JSON line ({"value": ...}, {"bytes": true} followed by the
bytes, {"refused": message}, {"over": "memory"} or {"failed": what}) and nothing else.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
from typing import Any

from federation.errors import FederationError

MB = 1024 * 1024


def limit_resources(limits: dict[str, Any]) -> None:
    memory = int(limits["memory_mb"]) * MB
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # SIGXCPU (which ends the process) at the soft limit, SIGKILL one second later.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it writes no file
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))  # and starts no process or thread


def run(spec: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    task = spec["task"]
    try:
        function = getattr(importlib.import_module(task["module"]), task["function"])
        result = function(*spec["args"])
    except FederationError as exc:
        return {"refused": exc.message}, b""
    except MemoryError:
        return {"over": "memory"}, b""
    except Exception as exc:  # a parser's own failure on a hostile file
        return {"failed": f"{type(exc).__name__}: {exc!s:.300}"}, b""
    if isinstance(result, bytes):
        return {"bytes": True}, result
    return {"value": result}, b""


def main() -> None:
    spec = json.loads(sys.argv[1])
    limit_resources(spec["limits"])
    header, payload = run(spec)
    out = sys.stdout.buffer
    out.write(json.dumps(header).encode() + b"\n")
    out.write(payload)
    out.flush()


if __name__ == "__main__":
    main()
