"""What the readers'-comments rule takes from article texts.

    python bench/corpus.py --n 10000 --formats jsonl --out bench/out/c10k
    python bench/bench_comments.py bench/out/c10k/jsonl

Every record's ``text`` of the JSONL files under the given directory is cleaned
with ``clean_text`` (the plain-text path, the rule on).  The ingest benchmark's
corpus holds article text only (for the line sets, their label-1 lines), so a
line the rule removes is either a comment thread that the set's labels count as
text (cleaneval labels threads as text; a few dragnet pages carry theirs) or a
loss.  Each cut text is printed with the line set its long lines come from (a
text built from several sources is named after the most), the number of lines
removed, and the lines around the cut, so each can be read and judged.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import LINE_SETS, load_line_set  # noqa: E402

from newsdesk.cleaning import clean_text  # noqa: E402


def _line_sources() -> dict[str, str]:
    """Article lines (label 1, eight words or more) of the line sets -> the set's name."""
    where: dict[str, str] = {}
    for name in LINE_SETS:
        for texts, labels in load_line_set(name):
            for t, y in zip(texts, labels, strict=True):
                if y == 1 and len(t.split()) >= 8:
                    where.setdefault(t.strip(), name)
    return where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", type=Path, help="a directory of JSONL files (bench/corpus.py --formats jsonl)")
    ap.add_argument("--context", type=int, default=3, help="lines shown before and after each cut")
    a = ap.parse_args()
    files = sorted(a.corpus.rglob("*.jsonl"))
    if not files:
        sys.exit(f"error: no .jsonl files under {a.corpus}")
    where = _line_sources()
    texts = cut = removed = 0
    by_set: Counter[str] = Counter()
    lines_by_set: Counter[str] = Counter()
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for no, raw in enumerate(fh, 1):
                try:
                    rec = json.loads(raw)
                except json.JSONDecodeError as exc:
                    sys.exit(f"error: {path}:{no}: not a JSON record ({exc.msg})")
                text = rec.get("text") if isinstance(rec, dict) else None
                if not text:
                    continue
                texts += 1
                c = clean_text(text)
                rc = [r for r in c.removed if r.reason == "reader-comments"]
                if not rc:
                    continue
                lines = text.split("\n")
                votes = Counter(where.get(ln.strip(), "other") for ln in lines if len(ln.split()) >= 8)
                src = votes.most_common(1)[0][0] if votes else "other"
                cut += 1
                removed += len(rc)
                by_set[src] += 1
                lines_by_set[src] += len(rc)
                first = rc[0].line
                print(f"== {rec.get('id')} ({src}): {len(rc)} lines from line {first} of {len(lines)}")
                why = {r.line: r.reason for r in c.removed}
                for i in range(max(0, first - a.context), min(len(lines), first + a.context + 1)):
                    if lines[i].strip():
                        print(f"   {i:4d} {why.get(i, 'kept'):22s} {lines[i][:100]}")
    print(f"\n{texts:,} texts; {cut} cut by the readers'-comments rule ({removed:,} lines)")
    for src, n in by_set.most_common():
        print(f"  {src}: {n} texts, {lines_by_set[src]:,} lines")


if __name__ == "__main__":
    main()
