"""Headlines and dates found in whole-page scraped text.

    python bench/bench_text_metadata.py               # right / wrong / none
    python bench/bench_text_metadata.py --errors 40   # and the pages it got wrong

Data: the 181 pages of ``extraction/lines/derived_scrapinghub_aeb.jsonl`` (the whole
visible text of each page, one line per row), cleaned by ``clean_text`` as plain
text with the set's line document frequencies (as ``bench_lines.py`` does), no title
given.  Gold: what trafilatura reads from the same page's HTML
(``extraction/scrapinghub_aeb/html``): its title (og:title, <title> or <h1>, which
often carries the site's name, "... - WSJ", or words the page's headline line does
not) and its publication date (htmldate: the page's metadata, its URL, its text).

Titles: a found title is right when at least 80 % of its word tokens are in the gold
title and it holds at least half of the gold title's tokens; wrong otherwise; "none"
when cleaning found no title.  Dates, as ingest finds them for plain text
(``find_stamp_date`` on the cleaned body, else ``find_text_date`` on the page's first
characters), and, for comparison, the page's first characters alone (the rule before
2026-12-07): right when within a day of the gold date (a stamp in local time against a
date in UTC), wrong otherwise.  The headline and date rules were developed on these
pages (there is no held-out set with both scraped lines and HTML), so the figures are
in-sample.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import data_dir, load_scrapinghub, set_df  # noqa: E402

from newsdesk.extraction import extract_html  # noqa: E402
from newsdesk.ingest import ArticleError, to_article  # noqa: E402
from newsdesk.metadata import find_text_date, publisher_key  # noqa: E402
from newsdesk.records import RawDocument  # noqa: E402

_TOK = re.compile(r"\w+")


def same_title(found: str, gold: str) -> bool:
    a, b = set(_TOK.findall(found.lower())), set(_TOK.findall(gold.lower()))
    if not a or not b:
        return False
    common = len(a & b)
    return common >= 0.8 * len(a) and common >= 0.5 * len(b)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", type=int, default=0, help="print up to N wrong or missing items")
    a = ap.parse_args()
    gold: dict[str, tuple[str | None, datetime | None, set[str | None]]] = {}
    for rec in load_scrapinghub():
        ext = extract_html(rec["html"], url=rec["url"])
        # an outlet is right when it names the page's publisher: its site name or host
        publisher = {publisher_key(ext.sitename), publisher_key(None, rec["url"])}
        gold[rec["id"]] = (ext.title, ext.published, publisher)
    path = data_dir() / "extraction" / "lines" / "derived_scrapinghub_aeb.jsonl"
    pages = []
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            pages.append((rec["id"], [ln["text"] for ln in rec["lines"]]))
    df = set_df([(texts, [0] * len(texts)) for _, texts in pages])
    titles, outlets = Counter[str](), Counter[str]()
    dates = {"ingest": Counter[str](), "first characters": Counter[str]()}
    errors = []
    t0 = time.perf_counter()
    for pid, texts in pages:
        text = "\n".join(t.replace("\n", " ").replace("\r", " ") for t in texts)
        # as ingest makes an article of a .txt file, with the set's line frequencies
        try:
            article = to_article(RawDocument(format="text", origin=f"{pid}.txt", text=text), line_df=df)
        except ArticleError:  # nothing left after cleaning: the page counts as found nothing
            article = None
        gold_title, gold_date, gold_outlet = gold[pid]
        if article is None:
            titles["none"] += 1
            outlets["none"] += 1
            for c in dates.values():
                c["none"] += 1
            continue
        found = article.title
        if not gold_title:
            titles["no gold"] += 1
        elif found is None:
            titles["none"] += 1
            errors.append(("title", "none", gold_title, ""))
        elif same_title(found, gold_title):
            titles["right"] += 1
        else:
            titles["wrong"] += 1
            errors.append(("title", "wrong", gold_title, found))
        for how, got in (("ingest", article.published), ("first characters", find_text_date(text))):
            if gold_date is None:
                dates[how]["no gold"] += 1
            elif got is None:
                dates[how]["none"] += 1
            else:
                dates[how]["right" if abs((got.date() - gold_date.date()).days) <= 1 else "wrong"] += 1
        if article.source is None:
            outlets["none"] += 1
        elif publisher_key(article.source) in gold_outlet:
            outlets["right"] += 1
        else:
            outlets["wrong"] += 1
            named = " / ".join(sorted(k for k in gold_outlet if k))
            errors.append(("outlet", "wrong", named, article.source))
    print(f"scrapinghub_aeb, {len(pages)} whole pages as scraped text ({time.perf_counter() - t0:.0f} s)")
    scored = titles["right"] + titles["wrong"] + titles["none"]
    print(f"  titles: right {titles['right']} ({titles['right'] / scored:.1%}), wrong {titles['wrong']}, "
          f"none {titles['none']}, no gold {titles['no gold']}")
    for how, c in dates.items():
        print(f"  dates ({how}): right {c['right']}, wrong {c['wrong']}, none {c['none']}, "
              f"no gold {c['no gold']}")
    print(f"  outlets: right {outlets['right']}, wrong {outlets['wrong']}, none {outlets['none']}")
    for what, kind, g, f in errors[: a.errors]:
        print(f"  {what} {kind:5s} gold: {g[:90]!r}\n        found: {f[:90]!r}")


if __name__ == "__main__":
    main()
