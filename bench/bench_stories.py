"""Story clustering benchmark: quality on ECB+, BASIL and both pooled, SemEval-2022
pair correlation and stories by language, and placement throughput.

    python bench/bench_stories.py                 # everything, shipped default config
    python bench/bench_stories.py --sweep         # grid over the main knobs, worst case across sets
    python bench/bench_stories.py --scale         # time to place one article at 10k/100k/1M stored
    python bench/bench_stories.py --backend onnx-int8   # vectors from another embedding backend
    python bench/bench_stories.py --no-semeval --set profile_terms=100   # one option changed

Articles are fed one by one in publication order where dates exist (BASIL), file
order otherwise (ECB+ has no dates); the pooled stream spreads the undated ECB+
articles evenly through the dated BASIL stream. Embeddings are cached in
bench/out/ (git-ignored). The evaluation data is read from ../shared/data and
never copied into the repository.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, data_dir  # noqa: E402

from newsdesk.embeddings import (  # noqa: E402
    BACKENDS,
    LEAD_CHARS,
    MAX_TOKENS,
    STATIC_MAX_TOKENS,
    Embedder,
    component_of,
    default_backend,
    default_max_tokens,
    embedding_text,
)
from newsdesk.stories import (  # noqa: E402
    DEFAULT_CONFIG,
    ArticleFeatures,
    HNSWIndex,
    NumpyIndex,
    StoryConfig,
    StoryIndex,
    features_from_text,
)

OUT = REPO / "bench" / "out"
SETS = ("ecbplus", "basil")


# ---------------------------------------------------------------- data
def load(name: str) -> list[dict]:
    path = data_dir() / "clustering" / name / "articles.jsonl"
    if not path.is_file():
        sys.stderr.write(f"error: missing {path}\n")
        raise SystemExit(2)
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def embeddings(
    name: str, recs: list[dict], lead_chars: int, max_tokens: int, backend: str = "torch"
) -> np.ndarray:
    """Embeddings of title + lead, cached in bench/out/ by set, ids, settings and backend."""
    OUT.mkdir(parents=True, exist_ok=True)
    # the component names the vectors (int8 v1 was batched, v2 one text per run)
    tag = f"{name}_l{lead_chars}t{max_tokens}"
    if backend != "torch":
        tag += f"_{backend}_{component_of(backend, max_tokens)}"
    vec_path, ids_path = OUT / f"emb_{tag}.npy", OUT / f"emb_{tag}.ids.json"
    ids = [r["id"] for r in recs]
    if vec_path.is_file() and ids_path.is_file() and json.loads(ids_path.read_text()) == ids:
        return np.load(vec_path)
    texts = [embedding_text(r.get("title"), r["text"], lead_chars) for r in recs]
    t0 = time.perf_counter()
    vecs = Embedder(max_tokens=max_tokens, backend=backend).encode(texts)
    dt = time.perf_counter() - t0
    print(f"  embedded {name} ({backend}): {len(texts)} articles, {len(texts) / dt:.1f} art/s "
          "(model load included)", flush=True)
    np.save(vec_path, vecs)
    ids_path.write_text(json.dumps(ids))
    return vecs


def _date(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def features(recs: list[dict], vecs: np.ndarray) -> list[ArticleFeatures]:
    return [
        features_from_text(
            r["id"],
            r["text"],
            v,
            title=r.get("title"),
            published=_date(r.get("published")),
            source=r.get("source"),
        )
        for r, v in zip(recs, vecs, strict=True)
    ]


def stream_order(recs: list[dict]) -> list[int]:
    """Publication order where dates exist (stable on ties), file order otherwise."""
    if all(r.get("published") for r in recs):
        return sorted(range(len(recs)), key=lambda i: recs[i]["published"])
    return list(range(len(recs)))


def pooled_order(n_dated: int, n_undated: int) -> list[tuple[int, int]]:
    """(set, position) pairs spreading the undated stream evenly through the dated one."""
    out, j = [], 0
    for i in range(n_dated):
        out.append((0, i))
        target = round((i + 1) * n_undated / n_dated)
        while j < target:
            out.append((1, j))
            j += 1
    out.extend((1, k) for k in range(j, n_undated))
    return out


# ---------------------------------------------------------------- metrics
def bcubed(gold: Sequence[str], pred: Sequence[str]) -> tuple[float, float, float]:
    g_size = Counter(gold)
    p_size = Counter(pred)
    both = Counter(zip(gold, pred, strict=True))
    P = sum(both[(g, p)] / p_size[p] for g, p in zip(gold, pred, strict=True)) / len(gold)
    R = sum(both[(g, p)] / g_size[g] for g, p in zip(gold, pred, strict=True)) / len(gold)
    return P, R, 2 * P * R / (P + R) if P + R else 0.0


def pairwise_f1(gold: Sequence[str], pred: Sequence[str]) -> float:
    def pairs(c: Counter) -> int:
        return sum(n * (n - 1) // 2 for n in c.values())

    tp = pairs(Counter(zip(gold, pred, strict=True)))
    pp, gp = pairs(Counter(pred)), pairs(Counter(gold))
    p = tp / pp if pp else 0.0
    r = tp / gp if gp else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def ari(gold: Sequence[str], pred: Sequence[str]) -> float:
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(gold, pred))


def evaluate(feats: list[ArticleFeatures], gold: list[str], order: list[int], config: StoryConfig) -> dict:
    idx = StoryIndex(config)
    by_id = {f.id: f for f in feats}
    t0 = time.perf_counter()
    idx.place_many((feats[i] for i in order), features=by_id)
    dt = time.perf_counter() - t0
    pred = [idx.story_of(f.id) or "" for f in feats]
    P, R, F = bcubed(gold, pred)
    return {
        "n": len(feats),
        "gold": len(set(gold)),
        "pred": idx.n_stories,
        "P": P,
        "R": R,
        "F1": F,
        "pairF1": pairwise_f1(gold, pred),
        "ARI": ari(gold, pred),
        "art_per_s": len(feats) / dt,
    }


class Bench:
    def __init__(self, lead_chars: int, max_tokens: int, backend: str = "torch") -> None:
        self.feats: dict[str, list[ArticleFeatures]] = {}
        self.gold: dict[str, list[str]] = {}
        self.order: dict[str, list[int]] = {}
        for name in SETS:
            recs = load(name)
            vecs = embeddings(name, recs, lead_chars, max_tokens, backend)
            self.feats[name] = features(recs, vecs)
            self.gold[name] = [r["story"] for r in recs]
            self.order[name] = stream_order(recs)
        # pooled: BASIL (dated) with ECB+ (undated) spread through it
        b, e = self.feats["basil"], self.feats["ecbplus"]
        self.feats["pooled"] = b + e
        self.gold["pooled"] = self.gold["basil"] + self.gold["ecbplus"]
        ob, oe = self.order["basil"], self.order["ecbplus"]
        self.order["pooled"] = [ob[k] if s == 0 else len(b) + oe[k] for s, k in pooled_order(len(b), len(e))]

    def run(
        self, config: StoryConfig, names: Sequence[str] = ("ecbplus", "basil", "pooled")
    ) -> dict[str, dict]:
        return {n: evaluate(self.feats[n], self.gold[n], self.order[n], config) for n in names}

    def shuffled(self, config: StoryConfig, name: str, seeds: Sequence[int]) -> list[dict]:
        out = []
        for s in seeds:
            order = list(self.order[name])
            random.Random(s).shuffle(order)
            out.append(evaluate(self.feats[name], self.gold[name], order, config))
        return out


def print_table(res: dict[str, dict]) -> None:
    print("| set | articles | gold stories | predicted | B3 P | B3 R | B3 F1 | pairwise F1 | ARI |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n, r in res.items():
        print(
            f"| {n} | {r['n']} | {r['gold']} | {r['pred']} | {r['P']:.3f} | {r['R']:.3f} | "
            f"**{r['F1']:.3f}** | {r['pairF1']:.3f} | {r['ARI']:.3f} |"
        )


# ---------------------------------------------------------------- semeval
def semeval(config: StoryConfig, lead_chars: int, max_tokens: int, backend: str = "torch") -> None:
    from scipy.stats import pearsonr

    recs = load("semeval22_pairs")
    vecs = embeddings("semeval22_pairs", recs, lead_chars, max_tokens, backend)
    feats = {f.id: f for f in features(recs, vecs)}
    idx = StoryIndex(config)
    for f in feats.values():  # running document frequencies over the whole set
        idx.place(f)
    path = data_dir() / "clustering" / "semeval22_pairs" / "pairs.jsonl"
    pairs = [json.loads(line) for line in path.open(encoding="utf-8")]
    by_lang: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    for p in pairs:
        a, b = feats.get(p["id1"]), feats.get(p["id2"])
        if a is None or b is None:
            continue
        key = f"{p['lang1']}-{p['lang2']}"
        cos = float(a.embedding @ b.embedding)
        row = (idx.pair_score(a, b), cos, -p["score"])  # sign-corrected: higher = more similar
        by_lang[key].append(row)
        by_lang["all"].append(row)
    print("\n## SemEval-2022 Task 8 pairs: Pearson r with the human Overall score (sign-corrected)\n")
    print("| language pair | pairs | newsdesk score | embedding cosine only |")
    print("|---|---|---|---|")
    for key in sorted(by_lang, key=lambda k: (k == "all", -len(by_lang[k]))):
        rows = np.array(by_lang[key])
        r_all = pearsonr(rows[:, 0], rows[:, 2])[0]
        r_cos = pearsonr(rows[:, 1], rows[:, 2])[0]
        print(f"| {key} | {len(rows)} | {r_all:.3f} | {r_cos:.3f} |")
    by_language(config, feats, pairs)


def by_language(config: StoryConfig, feats: dict[str, ArticleFeatures], pairs: list[dict]) -> None:
    """Each language's SemEval articles placed as one stream (file order): do articles
    of different events stay apart? SemEval's articles have no story labels, so the
    scored pairs stand in: "alike" = Overall score <= 1.5 (the data's ``label``), "unlike"
    = 3 or more (somewhat to very dissimilar); the share of each placed in one story."""
    lang: dict[str, str] = {}
    for p in pairs:
        lang[p["id1"]], lang[p["id2"]] = p["lang1"], p["lang2"]
    groups: dict[str, list[ArticleFeatures]] = defaultdict(list)
    for f in feats.values():
        if f.id in lang:
            groups[lang[f.id]].append(f)
    print("\n## SemEval-2022 articles by language, each placed as one stream\n")
    print("| language | articles | stories | largest story | alike pairs together | unlike pairs together |")
    print("|---|---|---|---|---|---|")
    for code, group in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        idx = StoryIndex(config)
        idx.place_many(iter(group), features={f.id: f for f in group})
        story = {f.id: idx.story_of(f.id) for f in group}
        same = [p for p in pairs if p["lang1"] == p["lang2"] == code]
        alike = [story[p["id1"]] == story[p["id2"]] for p in same if p["score"] <= 1.5]
        unlike = [story[p["id1"]] == story[p["id2"]] for p in same if p["score"] >= 3]
        sizes = Counter(story.values())
        print(f"| {code} | {len(group)} | {len(sizes)} | {max(sizes.values())} | "
              f"{sum(alike)} / {len(alike)} | {sum(unlike)} / {len(unlike)} |")


# ---------------------------------------------------------------- throughput
def scale(sizes: Sequence[int], queries: int = 300) -> None:
    """Time to place one article with N articles stored (synthetic clustered vectors)."""
    print("\n## Placement cost vs stored articles (synthetic 384-d vectors, 10 per story)\n")
    # CPU time of the placing thread, not wall time: on a shared 2-core machine the wall
    # time of a 1 ms call mostly measures who else is running.
    print(
        "| stored | vector search | build s | vectors MB | profiles MB | place CPU ms/article (median) "
        "| p90 | wall ms (median) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    vocab = [f"w{i}" for i in range(50_000)]
    for n in sizes:
        for backend in ("numpy", "hnsw") if n <= 100_000 else ("hnsw",):
            centres = rng.standard_normal((n // 10 + 1, 384)).astype(np.float32)
            idx = StoryIndex(DEFAULT_CONFIG, vectors="numpy")
            t0 = time.perf_counter()
            # fill the index directly (placing a million articles one by one would take hours here)
            chunk = 100_000
            rows_vecs = []
            for start in range(0, n, chunk):
                m = min(chunk, n - start)
                v = centres[(np.arange(start, start + m)) // 10] + 0.6 * rng.standard_normal((m, 384)).astype(
                    np.float32
                )
                v /= np.linalg.norm(v, axis=1, keepdims=True)
                rows_vecs.append(v)
            allv = np.concatenate(rows_vecs)
            del rows_vecs
            if backend == "numpy":
                idx._vectors = NumpyIndex(384, allv)
            else:
                h = HNSWIndex(384)
                h.add(allv)
                idx._vectors = h
            idx._mode = backend
            _bulk_stories(idx, n, rng, vocab)
            build = time.perf_counter() - t0
            times, walls = [], []
            for q in range(queries):
                c = int(rng.integers(0, n // 10))
                v = centres[c] + 0.6 * rng.standard_normal(384).astype(np.float32)
                v /= np.linalg.norm(v)
                terms = {vocab[(c * 7 + j) % len(vocab)]: 1.0 for j in range(60)}
                f = ArticleFeatures(id=f"q{n}-{q}", embedding=v.astype(np.float32), terms=terms)
                t1, w1 = time.thread_time(), time.perf_counter()
                idx.place(f)
                times.append(time.thread_time() - t1)
                walls.append(time.perf_counter() - w1)
            ms = np.array(times) * 1000
            vec = idx._vectors
            mb = (vec.to_bytes().nbytes if isinstance(vec, HNSWIndex) else vec.matrix().nbytes) / 1e6
            prof_mb = sum(p.ids.nbytes + p.w.nbytes for st in idx._stories.values()
                          for p in (st.terms, st.names)) / 1e6
            print(
                f"| {n:,} | {backend} | {build:.0f} | {mb:.0f} | {prof_mb:.0f} | {np.median(ms):.2f} "
                f"| {np.percentile(ms, 90):.2f} | "
                f"{1000 * np.median(walls):.2f} |",
                flush=True,
            )
            del idx, allv


def _bulk_stories(idx: StoryIndex, n: int, rng: np.random.Generator, vocab: list[str]) -> None:
    """Story bookkeeping for n synthetic articles in stories of 10 (ids, profiles, df)."""
    from newsdesk.stories import _Profile, _Story

    idx._article_ids = [f"a{i}" for i in range(n)]
    idx._row = {a: i for i, a in enumerate(idx._article_ids)}
    idx._story_of = [f"s{i // 10}" for i in range(n)]
    for s in range(0, n, 10):
        st = _Story(f"s{s // 10}", list(range(s, min(s + 10, n))), np.zeros(384, dtype=np.float32))
        c = s // 10
        st.emb_sum = np.sum([idx._vectors.vector(r) for r in st.members[:1]], axis=0) * len(st.members)
        st.set_profiles(idx._profile({vocab[(c * 7 + j) % len(vocab)]: 10.0 for j in range(200)}), _Profile())
        idx._stories[st.id] = st
    idx._dfa[idx._term_ids(vocab)] = max(1, n // 1000)
    idx._n_docs = n


# ---------------------------------------------------------------- main
def sweep(bench: Bench) -> None:
    """The grid the default was chosen from: worst case over the sets of B3 F1 and ARI."""
    grid = {
        "threshold": [0.26, 0.3, 0.34, 0.38, 0.45],
        "w_names": [0.15, 0.25, 0.35, 0.45, 0.55],
        "w_lexical": [0.15, 0.2, 0.3],
        "split_threshold": [0.0, 0.32, 0.34, 0.36, 0.4, 0.45],
    }
    rows = []
    for th, wn, wl, sp in itertools.product(*grid.values()):
        if wn + wl > 0.85:
            continue
        cfg = StoryConfig(threshold=th, w_names=wn, w_lexical=wl, w_centroid=1 - wn - wl, split_threshold=sp)
        res = bench.run(cfg)
        worst = min(min(r["F1"] for r in res.values()), min(r["ARI"] for r in res.values()))
        rows.append((worst, th, wn, wl, sp))
        print(
            f"threshold={th:.2f} w_names={wn:.2f} w_lexical={wl:.2f} split={sp:.2f} | "
            + " ".join(f"{n}:F1={r['F1']:.3f},ARI={r['ARI']:.3f}" for n, r in res.items())
            + f" | worst={worst:.3f}",
            flush=True,
        )
    rows.sort(key=lambda x: -x[0])
    print("\nbest by worst case (min over sets of B3 F1 and ARI):")
    for w, th, wn, wl, sp in rows[:8]:
        print(f"  worst={w:.3f} threshold={th} w_names={wn} w_lexical={wl} split_threshold={sp}")


def config_with(overrides: Sequence[str]) -> StoryConfig:
    """The default StoryConfig with ``OPTION=VALUE`` overrides (values typed like the defaults)."""
    data = dataclasses.asdict(DEFAULT_CONFIG)
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or key not in data:
            raise SystemExit(f"--set {item!r}: expected OPTION=VALUE with OPTION one of {sorted(data)}")
        try:
            data[key] = type(data[key])(value)
        except ValueError:
            raise SystemExit(f"--set {item!r}: {key} must be of type {type(data[key]).__name__}") from None
    try:
        return StoryConfig.from_dict(data)
    except ValueError as exc:  # the config's own validation, e.g. profile_terms below 10
        raise SystemExit(f"--set: {exc}") from None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sweep", action="store_true", help="grid over threshold and weights")
    ap.add_argument("--scale", action="store_true", help="only the 10k/100k/1M placement timing")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--lead-chars", type=int, default=LEAD_CHARS)
    ap.add_argument("--max-tokens", type=int, default=None,
                    help=f"default: the backend's own ({MAX_TOKENS}; static {STATIC_MAX_TOKENS})")
    ap.add_argument("--no-semeval", action="store_true")
    ap.add_argument("--set", action="append", default=[], metavar="OPTION=VALUE",
                    help="override one StoryConfig option (repeatable), e.g. --set profile_terms=100")
    ap.add_argument(
        "--backend", choices=BACKENDS, default=default_backend(),
        help="embedding backend (see docs/embeddings.md); default: newsdesk's own default",
    )
    args = ap.parse_args()
    if args.max_tokens is None:
        args.max_tokens = default_max_tokens(args.backend)
    data_dir()  # exit 2 with a clear message when the shared data is absent
    if args.scale:
        scale([int(s) for s in args.sizes.split(",")])
        return
    bench = Bench(args.lead_chars, args.max_tokens, args.backend)
    if args.sweep:
        sweep(bench)
        return
    cfg = config_with(args.set)
    print(f"# Story clustering, {'default config' if cfg == DEFAULT_CONFIG else 'config'}: {cfg}\n")
    print(
        f"embedding input: title + first {args.lead_chars} characters, {args.max_tokens} tokens, "
        f"backend {args.backend}\n"
    )
    res = bench.run(cfg)
    print_table(res)
    print(
        "\nplacement (features and embeddings precomputed): "
        + ", ".join(f"{n} {r['art_per_s']:.0f} art/s" for n, r in res.items())
    )
    print("\nECB+ in 5 shuffled orders (order sensitivity of online placement):")
    sh = bench.shuffled(cfg, "ecbplus", range(5))
    f1s, aris = [r["F1"] for r in sh], [r["ARI"] for r in sh]
    print(
        f"  B3 F1 mean {np.mean(f1s):.3f} (min {min(f1s):.3f}), "
        f"ARI mean {np.mean(aris):.3f} (min {min(aris):.3f})"
    )
    if not args.no_semeval:
        semeval(cfg, args.lead_chars, args.max_tokens, args.backend)


if __name__ == "__main__":
    if os.environ.get("NEWSDESK_BENCH_PROFILE"):
        import cProfile

        cProfile.run("main()", sort="cumtime")
    else:
        main()
