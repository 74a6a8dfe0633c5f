"""The batch load step alone: prepared articles into SQLite and into PostgreSQL.

    python bench/bench_store_load.py                                  # 5,000 HTML pages, SQLite only
    python bench/bench_store_load.py --pg postgresql://127.0.0.1/test # and a fresh PostgreSQL database
    python bench/bench_store_load.py --n 10000 --runs 3 --pg URL
    python bench/bench_store_load.py --stages DIR --tag new   # a finished `newsdesk batch --no-store` output
    python bench/bench_store_load.py --stages DIR --memory    # and where the memory is (RSS, index by part)
    python bench/bench_store_load.py --stages DIR --parts     # and the driver's parts, by segment
    python bench/bench_store_load.py --stages DIR --load-shards 1   # shard by shard (older code's load)

The stages (read+clean, copy sketches, embeddings) run once, with the local
executor, on bench/corpus.py's corpus into ``bench/out/store_load_n<N>``; then each
run loads that output with ``newsdesk.batch.load`` (articles, copy folding,
embeddings, story placement: what the driver does in ``run_batch``) into a fresh
store, in this process, one store after the other. Printed per store: the seconds
(and CPU seconds) for the whole load, articles per second, and the seconds each successive 1,000
stored articles took (flat when the cost of an article does not grow with the
store), and the process's peak RSS during the load (VmHWM, reset before each load).
Medians over ``--runs``. With ``--stages`` the stage output of an earlier
``newsdesk batch ... --no-store`` run is loaded instead (the corpus is not built);
run the script with ``PYTHONPATH`` pointing at another checkout's ``src`` to load the
same output with other code. The shared data is read from ../shared/data (or
NEWSDESK_SHARED_DATA); without it the script exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
import memory as memlib  # noqa: E402
from bench_batch import _drop_pg, _fresh_pg  # noqa: E402


def prepare(n: int, seed: int) -> Path:
    """The stage output for an ``n``-page corpus (made once, reused)."""
    from newsdesk.batch import run_batch
    from newsdesk.executors import make_executor

    cdir = HERE / "out" / f"ingest_corpus_n{n}_s{seed}"
    corpus.build(cdir, n, seed, ("html",))
    out = HERE / "out" / f"store_load_n{n}_s{seed}"
    t0 = time.perf_counter()
    report = run_batch([str(cdir / "html")], out, make_executor("local", workers=2))
    print(f"stages: {report.articles:,} articles in {time.perf_counter() - t0:.0f} s "
          f"(reused where already done) -> {out}", flush=True)
    return out


# The driver's parts timed by --parts: (label, module, class or None, function).
PARTS = (
    ("add articles", "newsdesk.store", "Store", "add_articles"),
    ("copies: fold", "newsdesk.copies", "CopyIndex", "place_batch"),
    ("copies: key prefetch", "newsdesk.store", "SqlBuckets", "prefetch"),
    ("copies: save", "newsdesk.store", "Store", "save_copy_matches"),
    ("copies: key write", "newsdesk.store", "SqlBuckets", "_write"),
    ("stories: place", "newsdesk.storybook", "StoryBook", "place"),
    ("stories: re-cuts", "newsdesk.storybook", "StoryBook", "_refine"),
    ("stories: save", "newsdesk.storybook", "StoryBook", "save"),
    # every transaction's commit, whichever part it ends (on SQLite: writing the pages it
    # dirtied to the WAL; both dialects use this one method)
    ("every commit", "sqlalchemy.engine.default", "DefaultDialect", "do_commit"),
)


@contextlib.contextmanager
def timed_parts() -> Iterator[dict[str, float]]:
    """Seconds spent in each of PARTS (nested: a key prefetch is part of the fold) and in
    the garbage collector, while the block runs; the functions are wrapped, then restored."""
    import gc
    import importlib

    acc: dict[str, float] = {label: 0.0 for label, *_ in PARTS} | {"garbage collector": 0.0}
    saved = []

    def wrap(label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                acc[label] += time.perf_counter() - t
        return timed

    for label, mod, cls, name in PARTS:
        owner = getattr(importlib.import_module(mod), cls)
        saved.append((owner, name, getattr(owner, name)))
        setattr(owner, name, wrap(label, getattr(owner, name)))
    started: list[float] = []

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            acc["garbage collector"] += time.perf_counter() - started.pop()

    gc.callbacks.append(on_gc)
    try:
        yield acc
    finally:
        gc.callbacks.remove(on_gc)
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def load_once(db: str, out: Path, memory: bool = False, parts: bool = False,
              segment: int = 10_000, load_shards: int | None = None) -> dict[str, object]:
    from newsdesk.batch import load
    from newsdesk.store import Store

    marks: list[tuple[float, int]] = []
    rss: list[tuple[int, float]] = []  # (stored, VmRSS MB) after each shard, with --memory
    # with --parts: (stored, seconds, parts' totals so far) at the first shard past each segment
    cuts: list[tuple[int, float, dict[str, float]]] = [(0, 0.0, {})]
    totals: dict[str, float] = {}
    stored = 0
    t0 = time.perf_counter()

    def progress(_shard: str, n: int) -> None:
        nonlocal stored
        stored += n
        marks.append((time.perf_counter() - t0, stored))
        if memory:
            rss.append((stored, round(memlib.rss_mb(), 1)))
        if parts and stored >= cuts[-1][0] + segment:
            cuts.append((stored, time.perf_counter() - t0, dict(totals)))

    _reset_peak_rss()
    mem: dict[str, object] = {}
    cpu0 = time.process_time()
    timer: contextlib.AbstractContextManager[dict[str, float]] = (
        timed_parts() if parts else contextlib.nullcontext({}))
    with Store(db) as store, timer as spent:
        totals = spent  # the running totals, read at each segment's end
        report = (load(store, out, progress=progress) if load_shards is None
                  else load(store, out, progress=progress, load_shards=load_shards))
        wall = time.perf_counter() - t0
        if parts and cuts[-1][0] < stored:
            cuts.append((stored, wall, dict(spent)))
        cpu = time.process_time() - cpu0
        count = store.count_articles()
        stories = len(set(store.story_map().values()))
        if memory and report.storybook is not None:
            mem["rss_end_mb"] = round(memlib.rss_mb(), 1)
            mem["index_parts_mb"] = {k: round(v / 2**20, 1)
                                     for k, v in memlib.index_parts(report.storybook.index).items()}
            mem["story_record"] = memlib.story_record(report.storybook.index)
            memlib.trim()
            mem["rss_trimmed_mb"] = round(memlib.rss_mb(), 1)
            mem["rss_by_shard"] = rss
    per_thousand: list[float] = []
    last_t, next_mark = 0.0, 1000
    for t, n in marks:
        if n >= next_mark:
            per_thousand.append(round((t - last_t) / (n - next_mark + 1000) * 1000, 1))
            last_t, next_mark = t, n + 1000
    by_segment = [{"from": a[0], "to": b[0], "seconds": round(b[1] - a[1], 2)}
                  | {k: round(v - a[2].get(k, 0.0), 2) for k, v in b[2].items()}
                  for a, b in itertools.pairwise(cuts)]
    return {"wall": wall, "cpu": cpu, "stored": count, "stories": stories, "per_1000": per_thousand,
            "peak_rss_mb": _peak_rss_mb(), "parts": {k: round(v, 2) for k, v in spent.items()},
            "parts_by_segment": by_segment} | mem


def _reset_peak_rss() -> None:
    """Start VmHWM afresh (Linux: 5 to clear_refs), so each load's peak is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # elsewhere the peak is the process's so far


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=1, help="loads per store (median reported)")
    ap.add_argument("--stages", type=Path, help="load this finished stage output instead of building one")
    ap.add_argument("--memory", action="store_true",
                    help="also sample RSS after each shard, and after the load measure the story "
                         "index by part and the RSS left once glibc returns freed pages")
    ap.add_argument("--parts", action="store_true",
                    help="also time the driver's parts (articles, copies, stories, commits) and the "
                         "garbage collector, over the whole load and over each --segment of it")
    ap.add_argument("--segment", type=int, default=10_000,
                    help="with --parts, articles per segment of the by-segment table (default 10,000)")
    ap.add_argument("--load-shards", type=int, default=None,
                    help="consecutive shards stored as one batch (default: newsdesk's; 1: shard by "
                         "shard, the load before 2026-12-07)")
    ap.add_argument("--tag", default="", help="added to the summary file's name")
    ap.add_argument("--pg", metavar="URL",
                    help="also load into a fresh database on this PostgreSQL server (the URL of a "
                         "database to connect to for CREATE/DROP DATABASE)")
    a = ap.parse_args()
    out = a.stages if a.stages else prepare(a.n, a.seed)
    stores = ["sqlite"] + (["postgresql"] if a.pg else [])
    results: dict[str, list[dict[str, object]]] = {s: [] for s in stores}
    with tempfile.TemporaryDirectory(prefix="newsdesk-store-load-") as tmp:
        for i in range(a.runs):
            for kind in stores:
                if kind == "sqlite":
                    db = str(Path(tmp) / f"load{i}.db")
                    r = load_once(db, out, a.memory, a.parts, a.segment, a.load_shards)
                else:
                    db = _fresh_pg(a.pg, "nd_bench_store_load")
                    try:
                        r = load_once(db, out, a.memory, a.parts, a.segment, a.load_shards)
                    finally:
                        _drop_pg(a.pg, "nd_bench_store_load")
                results[kind].append(r)
                print(f"{kind} run {i + 1}: {r['stored']:,} stored, {r['stories']:,} stories, "
                      f"in {r['wall']:.1f} s ({r['cpu']:.1f} CPU s), peak RSS {r['peak_rss_mb']:.0f} MB; "
                      f"s per 1,000: {r['per_1000']}", flush=True)
                spent = r["parts"]
                if isinstance(spent, dict) and spent:
                    print("  seconds by part: " + ", ".join(f"{k} {v}" for k, v in spent.items()), flush=True)
                    segs = r["parts_by_segment"]
                    if isinstance(segs, list) and len(segs) > 1:  # where the cost grows
                        names = list(spent)
                        print("\n  | stored | seconds | " + " | ".join(names) + " |")
                        print("  |---|---|" + "---|" * len(names))
                        for g in segs:
                            print(f"  | {g['from']:,}-{g['to']:,} | {g['seconds']} | "
                                  + " | ".join(str(g.get(k, 0.0)) for k in names) + " |", flush=True)
                if a.memory and "rss_end_mb" in r:
                    print(f"  memory: RSS at the end {r['rss_end_mb']} MB, after malloc_trim "
                          f"{r['rss_trimmed_mb']} MB; story index by part (MB) {r['index_parts_mb']}; "
                          f"RSS by stored articles {r['rss_by_shard']}", flush=True)
                    print(f"  one story on average (bytes), and the stories: {r['story_record']}", flush=True)
    import newsdesk

    summary = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "n": a.n,
               "code": str(Path(newsdesk.__file__).parent), "stages": str(out),
               "machine": f"{platform.machine()}, {platform.python_version()}", "results": results}
    tag = f"_{a.tag}" if a.tag else ""
    (HERE / "out" / f"bench_store_load_n{a.n}{tag}.json").write_text(json.dumps(summary, indent=1))
    print("\n| store | articles | stories | runs | median load s | articles/s | peak RSS MB "
          "| s per 1,000 (first run) |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, rs in results.items():
        wall = statistics.median(float(str(r["wall"])) for r in rs)
        print(f"| {kind} | {rs[0]['stored']:,} | {rs[0]['stories']:,} | {len(rs)} | {wall:.1f} | "
              f"{int(str(rs[0]['stored'])) / wall:.0f} | {float(str(rs[0]['peak_rss_mb'])):.0f} | "
              f"{rs[0]['per_1000']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
