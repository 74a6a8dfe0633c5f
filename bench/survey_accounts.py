"""What the accounts of many real stories say, counted: the figures a change to the
account moves on stories no gold covers.

    python bench/survey_accounts.py                 # BASIL's 300 articles, every story
    python bench/survey_accounts.py --limit 10      # the first 10 stories only

BASIL's articles (JSONL, ``clustering/basil/articles.jsonl`` under the shared data) are
ingested into a fresh SQLite store in a temporary folder with the Python API, and
every story's account is computed (``newsdesk.story_account``). Printed: stories,
statements and how many come from two or more outlets, summary sentences, claims by
kind and status, and each attribution contradiction (statement and speakers) to be
read. Run it with ``PYTHONPATH`` pointing at another checkout's ``src`` to count the
same with other code.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import data_dir  # noqa: E402

import newsdesk  # noqa: E402
from newsdesk.account import COMPONENT as ACCOUNT  # noqa: E402
from newsdesk.claims import COMPONENT as CLAIMS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="only the first N stories")
    a = ap.parse_args()
    source = data_dir() / "clustering" / "basil" / "articles.jsonl"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, newsdesk.open_store(Path(tmp) / "survey.db") as store:
        report = newsdesk.ingest(store, [source])
        ids = sorted(s["id"] for s in newsdesk.stories(store))[: a.limit]
        claims: Counter[tuple[str, str]] = Counter()
        statements = multi = summary = 0
        contradictions = []
        for k, sid in enumerate(ids, 1):
            acc = newsdesk.story_account(store, sid)
            assert acc is not None, sid
            statements += len(acc["quotes"])
            multi += sum(q["voices"] >= 2 for q in acc["quotes"])
            summary += len(acc["summary"])
            for c in acc["claims"]:
                claims[(c["kind"], c["status"])] += 1
                if c["kind"] == "attribution" and c["status"] == "contradicted":
                    contradictions.append((sid, c["claim"]))
            print(f"  {k}/{len(ids)} stories", end="\r", file=sys.stderr, flush=True)
    print(f"\n{len(ids)} stories from {len(report.article_ids)} articles ({time.perf_counter() - t0:.0f} s; "
          f"{ACCOUNT}, {CLAIMS})")
    print(f"statements {statements}, from two or more outlets {multi}; summary sentences {summary}")
    for (kind, status), n in sorted(claims.items()):
        print(f"claims {kind:12s} {status:14s} {n}")
    print(f"attribution contradictions: {len(contradictions)}")
    for sid, text in contradictions:
        print(f"  {sid} {text[-160:]}")


if __name__ == "__main__":
    main()
