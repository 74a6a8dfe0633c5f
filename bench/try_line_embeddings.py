"""Experiment (not shipped): do sentence embeddings of lines help the line classifier?

    python bench/try_line_embeddings.py                 # embed, then leave-one-set-out
    python bench/try_line_embeddings.py --held dragnet  # one held-out set

Each distinct non-blank line of the four line sets is embedded once with newsdesk's
embedder (all-MiniLM-L6-v2, 32 tokens, cached in ``bench/out/line_embeddings``). For
each held-out set the line classifier of ``bench/train_line_model.py`` is trained on
the other three twice, on the same features and training pages: once as shipped
("base"), once with seven more features per line ("emb"): the log-odds of a logistic
regression over the line's embedding (cross-fitted on the training folds, as the word
lexicon is), the same for the two lines either side, and its means over windows of 3
and 10 lines. Scores are the classifier's own line decisions at 0.5 on the held-out
set, with line document frequencies over that set (the "df" setting of
``bench_lines.py``), against the official labels; the rules of ``clean_text`` are not
applied, so the figures sit a little apart from bench_lines.py's, and only the
difference between the two rows of a set matters.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))

from common import LINE_SETS, clean_labels, load_line_set, prf, set_df  # noqa: E402
from train_line_model import PARAMS, Doc, build_lexicons, features, matrix, prepare_each  # noqa: E402

from newsdesk.cleaning import _window_mean  # noqa: E402

CACHE = HERE / "out" / "line_embeddings"


def embeddings(sets: dict[str, list[Doc]]) -> dict[str, np.ndarray]:
    """Line text -> embedding, for every line of ``sets`` (computed once, then cached)."""
    texts_file, emb_file = CACHE / "texts.json", CACHE / "emb.npy"
    if not emb_file.is_file():
        from newsdesk.embeddings import Embedder

        texts = sorted({t for docs in sets.values() for lines, _ in docs for t in lines})
        enc = Embedder(max_tokens=32, batch_size=128)
        out = np.zeros((len(texts), 384), np.float16)
        t0 = time.time()
        for i in range(0, len(texts), 20000):
            out[i:i + 20000] = enc.encode(texts[i:i + 20000])
            print(f"  embedded {min(i + 20000, len(texts)):,} of {len(texts):,} lines "
                  f"({time.time() - t0:.0f} s)", flush=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        np.save(emb_file, out)
        texts_file.write_text(json.dumps(texts))
    texts = json.loads(texts_file.read_text())
    emb = np.load(emb_file).astype(np.float32)
    return {t: emb[i] for i, t in enumerate(texts)}


def main() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--held", default=",".join(LINE_SETS))
    a = ap.parse_args()
    sets = {s: [d for d in prepare_each(load_line_set(s)) if d is not None] for s in LINE_SETS}
    vec = embeddings(sets)

    def emb_of(lines: list[str]) -> np.ndarray:
        return np.stack([vec[t] for t in lines])

    def fit_lr(docs: list[Doc]) -> LogisticRegression:
        X = np.concatenate([emb_of(t) for t, _ in docs])
        y = np.concatenate([clean_labels(t, lab) for t, lab in docs])
        return LogisticRegression(max_iter=300).fit(X, y)

    def emb_features(lines: list[str], lr: LogisticRegression) -> np.ndarray:
        s = lr.decision_function(emb_of(lines))
        n = len(s)
        pad = np.concatenate([np.full(2, -5.0), s, np.full(2, -5.0)])
        cols = [s] + [pad[2 + o: 2 + o + n] for o in (-2, -1, 1, 2)]
        return np.stack(cols + [_window_mean(s, 3), _window_mean(s, 10)], 1)

    def extra(train: list[Doc]):
        """Embedding features fitted on ``train`` (a fold's pages, or all training pages)."""
        lr = fit_lr(train)
        return lambda lines: emb_features(lines, lr)

    print("| held-out set | features | P | R | F1 |\n|---|---|---|---|---|")
    for held in a.held.split(","):
        pairs = [(d, g) for g, ds in sets.items() if g != held for d in ds]
        docs, groups = [d for d, _ in pairs], [g for _, g in pairs]
        test, df = sets[held], set_df(sets[held])
        for mode in ("base", "emb"):
            X, y = matrix(docs, groups, extra=extra if mode == "emb" else None)
            clf = HistGradientBoostingClassifier(**PARAMS).fit(X, y)
            wl, ll = build_lexicons(docs)
            more = extra(docs) if mode == "emb" else None
            tp = fp = fn = 0
            for t, lab in test:
                keep = clf.predict_proba(features(t, wl, ll, df, more))[:, 1] >= 0.5
                gold = np.asarray(lab) == 1
                tp += int((keep & gold).sum())
                fp += int((keep & ~gold).sum())
                fn += int((~keep & gold).sum())
            p, r, f = prf(tp, fp, fn)
            print(f"| {held} | {mode} | {p:.3f} | {r:.3f} | {f:.3f} |", flush=True)


if __name__ == "__main__":
    main()
