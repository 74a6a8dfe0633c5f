"""Learn which verb and noun frames are attributions, from PolNeAR train only.

    python bench/train_quote_clf.py                     # all of train -> src/newsdesk/data/quote_clf.json
    python bench/train_quote_clf.py --train-part 0:700 --out /tmp/clf.json   # hold out train[700:]

Candidates are what ``quotes._candidate`` proposes: a verb with a subject and
a complement after it, or a noun with an owner and a complement ("her call for
..."). A candidate is positive when the verb (noun) lies in a gold cue and its
content span covers at least 30% of that attribution's content (the
benchmark's own criterion). A logistic regression over ``quotes._features``
is fitted and its non-zero weights are written as JSON; the extractor adds a
candidate that the rules did not produce when its log-odds reach
``quotes._CLF_MIN_SCORE``.

Only PolNeAR train is read: ggt's licence forbids shipping anything derived
from it, and PolNeAR dev stays held out. Parses are cached in a DocBin under
the system temp folder (never in the repository).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import REPO, data_dir  # noqa: E402

from newsdesk import nlp  # noqa: E402
from newsdesk.quotes import _candidate, _features, _prepare  # noqa: E402

OUT = REPO / "src" / "newsdesk" / "data" / "quote_clf.json"
CACHE = Path(tempfile.gettempdir()) / "newsdesk_polnear_train.spacy"


def load_docs(recs: list[dict]):  # type: ignore[no-untyped-def]
    from spacy.tokens import DocBin

    pipeline = nlp.load()
    if CACHE.is_file():
        docs = list(DocBin().from_disk(CACHE).get_docs(pipeline.vocab))
        if len(docs) == len(recs) and all(d.text == r["text"] for d, r in zip(docs, recs, strict=True)):
            return docs
    docs = [nlp.parse(r["text"], pipeline) for r in recs]
    db = DocBin(attrs=["ORTH", "TAG", "POS", "DEP", "HEAD", "LEMMA", "ENT_IOB", "ENT_TYPE",
                       "SENT_START", "MORPH"])
    for d in docs:
        db.add(d)
    db.to_disk(CACHE)
    return docs


def examples(recs: list[dict], docs: list) -> tuple[list[list[str]], list[int]]:  # type: ignore[type-arg]
    X: list[list[str]] = []
    y: list[int] = []
    for r, doc in zip(recs, docs, strict=True):
        if not r["text"].strip():
            continue
        _, _, _, in_quote, _ = _prepare(doc)
        golds = []
        for q in r["quotes"]:
            chars = {c for a, b in q.get("content_spans") or [] for c in range(a, b)}
            cues = [(a, b) for a, b in q.get("cue_spans") or []]
            if chars and cues:
                golds.append((cues, chars))
        for t in doc:
            if in_quote[t.i]:
                continue
            cand = _candidate(t)
            if cand is None:
                continue
            src, a, b = cand
            ca, cb = doc[a].idx, doc[b - 1].idx + len(doc[b - 1])
            pos = 0
            for cues, chars in golds:
                if any(x <= t.idx < z for x, z in cues) and (
                    sum(1 for c in chars if ca <= c < cb) >= 0.3 * len(chars)
                ):
                    pos = 1
                    break
            X.append(_features(t, src, a, b))
            y.append(pos)
    return X, y


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train-part", default="", help="slice a:b of train articles to fit on")
    ap.add_argument("--C", type=float, default=0.3)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--eval-part", default="", help="slice a:b of train articles to score")
    a = ap.parse_args()
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    path = data_dir() / "quotes" / "polnear" / "train.jsonl"
    with path.open(encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh]
    t0 = time.time()
    docs = load_docs(recs)
    print(f"parsed {len(docs)} articles ({time.time() - t0:.0f}s)", flush=True)
    lo, hi = 0, len(recs)
    if a.train_part:
        lo_s, hi_s = a.train_part.split(":")
        lo, hi = int(lo_s or 0), int(hi_s or len(recs))
    X, y = examples(recs[lo:hi], docs[lo:hi])
    print(f"{len(y)} candidates, {sum(y)} positive", flush=True)
    if a.eval_part:
        e_lo, e_hi = (int(x) for x in a.eval_part.split(":"))
        Xe, ye = examples(recs[e_lo:e_hi], docs[e_lo:e_hi])
    vec = DictVectorizer()
    M = vec.fit_transform([{f: 1 for f in fs} for fs in X])
    clf = LogisticRegression(C=a.C, max_iter=2000)
    clf.fit(M, y)
    if a.eval_part:
        from sklearn.metrics import average_precision_score

        pe = clf.decision_function(vec.transform([{f: 1 for f in fs} for fs in Xe]))
        print(f"held-out candidates {len(ye)}: average precision "
              f"{average_precision_score(ye, pe):.3f}")
        for th in (0.0, 1.0, 2.0):
            tp = sum(1 for p, t in zip(pe, ye, strict=True) if p >= th and t)
            n = sum(1 for p in pe if p >= th)
            print(f"  log-odds >= {th}: P {tp / max(n, 1):.3f} R {tp / max(sum(ye), 1):.3f}")
    names = vec.get_feature_names_out()
    weights = {str(n): round(float(w), 4)
               for n, w in zip(names, clf.coef_[0], strict=True) if abs(w) >= 0.01}
    weights["__bias__"] = round(float(clf.intercept_[0]), 4)
    Path(a.out).write_text(
        json.dumps(
            {
                "trained_on": f"PolNeAR train articles {lo}:{hi}",
                "model": f"logistic regression, C={a.C}, binary features of quotes._features",
                "weights": weights,
            },
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(weights)} weights -> {a.out} ({time.time() - t0:.0f}s)")
    top = sorted(weights.items(), key=lambda kv: -kv[1])[:25]
    print("  ".join(f"{k} {v:+.2f}" for k, v in top))


if __name__ == "__main__":
    main()
