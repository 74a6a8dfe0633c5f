"""Ingest throughput and peak memory per input format.

    python bench/bench_ingest.py                      # 10,000 articles, all five formats
    python bench/bench_ingest.py --n 500 --formats text,jsonl --repeat 3
    python bench/bench_ingest.py --no-stories         # without story placement (no embeddings)

A corpus of ``--n`` articles built from the real texts and pages in the shared data
(``bench/corpus.py``: real articles first, then recombinations of real paragraphs)
is written once in every format to ``bench/out/ingest_corpus_n<N>_s<seed>/``
(git-ignored; reused when it exists).  Each format is then ingested with the
library API (``newsdesk.ingest``) into a fresh SQLite store in a temporary folder,
in its own subprocess, so that the peak RSS (``VmHWM`` of that process: its own
high-water mark; ``ru_maxrss`` would include the parent's, inherited across fork
and exec) belongs to that format alone.

Plain-text files sit in one folder per outlet and are ingested folder by folder
with ``source=<outlet>`` (what ``newsdesk ingest --source`` does), so the outlet
boilerplate memory is exercised; the other formats are ingested as one folder.

Stage split: during the timed run, thin timers wrap the functions ``ingest`` calls
(``read``, ``to_article``, and inside it ``extract_html`` and ``clean_text``;
``_fold_copies``; ``Store.add_articles``; ``StoryBook.embed`` and
``StoryBook.place``, whose difference is "place").  "meta" is ``to_article`` minus
extraction and cleaning (language detection, dates, hashes); "other" is the rest
of the wall time (outlet line memory, resume bookkeeping, SQLite commits outside
``add_articles``).  The timers cost about a microsecond per call; ``--no-stages``
turns them off.

The shared data is read from ``../shared/data`` next to the repository (or
``NEWSDESK_SHARED_DATA``); without it the script exits with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

FORMATS = corpus.FORMATS
STAGES = ("read", "extract", "clean", "meta", "copies", "write", "embed", "place", "other")


# ------------------------------------------------------------------------ child
def _vm(key: str) -> float:
    """A /proc/self/status memory figure in MB (VmRSS, VmHWM), or nan."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class _Timers:
    """Wrap the functions ingest calls, summing the seconds spent in each."""

    def __init__(self) -> None:
        self.t: dict[str, float] = dict.fromkeys(("read", "to_article", "extract", "clean",
                                                  "copies", "write", "embed", "stories"), 0.0)
        self.missing: list[str] = []

    def timed(self, key: str, fn):  # type: ignore[no-untyped-def]
        t = self.t
        pc = time.perf_counter

        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            t0 = pc()
            try:
                return fn(*a, **k)
            finally:
                t[key] += pc() - t0

        return wrapper

    def timed_gen(self, key: str, fn):  # type: ignore[no-untyped-def]
        t = self.t
        pc = time.perf_counter

        def wrapper(*a, **k):  # type: ignore[no-untyped-def]
            it = fn(*a, **k)
            while True:
                t0 = pc()
                try:
                    item = next(it)
                except StopIteration:
                    t[key] += pc() - t0
                    return
                t[key] += pc() - t0
                yield item

        return wrapper

    def install(self, mod) -> None:  # type: ignore[no-untyped-def]
        for name, key, gen in (("read", "read", True), ("to_article", "to_article", False),
                               ("extract_html", "extract", False), ("clean_text", "clean", False),
                               ("_fold_copies", "copies", False)):
            fn = getattr(mod, name, None)
            if fn is None:
                self.missing.append(name)
                continue
            setattr(mod, name, self.timed_gen(key, fn) if gen else self.timed(key, fn))
        book = importlib.import_module("newsdesk.storybook").StoryBook
        book.embed = self.timed("embed", book.embed)
        book.place = self.timed("stories", book.place)


