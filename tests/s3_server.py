"""A real S3-compatible server for the tests: moto's standalone `moto_server` (PyPI
`moto[server]`), started as its own process on a loopback port. It speaks S3 over HTTP
like any other service; nothing in our code knows it is not Amazon's or MinIO's."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx

from objects.object_store import s3_client
from tests.live import free_port

KEYS = {"s3_access_key_id": "testing", "s3_secret_access_key": "testing"}


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """The server's endpoint URL while it runs."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/moto-api/", timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("moto_server did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


async def new_bucket_settings(endpoint: str) -> dict[str, Any]:
    """Settings for an instance whose files live in a new, empty bucket of `endpoint`."""
    from federation.settings import Settings

    bucket = f"od-{uuid.uuid4().hex[:12]}"
    settings = {"file_store": "s3", "s3_endpoint_url": endpoint, "s3_bucket": bucket, **KEYS}
    async with s3_client(Settings(**settings)) as client:
        await client.create_bucket(Bucket=bucket)
    return settings
