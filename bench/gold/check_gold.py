"""Check the hand-made quote/figure gold set against the BASIL articles and print counts.

Usage: python bench/gold/check_gold.py [path/to/basil_account.jsonl]

The gold file stores only offsets into the ``text`` field of each BASIL article plus the
first 8 hex digits of the sha1 (utf-8) of the spanned text; the article texts are read from
``../shared/data/clustering/basil/articles.jsonl`` (or ``$NEWSDESK_SHARED_DATA``) and are
never part of the repository. Exit status: 0 if every span and every record checks out,
1 if something is wrong, 2 if the BASIL data is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
KINDS = {"direct", "indirect", "mixed"}
RELATIONS = {"verbatim", "truncated", "paraphrased"}
STATUSES = {"corroborated", "single-source", "contradicted"}


def basil_path() -> Path:
    env = os.environ.get("NEWSDESK_SHARED_DATA")
    d = Path(env) if env else REPO.parent / "shared" / "data"
    p = d / "clustering" / "basil" / "articles.jsonl"
    if not p.is_file():
        sys.stderr.write(
            f"error: BASIL articles not found at {p}.\n"
            "The gold set needs the shared data folder (../shared/data next to the repository, "
            "or set NEWSDESK_SHARED_DATA). It is not part of a fresh clone.\n"
        )
        raise SystemExit(2)
    return p


def sha8(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()[:8]


def main(argv: list[str]) -> int:
    gold_path = Path(argv[1]) if len(argv) > 1 else HERE / "basil_account.jsonl"
    arts = {}
    with open(basil_path(), encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            arts[r["id"]] = r
    stories = [json.loads(x) for x in open(gold_path, encoding="utf-8") if x.strip()]
    errors: list[str] = []
    c = Counter()
    status = Counter()
    relations = Counter()
    kinds = Counter()
    seen = set()

    def span_ok(where: str, m: dict, story: dict) -> str | None:
        a = arts.get(m["article"])
        if a is None:
            errors.append(f"{where}: unknown article {m['article']}")
            return None
        if a["story"] != story["story"] or m["article"] not in story["articles"]:
            errors.append(f"{where}: article {m['article']} not in story {story['story']}")
        s, e = m["start"], m["end"]
        if not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(a["text"])):
            errors.append(f"{where}: bad offsets {s}..{e}")
            return None
        t = a["text"][s:e]
        if sha8(t) != m["sha1"]:
            errors.append(f"{where}: sha1 mismatch at {s}..{e} (got {sha8(t)}, want {m['sha1']})")
        return a["source"]

    for st in stories:
        sid = st["story"]
        if sid in seen:
            errors.append(f"duplicate story {sid}")
        seen.add(sid)
        c["stories"] += 1
        for aid, src in st["articles"].items():
            if aid not in arts or arts[aid]["source"] != src:
                errors.append(f"{sid}: article {aid} / source {src} does not match the data")
        for q in st["quotes"]:
            where = f"{sid[:8]} {q['id']}"
            c["quote groups"] += 1
            if not q["mentions"]:
                errors.append(f"{where}: no mentions")
                continue
            if q["mentions"][0]["relation"] != "verbatim":
                errors.append(f"{where}: first mention must be verbatim")
            outlets = set()
            for m in q["mentions"]:
                c["quote mentions"] += 1
                if m["kind"] not in KINDS or m["relation"] not in RELATIONS:
                    errors.append(f"{where}: bad kind/relation {m['kind']}/{m['relation']}")
                kinds[m["kind"]] += 1
                relations[m["relation"]] += 1
                if m.get("different_speaker"):
                    c["different-speaker mentions"] += 1
                src = span_ok(where, m, st)
                if src:
                    outlets.add(src)
            if len(outlets) >= 2:
                c["multi-outlet quote groups"] += 1
            if len(outlets) == 3:
                c["three-outlet quote groups"] += 1
        for f in st["figures"]:
            where = f"{sid[:8]} {f['id']}"
            c["figure groups"] += 1
            if f["status"] not in STATUSES:
                errors.append(f"{where}: bad status {f['status']}")
            status[f["status"]] += 1
            outlets = set()
            for m in f["mentions"]:
                c["figure mentions"] += 1
                if not isinstance(m["value"], (int, float)):
                    errors.append(f"{where}: value is not a number")
                src = span_ok(where, m, st)
                if src:
                    outlets.add(src)
            n = len(outlets)
            if (f["status"] == "single-source") != (n == 1):
                errors.append(f"{where}: status {f['status']} but {n} outlet(s)")
    for k in ("stories", "quote groups", "quote mentions", "multi-outlet quote groups",
              "three-outlet quote groups", "different-speaker mentions", "figure groups",
              "figure mentions"):
        print(f"{k:28s} {c[k]}")
    print("quote mention kinds        ", dict(sorted(kinds.items())))
    print("quote mention relations    ", dict(sorted(relations.items())))
    print("figure groups by status    ", {s: status[s] for s in sorted(STATUSES)})
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  " + e)
        return 1
    print("\nall offsets and sha1 prefixes check out")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
