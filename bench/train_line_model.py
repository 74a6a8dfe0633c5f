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
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import LINE_SETS, REPO, load_line_set  # noqa: E402

from newsdesk.cleaning import (  # noqa: E402
    _TOKEN,
    _Model,
    line_features,
    line_key,
    normalize_line,
)

Doc = tuple[list[str], list[int]]

N_WORDS = 4000
N_LINES = 4000
MAX_LINE_WORDS = 8  # only short lines go into the line lexicon
MIN_DOCS_LINE = 4
MIN_DOCS_WORD = 5
PARAMS = dict(
    max_iter=150,
    learning_rate=0.1,
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
    words = [w for w, d in wdf.most_common() if d >= MIN_DOCS_WORD][:N_WORDS]
    V = len(words) + 1
    word_lo = {
        w: math.log((wc[0][w] + 1) / (n0 + V)) - math.log((wc[1][w] + 1) / (n1 + V))
        for w in words
    }
    lines = [s for s, d in ldf.most_common() if d >= MIN_DOCS_LINE][:N_LINES]
    line_lo = {line_key(s): math.log((lc[0][s] + 0.5) / (lc[1][s] + 0.5)) for s in lines}
    return word_lo, line_lo


def clean_copies(docs: list[Doc]) -> list[Doc]:
    out = []
    for texts, labels in docs:
        pos = [t for t, y in zip(texts, labels, strict=True) if y == 1]
        if len(pos) >= 2 and len(pos) < len(texts):
            out.append((pos, [1] * len(pos)))
    return out


def matrix(docs: list[Doc], folds: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features with cross-fitted lexicons, labels (clean copies included)."""
    rng = np.random.default_rng(seed)
    fold_of = rng.integers(0, folds, size=len(docs))
    Xs, ys = [], []
    for k in range(folds):
        train = [d for d, f in zip(docs, fold_of, strict=True) if f != k]
        test = [d for d, f in zip(docs, fold_of, strict=True) if f == k]
        wl, ll = build_lexicons(train)
        for texts, labels in test + clean_copies(test):
            Xs.append(line_features(texts, wl, ll))
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


def train(docs: list[Doc], threshold: float = 0.5, verbose: bool = True) -> tuple[_Model, dict]:
    from sklearn.ensemble import HistGradientBoostingClassifier

    docs = prepare(docs)
    t0 = time.time()
    X, y = matrix(docs)
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
    for name in a.sets.split(","):
        docs += load_line_set(name)
    print(f"training on {a.sets}: {len(docs)} documents", flush=True)
    _, arrays = train(docs, a.threshold)
    np.savez_compressed(a.out, **arrays)
    print(f"wrote {a.out} ({Path(a.out).stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
