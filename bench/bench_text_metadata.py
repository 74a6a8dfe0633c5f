"""Headlines found in whole-page scraped text.

    python bench/bench_titles.py               # right / wrong / none
    python bench/bench_titles.py --errors 40   # and the pages it got wrong

Data: the 181 pages of ``extraction/lines/derived_scrapinghub_aeb.jsonl`` (the whole
visible text of each page, one line per row), cleaned by ``clean_text`` as plain
text with the set's line document frequencies (as ``bench_lines.py`` does), no title
given.  Gold: the title trafilatura reads from the same page's HTML
(``extraction/scrapinghub_aeb/html``: its og:title, <title> or <h1>), which often
carries the site's name ("... - WSJ") or words the page's own headline line does not.

A found title is right when at least 80 % of its word tokens are in the gold title
and it holds at least half of the gold title's tokens; wrong otherwise; "none" when
cleaning found no title.  The headline rules were developed on these pages (there is
no held-out set with both scraped lines and HTML), so the figures are in-sample.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import data_dir, load_scrapinghub, set_df  # noqa: E402

from newsdesk.cleaning import clean_text  # noqa: E402
from newsdesk.extraction import extract_html  # noqa: E402

_TOK = re.compile(r"\w+")


def same_title(found: str, gold: str) -> bool:
    a, b = set(_TOK.findall(found.lower())), set(_TOK.findall(gold.lower()))
    if not a or not b:
        return False
    common = len(a & b)
    return common >= 0.8 * len(a) and common >= 0.5 * len(b)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", type=int, default=0, help="print up to N wrong or missing titles")
    a = ap.parse_args()
    gold = {}
    for rec in load_scrapinghub():
        title = extract_html(rec["html"], url=rec["url"]).title
        if title:
            gold[rec["id"]] = title
    path = data_dir() / "extraction" / "lines" / "derived_scrapinghub_aeb.jsonl"
    pages = []
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            pages.append((rec["id"], [ln["text"] for ln in rec["lines"]]))
    df = set_df([(texts, [0] * len(texts)) for _, texts in pages])
    counts = {"right": 0, "wrong": 0, "none": 0, "no gold": 0}
    errors = []
    t0 = time.perf_counter()
    for pid, texts in pages:
        text = "\n".join(t.replace("\n", " ").replace("\r", " ") for t in texts)
        found = clean_text(text, line_df=df).title
        if pid not in gold:
            counts["no gold"] += 1
        elif found is None:
            counts["none"] += 1
            errors.append(("none", gold[pid], ""))
        elif same_title(found, gold[pid]):
            counts["right"] += 1
        else:
            counts["wrong"] += 1
            errors.append(("wrong", gold[pid], found))
    scored = counts["right"] + counts["wrong"] + counts["none"]
    print(f"scrapinghub_aeb, {len(pages)} whole pages as scraped text ({time.perf_counter() - t0:.0f} s)")
    print(f"  right {counts['right']} ({counts['right'] / scored:.1%}), wrong {counts['wrong']}, "
          f"none {counts['none']}, no gold {counts['no gold']}")
    for kind, g, f in errors[: a.errors]:
        print(f"  {kind:5s} gold: {g[:90]!r}\n        found: {f[:90]!r}")


if __name__ == "__main__":
    main()
