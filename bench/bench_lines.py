"""Line-level benchmark of newsdesk's plain-text cleaner.

    python bench/bench_lines.py            # leave-one-dataset-out + shipped model
    python bench/bench_lines.py --no-loo   # shipped model only (in-sample!)

Data: ../shared/data/extraction/lines/derived_*.jsonl (whole visible text of a
page, one labelled line per row).  Each page is fed to ``clean_text`` as plain
text (lines joined with newlines, extracted=False).  A line counts as kept if
it is in the cleaned body, or it is the line chosen as ``Cleaned.title`` (the
headline is kept, as metadata).  Metric: precision / recall / F1 of kept lines
against label-1 lines, summed over all lines of a set.

Honest figures: the classifier is trained on these sets, so for each set the
model is retrained here on the three OTHER sets and tested on the held-out one
(leave-one-dataset-out).  The shipped model's figures on a set it was trained
on are printed too, marked in-sample.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import LINE_SETS, load_line_set, prf  # noqa: E402

from newsdesk.cleaning import clean_text  # noqa: E402


def kept_lines(texts: list[str], model=None) -> tuple[list[bool], float]:
    text = "\n".join(t.replace("\n", " ").replace("\r", " ") for t in texts)
    t0 = time.perf_counter()
    c = clean_text(text, model=model)
    ms = (time.perf_counter() - t0) * 1000
    keep = [bool(t.strip()) for t in texts]
    title_seen = False
    for r in c.removed:
        if r.text != texts[r.line].strip():
            continue  # a part of the line was cut; the line stays
        if c.title is not None and not title_seen and r.text == c.title and r.reason in (
            "title",
            "repeated-headline",
        ):
            title_seen = True
            continue
        keep[r.line] = False
    return keep, ms


def evaluate(docs, model=None) -> tuple[tuple[float, float, float], float]:
    tp = fp = fn = 0
    times = []
    for texts, labels in docs:
        keep, ms = kept_lines(texts, model)
        times.append(ms)
        for k, y in zip(keep, labels, strict=True):
            tp += k and y == 1
            fp += k and y == 0
            fn += (not k) and y == 1
    return prf(tp, fp, fn), statistics.median(times)


def keep_all(docs) -> tuple[float, float, float]:
    tp = sum(sum(lab) for _, lab in docs)
    n = sum(len(lab) for _, lab in docs)
    return prf(tp, n - tp, 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-loo", action="store_true", help="skip the leave-one-out retraining")
    ap.add_argument("--sets", default=",".join(LINE_SETS))
    a = ap.parse_args()
    sets = {name: load_line_set(name) for name in LINE_SETS}
    rows = []
    for name in a.sets.split(","):
        docs = sets[name]
        nl = sum(len(lab) for _, lab in docs)
        P0, R0, F0 = keep_all(docs)
        print(f"\n== {name}: {len(docs)} pages, {nl} lines; keep-all F1 {F0:.3f}", flush=True)
        if not a.no_loo:
            from train_line_model import train

            others = [d for n2, ds in sets.items() if n2 != name for d in ds]
            print(f"  training on the other sets ({len(others)} pages)...", flush=True)
            model, _ = train(others)
            (P, R, F), med = evaluate(docs, model)
            print(f"  leave-one-out   P {P:.3f}  R {R:.3f}  F1 {F:.3f}  median {med:.2f} ms/page")
            rows.append((name, "leave-one-dataset-out", P, R, F, med))
        (P, R, F), med = evaluate(docs)
        print(f"  shipped (in-sample) P {P:.3f}  R {R:.3f}  F1 {F:.3f}  median {med:.2f} ms/page")
        rows.append((name, "shipped model (in-sample)", P, R, F, med))
    print("\n| set | model | precision | recall | F1 | median ms/page |")
    print("|---|---|---|---|---|---|")
    for name, kind, P, R, F, med in rows:
        print(f"| {name} | {kind} | {P:.3f} | {R:.3f} | {F:.3f} | {med:.2f} |")


if __name__ == "__main__":
    main()
