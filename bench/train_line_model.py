"""Train newsdesk's line classifier and write src/newsdesk/data/line_model.npz.

    python bench/train_line_model.py            # train on all four line sets
    python bench/train_line_model.py --out X.npz --sets dragnet,cleaneval

Model: scikit-learn HistGradientBoostingClassifier over the per-line,
neighbour and document features of ``newsdesk.cleaning.line_features``; its
trees are exported to flat numpy arrays (no pickle, no scikit-learn at
inference).  Two lexicons are part of the model: log-odds of boilerplate for
frequent words, and for frequent short normalised lines (stored as 63-bit
hashes, so no text of the data is shipped).  To keep the boosted trees from
trusting lexicon values that saw the very line being classified, training
features use lexicons built on the other folds (cross-fitting).

Labels are cleaned for training only: the derived labels mark a short line
(<= 3 words) as article text whenever it happens to be a substring of the gold
text, so menu entries like "Home" or "Business" far outside the article are
labelled 1.  Such positives lying outside the span of the page's >= 4-word
positives are relabelled 0 before training (evaluation keeps the official
labels).

Transductive repetition: a line's document frequency (pages of the same corpus
it occurs on) is a feature (``line_df`` of ``clean_text``).  In training it is
computed within each training set and given for a random half of the pages, so
the model also works when no frequencies are known.

Training also sees a "clean" copy of every document (only its article lines,
all labelled 1), so that text that is already clean is recognised and kept
whole.  Why a trained model at all: see the docstring of newsdesk.cleaning.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import LINE_SETS, REPO, clean_labels, load_line_set, set_df  # noqa: E402

from newsdesk.cleaning import (  # noqa: E402
    _TOKEN,
    _Model,
    line_features,
    line_key,
    normalize_line,
)

Doc = tuple[list[str], list[int]]

N_WORDS = 4000
N_LINES = 0  # no memorised line lexicon: it cannot help on held-out corpora
MAX_LINE_WORDS = 8  # only short lines go into the line lexicon
MIN_DOCS_LINE = 4
MIN_DOCS_WORD = 5
PARAMS = dict(
    max_iter=100,
    learning_rate=0.15,
    max_leaf_nodes=24,
    max_depth=7,
    min_samples_leaf=40,
    l2_regularization=1.0,
    early_stopping=False,
    random_state=0,
)


def prepare(docs: list[Doc]) -> list[Doc]:
    """Drop blank lines (the cleaner never classifies them)."""
    out = []
    for texts, labels in docs:
        pairs = [(t.strip(), y) for t, y in zip(texts, labels, strict=True) if t.strip()]
        if pairs:
            out.append(([t for t, _ in pairs], [y for _, y in pairs]))
    return out


def prepare_each(docs: list[Doc]) -> list[Doc | None]:
    """``prepare`` keeping positions (None for a page with no text)."""
    out: list[Doc | None] = []
    for d in docs:
        p = prepare([d])
        out.append(p[0] if p else None)
    return out


def _by_df(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def build_lexicons(docs: list[Doc]) -> tuple[dict[str, float], dict[int, float]]:
    wc = [Counter(), Counter()]
    wdf: Counter = Counter()
    lc = [Counter(), Counter()]
    ldf: Counter = Counter()
    for texts, labels in docs:
        seen_w, seen_l = set(), set()
        for t, y in zip(texts, labels, strict=True):
            toks = [w.lower() for w in _TOKEN.findall(t)]
            wc[y].update(toks)
            seen_w.update(toks)
            norm = normalize_line(t)
            if norm and len(norm.split()) <= MAX_LINE_WORDS:
                lc[y][norm] += 1
                seen_l.add(norm)
        wdf.update(seen_w)
        ldf.update(seen_l)
    n0, n1 = sum(wc[0].values()) + 1, sum(wc[1].values()) + 1
    # ties broken by the word itself: most_common() keeps the counters' insertion order,
    # which follows set iteration and so PYTHONHASHSEED, and the words at the cut-off
    # (and the trained model) changed from one run to the next
    words = [w for w, d in sorted(wdf.items(), key=_by_df) if d >= MIN_DOCS_WORD][:N_WORDS]
    V = len(words) + 1
    word_lo = {
        w: math.log((wc[0][w] + 1) / (n0 + V)) - math.log((wc[1][w] + 1) / (n1 + V))
        for w in words
    }
    lines = [s for s, d in sorted(ldf.items(), key=_by_df) if d >= MIN_DOCS_LINE][:N_LINES]
    line_lo = {line_key(s): math.log((lc[0][s] + 0.5) / (lc[1][s] + 0.5)) for s in lines}
    return word_lo, line_lo


def clean_copies(docs: list[Doc]) -> list[Doc]:
    out = []
    for texts, labels in docs:
        pos = [t for t, y in zip(texts, labels, strict=True) if y == 1]
        if len(pos) >= 2 and len(pos) < len(texts):
            out.append((pos, [1] * len(pos)))
    return out


def crops(docs: list[Doc], rng: np.random.Generator) -> list[Doc]:
    """Short scraped pages: the article span plus a few lines of junk either side.

    The corpora hold whole pages (hundreds of lines); text scraped by others is
    often just the article with a menu above and a few links below.
    """
    out = []
    for texts, labels in docs:
        cl = clean_labels(texts, labels)
        pos = [i for i, (t, y) in enumerate(zip(texts, cl, strict=True))
               if y == 1 and len(t.split()) >= 4]
        if len(pos) < 2:
            continue
        lo = max(pos[0] - int(rng.integers(2, 15)), 0)
        hi = min(pos[-1] + int(rng.integers(2, 15)), len(texts) - 1)
        if hi - lo + 1 < len(texts) - 4:
            out.append((texts[lo : hi + 1], cl[lo : hi + 1]))
    return out


ExtraFeatures = Callable[[list[Doc]], Callable[[list[str]], np.ndarray]]


def features(
    texts: list[str], wl: dict[str, float], ll: dict[int, float],
    df: Mapping[str, int] | None, more: Callable[[list[str]], np.ndarray] | None = None,
) -> np.ndarray:
    """``line_features`` of a page, with ``more``'s columns appended when given."""
    X = line_features(texts, wl, ll, df)
    return X if more is None else np.concatenate([X, more(texts)], axis=1)


