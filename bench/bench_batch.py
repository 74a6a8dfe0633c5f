"""Batch mode end to end: articles per second and peak memory, local executor vs Ray.

    python bench/bench_batch.py                          # 10,000 HTML pages: local, ray x1, ray x2
    python bench/bench_batch.py --n 1000 --runs local,ray:2
    python bench/bench_batch.py --runs ray:1,ray:2,ray:2,ray:1   # rounds: each run in a fresh folder
    python bench/bench_batch.py --formats jsonl          # another input format of bench/corpus.py
    python bench/bench_batch.py --pg postgresql://127.0.0.1/postgres   # load into PostgreSQL
    python bench/bench_batch.py --n 100000 --reword 0.25 --republish 0.1   # a steady share of copies

The corpus is bench/corpus.py's (real articles and pages from the shared data,
then recombinations), written once under ``bench/out/ingest_corpus_n<N>_s<seed>``
(``..._rw<R>_rp<P>`` with ``--reword R --republish P``: corpus.py's ``make_variants``
says why large runs want them).
Each run is ``newsdesk.batch.run_batch`` into a fresh output folder and a fresh
SQLite store (with ``--pg``: a fresh database ``nd_bench_<executor><workers>`` on
that server, dropped afterwards), in its own subprocess: the stages (read+clean, copy sketches,
embeddings) on the executor, and the sequential load (articles, copy folding,
embeddings, story placement) in the driver, shard by shard as they finish, beside
the stages. "load s" is the driver's time spent loading, "tail s" the part of it
after the last stage finished. Memory is the peak of the summed RSS of the run's
process tree (the driver, and for Ray its raylet, GCS and workers), sampled every
0.2 s from /proc; shared pages count once per process, so it is an upper bound.
Beside it, the peak of the tree's summed PSS (``/proc/PID/smaps_rollup``, every 2 s):
shared pages divided among the processes that map them, what the tree really holds.
With ``--pg`` the PostgreSQL server's own processes are not in that tree (they are
the server's children, not the run's); the private memory (RssAnon) of the backends
serving the run's database is sampled apart every 2 s and printed beside it.
"Stage seconds" are the workers' own time per stage summed over shards. Every 30 s
each run appends its progress (articles stored, summed RSS) to
``bench/out/bench_batch_n<N>_<executor><workers>_trace.jsonl``, which
``bench/plot_batch.py`` draws.

Finally the model alone: the embedding texts (title + lead) of the first shards
(about 2,000) encoded by one ``Embedder`` in one process, in shard-sized calls,
to compare with the embedding stage. The shared data is read from ../shared/data (or
NEWSDESK_SHARED_DATA); without it the script exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

from newsdesk.embeddings import BACKENDS, DEFAULT_BACKEND, default_backend  # noqa: E402


def _tree(root: int) -> dict[int, int]:
    """VmRSS (kB) of ``root`` and of every process below it, by pid."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                stat = fh.read()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/status") as fh:
                kb = next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = kb
    out, stack = {}, [root]
    while stack:
        pid = stack.pop()
        if pid in rss:
            out[pid] = rss[pid]
        stack.extend(children.get(pid, []))
    return out


def _rss_tree_mb(root: int) -> float:
    """Summed VmRSS (MB) of ``root`` and every process below it."""
    return sum(_tree(root).values()) / 1024


