"""Where batch stages run: in this process, in a process pool, or on Ray Data.

The stages themselves live in ``newsdesk.batch`` and know nothing of these.
Ray is an optional extra, imported only when the Ray executor runs.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

from .batch import OnDone, ShardTask, ShardWorker, StageResult, WorkerSpec

log = logging.getLogger(__name__)

__all__ = ["EXECUTORS", "ExecutorError", "LocalExecutor", "RayExecutor", "make_executor", "prepare_model"]

EXECUTORS = ("local", "ray")
RAY_HINT = "pip install 'newsdesk[ray]'"


class ExecutorError(RuntimeError):
    """An executor cannot run here (a missing extra, a cluster that cannot be reached)."""


class LocalExecutor:
    """Shards one after another in this process (``workers=1``), or in a pool of
    ``workers`` processes, each loading the model once."""

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers

    def run(self, spec: WorkerSpec, tasks: Sequence[ShardTask], on_done: OnDone) -> None:
        if self.workers == 1 or len(tasks) <= 1:
            worker = spec.build()
            for task in tasks:
                on_done(worker(task))
            return
        prepare_model(spec, tasks)
        # spawn, not fork: torch's thread pools do not survive a fork
        ctx = multiprocessing.get_context("spawn")
        if spec.threads is None:
            spec = replace(spec, threads=threads_per_worker(self.workers))
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(spec,)) as pool:
            futures = [pool.submit(_run_task, t.to_json()) for t in tasks]
            for fut in as_completed(futures):
                on_done(fut.result())


def prepare_model(spec: WorkerSpec, tasks: Sequence[ShardTask]) -> None:
    """Make the embedder's model files (ONNX export, static distillation) once, before
    several workers on this machine start: each worker found them missing and made them
    itself, all at once (two distillations side by side on a fresh machine, seen; on n
    cores n copies of the transformer in memory). Made in a child process: making them
    here would keep torch and the transformer in the driver's memory for the whole run."""
    embeds = any("embeddings" in t.stages for t in tasks)
    if not embeds or spec.build().embedder.ready():  # nothing to embed, or the files are made
        return
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=ctx) as pool:
        pool.submit(_prepare_model, spec).result()


def _prepare_model(spec: WorkerSpec) -> None:
    spec.build().embedder.prepare()


def threads_per_worker(workers: int, cores: int | None = None) -> int:
    """The machine's cores shared out among ``workers`` pool processes (at least one each),
    instead of one model thread per core in every worker, which oversubscribes them."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, cores // workers)


_WORKER: ShardWorker | None = None  # one per pool process, built by the initializer


def _init_worker(spec: WorkerSpec) -> None:
    global _WORKER
    _WORKER = spec.build()


def _run_task(task: str) -> list[StageResult]:
    assert _WORKER is not None, "pool process not initialised"
    return _WORKER(ShardTask.from_json(task))


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ExecutorError(f"the ray executor needs Ray Data: {RAY_HINT}") from exc
    return ray


class _RayShardWorker:
    """A Ray Data actor: builds its ShardWorker (and so the model) once."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from .batch import BatchOptions

        opts = dict(spec["options"])
        opts["fields"] = tuple(tuple(f) for f in opts["fields"])
        # each actor holds one CPU (num_cpus=1 below): one model thread, unless told otherwise
        threads = spec.get("threads") or 1
        self.worker = WorkerSpec(spec["out"], BatchOptions(**opts), spec["model_path"], threads,
                                 spec.get("backend")).build()

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        import json
        from dataclasses import asdict

        results = self.worker(ShardTask.from_json(row["task"]))
        return {"results": json.dumps([asdict(r) for r in results])}


class RayExecutor:
    """Ray Data over shards: one row per shard, mapped by ``workers`` actors (one CPU each).

    Without ``address`` a local Ray is started for the run (``num_cpus=workers``)
    and stopped after it; with one (``ray://host:10001`` or ``auto``) the run joins
    that cluster, whose workers must have newsdesk and the model installed.
    """

    name = "ray"

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.address = address

    def run(self, spec: WorkerSpec, tasks: Sequence[ShardTask], on_done: OnDone) -> None:
        import json
        from dataclasses import asdict

        ray = _import_ray()
        if not self.address:  # the workers share this machine's model cache
            prepare_model(spec, tasks)
        started = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "logging_level": logging.WARNING}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.workers
            try:
                ray.init(**kwargs)
            except Exception as exc:  # noqa: BLE001 - ray raises many kinds; say which address
                where = self.address or "local"
                raise ExecutorError(f"could not start or reach Ray ({where}): {exc}") from exc
            started = True
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False
            ctx.print_on_execution_start = False
            ds = ray.data.from_items([{"task": t.to_json()} for t in tasks], override_num_blocks=len(tasks))
            pool = ray.data.ActorPoolStrategy(size=min(self.workers, len(tasks)))
            ds = ds.map(_RayShardWorker, fn_constructor_kwargs={"spec": asdict(spec)}, compute=pool,
                        num_cpus=1)
            for row in ds.iter_rows():
                on_done([StageResult(**r) for r in json.loads(row["results"])])
        finally:
            if started:
                ray.shutdown()


def make_executor(name: str, *, workers: int = 1, address: str | None = None) -> LocalExecutor | RayExecutor:
    """An executor by name (``local`` or ``ray``)."""
    if name == "local":
        if address:
            raise ValueError("--ray-address is for the ray executor")
        return LocalExecutor(workers)
    if name == "ray":
        return RayExecutor(workers, address)
    raise ValueError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
