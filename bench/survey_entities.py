"""How a change to the entity merge changes the people of real stories.

    python bench/survey_entities.py --against /tmp/old/src   # old code's newsdesk package dir parent

BASIL's 300 articles, grouped by their gold story (100 stories), are parsed once as
the account parses them (``nlp.parse`` and ``entities.article_mentions``); each
story's mentions are merged by this checkout's ``merge_entities`` and by the one
under ``--against`` (a ``src`` directory of other code, e.g. from ``git archive``).
Prints the number of entities under each, the stories that differ, and for every
entity of the new merge made of several old ones, the old names it joins (to be read:
the survey says what changed, a reader says whether it is right).

No gold here: BASIL labels stories, not entities.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from common import data_dir  # noqa: E402

from newsdesk import nlp  # noqa: E402
from newsdesk.entities import article_mentions, merge_entities  # noqa: E402


def _load_old(src: Path):  # type: ignore[no-untyped-def]
    """The other code's ``newsdesk.entities`` module, loaded under another name."""
    path = src / "newsdesk" / "entities.py"
    if not path.is_file():
        sys.exit(f"error: no {path}")
    # its relative import of .records resolves against this checkout's package
    spec = importlib.util.spec_from_file_location("newsdesk._old_entities", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # its dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--against", type=Path, required=True, help="src directory of the other code")
    ap.add_argument("--limit", type=int, default=None, help="only the first N stories")
    a = ap.parse_args()
    old = _load_old(a.against)
    stories: dict[str, list[dict]] = defaultdict(list)
    with (data_dir() / "clustering" / "basil" / "articles.jsonl").open(encoding="utf-8") as fh:
        for raw in fh:
            rec = json.loads(raw)
            stories[rec["story"]].append(rec)
    pipe = nlp.load()
    n_old = n_new = changed = 0
    for i, (story, recs) in enumerate(stories.items()):
        if a.limit is not None and i >= a.limit:
            break
        mentions, roles, texts = [], [], {}
        for r in recs:
            ms, rs = article_mentions(nlp.parse(r["text"], pipe), r["id"])
            mentions += ms
            roles += rs
            texts[r["id"]] = r["text"]
        new = merge_entities(mentions, roles, texts)
        before = old.merge_entities(mentions, roles, texts)
        n_new, n_old = n_new + len(new), n_old + len(before)
        old_of = {(m.article, m.start): e.name for e in before for m in e.mentions}
        lines = []
        for e in new:
            joined = sorted({old_of[(m.article, m.start)] for m in e.mentions
                             if (m.article, m.start) in old_of})
            if len(joined) > 1:
                lines.append(f"    {e.name} ({e.kind}) <- " + " | ".join(joined))
        if len(new) != len(before) or lines:
            changed += 1
            print(f"{story[:8]} {recs[0].get('main_event', '')[:60]!r}: "
                  f"{len(before)} -> {len(new)} entities")
            print("\n".join(lines))
    print(f"\n{changed} stories changed; entities {n_old} -> {n_new}")


if __name__ == "__main__":
    main()
