"""Copy detection: precision and recall of ``newsdesk.copies`` on a stream built from real articles.

Construction (deterministic for a given ``--seed``; nothing is written to the repository):

* **Originals**: every article of ``clustering/basil`` (300), ``clustering/ecbplus`` (982),
  ``clustering/semeval22_pairs`` (2,891, seven languages), ``quotes/polnear/train`` (840) and
  ``quotes/ggt`` (98), plus the article part (label-1 lines) of pages in
  ``extraction/lines/derived_dragnet`` and ``derived_cleaneval`` whose article has at least
  60 words and whose page is at least 1.5 times longer. Each keeps its own date when it has
  one; the others get a random date in 2019-2020.
* **Copies** of a random share of the originals with at least 60 words, one kind each:
  ``exact`` (same text, other outlet), ``headline`` (the first line replaced by another
  article's title, or a headline line prepended), ``boilerplate+`` (3-15 real boilerplate lines,
  label-0 lines of the line sets, added before and after), ``boilerplate-`` (the *original* as
  stored carries the boilerplate, the copy is clean), ``edited`` (1-3 sentences rewritten,
  dropped or replaced by a 5-40-word sentence of another article; never more than a
  quarter of the sentences: a short article with most sentences rewritten is no copy),
  ``truncated`` (the first 30-70% of
  the text, cut at a sentence end), ``embedded`` (the article inside a longer page of
  boilerplate lines and teasers, the first two sentences of 3-6 other articles of 8 or more
  sentences), ``embedded-real`` (the line-set page
  the article was cut from: whole visible page text, menus and footers included), ``wire``
  (both texts credited "(AP) --", the copy with 3-5 sentences edited) and ``chain`` (an edited
  copy of a headline copy: only transitivity links it to the original). Copies are dated
  1-72 hours after the original, one in ten undated.
* **Distractors**: all other originals, among them the same-event reports of basil, ecbplus and
  semeval (different outlets on one event), which must not be grouped.
* **Natural overlap**: some same-event pairs in the data are themselves one wire text edited by
  two outlets (ecbplus especially: a Reuters story on reuters.com and rnw.nl). An exhaustive
  exact-shingle comparison of all originals marks pairs with containment >= 0.3 or Jaccard
  >= 0.2 as *natural overlaps*; links between them are counted apart (neither right nor wrong),
  and only the remaining same-event pairs are the "independent reports" precision test.

The stream (originals and copies, shuffled, so a copy can arrive before its original) is fed to
one ``CopyIndex`` article by article. Reported: link precision (a reported copy's matched
article is in its family), recall per copy kind (the copy ends in its original's group),
pairwise precision/recall of the final groups, false merges of independent same-event pairs,
whether each family's final original is the earliest (then longest) member, and articles/s for
signature + place.

Run: ``nice -n 10 python bench/bench_copies.py [--seed 13] [--copy-share 0.45] [--shingle-words 5]``
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from common import data_dir  # noqa: E402

from newsdesk.copies import CopyIndex, CopyParams, original_rank, shingle_hashes  # noqa: E402
from newsdesk.metadata import content_hash  # noqa: E402
from newsdesk.records import Article  # noqa: E402

KINDS = ("exact", "headline", "boilerplate+", "boilerplate-", "edited", "truncated",
         "embedded", "embedded-real", "wire", "chain")
_SENT = re.compile(r"(?<=[.!?\"”])\s+(?=[A-Z\"“])|\n+")


@dataclass
class Doc:
    id: str
    text: str
    title: str | None
    source: str | None
    published: datetime | None
    family: str  # gold: the id of the original this text descends from
    kind: str  # "original" or a copy kind
    story: str | None = None  # gold event label (same-event distractors)
    page: str | None = None  # the whole page text, for line-set articles


def _date(v: object) -> datetime | None:
    if not v or not isinstance(v, str):
        return None
    try:
        d = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def load_originals(rng: random.Random) -> tuple[list[Doc], list[str], list[str]]:
    """(originals, boilerplate lines, titles) from the shared data."""
    d = data_dir()
    docs: list[Doc] = []
    titles: list[str] = []
    sets = [("basil", "clustering/basil/articles.jsonl"), ("ecb", "clustering/ecbplus/articles.jsonl"),
            ("sem", "clustering/semeval22_pairs/articles.jsonl"), ("pol", "quotes/polnear/train.jsonl"),
            ("ggt", "quotes/ggt/test.jsonl")]
    for name, rel in sets:
        path = d / rel
        if not path.is_file():
            sys.stderr.write(f"error: missing {path}\n")
            raise SystemExit(2)
        with path.open(encoding="utf-8") as fh:
            for i, raw in enumerate(fh):
                r = json.loads(raw)
                story = f"{name}:{r['story']}" if r.get("story") else None
                docs.append(Doc(f"{name}-{i}", r["text"], r.get("title"), r.get("source"),
                                _date(r.get("published")), f"{name}-{i}", "original", story))
                if r.get("title"):
                    titles.append(r["title"])
    boiler: list[str] = []
    for name in ("dragnet", "cleaneval"):
        with (d / "extraction" / "lines" / f"derived_{name}.jsonl").open(encoding="utf-8") as fh:
            for i, raw in enumerate(fh):
                r = json.loads(raw)
                lines = [ln["text"] for ln in r["lines"]]
                art = "\n".join(ln["text"] for ln in r["lines"] if ln["label"])
                boiler.extend(t for t, ln in zip(lines, r["lines"], strict=True)
                              if not ln["label"] and 3 <= len(t.split()) <= 30)
                aw, pw = len(art.split()), sum(len(t.split()) for t in lines)
                if aw >= 60 and pw >= 1.5 * aw:
                    docs.append(Doc(f"{name}-{i}", art, None, None, None, f"{name}-{i}", "original",
                                    page="\n".join(lines)))
    base = datetime(2019, 1, 1, tzinfo=UTC)
    for doc in docs:
        if doc.published is None:
            doc.published = base + timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
    return docs, boiler, titles


def sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text) if s.strip()]


def _sentence(rng: random.Random, others: list[Doc]) -> str:
    """One ordinary sentence (5-40 words) of some other article of 8 or more sentences."""
    for _ in range(50):
        sents = sentences(rng.choice(others).text)
        cands = [s for s in sents if 5 <= len(s.split()) <= 40] if len(sents) >= 8 else []
        if cands:
            return rng.choice(cands)
    return "Officials declined to comment on the matter."


def edit(text: str, rng: random.Random, others: list[Doc], n: int) -> str:
    """``n`` sentences edited, but never more than a quarter of them (at least one)."""
    sents = sentences(text)
    n = max(1, min(n, len(sents) // 4))
    for _ in range(n):
        if len(sents) < 3:
            break
        i = rng.randrange(1, len(sents))
        op = rng.choice(("rewrite", "drop", "replace"))
        if op == "drop":
            del sents[i]
        elif op == "replace":
            sents[i] = _sentence(rng, others)
        else:
            ws = sents[i].split()
            for _ in range(max(1, len(ws) // 3)):
                ws[rng.randrange(len(ws))] = rng.choice(("said", "officials", "on", "Monday", "reported",
                                                          "the", "new", "according", "to", "sources"))
            sents[i] = " ".join(ws)
    return "\n".join(sents)


def make_copy(src: Doc, kind: str, rng: random.Random, boiler: list[str], titles: list[str],
              others: list[Doc]) -> tuple[str, str]:
    """(copy text, possibly changed original text)."""
    text = src.text
    if kind == "exact":
        return text, text
    if kind == "headline":
        lines = text.split("\n")
        new = rng.choice(titles)
        if src.title and lines and lines[0].strip() == src.title.strip():
            return "\n".join([new] + lines[1:]), text
        return new + "\n" + text, text
    if kind in ("boilerplate+", "boilerplate-"):
        pre = rng.sample(boiler, rng.randint(1, 5))
        post = rng.sample(boiler, rng.randint(2, 10))
        padded = "\n".join(pre + [text] + post)
        return (padded, text) if kind == "boilerplate+" else (text, padded)
    if kind == "edited":
        return edit(text, rng, others, rng.randint(1, 3)), text
    if kind == "truncated":
        sents = sentences(text)
        words = len(text.split())
        keep, count = [], 0
        target = rng.uniform(0.3, 0.7) * words
        for s in sents:
            keep.append(s)
            count += len(s.split())
            if count >= target:
                break
        return "\n".join(keep), text
    if kind == "embedded":
        parts = rng.sample(boiler, rng.randint(5, 15))
        # teasers: the first two sentences of long articles, never most of one
        long = [o for o in rng.sample(others, 40) if len(sentences(o.text)) >= 8][:6]
        teasers = [" ".join(sentences(o.text)[:2]) for o in long[: rng.randint(3, 6)]]
        page = parts[: len(parts) // 2] + teasers[:2] + [text] + teasers[2:] + parts[len(parts) // 2:]
        return "\n".join(page), text
    if kind == "embedded-real":
        assert src.page is not None
        return src.page, text
    if kind == "wire":
        orig = "(AP) — " + text
        return "(AP) — " + edit(text, rng, others, rng.randint(3, 5)), orig
    raise ValueError(kind)


def to_article(d: Doc) -> Article:
    return Article(id=d.id, text=d.text, title=d.title, source=d.source, url=None, published=d.published,
                   lang=None, author=None, format="text", origin="bench", content_hash=content_hash(d.text))


def build(seed: int, share: float) -> tuple[list[Doc], list[Doc], list[str]]:
    """(originals, copies, the originals' texts before any was changed for a copy)."""
    rng = random.Random(seed)
    originals, boiler, titles = load_originals(rng)
    raw = [o.text for o in originals]
    eligible = [o for o in originals if len(o.text.split()) >= 60]
    chosen = rng.sample(eligible, int(share * len(eligible)))
    copies: list[Doc] = []
    with_page = [o for o in chosen if o.page is not None]
    for n, src in enumerate(chosen):
        kind = "embedded-real" if src.page is not None and rng.random() < 0.6 else \
            [k for k in KINDS if k != "embedded-real"][n % (len(KINDS) - 1)]
        when = None if rng.random() < 0.1 else src.published + timedelta(hours=rng.uniform(1, 72))
        if kind == "chain":
            mid, _ = make_copy(src, "headline", rng, boiler, titles, originals)
            text, _ = make_copy(replace(src, text=mid), "edited", rng, boiler, titles, originals)
            copies.append(Doc(src.id + "~h", mid, None, "copysite", when, src.family, "chain-mid"))
            when2 = None if when is None else when + timedelta(hours=rng.uniform(1, 24))
            copies.append(Doc(src.id + "~c", text, None, "copysite", when2, src.family, "chain"))
            continue
        text, orig_text = make_copy(src, kind, rng, boiler, titles, originals)
        src.text = orig_text
        copies.append(Doc(src.id + "~" + kind, text, None, "copysite", when, src.family, kind))
    del with_page
    return originals, copies, raw


def natural_overlaps(texts: list[str], k: int) -> list[tuple[int, int]]:
    """All pairs of originals with containment >= 0.3 or Jaccard >= 0.2 (exhaustive, exact)."""
    import scipy.sparse as sp

    sh = [shingle_hashes(t, k) for t in texts]
    vocab: dict[int, int] = {}
    rows, cols = [], []
    for i, s in enumerate(sh):
        for h in s.tolist():
            cols.append(vocab.setdefault(h, len(vocab)))
            rows.append(i)
    x = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(sh), len(vocab)))
    inter = (x @ x.T).tocoo()
    n = np.array([len(s) for s in sh])
    out = []
    for i, j, v in zip(inter.row, inter.col, inter.data, strict=True):
        if i < j:
            c = v / max(1, min(n[i], n[j]))
            jac = v / (n[i] + n[j] - v)
            if c >= 0.3 or jac >= 0.2:
                out.append((int(i), int(j)))
    return out


