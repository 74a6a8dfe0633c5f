"""How closely ``rebuild-stories`` gives back the stories a store had, and how fast.

    python bench/bench_rebuild.py                       # 5,000 HTML pages
    python bench/bench_rebuild.py --n 20000 --seed 0    # reuses bench/out/store_load_n20000_s0

The stage output of ``bench_store_load.py`` (built once, reused) is loaded into a
fresh SQLite store as ``newsdesk batch`` loads it (shard by shard, each placed in
publication order); then ``newsdesk.rebuild_stories`` builds the story index again
from the stored articles, twice. Printed: seconds, articles per second, stories before
and after, articles whose story id changed, and the agreement of the two groupings
over pairs of articles (pairs in one story before that are in one story after:
recall; pairs together after that were together before: precision), which does not
count a story that only got another id. Peak RSS of the process at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_store_load import prepare  # noqa: E402


def pair_agreement(before: dict[str, str], after: dict[str, str]) -> tuple[float, float]:
    """(precision, recall) of the same-story pairs of ``after`` against ``before``."""
    ids = [a for a in before if a in after]
    together = Counter((before[a], after[a]) for a in ids)
    both = sum(n * (n - 1) // 2 for n in together.values())
    pairs_before = sum(n * (n - 1) // 2 for n in Counter(before[a] for a in ids).values())
    pairs_after = sum(n * (n - 1) // 2 for n in Counter(after[a] for a in ids).values())
    return (both / pairs_after if pairs_after else 1.0, both / pairs_before if pairs_before else 1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    out = prepare(a.n, a.seed)

    import newsdesk
    from newsdesk.batch import load
    from newsdesk.store import Store

    with tempfile.TemporaryDirectory(prefix="newsdesk-rebuild-") as tmp, \
            Store(str(Path(tmp) / "r.db")) as store:
        t0 = time.perf_counter()
        load(store, out)
        print(f"loaded {store.count_articles():,} articles in {time.perf_counter() - t0:.0f} s",
              flush=True)
        loaded = store.story_map()
        previous = loaded
        for run in (1, 2):
            t0 = time.perf_counter()
            r = newsdesk.rebuild_stories(store)
            wall = time.perf_counter() - t0
            now = store.story_map()
            p, rc = pair_agreement(loaded, now)
            p2, rc2 = pair_agreement(previous, now)
            print(f"rebuild {run}: {r.articles:,} articles in {wall:.1f} s "
                  f"({r.articles / wall:.0f} articles/s); stories {len(set(loaded.values())):,} "
                  f"loaded -> {r.stories:,}; story id changed for {r.moved:,}; "
                  f"pairs against the load: precision {p:.3f} recall {rc:.3f}; "
                  f"against the run before: {p2:.3f} / {rc2:.3f}", flush=True)
            previous = now
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            print(f"peak RSS {int(line.split()[1]) / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
