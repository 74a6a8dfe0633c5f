"""Which person tags the place gazetteer turns into places, on real news texts.

    python bench/bench_places.py              # counts, and every relabelled name
    python bench/bench_places.py --contexts   # with the words around each

spaCy's small English model tags some cities and countries as people ("its war
against Kyiv"); ``newsdesk.places`` relabels them (``nlp.parse`` does by default).
There is no labelled entity set in ``../shared/data``, so this script parses the
texts of three sets (BASIL's 300 articles, ggt's 98, ECB+'s 982), counts the
PERSON mentions and lists every one the correction makes a place, with its
context, to be read: the figure to report is how many of them are right.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import data_dir  # noqa: E402

SETS = ("clustering/basil/articles.jsonl", "quotes/ggt/test.jsonl", "clustering/ecbplus/articles.jsonl")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", action="store_true", help="print the words around each mention")
    ap.add_argument("--limit", type=int, default=0, help="first N texts of each set")
    args = ap.parse_args()

    from newsdesk import nlp
    from newsdesk.places import correct_place_names

    pipeline = nlp.load()
    people = 0
    relabelled: Counter[str] = Counter()
    contexts: dict[str, list[str]] = defaultdict(list)
    t0 = time.perf_counter()
    texts = 0
    for name in SETS:
        with open(data_dir() / name, encoding="utf-8") as fh:
            rows = [json.loads(line)["text"] for line in fh if line.strip()]
        for text in rows[: args.limit or None]:
            texts += 1
            doc = nlp.parse(text, pipeline, places=False)
            before = {(e.start_char, e.end_char): e.label_ for e in doc.ents}
            people += sum(label == "PERSON" for label in before.values())
            for e in correct_place_names(doc).ents:
                if e.label_ == "GPE" and before.get((e.start_char, e.end_char)) == "PERSON":
                    relabelled[e.text] += 1
                    contexts[e.text].append(text[max(0, e.start_char - 60): e.end_char + 30])
    print(f"{texts} texts parsed in {time.perf_counter() - t0:.0f} s; {people} PERSON mentions; "
          f"{sum(relabelled.values())} relabelled as places ({len(relabelled)} names)")
    for text, n in relabelled.most_common():
        print(f"{n:4d}  {text}")
        if args.contexts:
            for c in contexts[text][:3]:
                print("        …" + " ".join(c.split()) + "…")


if __name__ == "__main__":
    main()