def _role(pid: int, root: int) -> str:
    """Which part of the run a process is, from its command line."""
    if pid == root:
        return "driver"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if cmd.startswith("ray::"):
        return "ray workers"
    if "ray" in cmd:
        return "ray system"  # raylet, GCS, the Ray helpers and idle workers
    return "workers"  # the local executor's pool


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _pss_mb(pid: int) -> float:
    """One process's PSS (MB); 0 when it has gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            return next((int(line.split()[1]) for line in fh if line.startswith("Pss:")), 0) / 1024
    except (OSError, ValueError, IndexError):
        return 0.0


def _pss_tree_mb(root: int) -> float:
    """Summed PSS (MB) of the tree: each shared page divided among the processes
    mapping it (libraries, the model's weights, Ray's shared object store), so the
    sum is what the tree holds, where summed RSS counts a shared page once per process."""
    return sum(_pss_mb(pid) for pid in _tree(root))


def child(executor: str, workers: int, inputs: list[str], out: Path, db: str) -> dict:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from newsdesk.batch import run_batch
    from newsdesk.executors import make_executor
    from newsdesk.store import Store

    with Store(db) as store:
        t0 = time.perf_counter()
        report = run_batch(inputs, out, make_executor(executor, workers=workers), store=store)
        wall = time.perf_counter() - t0
        stored = store.count_articles()
        stories = len(set(store.story_map().values()))
    assert report.ingest is not None
    return {"executor": executor, "workers": workers, "shards": report.shards, "articles": report.articles,
            "stored": stored, "stories": stories, "copies": report.ingest.copies,
            "problems": len(report.problems), "stage_seconds": report.seconds,
            "stages_wall": wall - report.load_tail_seconds, "load_seconds": report.load_seconds,
            "load_tail": report.load_tail_seconds, "wall": wall}


MODEL_ALONE_TEXTS = 2000  # enough for a steady rate; the whole corpus would take as long as a run


def model_alone(out: Path, limit: int = MODEL_ALONE_TEXTS) -> dict:
    import pyarrow.parquet as pq

    from newsdesk.batch import stage_files
    from newsdesk.embeddings import Embedder, embedding_text

    shards: list[list[str]] = []
    for f in stage_files(out, "articles"):
        if sum(len(x) for x in shards) >= limit:
            break
        t = pq.read_table(f, columns=["title", "text"])
        shards.append([embedding_text(a, b) for a, b in zip(t.column("title").to_pylist(),
                                                           t.column("text").to_pylist(), strict=True)])
    emb = Embedder()
    emb.encode(["warm up"])
    t0 = time.perf_counter()
    n = 0
    for texts in shards:
        emb.encode(texts)
        n += len(texts)
    wall = time.perf_counter() - t0
    return {"articles": n, "seconds": wall, "per_second": n / wall}


TRACE_EVERY = 30.0  # seconds between progress points of a run's trace


def _stored(db: str) -> int | None:
    """Articles in the run's store so far (read-only; None before it exists)."""
    import sqlite3

    if "://" in db:
        import sqlalchemy as sa

        from newsdesk.store import database_url

        engine = sa.create_engine(database_url(db), poolclass=sa.pool.NullPool)
        try:
            with engine.connect() as conn:
                return int(conn.exec_driver_sql("SELECT count(*) FROM articles").scalar_one())
        except sa.exc.SQLAlchemyError:
            return None
        finally:
            engine.dispose()
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    except sqlite3.Error:
        return None


