"""Thumbnails of a 1 MB STL: the software renderer alone, in its child process, and the worker
path on SQLite.

    python bench/thumbnail.py [--runs 10] [--shape terrain|sphere]

Generates a binary STL of about 1 MB (20,000 triangles: a 101 x 101 random-ish terrain, or a
subdivided sphere), times `render_thumbnail` on it `--runs` times in this process (min /
median / max), then the same drawing as the server does it, in the limited child process of
`objects.sandbox`, and a child that does nothing (the cost of starting one), then once the
whole worker path on a fresh SQLite instance: a local version publishing the file
queues the job (`outbox.designs.publish_version`), and `ThumbnailWorker.run_once` claims,
draws in the child, stores the PNG and marks the job done (with the Update of the Page).
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import trimesh

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.service import create_person
from bench.common import temp_database
from federation.settings import Settings
from objects.designs import FileSpec, VersionSpec, create_project
from objects.mesh_render import render_thumbnail
from objects.sandbox import ParserLimits, Sandbox, Task
from objects.thumbnail_models import ThumbnailJob
from objects.thumbnails import DRAW
from outbox.designs import publish_version
from web.instance_start import open_instance


def terrain_stl(side: int = 101, seed: int = 7) -> bytes:
    """A height field of (side-1)^2 * 2 triangles: gentle hills and some noise."""
    rng = np.random.default_rng(seed)
    x, y = np.meshgrid(np.linspace(0, 1, side), np.linspace(0, 1, side))
    z = 0.15 * np.sin(6 * x) * np.cos(5 * y) + 0.003 * rng.standard_normal(x.shape)
    vertices = np.column_stack([x.ravel(), y.ravel(), z.ravel()])
    cells = np.arange(side * side).reshape(side, side)[:-1, :-1].ravel()
    faces = np.vstack(
        [
            np.column_stack([cells, cells + 1, cells + side]),
            np.column_stack([cells + 1, cells + side + 1, cells + side]),
        ]
    )
    return trimesh.Trimesh(vertices, faces, process=False).export(file_type="stl")


def sphere_stl() -> bytes:
    return trimesh.creation.icosphere(subdivisions=5).export(file_type="stl")


def summary(what: str, timings: list[float]) -> str:
    return (
        f"{what}, {len(timings)} runs: min {min(timings):.3f} s, median "
        f"{statistics.median(timings):.3f} s, max {max(timings):.3f} s"
    )


def time_renders(data: bytes, runs: int) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        png = render_thumbnail(data, "bench.stl")
        timings.append(time.perf_counter() - started)
    print(summary("in this process", timings) + f" (PNG {len(png):,} bytes)")
    return statistics.median(timings)


async def time_children(data: bytes, runs: int, in_process: float) -> None:
    """The same drawing in the sandbox's child, and a child that only starts and answers."""
    sandbox = Sandbox(ParserLimits())
    with tempfile.NamedTemporaryFile(suffix=".stl") as file:
        file.write(data)
        file.flush()
        bare, drawn = [], []
        for _ in range(runs):
            started = time.perf_counter()
            await sandbox.run(Task("objects.model_files", "model_format"), "x.stl", label="x")
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            await sandbox.run(DRAW, file.name, "bench.stl", label="bench.stl")
            drawn.append(time.perf_counter() - started)
    print(summary("a child that only starts and answers", bare))
    print(summary("in a child process (as the server draws)", drawn))
    overhead = statistics.median(drawn) - in_process
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"child cost per render: {overhead:+.3f} s over in-process (median), of which "
        f"{statistics.median(bare):.3f} s starting Python; largest child peak {peak:.0f} MB"
    )


async def time_worker_path(data: bytes) -> None:
    async with temp_database("sqlite") as (url, data_dir):
        settings = Settings(domain="bench.test", data_dir=data_dir, database_url=url)
        async with open_instance(settings) as instance:
            blob = await instance.blobs.put_bytes(data)
            async with instance.sessions() as session:
                maker = await create_person(
                    session,
                    instance.urls,
                    username="maker",
                    email="m@x.test",
                    password="bench-password",
                )
                project, actor = await create_project(
                    session, instance.urls, maker, slug="terrain", name="Terrain", summary=""
                )
                await session.commit()
                started = time.perf_counter()
                spec = VersionSpec(
                    label="1",
                    name="Terrain",
                    licence=instance.policy.terms("CC-BY-SA-4.0"),
                    files=(FileSpec("terrain.stl", "model/stl", blob.size, blob.sha256),),
                )
                await publish_version(session, instance.urls, instance.policy, project, actor, spec)
                await session.commit()
            queued = time.perf_counter()
            while await instance.thumbnail_worker.run_once():
                pass
            done = time.perf_counter()
            async with instance.sessions() as session:
                job = await session.get(ThumbnailJob, 1)
            assert job is not None
            print(
                f"worker path on SQLite: publish and queue {queued - started:.3f} s, "
                f"queue -> {job.state} {done - queued:.3f} s"
                + (f" ({job.last_error})" if job.last_error else "")
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--shape", choices=["terrain", "sphere"], default="terrain")
    args = parser.parse_args()
    data = terrain_stl() if args.shape == "terrain" else sphere_stl()
    faces = (len(data) - 84) // 50
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print(f"binary STL ({args.shape}): {len(data):,} bytes, {faces:,} triangles")
    in_process = time_renders(data, args.runs)
    asyncio.run(time_children(data, args.runs, in_process))
    asyncio.run(time_worker_path(data))


if __name__ == "__main__":
    main()