def run_child(fmt: str, corpus_dir: Path, db: Path, stages: bool, stories: bool = True) -> dict:
    import logging

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    t0 = time.perf_counter()
    import importlib

    import newsdesk

    ingest_mod = importlib.import_module("newsdesk.ingest")  # the module; newsdesk.ingest is the function

    import_s = time.perf_counter() - t0
    timers = _Timers()
    if stages:
        timers.install(ingest_mod)
    store = newsdesk.open_store(db)
    if stages:
        store.add_articles = timers.timed("write", store.add_articles)  # type: ignore[method-assign]
    if fmt == "text":
        outlets = json.loads((corpus_dir / "text_outlets.json").read_text(encoding="utf-8"))
        jobs = [([d], outlets.get(d.name)) for d in sorted((corpus_dir / "text").iterdir())]
    else:
        jobs = [([corpus_dir / fmt], None)]
    rss_before = _vm("VmRSS")
    articles = inputs = copies = 0
    problems: list[dict] = []
    inserted = updated = unchanged = 0
    t0 = time.perf_counter()
    # one story index for the whole run, as a caller ingesting folder by folder should
    # (older versions given with --src have no ``storybook`` argument)
    import inspect

    reuse = stories and "storybook" in inspect.signature(newsdesk.ingest).parameters
    book = importlib.import_module("newsdesk.storybook").StoryBook(store) if reuse else None
    extra = {"storybook": book} if reuse else {}
    for paths, source in jobs:
        rep = newsdesk.ingest(store, paths, source=source, stories=stories, **extra)
        articles += len(rep.article_ids)
        inputs += rep.inputs
        copies += rep.copies
        inserted += rep.counts.inserted
        updated += rep.counts.updated
        unchanged += rep.counts.unchanged
        problems.extend({"origin": p.origin, "reason": p.reason} for p in rep.problems)
    if book is not None:
        book.save()
    wall = time.perf_counter() - t0
    # VmHWM, not ru_maxrss: Linux carries the forking parent's high-water mark into
    # ru_maxrss across exec, so ru_maxrss of a child is at least the parent's RSS.
    peak = _vm("VmHWM")
    stored = store.count_articles()
    store.close()
    out = {
        "format": fmt, "package": newsdesk.__file__, "articles": articles, "stored": stored, "inputs": inputs,
        "seconds": wall, "import_s": import_s, "rss_before_mb": rss_before,
        "peak_rss_mb": peak, "copies": copies, "inserted": inserted,
        "updated": updated, "unchanged": unchanged, "problems": len(problems),
        "problem_list": problems[:50], "db_mb": db.stat().st_size / 2**20 if db.exists() else 0,
    }
    if stages:
        t = timers.t
        meta = max(0.0, t["to_article"] - t["extract"] - t["clean"])
        known = t["read"] + t["to_article"] + t["copies"] + t["write"] + t["stories"]
        out["stages"] = {"read": t["read"], "extract": t["extract"], "clean": t["clean"],
                         "meta": meta, "copies": t["copies"], "write": t["write"],
                         "embed": t["embed"], "place": max(0.0, t["stories"] - t["embed"]),
                         "other": max(0.0, wall - known)}
        out["stage_hooks_missing"] = timers.missing
    return out


