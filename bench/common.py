"""Shared helpers for newsdesk's benchmark scripts.

The evaluation data lives outside the repository, in ``../shared/data``
(relative to the repository root) or wherever ``NEWSDESK_SHARED_DATA`` points.
It is read from there and never copied into the project.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LINE_SETS = ("scrapinghub_aeb", "dragnet", "cleaneval", "readability_moz")


def data_dir() -> Path:
    """The shared evaluation data folder; exit(2) with a clear message if absent."""
    env = os.environ.get("NEWSDESK_SHARED_DATA")
    d = Path(env) if env else REPO.parent / "shared" / "data"
    if not (d / "extraction").is_dir():
        sys.stderr.write(
            f"error: evaluation data not found at {d}/extraction.\n"
            "The benchmarks need the shared data folder (../shared/data next to the "
            "repository, or set NEWSDESK_SHARED_DATA). It is not part of a fresh clone.\n"
        )
        raise SystemExit(2)
    return d


def load_line_set(name: str) -> list[tuple[list[str], list[int]]]:
    """Documents of ``lines/derived_<name>.jsonl`` as (texts, labels)."""
    path = data_dir() / "extraction" / "lines" / f"derived_{name}.jsonl"
    if not path.is_file():
        sys.stderr.write(f"error: missing {path}\n")
        raise SystemExit(2)
    docs = []
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            texts = [ln["text"] for ln in rec["lines"]]
            labels = [int(ln["label"]) for ln in rec["lines"]]
            docs.append((texts, labels))
    return docs


def load_scrapinghub() -> list[dict]:
    """Records {id, url, html_path, expected_text, html} of scrapinghub_aeb."""
    base = data_dir() / "extraction" / "scrapinghub_aeb"
    out = []
    with (base / "data.jsonl").open(encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            rec["html"] = (base / rec["html_path"]).read_text(encoding="utf-8", errors="replace")
            out.append(rec)
    return out


def clean_labels(texts: list[str], labels: list[int]) -> list[int]:
    """Training-only label cleaning: menu noise of the derived labels set to 0.

    A line of <= 3 words labelled 1 that lies outside the span of the page's
    >= 4-word positive lines is a menu entry that happens to be a substring of
    the gold text ("Home", "Business"); it becomes 0.
    """
    nw = [len(t.split()) for t in texts]
    longpos = [i for i, (w, y) in enumerate(zip(nw, labels, strict=True)) if y == 1 and w >= 4]
    if not longpos:
        return list(labels)
    lo, hi = longpos[0], longpos[-1]
    return [0 if (y == 1 and nw[i] <= 3 and (i < lo or i > hi)) else y for i, y in enumerate(labels)]


def set_df(docs: list[tuple[list[str], list[int]]]) -> Counter:
    """Number of pages of ``docs`` each normalised line occurs on."""
    from newsdesk.cleaning import normalize_line

    df: Counter = Counter()
    for texts, _ in docs:
        df.update({normalize_line(t) for t in texts} - {""})
    return df


# ---------------------------------------------------------------- metrics
def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


_TOK = re.compile(r"\w+")


def shingles(text: str, k: int = 4) -> Counter:
    toks = _TOK.findall(text or "")
    if len(toks) < k:
        return Counter([tuple(toks)]) if toks else Counter()
    return Counter(tuple(toks[i : i + k]) for i in range(len(toks) - k + 1))


def page_pr(pred: str, gold: str) -> tuple[float, float]:
    """Scrapinghub article-extraction-benchmark per-page precision and recall.

    tp/fp/fn are multiset overlaps of 4-token shingles, normalised to sum to 1.
    """
    p, g = shingles(pred), shingles(gold)
    tp = sum((p & g).values())
    fp = sum((p - g).values())
    fn = sum((g - p).values())
    s = tp + fp + fn
    if s == 0:
        return 1.0, 1.0
    tp, fp, fn = tp / s, fp / s, fn / s
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return prec, rec


def token_f1(pairs: list[tuple[str, str]]) -> tuple[float, float, float]:
    """(precision, recall, F1) averaged over pages, F1 of the two averages."""
    ps, rs = zip(*(page_pr(a, b) for a, b in pairs), strict=True) if pairs else ((), ())
    P = sum(ps) / len(ps) if ps else 0.0
    R = sum(rs) / len(rs) if rs else 0.0
    return P, R, (2 * P * R / (P + R) if P + R else 0.0)
