"""Benchmark of newsdesk's quote extractor on ggt and PolNeAR.

    python bench/bench_quotes.py                  # ggt (even, odd, all) + PolNeAR dev
    python bench/bench_quotes.py --sets ggt-even  # the development half only
    python bench/bench_quotes.py --sets polnear-train --limit 200
    python bench/bench_quotes.py --sets ggt-even --errors 40   # print misses (terminal only)
    python bench/bench_quotes.py --sets polnear-train+attr --part 700:   # attributions=True

A set name ending in ``+attr`` runs ``extract_quotes(..., attributions=True)``
(PolNeAR's notion: beliefs and stances too). ``--clf`` / ``--clf-min`` try
another classifier file or threshold (for bench/train_quote_clf.py).

Data: ``quotes/ggt/test.jsonl`` and ``quotes/polnear/{train,dev}.jsonl`` under the
shared data folder (``NEWSDESK_SHARED_DATA``, default ``../shared/data``).

Metric (data README): a gold quote is found by at most one predicted quote whose
character span covers at least 30% of the gold quote's characters (the union of
its ``content_spans``), matched greedily, best coverage first; precision =
found / predicted, recall = found / gold. The speaker of a found quote is the
right full name when the predicted speaker's name words (lower-cased, titles
dropped) contain or are contained in the words of ``speaker_canonical``, or share
the last word; a bare pronoun never counts. The share is over found quotes.

Span exactness (not part of the data README's metric, which accepts any span
covering 30% of a gold quote): over the found quotes, the share of the predicted
span's letters and digits that lie in the gold quote ("span P") and of the gold
quote's letters and digits the prediction covers ("span R"), summed over quotes;
"exact" is the share of found quotes with both at least 0.95. Letters and digits
only, so quotation marks, punctuation and spaces at the edges do not count.

PolNeAR annotates the source as written, not resolved: its speaker figure is
scored the same way, over the found quotes whose source is written as a name
(``named_source``), so it measures finding the source and writing it in full, not
pronoun resolution.

Honesty: ggt has one split. Rules were developed on its even lines (0, 2, 4, ...)
and PolNeAR train; the odd lines and PolNeAR dev are held out.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import data_dir, prf  # noqa: E402

from newsdesk.quotes import (  # noqa: E402
    COMPONENT,
    COMPONENT_ATTRIBUTIONS,
    PRONOUNS,
    extract_quotes,
)
from newsdesk.records import Quote  # noqa: E402

# A set name ending in "+attr" runs extract_quotes(attributions=True).
SETS = ("ggt-even", "ggt-odd", "ggt-all", "polnear-dev", "ggt-all+attr", "polnear-dev+attr")
TITLES = frozenset(
    "mr mrs ms miss dr prof sir dame lord lady rev hon sen rep gov gen".split()
)
SUFFIXES = frozenset("jr sr ii iii iv".split())
COVER = 0.3


def load(name: str) -> list[dict]:
    name = name.removesuffix("+attr")
    base = data_dir() / "quotes"
    if name.startswith("ggt"):
        path = base / "ggt" / "test.jsonl"
    else:
        path = base / "polnear" / f"{name.split('-', 1)[1]}.jsonl"
    if not path.is_file():
        sys.stderr.write(f"error: missing {path}\n")
        raise SystemExit(2)
    with path.open(encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh]
    if name == "ggt-even":
        return recs[0::2]
    if name == "ggt-odd":
        return recs[1::2]
    return recs


def gold_chars(q: dict) -> set[int]:
    out: set[int] = set()
    for a, b in q.get("content_spans") or []:
        out.update(range(a, b))
    return out


def match(gold: list[dict], pred: list[Quote]) -> list[tuple[int, int]]:
    """(gold index, predicted index) pairs of found quotes."""
    pairs = []
    for gi, g in enumerate(gold):
        chars = gold_chars(g)
        if not chars:
            continue
        for pi, p in enumerate(pred):
            cov = sum(1 for c in chars if p.start <= c < p.end) / len(chars)
            if cov >= COVER:
                pairs.append((cov, gi, pi))
    pairs.sort(key=lambda x: -x[0])
    used_g: set[int] = set()
    used_p: set[int] = set()
    out = []
    for _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi))
    return out


EXACT = 0.95


def span_counts(text: str, chars: set[int], p: Quote) -> tuple[int, int, int]:
    """(letters and digits of the prediction inside the gold quote, of the
    prediction, of the gold quote)."""
    pred = {c for c in range(p.start, min(p.end, len(text))) if text[c].isalnum()}
    gold = {c for c in chars if c < len(text) and text[c].isalnum()}
    return len(pred & gold), len(pred), len(gold)


def name_words(s: str | None) -> list[str]:
    # one apostrophe: "O’Malley" as written is the "O'Malley" a name is given as
    words = [w for w in re.findall(r"[\w'-]+", (s or "").lower().replace("’", "'"))]
    words = [w for w in words if w.strip(".") not in TITLES]
    # a suffix is not the surname: "Joseph R. Biden Jr." is "Joe Biden"
    while len(words) > 1 and words[-1].strip(".") in SUFFIXES:
        words = words[:-1]
    return words


def speaker_right(pred: str | None, canonical: str | None) -> bool:
    p, g = name_words(pred), name_words(canonical)
    if not p or not g:
        return False
    if len(p) == 1 and p[0] in PRONOUNS:
        return False
    sp, sg = set(p), set(g)
    return sp <= sg or sg <= sp or p[-1] == g[-1]


_NOT_NAMES = frozenset("he she they it i we you who his her their the a an".split())


def named_source(mention: str | None) -> str | None:
    """PolNeAR has no resolved speakers, only the source as written: where that is a
    name ("Spokeswoman Haley Morris", "Cruz"; not "he", "the campaign"), it is what
    a resolved speaker must match, so speakers are scored on those quotes only."""
    # the name, without what an apposition adds ("Doley, who held a fundraiser ...")
    head = (mention or "").split(",")[0].strip()
    words = head.split()
    if not words or words[0].lower() in _NOT_NAMES or not words[-1][:1].isupper():
        return None
    return head


def evaluate(recs: list[dict], preds: dict[str, list[Quote]], times: dict[str, float]) -> dict:
    found = n_pred = n_gold = right = with_canon = 0
    inter = p_chars = g_chars = exact = 0
    kind_gold: Counter = Counter()
    kind_found: Counter = Counter()
    for r in recs:
        gold, pred = r["quotes"], preds[r["id"]]
        n_gold += len(gold)
        n_pred += len(pred)
        for g in gold:
            kind_gold[g.get("type")] += 1
        for gi, pi in match(gold, pred):
            found += 1
            kind_found[gold[gi].get("type")] += 1
            i, np_, ng = span_counts(r["text"], gold_chars(gold[gi]), pred[pi])
            inter, p_chars, g_chars = inter + i, p_chars + np_, g_chars + ng
            exact += bool(np_ and ng and i / np_ >= EXACT and i / ng >= EXACT)
            canon = gold[gi].get("speaker_canonical") or named_source(gold[gi].get("speaker"))
            if canon:
                with_canon += 1
                right += speaker_right(pred[pi].speaker, canon)
    p, rc, f = prf(found, n_pred - found, n_gold - found)
    return {
        "P": p, "R": rc, "F1": f, "found": found, "pred": n_pred, "gold": n_gold,
        "speaker": right / with_canon if with_canon else None,
        "sec": statistics.median(times[r["id"]] for r in recs),
        "kind_recall": {k: kind_found[k] / kind_gold[k] for k in kind_gold if k},
        "span_P": inter / p_chars if p_chars else 0.0,
        "span_R": inter / g_chars if g_chars else 0.0,
        "exact": exact / found if found else 0.0,
    }


def show_errors(
    recs: list[dict], preds: dict[str, list[Quote]], n: int, spans: bool = False
) -> None:
    """Misses, false alarms and wrong speakers (with ``spans``: found quotes whose
    span is not exact), for development (terminal only)."""
    shown = 0
    for r in recs:
        gold, pred, text = r["quotes"], preds[r["id"]], r["text"]
        pairs = match(gold, pred)
        if spans:
            for gi, pi in pairs:
                i, np_, ng = span_counts(text, gold_chars(gold[gi]), pred[pi])
                if np_ and ng and (i / np_ < EXACT or i / ng < EXACT):
                    g = " | ".join(text[a:b] for a, b in gold[gi]["content_spans"])
                    print(f"SPAN P={i / np_:.2f} R={i / ng:.2f} {gold[gi].get('type')}\n"
                          f"   gold [[{g!r}]]\n   pred [[{pred[pi].text!r}]]")
                    shown += 1
            if shown >= n:
                return
            continue
        gi_f = {g for g, _ in pairs}
        pi_f = {p for _, p in pairs}
        for gi, g in enumerate(gold):
            if gi not in gi_f and g.get("content_spans"):
                a, b = g["content_spans"][0]
                print(f"MISS {g.get('type')} [{g.get('speaker')}|{g.get('cue')}] "
                      f"{text[max(0, a - 60):a]!r} [[{text[a:b][:160]!r}]]")
                shown += 1
        for pi, p in enumerate(pred):
            if pi not in pi_f:
                print(f"FALSE {p.kind} [{p.speaker_text}|{p.verb}] [[{p.text[:160]!r}]]")
                shown += 1
        for gi, pi in pairs:
            # the same rule as evaluate(), so PolNeAR's named sources are listed too
            canon = gold[gi].get("speaker_canonical") or named_source(gold[gi].get("speaker"))
            if canon and not speaker_right(pred[pi].speaker, canon):
                print(f"SPEAKER gold={canon!r} pred={pred[pi].speaker!r} "
                      f"written={pred[pi].speaker_text!r} [[{pred[pi].text[:80]!r}]]")
                shown += 1
        if shown >= n:
            return


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--limit", type=int, default=0, help="first N articles of each set")
    ap.add_argument("--errors", type=int, default=0, help="print up to N errors")
    ap.add_argument("--span-errors", action="store_true",
                    help="with --errors: print found quotes whose span is not exact instead")
    ap.add_argument("--part", default="", help="articles a:b of polnear-train (after --limit)")
    ap.add_argument("--clf", default="", help="cue classifier JSON to use instead of the shipped one")
    ap.add_argument("--clf-min", type=float, default=None, help="its log-odds threshold")
    a = ap.parse_args()
    from newsdesk import quotes

    if a.clf:
        weights = {str(k): float(v) for k, v in
                   json.loads(Path(a.clf).read_text(encoding="utf-8"))["weights"].items()}
        quotes._cue_model = lambda: weights  # type: ignore[assignment]
    if a.clf_min is not None:
        quotes._CLF_MIN_SCORE = a.clf_min
    names = a.sets.split(",")
    recs_by_set = {}
    for name in names:
        if name.removesuffix("+attr") not in SETS + ("polnear-train",):
            ap.error(f"unknown set {name!r}")
        recs = load(name)
        recs = recs[: a.limit] if a.limit else recs
        if a.part and name.startswith("polnear-train"):
            lo, hi = a.part.split(":")
            recs = recs[int(lo or 0) : int(hi) if hi else len(recs)]
        recs_by_set[name] = recs
    preds: dict[str, list[Quote]] = {}
    times: dict[str, float] = {}
    from newsdesk import nlp

    nlp.load()  # loading the model is not part of the per-article time
    for name, recs in recs_by_set.items():
        attr = name.endswith("+attr")
        for r in recs:
            key = r["id"] + "+attr" * attr
            if key in preds:
                continue
            t0 = time.perf_counter()
            preds[key] = extract_quotes(r["text"], r["id"], attributions=attr)
            times[key] = time.perf_counter() - t0
    print(f"component {COMPONENT} (+attr sets: {COMPONENT_ATTRIBUTIONS})")
    print("| set | articles | gold | predicted | P | R | F1 | right full name "
          "| recall direct/indirect/mixed | span P / R | exact spans | median s/article |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, recs in recs_by_set.items():
        suffix = "+attr" * name.endswith("+attr")
        m = evaluate(recs, {r["id"]: preds[r["id"] + suffix] for r in recs},
                     {r["id"]: times[r["id"] + suffix] for r in recs})
        spk = f"{m['speaker']:.1%}" if m["speaker"] is not None else "n/a"
        kr = m["kind_recall"]
        kinds = "/".join(f"{kr.get(k, 0):.2f}" for k in ("direct", "indirect", "mixed"))
        print(f"| {name} | {len(recs)} | {m['gold']} | {m['pred']} | {m['P']:.3f} | "
              f"{m['R']:.3f} | {m['F1']:.3f} | {spk} | {kinds} | "
              f"{m['span_P']:.3f} / {m['span_R']:.3f} | {m['exact']:.1%} | {m['sec']:.3f} |",
              flush=True)
    if a.errors:
        for name, recs in recs_by_set.items():
            print(f"\n== errors in {name}")
            suffix = "+attr" * name.endswith("+attr")
            show_errors(recs, {r["id"]: preds[r["id"] + suffix] for r in recs}, a.errors,
                        a.span_errors)


if __name__ == "__main__":
    main()
