"""`ourdesign serve`: one web process, or several sharing one listening socket.

Several processes (`serve --workers N`) need PostgreSQL: they are separate engines on one
database, and SQLite has one writer, which a single process already keeps busy. The
processes are uvicorn's supervisor and its children: the parent binds the socket and
restarts a child that dies; each child builds the app from the settings the parent read
(`AppOfSettings` is pickled to it), so `--config` and the environment reach them all.
Other processes' commits reach each of them through LISTEN/NOTIFY (federation.notify).

The supervisor only watches its children, so `ourdesign serve` replaces itself with a
Python that runs `web.serving.supervise` (same process id) once the database is migrated:
a process that imported only this module and uvicorn (some 30 MB) instead of the whole
instance (some 110 MB). For the same reason the app is imported only in the web processes.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import uvicorn
from uvicorn.supervisors import Multiprocess

from federation.settings import Settings
from web.logs import configure_logging

# On SIGTERM: open requests get this long, then the workers get stop_grace_seconds; the
# whole stop stays within docs/DEPLOY.md's TimeoutStopSec.
SERVE_DRAIN_SECONDS = 3


@dataclass(frozen=True)
class AppOfSettings:
    """Builds the app in each web process (a picklable factory for uvicorn's children)."""

    settings: Settings
    run_workers: bool

    def __call__(self) -> Any:
        # Here, not at the top: the supervisor never loads the app (see the module's comment).
        from web.app import create_app

        configure_logging(self.settings.log_format, self.settings.log_level)
        return create_app(self.settings, run_workers=self.run_workers)


def refuse_many_on_sqlite(settings: Settings, processes: int) -> None:
    if processes < 1:
        raise click.UsageError("--workers must be 1 or more")
    if processes > 1 and not settings.effective_database_url.startswith("postgresql"):
        raise click.UsageError(
            f"--workers {processes} needs PostgreSQL: on SQLite one process is the most that"
            " helps (SQLite has one writer). Run `serve` without --workers, or move the"
            " database with `ourdesign db move-to-postgres` and set OURDESIGN_DATABASE_URL."
        )


def serve_processes(
    settings: Settings, host: str, port: int, processes: int, run_workers: bool
) -> None:
    """Serve on host:port with `processes` web processes (the database already migrated)."""
    config = uvicorn.Config(
        AppOfSettings(settings, run_workers),
        factory=True,
        host=host,
        port=port,
        workers=processes,
        proxy_headers=True,
        log_config=None,  # configured in each process; requests are logged by our middleware
        access_log=False,
        log_level=settings.log_level,
        timeout_graceful_shutdown=SERVE_DRAIN_SECONDS,
    )
    if processes == 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def become_supervisor(
    host: str, port: int, processes: int, run_workers: bool, config: str | None
) -> None:
    """Replace this process with a small one that serves with `processes` web processes."""
    args = [host, str(port), str(processes), "1" if run_workers else "0", config or ""]
    sys.stdout.flush()
    sys.stderr.flush()
    # Through the module's own name (not `-m`), so that the children unpickle
    # web.serving's AppOfSettings rather than look for it in their __main__.
    os.execv(sys.executable, [sys.executable, "-c", SUPERVISE, *args])


SUPERVISE = "import sys; from web.serving import supervise; supervise(sys.argv[1:])"


def supervise(argv: list[str]) -> None:
    host, port, processes, run_workers, config = argv
    settings = Settings.from_env(config_file=Path(config) if config else None)
    configure_logging(settings.log_format, settings.log_level)
    serve_processes(settings, host, int(port), int(processes), run_workers == "1")