def matrix(
    docs: list[Doc], groups: list[str], folds: int = 4, seed: int = 0,
    extra: ExtraFeatures | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Features with cross-fitted lexicons, cleaned labels (clean copies included).

    ``groups[i]`` names the corpus of ``docs[i]``; line document frequencies are
    counted within each corpus and given for a random half of the pages. ``extra``
    (experiments: ``try_line_embeddings.py``) is fitted on each fold's training pages,
    as the lexicons are, and returns more feature columns for a page's lines.
    """
    rng = np.random.default_rng(seed)
    fold_of = rng.integers(0, folds, size=len(docs))
    use_df = rng.random(len(docs)) < 0.5
    dfs = {g: set_df([d for d, g2 in zip(docs, groups, strict=True) if g2 == g]) for g in set(groups)}
    Xs, ys = [], []
    for k in range(folds):
        idx = [i for i in range(len(docs)) if fold_of[i] == k]
        train = [d for d, f in zip(docs, fold_of, strict=True) if f != k]
        wl, ll = build_lexicons(train)
        more = extra(train) if extra is not None else None
        for i in idx:
            texts, labels = docs[i]
            Xs.append(features(texts, wl, ll, dfs[groups[i]] if use_df[i] else None, more))
            ys.append(np.asarray(clean_labels(texts, labels)))
        for texts, labels in clean_copies([docs[i] for i in idx]) + crops(
            [docs[i] for i in idx], rng
        ):
            Xs.append(features(texts, wl, ll, None, more))
            ys.append(np.asarray(labels))
    return np.concatenate(Xs), np.concatenate(ys)


def export(clf, word_lo: dict[str, float], line_lo: dict[int, float], threshold: float) -> dict:
    preds = [p[0] for p in clf._predictors]
    T = len(preds)
    N = max(len(p.nodes) for p in preds)
    feat = np.zeros((T, N), np.int16)
    thr = np.zeros((T, N), np.float64)  # float32 would flip ties at bin edges
    left = np.zeros((T, N), np.int16)
    right = np.zeros((T, N), np.int16)
    leaf = np.ones((T, N), bool)
    value = np.zeros((T, N), np.float32)
    depth = 0
    for t, p in enumerate(preds):
        nd = p.nodes
        k = len(nd)
        feat[t, :k] = nd["feature_idx"]
        thr[t, :k] = nd["num_threshold"]
        left[t, :k] = nd["left"]
        right[t, :k] = nd["right"]
        leaf[t, :k] = nd["is_leaf"].astype(bool)
        value[t, :k] = nd["value"]
        depth = max(depth, int(nd["depth"].max()))
    return dict(
        feat=feat, thr=thr, left=left, right=right, leaf=leaf, value=value,
        depth=np.int64(depth), baseline=np.float64(np.ravel(clf._baseline_prediction)[0]),
        threshold=np.float64(threshold),
        words=np.array(list(word_lo), dtype=str),
        word_lo=np.array(list(word_lo.values()), np.float32),
        line_keys=np.array(list(line_lo), np.int64),
        line_lo=np.array(list(line_lo.values()), np.float32),
    )


def to_model(arrays: dict) -> _Model:
    return _Model(
        feat=arrays["feat"].astype(np.int64), thr=arrays["thr"].astype(np.float64),
        left=arrays["left"].astype(np.int64), right=arrays["right"].astype(np.int64),
        leaf=arrays["leaf"].astype(bool), value=arrays["value"].astype(np.float64),
        depth=int(arrays["depth"]), baseline=float(arrays["baseline"]),
        threshold=float(arrays["threshold"]),
        word_logodds=dict(zip(arrays["words"].tolist(),
                              arrays["word_lo"].astype(float).tolist(), strict=True)),
        line_logodds=dict(zip(arrays["line_keys"].tolist(),
                              arrays["line_lo"].astype(float).tolist(), strict=True)),
    )


def train(
    docs: list[Doc],
    threshold: float = 0.5,
    verbose: bool = True,
    groups: list[str] | None = None,
) -> tuple[_Model, dict]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    groups = groups or ["all"] * len(docs)
    pairs = [(d, g) for d, g in zip(prepare_each(docs), groups, strict=True) if d is not None]
    docs = [d for d, _ in pairs]
    groups = [g for _, g in pairs]
    t0 = time.time()
    X, y = matrix(docs, groups)
    if verbose:
        print(f"  features: {X.shape} in {time.time() - t0:.0f}s", flush=True)
    t0 = time.time()
    clf = HistGradientBoostingClassifier(**PARAMS).fit(X, y)
    if verbose:
        print(f"  fit: {time.time() - t0:.0f}s", flush=True)
    wl, ll = build_lexicons(docs)
    arrays = export(clf, wl, ll, threshold)
    model = to_model(arrays)
    # exported trees must agree with scikit-learn
    chk = X[:2000]
    ours = model.decision(chk)
    theirs = clf.decision_function(chk)
    assert np.allclose(ours, theirs, atol=1e-4), float(np.abs(ours - theirs).max())
    return model, arrays


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default=",".join(LINE_SETS))
    ap.add_argument("--out", default=str(REPO / "src" / "newsdesk" / "data" / "line_model.npz"))
    ap.add_argument("--threshold", type=float, default=0.5)
    a = ap.parse_args()
    docs: list[Doc] = []
    groups: list[str] = []
    for name in a.sets.split(","):
        ds = load_line_set(name)
        docs += ds
        groups += [name] * len(ds)
    print(f"training on {a.sets}: {len(docs)} documents", flush=True)
    _, arrays = train(docs, a.threshold, groups=groups)
    np.savez_compressed(a.out, **arrays)
    print(f"wrote {a.out} ({Path(a.out).stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
