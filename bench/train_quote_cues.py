"""Learn which verb frames report an attribution, from PolNeAR train only.

    python bench/train_quote_cues.py [--limit N] [--min-count 5] [--min-rate 0.3]

For every verb outside quotation marks that has a source (grammatical subject)
and a complement, the frame is its lemma with the complement's kind
(``say/ccomp``, ``vow/xcomp``, ``criticize/dobj``, ``warn/prep_about``). A frame
occurrence is positive when the verb lies in a gold cue and the complement's
words cover at least 30% of that attribution's content (the benchmark's own
criterion). Frames seen at least ``--min-count`` times with a positive rate of at
least ``--min-rate`` are written, with their counts, to
``src/newsdesk/data/quote_cues.json``, which the extractor reads for frames its
hand-written speech-verb list does not cover (with its own, stricter thresholds).

Only PolNeAR train is read: ggt's licence forbids shipping anything derived
from it, and PolNeAR dev stays held out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import REPO, data_dir  # noqa: E402

from newsdesk import nlp  # noqa: E402
from newsdesk.quotes import _frames, _parse, _subject  # noqa: E402

OUT = REPO / "src" / "newsdesk" / "data" / "quote_cues.json"


def count_frames(recs: list[dict]) -> tuple[Counter, Counter]:
    pipeline = nlp.load()
    seen: Counter = Counter()
    pos: Counter = Counter()
    for r in recs:
        text = r["text"]
        if not text.strip():
            continue
        doc = _parse(pipeline, text)
        golds = []
        for q in r["quotes"]:
            chars = {c for a, b in q.get("content_spans") or [] for c in range(a, b)}
            cues = [(a, b) for a, b in q.get("cue_spans") or []]
            if chars and cues:
                golds.append((cues, chars))
        for t in doc:
            if t.pos_ != "VERB" or _subject(t) is None:
                continue
            for frame, head in _frames(t):
                sub = list(head.subtree)
                a, b = sub[0].idx, sub[-1].idx + len(sub[-1])
                key = f"{t.lemma_.lower()}/{frame}"
                seen[key] += 1
                for cues, chars in golds:
                    if any(ca <= t.idx < cb for ca, cb in cues):
                        if sum(1 for c in chars if a <= c < b) >= 0.3 * len(chars):
                            pos[key] += 1
                            break
    return seen, pos


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--min-rate", type=float, default=0.3)
    a = ap.parse_args()
    path = data_dir() / "quotes" / "polnear" / "train.jsonl"
    with path.open(encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh]
    if a.limit:
        recs = recs[: a.limit]
    t0 = time.time()
    seen, pos = count_frames(recs)
    keep = {
        k: [pos[k], n]
        for k, n in sorted(seen.items())
        if n >= a.min_count and pos[k] / n >= a.min_rate
    }
    OUT.write_text(
        json.dumps(
            {
                "trained_on": f"PolNeAR train ({len(recs)} articles)",
                "min_count": a.min_count,
                "min_rate": a.min_rate,
                "frames": keep,
            },
            indent=0,
            sort_keys=True,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"{len(keep)} frames of {len(seen)} kept -> {OUT} ({time.time() - t0:.0f}s)")
    for k, (p, n) in sorted(keep.items(), key=lambda kv: -kv[1][0])[:40]:
        print(f"  {k:28s} {p:5d}/{n:<5d} {p / n:.2f}")


if __name__ == "__main__":
    main()
