"""A real ``newsdesk serve`` process on a free loopback port, for the API and browser tests.

Started as ``python -m newsdesk --db PATH serve``, so on the PostgreSQL run the
conftest maps PATH to that run's schema like any other CLI call.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

SEEDS = Path(__file__).resolve().parent.parent / "samples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(db: Path, data_dir: Path, *, timeout: float = 120.0, args: Sequence[str] = (),
                   env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start the server (with extra ``serve`` options ``args`` and environment ``env``),
    wait until /api/health answers, yield its base URL, stop it."""
    port = free_port()
    log = (data_dir.parent / f"serve-{port}.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsdesk", "--db", str(db), "serve", "--port", str(port),
         "--data-dir", str(data_dir), *args], stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, **env} if env else None)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: "
                                   f"{Path(log.name).read_text()[-2000:]}")
            try:
                # 401: a --private server is up, and wants its token.
                if httpx.get(base + "/api/health", timeout=2).status_code in (200, 401):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not answer in {timeout:.0f} s")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_for_job(client: httpx.Client, job: dict, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while job["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job['id']} still {job['status']} after {timeout:.0f} s")
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job
