"""Embedding backends: speed, agreement with the reference, and story quality.

    python bench/bench_embed.py                    # speed + agreement + story quality
    python bench/bench_embed.py --repeats 5 --no-stories
    python bench/bench_embed.py --backends onnx-int8 --max-tokens 96,128 --no-stories   # token limits

Speed: articles/s of ``Embedder.encode`` over the embedding texts (title + lead,
``embedding_text``) of ~2,000 real English articles (ECB+, BASIL, and English
SemEval-2022 articles to fill up), model already loaded, with 1 and 2 threads;
the median of ``--repeats`` runs (the machine is shared: medians, not means).
Agreement: cosine between each article's vector from a backend and from the
reference (sentence-transformers on torch). Story quality: bench_stories.py's
ECB+ / BASIL / pooled evaluation with each backend's vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_stories import Bench, load, print_table  # noqa: E402
from common import data_dir  # noqa: E402

from newsdesk.embeddings import (  # noqa: E402
    BACKENDS,
    LEAD_CHARS,
    MAX_TOKENS,
    STATIC_MAX_TOKENS,
    Embedder,
    default_max_tokens,
    embedding_text,
)
from newsdesk.stories import DEFAULT_CONFIG  # noqa: E402


def corpus(n: int) -> list[str]:
    """Embedding texts of ECB+ and BASIL, then English SemEval articles up to ``n``."""
    recs = load("ecbplus") + load("basil")
    recs += [r for r in load("semeval22_pairs") if r.get("lang") == "en"]
    return [embedding_text(r.get("title"), r["text"]) for r in recs[:n]]


def _set_threads(emb: Embedder, threads: int) -> None:
    if emb.backend == "torch":
        import torch

        torch.set_num_threads(threads)


def speed(texts: list[str], backends: list[str], threads: list[int], repeats: int,
          max_tokens: list[int] | None) -> dict:
    """Rounds over every (backend, threads, token limit), so that load changes on a shared
    machine hit all alike."""
    out: dict = {}
    embedders = {}
    for b in backends:
        for th in threads:
            for mt in max_tokens or [default_max_tokens(b)]:
                emb = Embedder(backend=b, threads=th, max_tokens=mt)
                _set_threads(emb, th)
                t0 = time.perf_counter()
                emb.encode(texts[:4])  # load (and export, the first time ever) outside the timing
                embedders[(b, th, mt)] = emb
                out[(b, th, mt)] = {"rates": [], "cpu": [], "load_s": time.perf_counter() - t0, "vecs": None}
    for rnd in range(repeats):
        for (b, th, mt), emb in embedders.items():
            _set_threads(emb, th)
            w, c = time.perf_counter(), time.process_time()
            vecs = emb.encode(texts)
            r = out[(b, th, mt)]
            r["rates"].append(len(texts) / (time.perf_counter() - w))
            r["cpu"].append(1000 * (time.process_time() - c) / len(texts))
            r["vecs"] = vecs
            print(f"  round {rnd + 1}: {b:10s} threads={th} tokens={mt}: {r['rates'][-1]:6.1f} art/s, "
                  f"CPU {r['cpu'][-1]:.1f} ms/article, load average {os.getloadavg()[0]:.1f}", flush=True)
    for r in out.values():
        r["median"] = statistics.median(r["rates"])
        r["cpu_ms"] = statistics.median(r["cpu"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="articles for the speed runs")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--no-stories", action="store_true", help="skip the story-quality evaluation")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed runs")
    ap.add_argument("--max-tokens", default=None,
                    help="token limits, comma-separated (speed: each; stories: the first); default: "
                         f"each backend's own ({MAX_TOKENS}; static {STATIC_MAX_TOKENS})")
    args = ap.parse_args()
    max_tokens = [int(t) for t in args.max_tokens.split(",")] if args.max_tokens else None
    data_dir()
    backends = args.backends.split(",")
    threads = [int(t) for t in args.threads.split(",")]
    print(f"# Embedding backends ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f})\n")
    if not args.no_speed:
        texts = corpus(args.n)
        limits = max_tokens or sorted({default_max_tokens(b) for b in backends})
        print(f"speed: {len(texts)} articles, title + {LEAD_CHARS} characters, "
              f"{'/'.join(map(str, limits))} tokens, {args.repeats} runs each")
        res = speed(texts, backends, threads, args.repeats, max_tokens)
        print("\n| backend | threads | tokens | articles/s (median) | runs | CPU ms/article | load s |")
        print("|---|---|---|---|---|---|---|")
        for (b, th, mt), r in res.items():
            print(f"| {b} | {th} | {mt} | **{r['median']:.1f}** | "
                  f"{', '.join(f'{x:.1f}' for x in r['rates'])} | {r['cpu_ms']:.1f} | {r['load_s']:.1f} |")
        if "torch" in backends:
            print("\n| backend | threads | tokens | mean cosine to torch (same tokens) | min | "
                  "1st percentile | bit-equal across threads |")
            print("|---|---|---|---|---|---|---|")
            for (b, th, mt), r in res.items():
                if ("torch", max(threads), mt) not in res or b == "static":  # static: another space
                    continue
                cos = np.sum(r["vecs"] * res[("torch", max(threads), mt)]["vecs"], axis=1)
                same = all(np.array_equal(r["vecs"], res[(b, t, mt)]["vecs"]) for t in threads)
                print(f"| {b} | {th} | {mt} | {cos.mean():.5f} | {cos.min():.5f} | "
                      f"{np.percentile(cos, 1):.5f} | {'yes' if same else 'no'} |")
        print(flush=True)
    if not args.no_stories:
        summary = {}
        for b in backends:
            print(f"\n## Story quality, backend {b}\n")
            limit = max_tokens[0] if max_tokens else default_max_tokens(b)
            res_s = Bench(LEAD_CHARS, limit, b).run(DEFAULT_CONFIG)
            print_table(res_s)
            summary[b] = {n: (r["F1"], r["ARI"]) for n, r in res_s.items()}
        print("\n" + json.dumps(summary))


if __name__ == "__main__":
    main()
