"""Vector search for story placement: what HNSW's graph degree costs in memory and recall.

    python bench/bench_vectors.py DIR                # a `newsdesk batch --no-store` output
    python bench/bench_vectors.py DIR --m 8,16,32 --queries 2000

Above ``StoryConfig.hnsw_above`` articles the story index searches a faiss HNSW graph
with 8-bit vectors (``stories.HNSWIndex``, M=32). Each article costs its 384 bytes of
codes plus its graph links (2*M ids of 4 bytes on the bottom layer), so M is the one
knob of the vectors' memory left. This loads the real embeddings of a batch's stage
output, builds the graph for each M, and searches the last ``--queries`` vectors (taken
out of the graph, as a new article would be) for their ``StoryConfig.neighbours``
nearest rows. Printed per M: bytes an article (the serialised index over its rows),
build seconds, recall of the exact top-k (NumPy over the same float32 vectors), and
the median search time. The evaluation data stays in ../shared/data; the stage output
is a benchmark folder (git-ignored).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np


def load_vectors(stages: Path) -> np.ndarray:
    import pyarrow.parquet as pq

    parts = []
    for f in sorted((stages / "embeddings").glob("*.parquet")):
        col = pq.read_table(f, columns=["vector"]).column("vector").combine_chunks()
        parts.append(np.asarray(col.values, dtype=np.float32).reshape(-1, 384))
    if not parts:
        raise SystemExit(f"{stages}: no embeddings/*.parquet (run `newsdesk batch ... --no-store` first)")
    v = np.concatenate(parts)
    return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def main() -> int:
    from newsdesk.stories import DEFAULT_CONFIG, HNSWIndex

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stages", type=Path)
    ap.add_argument("--m", default="16,24,32", help="graph degrees to compare, comma-separated")
    ap.add_argument("--queries", type=int, default=2000)
    a = ap.parse_args()

    vecs = load_vectors(a.stages)
    k = DEFAULT_CONFIG.neighbours
    base, queries = vecs[: -a.queries], vecs[-a.queries:]
    exact = np.argsort(-(queries @ base.T), axis=1)[:, :k]
    print(f"{len(base):,} vectors in the graph, {len(queries):,} queries, top {k}\n")
    print("| M | bytes an article | build s | recall@k | median search ms |")
    print("|---|---|---|---|---|")
    for m in (int(x) for x in a.m.split(",")):
        idx = HNSWIndex(384, m=m)
        t0 = time.perf_counter()
        idx.add(base)
        build = time.perf_counter() - t0
        size = idx.to_bytes().nbytes / len(base)
        hits, times = 0, []
        for q, want in zip(queries, exact, strict=True):
            t1 = time.perf_counter()
            _, rows = idx.search(q, k)
            times.append(time.perf_counter() - t1)
            hits += len(set(rows.tolist()) & set(want.tolist()))
        print(f"| {m} | {size:.0f} | {build:.1f} | {hits / (k * len(queries)):.3f} | "
              f"{1000 * statistics.median(times):.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