class UF:
    def __init__(self) -> None:
        self.p: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.p.setdefault(x, x)
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def union(self, a: str, b: str) -> None:
        self.p[self.find(a)] = self.find(b)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--copy-share", type=float, default=0.45)
    ap.add_argument("--shingle-words", type=int, default=5)
    ap.add_argument("--jaccard", type=float, default=None)
    ap.add_argument("--containment", type=float, default=None)
    ap.add_argument("--bands", type=int, default=None)
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--no-anchors", action="store_true", help="measure the LSH channel alone")
    ap.add_argument("--show-errors", type=int, default=0)
    args = ap.parse_args()

    params = CopyParams(shingle_words=args.shingle_words)
    over = {k: v for k, v in (("jaccard", args.jaccard), ("containment", args.containment),
                              ("bands", args.bands), ("rows", args.rows)) if v is not None}
    if args.no_anchors:
        over["anchor_every"] = 1 << 20
    params = replace(params, **over)

    originals, copies, raw = build(args.seed, args.copy_share)
    by_id = {d.id: d for d in originals + copies}
    nat = UF()
    for i, j in natural_overlaps(raw, params.shingle_words):
        nat.union(originals[i].family, originals[j].family)

    stream = originals + copies
    random.Random(args.seed + 1).shuffle(stream)
    print(f"stream: {len(stream)} articles ({len(originals)} originals, {len(copies)} copies: "
          + ", ".join(f"{k} {v}" for k, v in sorted(Counter(c.kind for c in copies).items())) + ")")

    arts = [to_article(d) for d in stream]
    index = CopyIndex(params)
    t0 = time.perf_counter()
    matches = [index.place(a) for a in arts]
    dt = time.perf_counter() - t0

    link = Counter()
    errors = []
    for d, m in zip(stream, matches, strict=True):
        if m is None:
            continue
        other = by_id[m.matched_id]
        if other.family == d.family:
            link["right"] += 1
        elif nat.find(other.family) == nat.find(d.family):
            link["natural"] += 1
        else:
            link["wrong"] += 1
            errors.append((d, other, m))
    groups = {d.id: index.original_of(d.id) for d in stream}

    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in copies:
        hit = groups[c.id] == groups[c.family]
        per_kind[c.kind][0] += hit
        per_kind[c.kind][1] += 1
    found = sum(v[0] for v in per_kind.values())

    # pairwise over final groups
    members: dict[str, list[Doc]] = defaultdict(list)
    for d in stream:
        members[groups[d.id]].append(d)
    tp = fp = amb = 0
    for ms in members.values():
        for i in range(len(ms)):
            for j in range(i + 1, len(ms)):
                a, b = ms[i], ms[j]
                if a.family == b.family:
                    tp += 1
                elif nat.find(a.family) == nat.find(b.family):
                    amb += 1
                else:
                    fp += 1
    fam: dict[str, list[Doc]] = defaultdict(list)
    for d in stream:
        fam[d.family].append(d)
    gold_pairs = sum(len(v) * (len(v) - 1) // 2 for v in fam.values())

    # independent same-event pairs (distractors) grouped as copies
    by_story: dict[str, list[Doc]] = defaultdict(list)
    for o in originals:
        if o.story:
            by_story[o.story].append(o)
    indep = merged = 0
    for ms in by_story.values():
        for i in range(len(ms)):
            for j in range(i + 1, len(ms)):
                if nat.find(ms[i].family) == nat.find(ms[j].family):
                    continue
                indep += 1
                merged += groups[ms[i].id] == groups[ms[j].id]

    orig_ok = orig_n = 0
    for ms in fam.values():
        if len(ms) < 2 or len({groups[m.id] for m in ms}) != 1:
            continue
        want = min(ms, key=lambda m: original_rank(m.published, len(m.text.split()), m.id))
        got = groups[ms[0].id]
        orig_n += 1
        # the index counts normalised words; equal dates and lengths can tie differently
        orig_ok += got == want.id or by_id[got].published == want.published

    lp = link["right"] / max(1, link["right"] + link["wrong"])
    print(f"\nparams: shingles {params.shingle_words} words, LSH {params.bands}x{params.rows} "
          f"(threshold ~{params.lsh_threshold:.2f}), anchors 1/{params.anchor_every} of "
          f"{params.anchor_words}-word shingles, verify Jaccard >= {params.jaccard}, containment >= "
          f"{params.containment} (wire credit: -{params.wire_discount})")
    print("\n| copy kind | copies | recall |\n|---|---|---|")
    for k in sorted(per_kind):
        h, n = per_kind[k]
        print(f"| {k} | {n} | {h / n:.3f} |")
    print(f"| **all** | {len(copies)} | **{found / len(copies):.3f}** |")
    print(f"\nlink precision: {lp:.4f} ({link['right']} right, {link['wrong']} wrong, "
          f"{link['natural']} between naturally overlapping originals, not counted)")
    print(f"pairwise on final groups: precision {tp / max(1, tp + fp):.4f}, "
          f"recall {tp / max(1, gold_pairs):.4f} "
          f"({amb} natural-overlap pairs not counted)")
    print(f"independent same-event pairs grouped: {merged} of {indep}")
    print(f"family original = earliest (then longest) member: {orig_ok}/{orig_n}")
    print(f"methods: {dict(index.stats.by_method)}; candidates verified per article: "
          f"{index.stats.verified / max(1, index.stats.placed):.1f}")
    print(f"speed: {len(arts) / dt:.0f} articles/s for signature + place ({dt:.1f} s, provisional)")
    for d, o, m in errors[: args.show_errors]:
        print(f"\n--- wrong: {d.id} ({d.kind}) -> {o.id} ({o.kind}): {m.explain()}")
        print("A:", d.text[:400].replace("\n", " / "))
        print("B:", o.text[:400].replace("\n", " / "))


if __name__ == "__main__":
    main()
