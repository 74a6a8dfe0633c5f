"""Ingest while 50 clients read: readers and writers at once on the HTTP API.

    python bench/bench_load.py                                   # fresh SQLite store, 60 s
    python bench/bench_load.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/bench_load.py --db bench/out/serve_100k.db --duration 120
    python bench/bench_load.py --write-every inf                 # readers only: the baseline

Starts ``newsdesk --db DB serve`` on a free loopback port. Without ``--db`` the store is
a fresh SQLite file in bench/out/ (removed afterwards unless ``--keep``); a PostgreSQL
URL without a schema of its own (``?options=-csearch_path%3DNAME``) gets a fresh schema
``bench_load_PID``, dropped afterwards unless ``--keep``. A store with no article is
first seeded through the server (``POST /api/articles?wait=true``, 100 at a time, so
the server also loads its models) with ``--seed-articles`` articles of the corpus
``bench/corpus.py`` builds from the real articles of ../shared/data (seed ``--seed``);
a store that holds articles is used as it is.

Then, for ``--duration`` seconds (the load of ``tests/loadrun.py``, which
``tests/test_load.py`` runs small in the suite):

- ``--readers`` clients (asyncio + httpx in this process, one connection each, closed
  loop) rotate over the story list (HTML and API), story pages, article pages, keyword
  search (HTML and API), semantic search, the article list and /api/health, on the
  store's 200 newest stories, their articles and frequent title words;
- one writer sends a request every ``--write-every`` seconds, in turn a JSON body
  (``POST /api/articles``), a JSONL upload, plain-text uploads (scraped junk on about
  a third, as in the ingest corpus) and HTML page uploads (``POST /api/ingest``), each
  of ``--per-write`` corpus articles not in the seed; it follows each job until done
  (polling every 0.1 s), then reads each of its articles.

Afterwards, with every job finished: every written article is read back and compared
(title, text, URL, language) with what ingesting the same bytes alone gives, and the
store's article count must have grown by exactly the number of new ids. Errors: any
read that is not 200, any write not accepted with 202, any job not done or with a
problem, any article of a finished job not readable, any lost or different article,
any count a reader saw go down (the article count, a search's total).

Reported: per read kind, requests/s and p50/p95/p99 latency during the writes; the
writes accepted; job latency (sent -> job done -> its articles readable); errors and
lost writes; CPU seconds of the server, of this process (the load generator) and of
the rest of the machine (a PostgreSQL server's own work counts there). Results: a
table on stdout, JSON in bench/out/load_<sqlite|postgresql>_<time>.json (git-ignored); the
server's output in bench/out/load_server_<time>.log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import resource
import shutil
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import corpus  # noqa: E402
from bench_serve import Sampler, cpu_seconds, free_port, machine_busy_seconds, start_server, stop_server  # noqa: E402
from build_serve_store import pg_schema, prepare_db  # noqa: E402
from loadrun import READ_KINDS, WRITE_KINDS, Targets, Write, jsonl, run_load, summary, targets_of  # noqa: E402

SEED_BATCH = 100


# ----------------------------------------------------------------------------- store
def resolve_db(given: str | None, stamp: str) -> tuple[str, bool]:
    """(the store to serve, whether this run made it and removes it afterwards)."""
    if given is None:
        return str(OUT / f"load_{stamp}.db"), True
    if given.startswith("postgresql") and pg_schema(given) is None:
        sep = "&" if urlsplit(given).query else "?"
        return f"{given}{sep}options=-csearch_path%3Dbench_load_{os.getpid()}", True
    return given, False


def remove_store(db: str) -> None:
    if "://" not in db:
        for x in ("", "-wal", "-shm", "-journal"):
            Path(f"{db}{x}").unlink(missing_ok=True)
        return
    import sqlalchemy as sa

    from newsdesk.store import database_url

    engine = sa.create_engine(database_url(db))
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{pg_schema(db)}" CASCADE')
    engine.dispose()


def store_name(db: str) -> str:
    if "://" not in db:
        return Path(db).stem
    return pg_schema(db) or re.sub(r"\W+", "_", urlsplit(db).path.strip("/")) or "db"


# ----------------------------------------------------------------------------- corpus
def record(it: corpus.Item, *, with_source: bool) -> dict:
    r = {"id": it.id, "url": it.url, "title": it.title, "text": it.text,
         "published": it.published.isoformat(), "lang": it.lang}
    return r | ({"source": it.source} if with_source else {})


def make_writes(items: list[corpus.Item], everything: list[corpus.Item], pool: corpus.Pool,
                per_write: int, seed: int) -> list[Write]:
    """Requests of ``per_write`` articles each, the write kinds in turn. Written records
    carry no outlet (see tests/loadrun.py); the outlet comes from the URL or the page."""
    rng = random.Random(seed + 2)
    writes = []
    for k in range(len(items) // per_write):
        kind = WRITE_KINDS[k % len(WRITE_KINDS)]
        chunk = items[k * per_write:(k + 1) * per_write]
        if kind in ("json", "jsonl-file"):
            files = [("articles.jsonl", jsonl([record(it, with_source=False) for it in chunk]))]
        elif kind == "text-file":
            files = [(f"{corpus.slug(it.title, 40)}.txt",
                      corpus.text_file(it, everything, i, pool, rng).encode()) for i, it in enumerate(chunk)]
        else:
            files = [(f"{corpus.slug(it.title, 40)}.html", corpus.page_html(it, everything, rng).encode())
                     for it in chunk]
        writes.append(Write.of(kind, files))
    return writes


def search_terms(items: list[corpus.Item], k: int = 40) -> list[str]:
    """Frequent capitalised words of the titles (names, places), not the first word."""
    counts: Counter[str] = Counter()
    for it in items:
        words = re.findall(r"\b[A-Z][a-z]{3,}\b", it.title)
        counts.update(set(words[1:]))
    return [w for w, _ in counts.most_common(k)] or ["news"]


async def seed_store(base: str, items: list[corpus.Item]) -> float:
    import httpx

    t = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=3600) as client:
        for i in range(0, len(items), SEED_BATCH):
            batch = [record(it, with_source=True) for it in items[i:i + SEED_BATCH]]
            r = await client.post("/api/articles?wait=true", json={"articles": batch})
            job = r.raise_for_status().json()
            if job["status"] != "done":
                raise SystemExit(f"error: seeding failed: {job}")
            print(f"  seeded {min(i + SEED_BATCH, len(items))}/{len(items)} "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)
    return time.perf_counter() - t


# ----------------------------------------------------------------------------- report
def table(s: dict) -> str:
    head = ("read", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind in [*READ_KINDS, "all"]:
        r = s["reads"][kind]
        lines.append("| " + " | ".join(str(x) for x in (
            f"**{kind}**" if kind == "all" else kind, r["requests"], f"{r['rps']:.1f}", f"{r['p50_ms']:.0f}",
            f"{r['p95_ms']:.0f}", f"{r['p99_ms']:.0f}", f"{r['max_ms']:.0f}", r["errors"])) + " |")
    w = s["writes"]
    lines += ["", "| writes | accepted | articles | accept p50 / p95 s | done p50 / p95 / max s | "
              "readable p50 / p95 / max s |", "|---|---|---|---|---|---|",
              f"| {w['sent']} ({', '.join(f'{n} {k}' for k, n in w['by_kind'].items())}) | {w['accepted']} | "
              f"{w['articles']} | {w['accept_s']['p50']:.2f} / {w['accept_s']['p95']:.2f} | "
              f"{w['done_s']['p50']:.1f} / {w['done_s']['p95']:.1f} / {w['done_s']['max']:.1f} | "
              f"{w['visible_s']['p50']:.1f} / {w['visible_s']['p95']:.1f} / {w['visible_s']['max']:.1f} |"]
    lines += ["", f"errors {s['errors']}, lost writes {s['lost']}, different {s['differs']}, counts "
              f"that went down {s['went_down']}; articles {s['articles_before']} -> {s['articles_after']} "
              f"({s['new_ids']} new ids written); readers ran {s['duration_s']:.1f} s, the last jobs "
              f"finished {s['drain_s']:.1f} s later"]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--db", help="a store (file or URL); default: a fresh SQLite file in bench/out/")
    ap.add_argument("--duration", type=float, default=60, help="seconds of reading and writing")
    ap.add_argument("--readers", type=int, default=50)
    ap.add_argument("--write-every", type=float, default=2.0, help="seconds between write requests")
    ap.add_argument("--per-write", type=int, default=5, help="articles per write request")
    ap.add_argument("--seed-articles", type=int, default=1000, help="articles a fresh store is seeded with")
    ap.add_argument("--seed", type=int, default=1, help="corpus seed")
    ap.add_argument("--timeout", type=float, default=120, help="seconds before a request counts as an error")
    ap.add_argument("--keep", action="store_true", help="keep a store this run made")
    ap.add_argument("--out", help="JSON result path (default bench/out/load_<sqlite|postgresql>_<time>.json)")
    a = ap.parse_args()

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    db, made = resolve_db(a.db, stamp)
    if made:
        prepare_db(db, force=False)
    n_writes = math.ceil(a.duration / a.write_every)
    items, pool = corpus.build_items(a.seed_articles + n_writes * a.per_write, a.seed)
    seed_items, write_items = items[:a.seed_articles], items[a.seed_articles:]
    writes = make_writes(write_items, items, pool, a.per_write, a.seed)
    terms = search_terms(seed_items)
    data_dir = OUT / f"load_{stamp}.d"
    port = free_port()
    cmd = [sys.executable, "-m", "newsdesk", "--db", db, "serve", "--host", "127.0.0.1",
           "--port", str(port), "--data-dir", str(data_dir)]
    log_path = OUT / f"load_server_{stamp}.log"
    proc, startup = start_server(cmd, log_path, port, timeout=300)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        with httpx.Client(base_url=base, timeout=60) as client:
            before = client.get("/api/health").raise_for_status().json()["articles"]
        seeded = asyncio.run(seed_store(base, seed_items)) if before == 0 else None

        async def targets() -> Targets:
            async with httpx.AsyncClient(base_url=base, timeout=a.timeout) as c:
                return await targets_of(c, terms)

        t = asyncio.run(targets())
        print(f"load: {a.readers} readers for {a.duration:.0f} s, a write of {a.per_write} articles "
              f"every {a.write_every} s; server {base}, store {store_name(db)}", flush=True)
        cpu0, busy0 = cpu_seconds(proc.pid), machine_busy_seconds()
        own0 = resource.getrusage(resource.RUSAGE_SELF)
        with Sampler(proc.pid) as rss:
            result = asyncio.run(run_load(base, t, writes, readers=a.readers,
                                          duration=a.duration, write_every=a.write_every,
                                          timeout=a.timeout))
        own1 = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = cpu_seconds(proc.pid) - cpu0
        mine = own1.ru_utime + own1.ru_stime - own0.ru_utime - own0.ru_stime
        others = max(0.0, machine_busy_seconds() - busy0 - server_cpu - mine)
    finally:
        stop_server(proc)
        if made and not a.keep:
            remove_store(db)
            shutil.rmtree(data_dir, ignore_errors=True)
    s = summary(result)
    print()
    print(table(s))
    wall = result.duration + result.drain_seconds
    print(f"\nCPU over {wall:.0f} s: server {server_cpu:.0f} s, load generator {mine:.0f} s, "
          f"others {others:.0f} s (of {2 * wall:.0f} s on {os.cpu_count()} cores); "
          f"server RSS peak {rss.peak:.0f} MiB")
    problems = result.problems()
    for p in problems[:20]:
        print("  problem:", p)
    dialect = "sqlite" if "://" not in db else "postgresql"
    report = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
        "store": {"name": store_name(db), "dialect": dialect,
                  "seeded_articles": len(seed_items) if seeded is not None else 0,
                  "seed_seconds": seeded, "articles_before": result.articles_before,
                  "options": parse_qs(urlsplit(db).query) if "://" in db else None},
        "server": {"startup_seconds": round(startup, 2), "cpu_seconds": round(server_cpu, 1),
                   "rss_peak_mb": round(rss.peak, 1)},
        "loadgen": {"cpu_seconds": round(mine, 1)}, "others_cpu_seconds": round(others, 1),
        "args": vars(a), "summary": s, "problems": problems,
        "writes": [{k: v for k, v in vars(w).items() if k != "job"}
                   | {"job_status": (w.job or {}).get("status")} for w in result.writes],
    }
    out = Path(a.out) if a.out else OUT / f"load_{dialect}_{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(f"\nJSON: {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
