"""No-harm benchmark of newsdesk's cleaner on scrapinghub_aeb (181 news pages).

    python bench/bench_html.py

(a) HTML path: trafilatura.extract(html, url=url, favor_precision=False,
    include_comments=False, include_tables=True), then
    clean_text(out, extracted=True); token F1 against expected_text, compared
    with trafilatura alone.
(c) The whole HTML path of ingest (``to_article``), which is what newsdesk stores.
(b) Clean text path: the ground-truth expected_text bodies fed as plain text
    to clean_text(text) (extracted=False, the full scraped-text path, with the
    line classifier).  Token F1 against expected_text must stay >= 0.99.
    A headline the cleaner moves to Cleaned.title is not lost; F1 is printed
    both for the body alone and for title + body.

Token F1: the scrapinghub article-extraction-benchmark's definition (tokens
are \\w+ matches, items are 4-token shingles counted as a multiset, per-page
tp/fp/fn normalised to sum to 1, precision and recall averaged over pages, F1
the harmonic mean of the two averages).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import load_scrapinghub, token_f1  # noqa: E402

from newsdesk.cleaning import clean_text  # noqa: E402
from newsdesk.ingest import to_article  # noqa: E402
from newsdesk.records import RawDocument  # noqa: E402


def main() -> int:
    recs = load_scrapinghub()
    import trafilatura

    base, ours, times = [], [], []
    for r in recs:
        out = trafilatura.extract(
            r["html"], url=r["url"], favor_precision=False, include_comments=False,
            include_tables=True,
        ) or ""
        t0 = time.perf_counter()
        c = clean_text(out, extracted=True)
        times.append((time.perf_counter() - t0) * 1000)
        base.append((out, r["expected_text"]))
        ours.append((c.text, r["expected_text"]))
    P0, R0, F0 = token_f1(base)
    P1, R1, F1 = token_f1(ours)
    # (c) what newsdesk stores: the whole HTML path of ingest (trafilatura with
    # metadata, the headline moved to the title, precise cleaning rules).
    full, times3 = [], []
    for r in recs:
        t0 = time.perf_counter()
        a = to_article(RawDocument(origin=r["id"], format="html", html=r["html"], url=r["url"]))
        times3.append((time.perf_counter() - t0) * 1000)
        full.append((a.text, r["expected_text"]))
    P2, R2, F2 = token_f1(full)
    print(f"scrapinghub_aeb: {len(recs)} pages")
    print(f"(a) trafilatura alone             P {P0:.3f}  R {R0:.3f}  F1 {F0:.3f}")
    print(f"(a) trafilatura + clean_text(extracted=True)  P {P1:.3f}  R {R1:.3f}  F1 {F1:.3f}"
          f"  (cleaning median {statistics.median(times):.2f} ms/page)")

    print(f"(c) newsdesk HTML ingest path (to_article)    P {P2:.3f}  R {R2:.3f}  F1 {F2:.3f}"
          f"  (median {statistics.median(times3):.1f} ms/page, extraction included)")

    body, withtitle, times2, changed = [], [], [], 0
    for r in recs:
        gold = r["expected_text"]
        t0 = time.perf_counter()
        c = clean_text(gold)
        times2.append((time.perf_counter() - t0) * 1000)
        body.append((c.text, gold))
        withtitle.append(((c.title + "\n" + c.text) if c.title else c.text, gold))
        changed += bool(c.removed)
    Pb, Rb, Fb = token_f1(body)
    Pt, Rt, Ft = token_f1(withtitle)
    print(f"(b) expected_text through clean_text(text): body only   P {Pb:.3f}  R {Rb:.3f}  "
          f"F1 {Fb:.3f}")
    print(f"(b)                                   title + body  P {Pt:.3f}  R {Rt:.3f}  "
          f"F1 {Ft:.3f}  ({changed} of {len(recs)} pages lost something; median "
          f"{statistics.median(times2):.2f} ms/page)")
    ok = F1 >= F0 - 1e-9 and F2 >= F0 - 1e-9 and Fb >= 0.99
    print("no-harm check:", "PASS" if ok else "FAIL (see figures above)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