def _pg_backends_mb(db: str) -> float | None:
    """Summed private memory (RssAnon, MB) of the PostgreSQL backends serving ``db``'s database.

    The server is not in the run's process tree, so its share is sampled apart: the
    backends connected to the run's own database, read from /proc (the server is on
    this machine). Private memory only: the shared buffers are the server's, whoever
    touches them. None when the server cannot be asked."""
    import sqlalchemy as sa

    from newsdesk.store import database_url

    name = sa.engine.make_url(database_url(db)).database
    engine = sa.create_engine(database_url(db), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            pids = conn.exec_driver_sql(
                "SELECT pid FROM pg_stat_activity WHERE datname = %(n)s AND pid <> pg_backend_pid()",
                {"n": name}).scalars().all()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    kb = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                kb += next((int(line.split()[1]) for line in fh if line.startswith("RssAnon:")), 0)
        except (OSError, ValueError):
            continue
    return kb / 1024


PG_SAMPLE_EVERY = 2.0  # seconds; each sample is a connection to the server


def _admin(url: str):  # noqa: ANN202 - a SQLAlchemy engine in autocommit (CREATE DATABASE needs it)
    import sqlalchemy as sa

    from newsdesk.store import database_url

    return sa.create_engine(database_url(url), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def _drop_pg(url: str, name: str) -> None:
    engine = _admin(url)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def _fresh_pg(url: str, name: str) -> str:
    """A new empty database ``name`` beside ``url``'s (pgvector installed where available); its URL."""
    import sqlalchemy as sa

    _drop_pg(url, name)
    engine = _admin(url)
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine.dispose()
    target = sa.engine.make_url(url).set(database=name)
    engine = _admin(target.render_as_string(hide_password=False))
    with engine.connect() as conn:
        has = "SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'"
        if conn.exec_driver_sql(has).scalar():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    engine.dispose()
    return target.render_as_string(hide_password=False)


def run(args: list[str], log: Path, *, db: str | None = None,
        trace: Path | None = None) -> tuple[dict, float]:
    """Run a child, sampling its process tree's memory; (its JSON result, peak MB).

    With ``db`` and ``trace``, every TRACE_EVERY seconds a line {"t", "stored",
    "rss_mb", "peak_mb", "pss_mb", "driver_pss_mb"} is appended to ``trace``: how the
    run's speed and memory move as the store grows, kept even when the run does not
    finish. The driver's own PSS is where the store's growth shows (the story index
    lives there); the tree's moves with the work in flight in the workers."""
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args],
                                stdout=subprocess.PIPE, stderr=err, text=True)
        peak = 0.0
        pss_peak = 0.0
        cpu: dict[int, tuple[str, float]] = {}  # pid -> (role, CPU s at its last sample)
        pg_peak: float | None = None
        stop = threading.Event()
        t0 = time.perf_counter()

        def sample() -> None:
            nonlocal peak, pss_peak, pg_peak
            peak_since = 0.0
            pss = 0.0
            next_trace = TRACE_EVERY
            next_pg = next_pss = PG_SAMPLE_EVERY
            while not stop.is_set():
                rss = _rss_tree_mb(proc.pid)
                peak = max(peak, rss)
                peak_since = max(peak_since, rss)
                t = time.perf_counter() - t0
                if t >= next_pss:  # smaps_rollup walks page tables: sampled less often
                    pss = _pss_tree_mb(proc.pid)
                    pss_peak = max(pss_peak, pss)
                    for pid in _tree(proc.pid):
                        used = _cpu_seconds(pid)
                        if used is not None:
                            # the role read each time: a Ray worker takes its "ray::" title
                            # only once it holds an actor
                            cpu[pid] = (_role(pid, proc.pid), used)
                    next_pss = t + PG_SAMPLE_EVERY
                if db is not None and "://" in db and t >= next_pg:
                    mb = _pg_backends_mb(db)
                    if mb is not None:
                        pg_peak = max(pg_peak or 0.0, mb)
                    next_pg = t + PG_SAMPLE_EVERY
                if trace is not None and db is not None and t >= next_trace:
                    point = {"t": round(t, 1), "stored": _stored(db), "rss_mb": round(rss),
                             "peak_mb": round(peak_since), "pss_mb": round(pss),
                             "driver_pss_mb": round(_pss_mb(proc.pid))}
                    with trace.open("a") as fh:
                        fh.write(json.dumps(point) + "\n")
                    next_trace, peak_since = t + TRACE_EVERY, 0.0
                stop.wait(0.2)

        th = threading.Thread(target=sample, daemon=True)
        th.start()
        stdout, _ = proc.communicate()
        stop.set()
        th.join()
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed ({proc.returncode}); see {log}")
    result = json.loads(stdout.strip().splitlines()[-1])
    if pg_peak is not None:
        result["pg_backends_peak_mb"] = pg_peak
    result["peak_pss_tree_mb"] = pss_peak
    # CPU by part of the run (a process's last 2 s before it exits are not counted).
    by_role: dict[str, float] = {}
    for role, used in cpu.values():
        by_role[role] = by_role.get(role, 0.0) + used
    result["cpu_seconds"] = {k: round(v, 1) for k, v in sorted(by_role.items())}
    return result, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--formats", default="html", help="corpus formats to read, comma-separated")
    ap.add_argument("--runs", default="local,ray:1,ray:2", help="executor[:workers], comma-separated")
    ap.add_argument("--reword", type=float, default=0.0,
                    help="corpus variants: share of words replaced (bench/corpus.py), e.g. 0.25")
    ap.add_argument("--republish", type=float, default=0.0,
                    help="corpus variants: share republished by another outlet, e.g. 0.1")
    ap.add_argument("--no-model", action="store_true", help="skip the model-alone measurement")
    ap.add_argument("--child", nargs=2, metavar=("EXECUTOR", "WORKERS"), help=argparse.SUPPRESS)
    ap.add_argument("--model-alone", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--inputs", nargs="*", default=[], help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    ap.add_argument("--embedder", choices=BACKENDS,
                    help="the article embedder of every run (sets NEWSDESK_EMBEDDER for them); "
                         "default: newsdesk's own")
    ap.add_argument("--pg", metavar="URL",
                    help="load into fresh databases on this PostgreSQL server instead of SQLite "
                         "(the URL of a database to connect to for CREATE/DROP DATABASE)")
    a = ap.parse_args()
    if not (0.0 <= a.reword <= 1.0 and 0.0 <= a.republish < 1.0):
        ap.error("--reword must be within [0, 1] and --republish within [0, 1)")
    if a.child:
        print(json.dumps(child(a.child[0], int(a.child[1]), a.inputs, a.out, a.db)))
        return 0
    if a.model_alone:
        print(json.dumps(model_alone(a.model_alone)))
        return 0

    if a.embedder:
        os.environ["NEWSDESK_EMBEDDER"] = a.embedder  # the runs are child processes: they inherit it
    embedder = default_backend()
    formats = tuple(a.formats.split(","))
    style = f"_rw{a.reword:g}_rp{a.republish:g}" if a.reword or a.republish else ""
    cdir = HERE / "out" / f"ingest_corpus_n{a.n}_s{a.seed}{style}"
    corpus.build(cdir, a.n, a.seed, formats, reword=a.reword, republish=a.republish)
    inputs = [str(cdir / f) for f in formats]
    results = []
    tmp = Path(tempfile.mkdtemp(prefix="newsdesk-batch-bench-"))
    logs = HERE / "out" / "bench_batch_logs"
    logs.mkdir(parents=True, exist_ok=True)
    kept_out: Path | None = None
    try:
        seen: dict[str, int] = {}
        for spec in a.runs.split(","):
            ex, _, w = spec.partition(":")
            workers = int(w or 1)
            # a run named again (rounds: ray:1,ray:2,ray:2,ray:1) gets its own folder, store
            # and trace: in the first one's folder it would resume, finding every shard done
            seen[spec] = seen.get(spec, 0) + 1
            name = f"{ex}{workers}" + (f"_run{seen[spec]}" if seen[spec] > 1 else "")
            out = tmp / name
            db = _fresh_pg(a.pg, f"nd_bench_{ex}{workers}") if a.pg else str(tmp / f"{name}.db")
            store_tag = "_pg" if a.pg else ""
            trace = HERE / "out" / f"bench_batch_n{a.n}{style}_{name}{store_tag}_trace.jsonl"
            trace.unlink(missing_ok=True)
            try:
                args = ["--child", ex, str(workers), "--out", str(out), "--db", db, "--inputs", *inputs]
                res, peak = run(args, logs / f"{name}{store_tag}.log", db=db, trace=trace)
            finally:
                if a.pg:
                    _drop_pg(a.pg, f"nd_bench_{ex}{workers}")
            res["store"] = "postgresql" if a.pg else "sqlite"
            res["embedder"] = embedder
            res["peak_rss_tree_mb"] = peak
            res["articles_per_s"] = res["articles"] / res["wall"]
            results.append(res)
            print(json.dumps(res), flush=True)
            kept_out = out
        model = None
        if not a.no_model and kept_out is not None:
            model, _ = run(["--model-alone", str(kept_out)], logs / "model.log")
            print(json.dumps({"model_alone": model}), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    summary = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "n": a.n, "formats": formats,
               "embedder": embedder, "reword": a.reword, "republish": a.republish,
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
               "load": os.getloadavg(), "runs": results, "model_alone": model}
    tag = ("_pg" if a.pg else "") + ("" if embedder == DEFAULT_BACKEND else f"_{embedder}")
    name = f"bench_batch_n{a.n}{style}{tag}.json"
    (HERE / "out" / name).write_text(json.dumps(summary, indent=1))
    print(f"\nstore: {'PostgreSQL' if a.pg else 'SQLite'}; embedder: {embedder}")
    for r in results:
        if "pg_backends_peak_mb" in r:
            print(f"{r['executor']}:{r['workers']}: the server's backends for the run peaked at "
                  f"{r['pg_backends_peak_mb']:,.0f} MB of private memory (not in the tree's RSS)")
    print("\n| executor | workers | articles | wall s | articles/s | stages wall s | load s | tail s | "
          "read+clean s | sketches s | embeddings s | peak RSS (tree) MB | peak PSS (tree) MB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        s = r["stage_seconds"]
        print(f"| {r['executor']} | {r['workers']} | {r['articles']:,} | {r['wall']:.0f} | "
              f"{r['articles_per_s']:.1f} | {r['stages_wall']:.0f} | {r['load_seconds']:.0f} | "
              f"{r['load_tail']:.0f} | "
              f"{s['articles']:.0f} | {s['sketches']:.0f} | {s['embeddings']:.0f} | "
              f"{r['peak_rss_tree_mb']:,.0f} | {r['peak_pss_tree_mb']:,.0f} |")
    print("\nCPU seconds by part of the run (sampled every 2 s):")
    for r in results:
        parts = ", ".join(f"{k} {v:,.0f}" for k, v in r["cpu_seconds"].items())
        print(f"{r['executor']}:{r['workers']}: {parts}")
    if model:
        print(f"\nmodel alone: {model['articles']:,} texts in {model['seconds']:.0f} s = "
              f"{model['per_second']:.1f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
