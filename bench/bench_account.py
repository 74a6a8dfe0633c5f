"""Quote alignment and figure claims against the hand-made BASIL gold set, and the
time to build the account of a ten-article story.

Gold: ``bench/gold/basil_account.jsonl`` (see ``bench/gold/README.md``): for 24
BASIL stories (Fox News, New York Times, HuffPost on one event), which quotes
are the same statement and which figures state the same quantity, with the
status of each figure (corroborated, single-source, contradicted). Offsets point
into the ``text`` of ``../shared/data/clustering/basil/articles.jsonl``; the
articles are analysed as given (they are clean text), so offsets compare
directly.

Scores:

* quote alignment, pairwise: a pair is two quote mentions in different
  articles. Gold pairs come from gold groups; predicted pairs from aligned
  quotes. A gold mention is found by the predicted quote covering >= 30 % of
  its characters (the quote metric of ``data/README.md``). "given extraction"
  counts only pairs whose two mentions were both found; "end to end" counts
  every gold pair (a mention the extractor missed cannot be aligned).
* speakers: of the found mentions, the share whose speaker (the account's, after
  names are merged across the story) is the gold group's full name, with
  ``bench_quotes.py``'s rule (name words contain or are contained, or share the
  last word). ``--errors`` lists the wrong ones ("SPEAKER"), the gold mentions
  not found ("MISSED"), the predicted pairs of aligned mentions that are not gold
  pairs ("ALIGN"), the gold pairs of found mentions left apart ("UNALIGNED"), and
  for figures the gold pairs left apart and the pairs joined wrongly
  ("FIGURE-APART", "FIGURE-JOINED").
* figures: a gold figure mention is found by the predicted figure overlapping
  it most. Pairwise grouping precision/recall as for quotes. Status: for each
  gold figure group, the status of the predicted claim holding most of its
  found mentions (a group with no found mention counts as missed); per status,
  precision (of predicted claims matched to gold groups) and recall.

Speed: stories of ten ECB+ articles (a subtopic with >= 10 documents), the
per-article analysis (spaCy parse, entities, quotes, figures, dates) and the
account (embeddings, alignment, claims, summary) timed separately; median
seconds per story.

    python bench/bench_account.py [--stories N] [--speed-stories N] [--part even --errors]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))  # this checkout's code
from bench_quotes import speaker_right  # noqa: E402
from common import REPO, data_dir  # noqa: E402

from newsdesk.account import analyse_article, build_account  # noqa: E402
from newsdesk.records import Article  # noqa: E402

GOLD = REPO / "bench" / "gold" / "basil_account.jsonl"


def _article(rec: dict) -> Article:
    published = None
    if rec.get("published"):
        try:
            published = datetime.fromisoformat(rec["published"])
        except ValueError:
            published = None
    text = rec["text"]
    return Article(
        id=rec["id"], text=text, title=rec.get("title"), source=rec.get("source"), url=rec.get("url"),
        published=published, lang="en", author=None, format="jsonl", origin="basil",
        content_hash=hashlib.sha256(text.encode()).hexdigest()[:16],
    )


def _coverage(span: tuple[int, int], gold: tuple[int, int]) -> float:
    inter = max(0, min(span[1], gold[1]) - max(span[0], gold[0]))
    return inter / max(1, gold[1] - gold[0])


def _match(gold: list[tuple[str, int, int]], pred: list[tuple[str, int, int]],
           min_cov: float) -> dict[int, int]:
    """Greedy one-to-one match, best coverage first: gold index -> predicted index."""
    cands = []
    for gi, (ga, gs, ge) in enumerate(gold):
        for pi, (pa, ps, pe) in enumerate(pred):
            if ga == pa:
                cov = _coverage((ps, pe), (gs, ge))
                if cov >= min_cov and cov > 0:
                    cands.append((cov, gi, pi))
    out: dict[int, int] = {}
    used: set[int] = set()
    for _, gi, pi in sorted(cands, reverse=True):
        if gi not in out and pi not in used:
            out[gi] = pi
            used.add(pi)
    return out


def _context(text: str, a: int, b: int, width: int = 50) -> str:
    """A figure with some of the sentence around it, the figure in brackets."""
    return f"{text[max(0, a - width):a]}[{text[a:b]}]{text[b:b + width]}".replace("\n", " ")


def _pairs(groups: list[list[int]], article_of: list[str]) -> set[frozenset[int]]:
    return {frozenset((a, b)) for g in groups for a, b in combinations(g, 2)
            if article_of[a] != article_of[b]}


def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(limit: int | None, part: str = "all", errors: bool = False) -> None:
    base = data_dir() / "clustering" / "basil" / "articles.jsonl"
    recs = {}
    with base.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            recs[r["id"]] = r
    gold_stories = [json.loads(x) for x in GOLD.read_text().splitlines() if x.strip()]
    if limit:
        gold_stories = gold_stories[:limit]
    if part != "all":  # thresholds are chosen on the even stories, checked on the odd ones
        gold_stories = gold_stories[0 if part == "even" else 1::2]

    q = Counter()  # quote pair counts
    f = Counter()
    status_pairs: list[tuple[str, str | None]] = []
    fig_found = fig_gold = fig_pred = 0
    q_found = q_gold = 0
    spk_right = 0
    attr_pred = attr_right = attr_gold = 0
    spk_errors: list[str] = []
    relation_hits: Counter[tuple[str, str]] = Counter()
    t0 = time.perf_counter()
    for st in gold_stories:
        arts = [_article(recs[aid]) for aid in st["articles"]]
        analyses = {a.id: analyse_article(a) for a in arts}
        acc = build_account(st["story"], arts, analyses)
        data = acc.to_json()

        # --- quotes
        pred_q = []
        pred_group = []
        pred_speaker = []
        for gi_, aq in enumerate(data["quotes"]):
            for w in aq["wordings"]:
                pred_q.append((w["article"], w["start"], w["end"]))
                pred_group.append(gi_)
                pred_speaker.append(w["speaker"])
        gold_q = []
        gold_group = []
        gold_rel = []
        for gi_, g in enumerate(st["quotes"]):
            for m in g["mentions"]:
                gold_q.append((m["article"], m["start"], m["end"]))
                gold_group.append(gi_)
                gold_rel.append(m["relation"])
        match = _match(gold_q, pred_q, 0.30)
        q_found += len(match)
        # the speaker of a found mention: the story's resolved name for the quote
        # against the gold group's full name (bench_quotes.py's rule)
        for gi, pi in match.items():
            gold_speaker = st["quotes"][gold_group[gi]]["speaker"]
            if speaker_right(pred_speaker[pi], gold_speaker):
                spk_right += 1
            elif errors:
                a, s0, e0 = gold_q[gi]
                text = recs[a]["text"]
                spk_errors.append(f"SPEAKER gold={gold_speaker!r} pred={pred_speaker[pi]!r} "
                                  f"{a} {text[s0:e0][:80]!r}")
        q_gold += len(gold_q)
        if errors:
            for gi, (a, s0, e0) in enumerate(gold_q):
                if gi not in match:
                    spk_errors.append(f"MISSED {a} {_context(recs[a]['text'], s0, e0, 40)[:200]!r}")
        art_g = [a for a, _, _ in gold_q]
        gold_pairs = _pairs([[i for i, g in enumerate(gold_group) if g == k]
                             for k in set(gold_group)], art_g)
        both_found = {p for p in gold_pairs if all(i in match for i in p)}
        pred_same = {frozenset((a, b)) for a, b in combinations(match, 2)
                     if art_g[a] != art_g[b] and pred_group[match[a]] == pred_group[match[b]]}
        q["gold"] += len(gold_pairs)
        q["gold_found"] += len(both_found)
        q["pred"] += len(pred_same)
        q["tp"] += len(pred_same & gold_pairs)
        if errors:
            for pair in sorted(pred_same - gold_pairs, key=sorted):
                x, y = sorted(pair)
                texts = [recs[gold_q[i][0]]["text"][gold_q[i][1]:gold_q[i][2]][:60] for i in (x, y)]
                spk_errors.append(f"ALIGN {gold_q[x][0]} {texts[0]!r} / {gold_q[y][0]} {texts[1]!r}")
            for pair in sorted(both_found - pred_same, key=sorted):
                x, y = sorted(pair)
                texts = [recs[gold_q[i][0]]["text"][gold_q[i][1]:gold_q[i][2]][:90] for i in (x, y)]
                spk_errors.append(f"UNALIGNED {gold_q[x][0]} {texts[0]!r} / {gold_q[y][0]} {texts[1]!r}")
        # relation of the aligned wording, for found mentions in multi-outlet gold groups
        rel_of = {}
        for aq in data["quotes"]:
            for w in aq["wordings"]:
                rel_of[(w["article"], w["start"], w["end"])] = w["relation"]
        for gi, pi in match.items():
            if sum(1 for g in gold_group if g == gold_group[gi]) > 1:
                relation_hits[(gold_rel[gi], rel_of.get(pred_q[pi], "?"))] += 1

        # --- attributions: a statement outlets credit to different speakers. A
        # predicted one is right when one of its sentences holds a gold mention that
        # the annotator flagged as credited to someone else.
        flagged = [(m["article"], m["start"], m["end"]) for g in st["quotes"] for m in g["mentions"]
                   if m.get("different_speaker")]
        attr_gold += len({g["id"] for g in st["quotes"]
                          if any(m.get("different_speaker") for m in g["mentions"])})
        for c in data["claims"]:
            if c["kind"] != "attribution":
                continue
            attr_pred += 1
            attr_right += any(s["article"] == a and s["start"] < e and b < s["end"]
                              for s in c["supports"] for a, b, e in flagged)

        # --- figures
        pred_f = []
        pred_claim = []
        claim_status = []
        for ci, c in enumerate(x for x in data["claims"] if x["kind"] == "figure"):
            claim_status.append(c["status"])
            for s in c["supports"]:
                pred_f.append((s["article"], s["expression_start"], s["expression_end"]))
                pred_claim.append(ci)
        gold_f = []
        gold_fg = []
        for gi_, g in enumerate(st["figures"]):
            for m in g["mentions"]:
                gold_f.append((m["article"], m["start"], m["end"]))
                gold_fg.append(gi_)
        fmatch = _match(gold_f, pred_f, 1e-9)
        fig_found += len(fmatch)
        fig_gold += len(gold_f)
        fig_pred += len(pred_f)
        art_f = [a for a, _, _ in gold_f]
        gpairs = _pairs([[i for i, g in enumerate(gold_fg) if g == k] for k in set(gold_fg)], art_f)
        ppairs = {frozenset((a, b)) for a, b in combinations(fmatch, 2)
                  if art_f[a] != art_f[b] and pred_claim[fmatch[a]] == pred_claim[fmatch[b]]}
        f["gold"] += len(gpairs)
        f["gold_found"] += len({p for p in gpairs if all(i in fmatch for i in p)})
        f["pred"] += len(ppairs)
        f["tp"] += len(ppairs & gpairs)
        if errors:
            for pair in sorted({p for p in gpairs if all(i in fmatch for i in p)} - ppairs, key=sorted):
                x, y = sorted(pair)
                texts = [_context(recs[gold_f[i][0]]["text"], gold_f[i][1], gold_f[i][2]) for i in (x, y)]
                spk_errors.append(f"FIGURE-APART {gold_f[x][0]} {texts[0]!r} / {gold_f[y][0]} {texts[1]!r}")
            for pair in sorted(ppairs - gpairs, key=sorted):
                x, y = sorted(pair)
                texts = [_context(recs[gold_f[i][0]]["text"], gold_f[i][1], gold_f[i][2]) for i in (x, y)]
                spk_errors.append(f"FIGURE-JOINED {gold_f[x][0]} {texts[0]!r} / {gold_f[y][0]} {texts[1]!r}")
        for gi_, g in enumerate(st["figures"]):
            claims_hit = Counter(pred_claim[fmatch[i]] for i, k in enumerate(gold_fg)
                                 if k == gi_ and i in fmatch)
            pred_status = claim_status[claims_hit.most_common(1)[0][0]] if claims_hit else None
            status_pairs.append((g["status"], pred_status))
    elapsed = time.perf_counter() - t0

    n = len(gold_stories)
    print(f"BASIL gold ({part}): {n} stories, {q_gold} quote mentions, {fig_gold} figure mentions "
          f"({elapsed:.0f} s)")
    print(f"quote mentions found: {q_found}/{q_gold} = {q_found / max(1, q_gold):.3f}")
    print(f"speaker is the right full name: {spk_right}/{q_found} = "
          f"{spk_right / max(1, q_found):.3f} of found mentions")
    p, r, f1 = _prf(q["tp"], q["pred"], q["gold_found"])
    print(f"quote alignment, given extraction: P {p:.3f} R {r:.3f} F1 {f1:.3f} "
          f"(pairs: {q['tp']} right of {q['pred']} predicted; {q['gold_found']} gold with both found)")
    p, r, f1 = _prf(q["tp"], q["pred"], q["gold"])
    print(f"quote alignment, end to end:      P {p:.3f} R {r:.3f} F1 {f1:.3f} ({q['gold']} gold pairs)")
    rel_total = sum(relation_hits.values())
    rel_right = sum(v for (g, pr), v in relation_hits.items() if g == pr)
    print(f"wording relation agreement on found mentions of multi-outlet statements: "
          f"{rel_right}/{rel_total} = {rel_right / max(1, rel_total):.3f}")
    print(f"figure mentions: found {fig_found}/{fig_gold} (R {fig_found / max(1, fig_gold):.3f}); "
          f"predicted {fig_pred} (P {fig_found / max(1, fig_pred):.3f})")
    p, r, f1 = _prf(f["tp"], f["pred"], f["gold_found"])
    print(f"figure grouping, given extraction: P {p:.3f} R {r:.3f} F1 {f1:.3f} "
          f"({f['tp']}/{f['pred']} predicted, {f['gold_found']} gold pairs with both found)")
    p, r, f1 = _prf(f["tp"], f["pred"], f["gold"])
    print(f"figure grouping, end to end:      P {p:.3f} R {r:.3f} F1 {f1:.3f} ({f['gold']} gold pairs)")
    right = sum(1 for g, pr in status_pairs if g == pr)
    print(f"figure status accuracy over gold groups: {right}/{len(status_pairs)} = "
          f"{right / max(1, len(status_pairs)):.3f} (missed groups: "
          f"{sum(1 for _, pr in status_pairs if pr is None)})")
    for s in ("corroborated", "single-source", "contradicted"):
        tp = sum(1 for g, pr in status_pairs if g == s and pr == s)
        npred = sum(1 for _, pr in status_pairs if pr == s)
        ngold = sum(1 for g, _ in status_pairs if g == s)
        p, r, f1 = _prf(tp, npred, ngold)
        print(f"  {s:14} P {p:.3f} R {r:.3f} F1 {f1:.3f} (gold {ngold}, predicted {npred})")
    print(f"attribution contradictions (a statement credited to different speakers): predicted "
          f"{attr_pred}, right {attr_right} (gold statements with a mention credited to someone "
          f"else: {attr_gold})")
    for line in spk_errors:
        print(line)


def _time_stories(label: str, stories: list[list[dict]]) -> None:
    t_an, t_acc = [], []
    for recs in stories:
        arts = [_article(r) for r in recs]
        t = time.perf_counter()
        analyses = {a.id: analyse_article(a) for a in arts}
        t_an.append(time.perf_counter() - t)
        t = time.perf_counter()
        build_account(recs[0]["story"], arts, analyses)
        t_acc.append(time.perf_counter() - t)
    chars = statistics.median(sum(len(r["text"]) for r in recs) / len(recs) for recs in stories)
    print(f"speed: {len(stories)} {label} of 10 articles (median {chars:.0f} chars/article)")
    print(f"  analysis (spaCy parse + extractors): median {statistics.median(t_an):.2f} s/story")
    print(f"  account (embeddings, alignment, claims, summary): median "
          f"{statistics.median(t_acc):.2f} s/story")
    total = [a + b for a, b in zip(t_an, t_acc, strict=True)]
    print(f"  total, nothing cached: median {statistics.median(total):.2f} s/story; "
          f"with analyses cached: {statistics.median(t_acc):.2f} s/story")


def speed(n_stories: int) -> None:
    path = data_dir() / "clustering" / "ecbplus" / "articles.jsonl"
    by_story: dict[str, list[dict]] = defaultdict(list)
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            by_story[r["story"]].append(r)
    stories = [v[:10] for k, v in sorted(by_story.items()) if len(v) >= 10][:n_stories]
    from newsdesk import nlp

    nlp.load()  # load once, outside the timings
    warm = [_article(r) for r in stories[0][:2]]
    build_account("warm", warm, {a.id: analyse_article(a) for a in warm})
    _time_stories("ECB+ stories", stories)
    # Longer articles: BASIL's (about 4,000 characters), ten at a time in file
    # order (three or four real stories mixed: the cost, not the grouping, is measured).
    basil = [json.loads(x) for x in (data_dir() / "clustering" / "basil" / "articles.jsonl")
             .read_text(encoding="utf-8").splitlines() if x.strip()]
    _time_stories("groups of BASIL articles", [basil[i:i + 10] for i in range(0, 10 * n_stories, 10)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stories", type=int, default=None, help="only the first N gold stories")
    ap.add_argument("--speed-stories", type=int, default=8)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-eval", action="store_true", help="only the speed figures")
    ap.add_argument("--errors", action="store_true",
                    help="list wrong speakers, wrongly aligned pairs and gold pairs left apart")
    ap.add_argument("--part", choices=["all", "even", "odd", "each"], default="each",
                    help="gold stories to score: even (where thresholds were chosen), odd (held out)")
    args = ap.parse_args()
    for part in ([] if args.no_eval else ["all", "even", "odd"] if args.part == "each" else [args.part]):
        evaluate(args.stories, part, args.errors)
    if not args.no_speed:
        speed(args.speed_stories)


if __name__ == "__main__":
    main()