# ----------------------------------------------------------------------- parent
def run_one(fmt: str, corpus_dir: Path, stages: bool, log_dir: Path, rep: int,
            src: Path | None = None, stories: bool = True) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix=f"newsdesk-ingest-{fmt}-"))
    try:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", fmt,
               "--corpus-dir", str(corpus_dir), "--db", str(tmp / "store.db")]
        if not stages:
            cmd.append("--no-stages")
        if not stories:
            cmd.append("--no-stories")
        log = log_dir / f"ingest_{fmt}_{rep}.log"
        res_path = tmp / "result.json"
        with res_path.open("w") as fo, log.open("w") as fe:
            env = dict(os.environ)
            if src is not None:  # measure another checkout of the package
                env["PYTHONPATH"] = os.pathsep.join([str(src), *filter(None, [env.get("PYTHONPATH")])])
            p = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env)
            _, status, ru = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
        text = res_path.read_text()
        if p.returncode != 0 or not text.strip():
            tail = log.read_text()[-4000:]
            return {"format": fmt, "crashed": True, "returncode": p.returncode,
                    "log": str(log), "log_tail": tail}
        res = json.loads(text.strip().splitlines()[-1])
        if res["peak_rss_mb"] != res["peak_rss_mb"]:  # nan: no /proc
            res["peak_rss_mb"] = ru.ru_maxrss / 1024  # an upper bound (see run_child)
        res["cpu_s"] = ru.ru_utime + ru.ru_stime
        res["log"] = str(log)
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def git_state() -> str:
    """The commit the package was measured at, and uncommitted changes under src/."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=HERE.parent,
                               text=True, capture_output=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    changed = [x for x in dirty if "/" in x]
    return head + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")


def _fmt_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def report(results: dict[str, list[dict]], repeat: int) -> str:
    lines = []
    med = "median of " + str(repeat) + " runs" if repeat > 1 else "one run"
    lines.append(f"Figures: {med} per format.\n")
    lines.append(_fmt_row(["format", "articles", "input files", "seconds", "articles/s",
                           "ms/article", "peak RSS MB", "problems", "copies found"]))
    lines.append(_fmt_row(["---"] * 9))
    for fmt, runs in results.items():
        ok = [r for r in runs if not r.get("crashed")]
        if not ok:
            lines.append(_fmt_row([fmt, "crashed", "", "", "", "", "", "", ""]))
            continue
        secs = statistics.median(r["seconds"] for r in ok)
        rate = statistics.median(r["articles"] / r["seconds"] for r in ok)
        rss = statistics.median(r["peak_rss_mb"] for r in ok)
        r0 = ok[0]
        spread = ""
        if len(ok) > 1:
            rates = [r["articles"] / r["seconds"] for r in ok]
            spread = f" ({min(rates):.0f}-{max(rates):.0f})"
        lines.append(_fmt_row([
            fmt, f"{r0['stored']:,}", f"{r0['inputs']:,}", f"{secs:.1f}", f"{rate:.0f}{spread}",
            f"{1000 * secs / max(1, r0['articles']):.1f}", f"{rss:.0f}",
            str(r0["problems"]), str(r0["copies"])]))
    staged = {f: [r for r in rs if "stages" in r] for f, rs in results.items()}
    if any(staged.values()):
        lines.append("\nWhere the time goes (seconds, share of wall time; median over runs):\n")
        lines.append(_fmt_row(["format"] + list(STAGES)))
        lines.append(_fmt_row(["---"] * (len(STAGES) + 1)))
        for fmt, rs in staged.items():
            if not rs:
                continue
            wall = statistics.median(r["seconds"] for r in rs)
            cells = [fmt]
            for s in STAGES:
                v = statistics.median(r["stages"][s] for r in rs)
                cells.append(f"{v:.1f} ({100 * v / wall:.0f}%)")
            lines.append(_fmt_row(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="newsdesk ingest throughput per input format")
    ap.add_argument("--n", type=int, default=10000, help="articles in the corpus (default 10000)")
    ap.add_argument("--formats", default=",".join(FORMATS),
                    help="comma-separated subset of " + ",".join(FORMATS))
    ap.add_argument("--repeat", type=int, default=1, help="runs per format (medians reported)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus-dir", type=Path, default=None,
                    help="where to build/reuse the corpus (default bench/out/ingest_corpus_n<N>_s<seed>)")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the corpus even if present")
    ap.add_argument("--no-stages", action="store_true", help="do not time the stages")
    ap.add_argument("--no-stories", action="store_true",
                    help="skip story placement (no embeddings): the ingest of the foundation issue")
    ap.add_argument("--json", type=Path, default=None, help="write all results here")
    ap.add_argument("--src", type=Path, default=None,
                    help="a src/ folder of another newsdesk checkout to measure instead of the installed one")
    ap.add_argument("--child", choices=FORMATS, help=argparse.SUPPRESS)
    ap.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.child:
        res = run_child(a.child, a.corpus_dir, a.db, not a.no_stages, not a.no_stories)
        sys.stdout.write(json.dumps(res) + "\n")
        return 0

    formats = [f.strip() for f in a.formats.split(",") if f.strip()]
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        ap.error(f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}")
    corpus.data_dir()  # exit 2 with a clear message when the shared data is absent
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    cdir = a.corpus_dir or out_dir / f"ingest_corpus_n{a.n}_s{a.seed}"
    t0 = time.perf_counter()
    manifest = corpus.build(cdir, a.n, a.seed, tuple(formats), force=a.rebuild)
    print(f"corpus: {cdir} ({a.n:,} articles, built or checked in {time.perf_counter() - t0:.0f} s; "
          f"median {manifest['words_median']} words; {manifest['outlets']} outlets)")
    print("  from: " + ", ".join(f"{k} {v}" for k, v in sorted(manifest["datasets"].items())))
    print("  languages: " + ", ".join(f"{k} {v}" for k, v in sorted(
        manifest["langs"].items(), key=lambda kv: -kv[1])))
    for f in formats:
        info = manifest["formats"][f]
        print(f"  {f}: {info['files']:,} files, {info['bytes'] / 2**20:.1f} MB")
    print(f"python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}; "
          f"newsdesk: {'--src ' + str(a.src) if a.src else 'working tree at ' + git_state()}; "
          f"stories {'off' if a.no_stories else 'on'}")
    sys.stdout.flush()

    results: dict[str, list[dict]] = {f: [] for f in formats}
    failed = False
    for rep in range(a.repeat):
        for f in formats:
            r = run_one(f, cdir, not a.no_stages, out_dir, rep, a.src, not a.no_stories)
            results[f].append(r)
            if r.get("crashed"):
                failed = True
                print(f"[{f} run {rep + 1}] CRASHED (exit {r['returncode']}); log {r['log']}:\n"
                      f"{r['log_tail']}")
                continue
            print(f"[{f} run {rep + 1}] {r['stored']:,} stored of {r['articles']:,} in "
                  f"{r['seconds']:.1f} s = {r['articles'] / r['seconds']:.0f} art/s; peak RSS "
                  f"{r['peak_rss_mb']:.0f} MB (after import {r['rss_before_mb']:.0f} MB); "
                  f"{r['problems']} problems; {r['copies']} copies; db {r['db_mb']:.0f} MB; "
                  f"package {r['package']}")
            if r["stored"] != a.n or r["problems"]:
                failed = True
            for p in r["problem_list"][:10]:
                print(f"    problem: {p['origin']}: {p['reason']}")
            sys.stdout.flush()
    print()
    print(report(results, a.repeat))
    path = a.json or out_dir / f"ingest_results_n{a.n}{'_nostories' if a.no_stories else ''}.json"
    path.write_text(json.dumps({"n": a.n, "seed": a.seed, "repeat": a.repeat, "git": git_state(),
                                "src": str(a.src) if a.src else None,
                                "manifest": manifest, "results": results}, indent=1))
    print(f"\nresults: {path}; child logs (tracebacks of internal errors): {out_dir}/ingest_*.log")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
