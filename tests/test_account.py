"""The cross-source account: the seed pair end to end, and each part on small
hand-written cases."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import newsdesk
from newsdesk import accountbook, alignment, claims, entities, nlp, quotes
from newsdesk.account import (
    analyse_article,
    build_account,
    cited_articles,
    claim_line,
    quote_line,
    wording_tag,
)
from newsdesk.claims import Sentence
from newsdesk.entities import EntityIndex, merge_entities, name_key
from newsdesk.metadata import publisher_aliases, publisher_key, publisher_voices
from newsdesk.records import Article, Figure, Mention, Quote, speaker_parts
from newsdesk.timeline import resolve_date

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[newsdesk.Store, str]:
    db = tmp_path_factory.mktemp("account") / "news.db"
    store = newsdesk.open_store(db)
    report = newsdesk.ingest(store, [SAMPLES])
    assert not report.problems
    ids = {r["story"] for r in newsdesk.export_articles(store)}
    assert len(ids) == 1, "the two seed reports must form one story"
    return store, ids.pop()


@pytest.fixture(scope="module")
def seed_account(seed_store: tuple[newsdesk.Store, str]) -> dict[str, Any]:
    store, sid = seed_store
    data = newsdesk.story_account(store, sid)
    assert data is not None
    return data


def _texts(store: newsdesk.Store) -> dict[str, str]:
    return {a.id: a.text for a in newsdesk.articles(store)}


def test_seed_entities_merge_spellings(seed_account: dict[str, Any]) -> None:
    by_name = {e["name"]: e for e in seed_account["entities"]}
    kim = next(e for e in seed_account["entities"] if name_key(e["name"]) == "kim jong un")
    assert {"Kim Jong-un", "Kim Jong Un", "Kim"} <= set(kim["aliases"])
    assert len(kim["articles"]) == 2
    putin = by_name["Vladimir Putin"]
    assert "Putin" in putin["aliases"] and putin["kind"] == "person"
    assert len(putin["articles"]) == 2
    # the small model tags "Kyiv" a person in both reports; the gazetteer corrects it
    assert by_name["Kyiv"]["kind"] == "place"


def test_seed_putin_quotes_align_across_outlets(seed_account: dict[str, Any]) -> None:
    def group_with(words: str) -> dict[str, Any]:
        # each of the two outlets words the statement in full at least once
        hits = [q for q in seed_account["quotes"] if q["voices"] == 2
                and {w["article"] for w in q["wordings"]}
                == {w["article"] for w in q["wordings"] if words in w["text"].lower()}]
        assert len(hits) == 1, f"no single two-outlet statement containing {words!r}"
        return hits[0]

    soldiers = group_with("fought courageously and heroically")
    sacrifices = group_with("never forget the sacrifices")
    for q in (soldiers, sacrifices):
        assert q["speaker"] == "Vladimir Putin"
        assert len({w["article"] for w in q["wordings"]}) == 2
        assert {w["speaker"] for w in q["wordings"]} == {"Vladimir Putin"}
    # the two wordings differ, and the differences are shown word by word
    other = [w for w in sacrifices["wordings"] if w["relation"] != "verbatim"]
    assert other and other[0]["relation"] == "paraphrased"
    ops = {op for op, _ in other[0]["diff"]}
    assert ops == {"=", "-", "+"}
    assert ["+", "made by"] in other[0]["diff"]
    # the raw scrape's lead reports the first statement too: 'saying they fought "heroically."'
    assert any(w["kind"] == "mixed" and '"heroically."' in w["text"] for w in soldiers["wordings"])
    short = [w for w in soldiers["wordings"] if w["relation"] == "truncated"]
    assert short, "the shorter wording of the soldiers quote is a truncation of the longer"


def test_seed_quote_speakers(seed_account: dict[str, Any]) -> None:
    by_text = {w["text"]: w for q in seed_account["quotes"] for w in q["wordings"]}
    fraternal = [w for t, w in by_text.items() if t.startswith("If there is any way we can assist Russia")]
    assert len(fraternal) == 1 and fraternal[0]["speaker"] == "Kim Jong-un"  # "he said", after "Kim said"
    regards = [w for t, w in by_text.items() if t.startswith("Please give my warmest regards")]
    assert len(regards) == 1 and regards[0]["speaker"] == "Donald Trump"


def test_seed_claims_statuses(seed_account: dict[str, Any]) -> None:
    figures = [c for c in seed_account["claims"] if c["kind"] == "figure"]
    troops = [c for c in figures if c["value"] == 15000]
    assert len(troops) == 1
    assert troops[0]["status"] == "single-source"
    assert troops[0]["counts"] == "troops" and len(troops[0]["outlets"]) == 1
    anniversary = [c for c in figures if c["value"] == 80 and "anniversary" in c["claim"]]
    assert len(anniversary) == 1 and anniversary[0]["status"] == "corroborated"
    assert len(anniversary[0]["outlets"]) == 2
    # what only one outlet reports: the troop figure is the clean outlet's alone
    (troops_outlet,) = troops[0]["outlets"]
    assert troops[0]["id"] in seed_account["coverage"][troops_outlet]["claims"]
    other_outlets = [o for o in seed_account["coverage"] if o != troops_outlet]
    assert all(troops[0]["id"] not in seed_account["coverage"][o]["claims"] for o in other_outlets)


def test_seed_summary_is_cited_and_verbatim(seed_store: tuple[newsdesk.Store, str],
                                            seed_account: dict[str, Any]) -> None:
    texts = _texts(seed_store[0])
    assert 1 <= len(seed_account["summary"]) <= 5
    lone = [s for s in seed_account["summary"] if len({c["article"] for c in s["citations"]}) == 1]
    assert len(seed_account["summary"]) - len(lone) >= 3 or not lone
    for s in seed_account["summary"]:
        src = s["source"]
        assert texts[src["article"]][src["start"]:src["end"]] == s["text"]
        assert s["citations"], "every summary sentence cites its sources"
        for c in s["citations"]:
            assert c["article"] in texts
        for quoted in re.findall(r"[\"“]([^\"“”]{3,})[\"”]", s["text"]):
            assert any(quoted in t for t in texts.values()), quoted
    corroborated = [s for s in seed_account["summary"] if len({c["article"] for c in s["citations"]}) > 1]
    assert corroborated, "the summary leads with what both outlets report"


def test_seed_exports(seed_store: tuple[newsdesk.Store, str]) -> None:
    store, sid = seed_store
    texts = _texts(store)
    rows = list(newsdesk.export_quotes(store))
    assert rows
    for r in rows:
        assert set(r) >= {"article", "story", "start", "end", "quote", "speaker", "verb", "kind",
                          "aligned_id"}
        assert texts[r["article"]][r["start"]:r["end"]] == r["quote"]
        assert r["story"] == sid and r["kind"] in ("direct", "indirect", "mixed")
    crow = list(newsdesk.export_claims(store, story_id=sid))
    assert crow
    for r in crow:
        assert set(r) >= {"story", "claim", "value", "unit", "status", "outlets", "articles", "sentences"}
        assert r["status"] in ("corroborated", "single-source", "contradicted")
        for s in r["sentences"]:
            assert texts[s["article"]][s["start"]:s["end"]] == s["text"]
    md = newsdesk.story_markdown(store, sid)
    assert md is not None
    # two sentences of the raw scrape carry the soldiers statement: its article is cited once
    summary = md.split("## Summary")[1].split("## ")[0]
    assert '"Your soldiers fought courageously and heroically," Putin said. [1][2]\n' in summary
    for section in ("## Summary", "## Quotes", "## Claims", "## Coverage by outlet", "## Timeline"):
        assert section in md
    assert "**made by**" in md  # the added words of the other outlet's wording
    # What one outlet alone reports: marks only around verbatim words, figures with
    # what they count (the redcanaco.com scrape has a mixed quote with its own marks)
    coverage = md.split("## Coverage by outlet")[1].split("## Timeline")[0]
    assert '- Vladimir Putin: their countries\' "trust and friendship"' in coverage
    assert "\u201ctheir countries" not in coverage
    # 'they fought "heroically."' reports a statement both outlets carry
    assert "heroically" not in coverage
    assert "- Thousands (casualties)" in coverage
    quoted = md.split("## Quotes")[1].split("## Claims")[0]
    assert "[2], paraphrased, mixed: they fought \"heroically.\"" in quoted  # no marks around its own marks
    assert "- roughly 15,000 troops\n" in coverage  # "troops" is already in its words


def test_a_quote_alone_is_in_marks_only_when_its_words_are_verbatim() -> None:
    def quote(kind: str, text: str, speaker: str | None = "Jane Doe") -> dict[str, Any]:
        return {"text": text, "speaker": speaker, "wordings": [
            {"kind": "indirect", "text": "another outlet's wording"}, {"kind": kind, "text": text}]}

    assert quote_line(quote("direct", "We will rebuild")) == "Jane Doe: \u201cWe will rebuild\u201d"
    assert quote_line(quote("indirect", "that the wall would be rebuilt")) == (
        "Jane Doe: that the wall would be rebuilt")
    assert quote_line(quote("mixed", 'the wall was "a disgrace"', None)) == 'the wall was "a disgrace"'
    assert claim_line({"kind": "figure", "claim": "Thousands", "counts": "casualties"}) == (
        "Thousands (casualties)")
    assert claim_line({"kind": "figure", "claim": "15,000 troops", "counts": "troops"}) == "15,000 troops"
    assert claim_line({"kind": "statement", "claim": "It rained.", "counts": None}) == "It rained."
    # one outlet's wording: its relation to the fullest wording only when there are several
    w = {"relation": "verbatim", "kind": "indirect", "different_speaker": False, "speaker": "Jane Doe"}
    assert wording_tag(w, 1) == "indirect"
    assert wording_tag(w, 2) == "verbatim, indirect"
    assert wording_tag({**w, "kind": "direct", "different_speaker": True, "speaker": "Jo Bloggs"},
                       2) == "verbatim, different speaker: Jo Bloggs"
    assert wording_tag({**w, "kind": "direct"}, 1) == ""


def test_account_is_cached_and_recomputed_when_a_component_changes(
        seed_store: tuple[newsdesk.Store, str], monkeypatch: pytest.MonkeyPatch) -> None:
    store, sid = seed_store
    calls: list[int] = []
    first = accountbook.story_account(store, sid, progress=lambda d, t: calls.append(d))
    assert first is not None and calls == []  # analyses and account came from the store
    monkeypatch.setattr(quotes, "COMPONENT", "quotes.rules.test-bump")
    again = accountbook.story_account(store, sid, progress=lambda d, t: calls.append(d))
    assert calls == [1, 2]  # both articles analysed again
    assert again is not None and again["provenance"]["quotes"] == "quotes.rules.test-bump"
    assert all(w["component"] == "quotes.rules.test-bump" for q in again["quotes"] for w in q["wordings"])


def test_story_command_prints_the_account(seed_store: tuple[newsdesk.Store, str]) -> None:
    store, sid = seed_store
    db = store.engine.url.database
    proc = subprocess.run([sys.executable, "-m", "newsdesk", "--db", str(db), "story", sid],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for heading in ("Summary", "Entities", "Quotes", "Claims", "Coverage by outlet", "Timeline", "Articles"):
        assert heading in out
    assert "roughly 15,000 troops" in out and "single-source" in out
    assert "{+made by+}" in out  # word differences are marked without colour too
    # a mixed quote carries its own marks, an indirect one is a paraphrase: neither in marks
    assert 'paraphrased, mixed: [-This was in full accordance' in out
    assert 'mixed: their countries\' "trust and friendship"\n' in out
    assert "\u201cthat sending the troops" not in out and "indirect: that sending the troops" in out
    proc = subprocess.run([sys.executable, "-m", "newsdesk", "--db", str(db), "export", "story", sid,
                           "--format", "json"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["story"] == sid
    proc = subprocess.run([sys.executable, "-m", "newsdesk", "--db", str(db), "export", "story", "nope"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "no story with id 'nope'" in proc.stderr


# --- parts ------------------------------------------------------------------------------

def _q(article: str, text: str, speaker: str | None, start: int = 0, kind: str = "direct") -> Quote:
    return Quote(article, start, start + len(text), text, kind, speaker)  # type: ignore[arg-type]


def test_alignment_relations_and_separation() -> None:
    qs = [
        _q("a", "We will rebuild every school that the storm destroyed, and we will do it this year",
           "Jane Doe"),
        _q("b", "we will rebuild every school that the storm destroyed", "Jane Doe"),
        _q("c", "Every school destroyed by the storm will be rebuilt by us this year", "Jane Doe"),
        _q("c", "The budget for roads is exhausted and nobody in the council wants to talk about it",
           "John Roe", start=200),
    ]
    out = alignment.align_quotes(qs, outlet_of={"a": "A", "b": "B", "c": "C"},
                                 voice_of={"a": "a", "b": "b", "c": "c"})
    big = [g for g in out if len(g.wordings) > 1]
    assert len(big) == 1 and big[0].voices == 3
    rel = {w.quote.article: w.relation for w in big[0].wordings}
    assert rel == {"a": "verbatim", "b": "truncated", "c": "paraphrased"}
    assert any(len(g.wordings) == 1 and g.speaker == "John Roe" for g in out)


def test_acronyms_in_two_house_styles_are_one_wording() -> None:
    # The New York Times writes "F.B.I." and "U.S.", most outlets "FBI" and "US".
    qs = [_q("a", "Hillary Clinton lied many times to the F.B.I. and the U.S. did nothing", "Donald Trump"),
          _q("b", "Hillary Clinton lied many times to the FBI and the US did nothing", "Donald Trump")]
    (one,) = alignment.align_quotes(qs, outlet_of={"a": "A", "b": "B"}, voice_of={"a": "a", "b": "b"})
    assert [w.relation for w in one.wordings] == ["verbatim", "verbatim"]
    assert alignment.quote_words("the F.B.I.") == alignment.quote_words("the FBI") == ["the", "fbi"]


def test_a_mixed_quotes_quoted_words_align_it_with_their_statement() -> None:
    # 'saying they fought "heroically."' reports the statement whose words it quotes;
    # a one-word fragment counts only for the same speaker, a long one for anyone.
    full = _q("a", "Your soldiers fought courageously and heroically", "Vladimir Putin")
    mixed = _q("b", 'they fought "heroically."', "Vladimir Putin", kind="mixed")
    other = _q("c", 'they fought "heroically."', "Kim Jong-un", kind="mixed")
    out = alignment.align_quotes([full, mixed, other], outlet_of={},
                                 voice_of={"a": "a", "b": "b", "c": "c"})
    groups = sorted(sorted(w.quote.article for w in g.wordings) for g in out)
    assert groups == [["a", "b"], ["c"]]
    long = _q("d", 'the plan is "a betrayal of every family in this city," he said', "John Roe",
              kind="mixed")
    plain = _q("e", "This is a betrayal of every family in this city", "Jane Doe")
    (g,) = alignment.align_quotes([long, plain], outlet_of={}, voice_of={"d": "d", "e": "e"})
    assert len(g.wordings) == 2
    # quoted words without a content word ("it") join nothing
    bare = _q("f", 'she called "it" a mistake', "Jane Doe", kind="mixed")
    assert len(alignment.align_quotes([bare, _q("g", "it is over", "Jane Doe")], outlet_of={},
                                      voice_of={"f": "f", "g": "g"})) == 2


def test_a_few_common_words_strewn_over_a_long_quote_are_not_the_same_statement() -> None:
    # BASIL: "Tell me who you are ... I have a right to know who you are." shares
    # "tell", "right" and "know" with a 90-word statement of someone else, far apart.
    short = _q("a", "Tell me who you are ... I have a right to know who you are.", "Bob Etheridge")
    long = _q("b", "This was a party tracking operation. If it was not a party tracker, why is the "
              "face blurred and why is the source hidden? You know if it had been a right wing blog, "
              "they would identify themselves and be booking this person on TV all day. One minute "
              "this guy is interviewing a member of Congress on camera and the next a video is "
              "released with his face blurred out? If that does not tell you this is a hatchet job "
              "nothing will.", "Brad Woodhouse")
    assert len(alignment.align_quotes([short, long], outlet_of={}, voice_of={"a": "a", "b": "b"})) == 2
    # the same words said together are one statement
    close = _q("c", "Nobody has a right to know who you are unless you tell them, he said then",
               "Brad Woodhouse")
    para = _q("d", "you have no right to know who I am, tell me why", "Brad Woodhouse")
    assert len(alignment.align_quotes([close, para], outlet_of={}, voice_of={"c": "c", "d": "d"})) == 1


def test_two_speakers_on_one_subject_need_more_shared_words() -> None:
    # Calderón and Vicente Fox both said Mexico would not pay for the wall (BASIL):
    # three of five content words in common make one statement of one speaker, not of two.
    calderon = _q("a", "Mexican people, we are not going to pay a single cent for such a stupid wall!",
                  "Felipe Calderón")
    fox = _q("b", "I'm not going to pay for that fucking wall", "Vicente Fox")
    assert len(alignment.align_quotes([calderon, fox], outlet_of={}, voice_of={"a": "a", "b": "b"})) == 2
    same = _q("b", "I'm not going to pay for that fucking wall", "Felipe Calderón")
    assert len(alignment.align_quotes([calderon, same], outlet_of={}, voice_of={"a": "a", "b": "b"})) == 1


def test_a_name_in_common_is_not_a_statement_in_common() -> None:
    # BASIL: Pence on the 14th Amendment and Trump's "will be settled by the United
    # States Supreme Court" share four words, all of one name
    pence = _q("a", "We all cherish the language of the 14th Amendment, but the Supreme Court of the "
                    "United States has never ruled on whether it applies", "Mike Pence")
    trump = _q("b", "will be settled by the United States Supreme Court", "Donald Trump")
    assert len(alignment.align_quotes([pence, trump], outlet_of={}, voice_of={"a": "a", "b": "b"})) == 2
    # the same name with the statement's own words is one statement
    other = _q("b", "the Supreme Court of the United States has never ruled on it", "Donald Trump")
    assert len(alignment.align_quotes([pence, other], outlet_of={}, voice_of={"a": "a", "b": "b"})) == 1


def test_alignment_flags_a_different_speaker() -> None:
    qs = [_q("a", "the bridge will reopen on Monday after the inspection is finished", "Jane Doe"),
          _q("b", "the bridge will reopen on Monday after the inspection is finished", "Jane Doe"),
          _q("c", "the bridge will reopen on Monday after the inspection is finished", "John Roe")]
    (g,) = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b", "c": "c"})
    assert g.speaker == "Jane Doe"
    assert [w.different_speaker for w in g.wordings] == [False, False, True]
    sents = {(q.article, 0): Sentence(q.article, 0, 0, len(q.text), q.text, q.article, q.article)
             for q in qs}
    # each outlet names its speaker in the quote's sentence
    qs2 = [Quote(q.article, q.start, q.end, q.text, q.kind, q.speaker, speaker_text=q.speaker,
                 sentence=0) for q in qs]
    (g2,) = alignment.align_quotes(qs2, outlet_of={}, voice_of={"a": "a", "b": "b", "c": "c"})
    (attr,) = claims.attribution_claims([g2], sents)
    assert attr.status == "contradicted" and "John Roe" in attr.text and "Jane Doe" in attr.text


@pytest.mark.parametrize("written, contradicted", [
    ("John Roe", True), ("Roe", True), ("the RCMP", True),
    # a speaker the resolver found through a pronoun, a description or the quote before
    ("he", False), (None, False), ("the young man", False), ("Roe's office", False),
])
def test_only_speakers_named_in_the_sentence_contradict(written: str | None, contradicted: bool) -> None:
    text = "the bridge will reopen on Monday after the inspection is finished"
    qs = [Quote("a", 0, len(text), text, "direct", "Jane Doe", speaker_text="Jane Doe", sentence=0),
          Quote("b", 0, len(text), text, "direct", "John Roe", speaker_text=written, sentence=0)]
    sents = {(q.article, 0): Sentence(q.article, 0, 0, len(text), text, q.article, q.article) for q in qs}
    (g,) = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b"})
    assert any(w.different_speaker for w in g.wordings)
    assert bool(claims.attribution_claims([g], sents)) is contradicted


def test_a_report_within_a_report_is_no_contradiction() -> None:
    # 'Trump said ... which he claimed the Republican Party was asking him to do if he
    # wanted to moderate the debate' (BASIL): the party's words are inside Trump's claim
    text = "to do if he wanted to moderate the debate"
    outer = "the Republican Party was asking him " + text
    qs = [Quote("a", 0, len(text), text, "indirect", "Donald Trump", speaker_text="Trump", sentence=0),
          Quote("b", 0, len(outer), outer, "indirect", "Donald Trump", speaker_text="he", sentence=0),
          Quote("b", len(outer) - len(text), len(outer), text, "indirect", "Republican Party",
                speaker_text="the Republican Party", sentence=0)]
    sents = {(q.article, 0): Sentence(q.article, 0, 0, len(outer), outer, q.article, q.article)
             for q in qs}
    groups = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b"})
    assert any(w.different_speaker for g in groups for w in g.wordings)
    assert claims.attribution_claims(groups, sents) == []
    # the same words credited to the party on their own are a contradiction
    alone = [qs[0], qs[2]]
    groups = alignment.align_quotes(alone, outlet_of={}, voice_of={"a": "a", "b": "b"})
    assert len(claims.attribution_claims(groups, sents)) == 1


@pytest.mark.parametrize("first, second, contradicted", [
    # "Trump Jr. later replied" and the Times' "Mr. Trump said": one man
    (("Donald Trump Jr.", "Trump Jr."), ("Trump", "Mr. Trump"), False),
    # a news organisation credited with the report is where it was read, not a speaker
    (("James Comey", "Comey"), ("New York Times", "the Times"), False),
    (("James Comey", "Comey"), ("CNN", "CNN"), False),
    (("James Comey", "Comey"), ("Donald Trump", "Trump"), True),
    # people who spoke together and one of them alone: no contradiction
    (("Nick Sandmann and Nathan Phillips", "Sandmann and Phillips"), ("Nick Sandmann", "Sandmann"), False),
    (("Nick Sandmann and Nathan Phillips", "Sandmann and Phillips"), ("Donald Trump", "Trump"), True),
])
def test_suffixes_and_news_organisations_make_no_contradiction(
        first: tuple[str, str], second: tuple[str, str], contradicted: bool) -> None:
    text = "Already did that earlier today, and the answer was the same"
    qs = [Quote("a", 0, len(text), text, "direct", first[0], speaker_text=first[1], sentence=0),
          Quote("b", 0, len(text), text, "direct", second[0], speaker_text=second[1], sentence=0)]
    sents = {(q.article, 0): Sentence(q.article, 0, 0, len(text), text, q.article, q.article) for q in qs}
    (g,) = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b"})
    assert bool(claims.attribution_claims([g], sents)) is contradicted


def test_alike_words_of_two_speakers_are_no_contradiction() -> None:
    # BASIL: Schumer and Reed both asked that the meeting be cancelled; the outlets
    # align the two, but only the same words credited to two people contradict
    a = "Trump should cancel the meeting until Russia takes steps to stop the interference"
    b = "Trump should immediately cancel his meeting with Russia over the interference"
    qs = [Quote("a", 0, len(a), a, "indirect", "Chuck Schumer", speaker_text="Chuck Schumer", sentence=0),
          Quote("b", 0, len(b), b, "indirect", "Jack Reed", speaker_text="Jack Reed", sentence=0)]
    sents = {(q.article, 0): Sentence(q.article, 0, 0, len(q.text), q.text, q.article, q.article)
             for q in qs}
    (g,) = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b"})
    assert any(w.different_speaker for w in g.wordings)
    assert claims.attribution_claims([g], sents) == []


def test_only_wordings_that_name_their_speaker_are_compared_word_for_word() -> None:
    # Schumer's and Reed's alike requests (both named) and, in a third outlet, Schumer's
    # exact words given through "he" to someone else: the resolver's guess prints the
    # same words but is not an outlet naming another speaker
    a = "Trump should cancel the meeting until Russia takes steps to stop the interference"
    b = "Trump should immediately cancel his meeting with Russia over the interference"
    qs = [Quote("a", 0, len(a), a, "indirect", "Chuck Schumer", speaker_text="Chuck Schumer", sentence=0),
          Quote("b", 0, len(b), b, "indirect", "Jack Reed", speaker_text="Jack Reed", sentence=0),
          Quote("c", 0, len(a), a, "indirect", "Max Moe", speaker_text="he", sentence=0)]
    sents = {(q.article, 0): Sentence(q.article, 0, 0, len(q.text), q.text, q.article, q.article)
             for q in qs}
    (g,) = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b", "c": "c"})
    assert claims.attribution_claims([g], sents) == []
    # named in its own sentence, the same words credited to Moe are a contradiction
    named = [*qs[:2], Quote("c", 0, len(a), a, "indirect", "Max Moe", speaker_text="Max Moe", sentence=0)]
    (g,) = alignment.align_quotes(named, outlet_of={}, voice_of={"a": "a", "b": "b", "c": "c"})
    assert len(claims.attribution_claims([g], sents)) == 1


def test_people_who_spoke_together_share_the_statement_with_each() -> None:
    text = "the bridge will reopen on Monday after the inspection is finished"
    qs = [_q("a", text, "Jane Doe and John Roe"), _q("b", text, "John Roe"), _q("c", text, "Max Moe")]
    (g,) = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b", "c": "c"})
    assert {w.quote.speaker: w.different_speaker for w in g.wordings} == {
        "Jane Doe and John Roe": False, "John Roe": False, "Max Moe": True}
    # an organisation with "and" in its name is one speaker, not two
    assert speaker_parts("Department of Health and Human Services") == (
        "Department of Health and Human Services",)
    assert speaker_parts("Jane Doe, John Roe and Max Moe") == ("Jane Doe", "John Roe", "Max Moe")


def test_one_surname_written_two_ways_is_no_contradiction() -> None:
    text = "I would like to know who those people are, because they follow a false prophet"
    qs = [Quote("a", 0, len(text), text, "direct", "Vicente Fox", speaker_text="Fox", sentence=0),
          Quote("b", 0, len(text), text, "direct", "Vincente Fox", speaker_text="Fox", sentence=0)]
    sents = {(q.article, 0): Sentence(q.article, 0, 0, len(text), text, q.article, q.article) for q in qs}
    (g,) = alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a", "b": "b"})
    assert any(w.different_speaker for w in g.wordings)
    assert claims.attribution_claims([g], sents) == []


@pytest.mark.parametrize("kinds, groups", [(("direct", "direct"), 1), (("mixed", "indirect"), 2)])
def test_a_quote_broken_by_its_attribution_is_one_statement(kinds: tuple[str, str], groups: int) -> None:
    # '"We will rebuild every school," she said, "and we will do it this year"' is one
    # statement; a reported clause split by its own cue ("praised their 'resolve' and
    # said that ...") is two
    qs = [_q("a", "We will rebuild every school", "Jane Doe", start=0, kind=kinds[0]),
          _q("a", "and we will do it this year", "Jane Doe", start=40, kind=kinds[1])]
    assert len(alignment.align_quotes(qs, outlet_of={}, voice_of={"a": "a"})) == groups


def test_word_diff() -> None:
    d = alignment.word_diff("we will never forget the sacrifices", "We will not forget the sacrifices")
    assert d == (("=", "We will"), ("-", "never"), ("+", "not"), ("=", "forget the sacrifices"))


def test_entities_merge_spellings_surnames_and_roles() -> None:
    ms = [Mention("a", 0, 11, "Kim Jong-un", "PERSON"), Mention("b", 0, 11, "Kim Jong Un", "PERSON"),
          Mention("a", 20, 23, "Kim", "PERSON"), Mention("a", 30, 44, "Vladimir Putin", "PERSON"),
          Mention("b", 50, 55, "Putin", "PERSON"), Mention("a", 60, 64, "Kyiv", "GPE"),
          Mention("a", 70, 78, "Jane Kim", "PERSON")]
    from newsdesk.entities import Role

    roles = [Role("a", "Vladimir Putin", "russian president")]
    texts = {"a": "x" * 100, "b": "y" * 80 + " the Russian president said."}
    ents = merge_entities(ms, roles, texts)
    idx = EntityIndex(ents)
    assert idx.canonical("Kim Jong Un") in ("Kim Jong-un", "Kim Jong Un")
    assert idx.canonical("Putin") == "Vladimir Putin"
    assert idx.canonical("the Russian president") == "Vladimir Putin"
    putin = idx.resolve("Putin")
    assert putin is not None and any(m.label == "ROLE" for m in putin.mentions)
    # "Kim" fits two full names (Kim Jong-un and Jane Kim), and its article writes both:
    # left alone, not guessed
    kim_entities = {e.name for e in ents if "Kim" in e.aliases}
    assert kim_entities == {"Kim"}


def test_a_part_name_is_the_one_full_name_its_article_writes() -> None:
    # Fox names only Duncan Hunter, HuffPost both him and Margaret Hunter (BASIL)
    texts = {"fox": "Rep. Duncan Hunter was indicted. Hunter denied it. Mrs. Hunter did not.",
             "hpo": "Duncan Hunter and Margaret Hunter were indicted. Hunter denied it."}

    def m(aid: str, name: str, nth: int = 0) -> Mention:
        start = [i for i in range(len(texts[aid])) if texts[aid].startswith(name, i)][nth]
        return Mention(aid, start, start + len(name), name, "PERSON")

    ms = [m("fox", "Duncan Hunter"), m("fox", "Hunter", 1), m("fox", "Hunter", 2),
          m("hpo", "Duncan Hunter"), m("hpo", "Margaret Hunter"), m("hpo", "Hunter", 2)]
    ents = {e.name: e for e in merge_entities(ms, (), texts)}
    assert [(x.article, x.start) for x in ents["Duncan Hunter"].mentions if x.text == "Hunter"] == [
        ("fox", texts["fox"].index("Hunter denied"))]
    # "Mrs. Hunter" is not Duncan, and HuffPost's "Hunter" could be either of two
    assert sorted((x.article, x.start) for x in ents["Hunter"].mentions) == [
        ("fox", texts["fox"].index("Hunter did")), ("hpo", texts["hpo"].index("Hunter denied"))]


def test_a_titled_or_famous_surname_is_not_a_relative_named_in_full() -> None:
    # "President Obama" in an article naming only Sasha Obama in full is not Sasha; nor is
    # "Trump" Ivanka where the other articles name Donald Trump in full
    texts = {"a": "President Obama spoke. Sasha Obama laughed. Trump tweeted.",
             "b": "Sasha Obama waved. Donald Trump spoke.", "c": "Donald Trump spoke.",
             "d": "Ivanka Trump spoke. Trump tweeted.", "e": "Malia Obama waved."}

    def m(aid: str, name: str, nth: int = 0) -> Mention:
        start = [i for i in range(len(texts[aid])) if texts[aid].startswith(name, i)][nth]
        return Mention(aid, start, start + len(name), name, "PERSON")

    ms = [m("a", "Obama"), m("a", "Sasha Obama"), m("e", "Malia Obama"), m("b", "Sasha Obama"),
          m("b", "Donald Trump"), m("c", "Donald Trump"), m("d", "Ivanka Trump"), m("d", "Trump", 1)]
    ents = {e.name: e for e in merge_entities(ms, (), texts)}
    assert [x.text for x in ents["Obama"].mentions] == ["Obama"]
    assert [x.text for x in ents["Trump"].mentions] == ["Trump"]
    assert len(ents["Sasha Obama"].mentions) == 2 and len(ents["Ivanka Trump"].mentions) == 1


def test_a_surname_the_model_tags_an_organisation_joins_its_person() -> None:
    def m(text: str, label: str, start: int) -> Mention:
        return Mention("a", start, start + len(text), text, label)

    ms = [m("Bob Etheridge", "PERSON", 0), m("Etheridge", "ORG", 100), m("Etheridge", "ORG", 200),
          m("Etheridge", "GPE", 300), m("Etheridge", "PERSON", 400),
          # a first name alone is not joined: the city beside its police chief stays a place
          m("Alexandria Police Chief Michael Brown", "PERSON", 500), m("Alexandria", "GPE", 600),
          m("Alexandria", "GPE", 700), m("Alexandria", "PERSON", 800),
          # never tagged a person: the company stays a company
          m("Harrison Ford", "PERSON", 900), m("Ford", "ORG", 1000), m("Ford", "ORG", 1100)]
    kinds = {e.name: (e.kind, len(e.mentions)) for e in merge_entities(ms)}
    assert kinds["Bob Etheridge"] == ("person", 5) and "Etheridge" not in kinds
    assert kinds["Alexandria"] == ("place", 3)
    assert kinds["Ford"] == ("organisation", 2) and kinds["Harrison Ford"] == ("person", 1)


def test_a_name_with_and_without_a_middle_initial_or_a_title_is_one_person() -> None:
    def m(text: str, label: str, start: int, article: str = "a") -> Mention:
        return Mention(article, start, start + len(text), text, label)

    ms = [m("Anthony D. Weiner", "PERSON", 0), m("Anthony Weiner", "PERSON", 0, "b"),
          m("Weiner", "ORG", 100), m("Weiner", "PERSON", 200, "b"), m("Mr. Weiner", "PERSON", 300),
          m("President Obama", "PERSON", 400), m("Obama", "PERSON", 500, "b"),
          m("George H. W. Bush", "PERSON", 600), m("George W. Bush", "PERSON", 700)]
    ents = {e.name: e for e in merge_entities(ms)}
    weiner = next(e for e in ents.values() if "Anthony Weiner" in e.aliases)
    assert weiner.kind == "person" and len(weiner.mentions) == 5
    assert {"Anthony D. Weiner", "Weiner", "Mr. Weiner"} <= set(weiner.aliases)
    obama = next(e for e in ents.values() if "Obama" in e.aliases)
    assert "President Obama" in obama.aliases and len(obama.mentions) == 2
    # two presidents Bush, told apart by their initials
    assert {"George H. W. Bush", "George W. Bush"} <= set(ents)


def test_a_nickname_or_a_middle_name_is_one_person() -> None:
    def m(text: str, start: int, article: str = "a") -> Mention:
        return Mention(article, start, start + len(text), text, "PERSON")

    ms = [m("Bob Bauer", 0), m("Robert F. Bauer", 0, "b"), m("Bauer", 100, "b"),
          m("Hillary Rodham Clinton", 200), m("Hillary Clinton", 200, "b"),
          m("Dick Blumenthal", 300), m("Richard Blumenthal", 300, "b"), m("Blumenthal", 400),
          m("Representative Darrell Issa", 500), m("Issa", 600, "b"),
          # two people: other given names, other initials, other middle names
          m("Bill Clinton", 700), m("John Paul Smith", 800), m("John Peter Smith", 900),
          m("George H. W. Bush", 1000), m("George W. Bush", 1100)]
    ents = merge_entities(ms)
    by_alias = {a: e for e in ents for a in e.aliases}
    bauer = by_alias["Bob Bauer"]
    assert bauer.name == "Robert F. Bauer" and {"Robert F. Bauer", "Bauer"} <= set(bauer.aliases)
    assert by_alias["Hillary Clinton"].name == "Hillary Rodham Clinton"
    assert by_alias["Dick Blumenthal"] is by_alias["Blumenthal"] is by_alias["Richard Blumenthal"]
    # one person, shown without the title of office the fullest form carries
    assert by_alias["Issa"].name == "Darrell Issa"
    assert "Representative Darrell Issa" in by_alias["Issa"].aliases
    assert by_alias["Bill Clinton"] is not by_alias["Hillary Clinton"]
    assert by_alias["John Paul Smith"] is not by_alias["John Peter Smith"]
    assert by_alias["George H. W. Bush"] is not by_alias["George W. Bush"]


def test_names_lose_editors_brackets_and_keep_titles_of_rank() -> None:
    def m(text: str, start: int, label: str = "PERSON") -> Mention:
        return Mention("a", start, start + len(text), text, label)

    # "[special prosecutor Robert] Mueller": the mention's text without the brackets
    doc = nlp.parse("He called it “a big F-U from [special prosecutor Robert] Mueller.”\n")
    assert [x.text for x in entities.article_mentions(doc, "a")[0]] == ["Robert Mueller"]
    ents = merge_entities([m("Representative K. Michael Conaway", 0), m("Conaway", 100),
                           m("King Abdullah", 200), m("Pope Francis", 300)])
    assert sorted(e.name for e in ents) == ["K. Michael Conaway", "King Abdullah", "Pope Francis"]


def test_o_k_is_no_person() -> None:
    # The New York Times: "You might think that it’s O.K. that ..."
    doc = nlp.parse("“You might think that it’s O.K. that they lied,” Schiff said. “I don’t think "
                    "that’s O.K.”\n")
    assert not [e for e in doc.ents if e.label_ == "PERSON" and "O.K" in e.text]


def test_words_without_a_capital_are_no_entity() -> None:
    from newsdesk import nlp
    from newsdesk.entities import article_mentions

    # the small model tags "n’t" a place and "lesbian group" a person here (BASIL)
    doc = nlp.parse(
        "Donald J. Trump has dropped plans to moderate a presidential debate, but don\u2019t "
        "expect him to fade quietly from the political scene.\nThe Perry ad was denounced by "
        "the Log Cabin Republicans, a gay men and lesbian group, which said it was wrong.\n")
    mentions, _ = article_mentions(doc, "a")
    assert "Donald J. Trump" in [x.text for x in mentions]
    assert all(any(c.isupper() for c in x.text) for x in mentions)


def test_acronyms_join_the_name_they_spell() -> None:
    def m(text: str, label: str, start: int) -> Mention:
        return Mention("a", start, start + len(text), text, label)

    ms = [m("NAACP", "ORG", 0), m("N.A.A.C.P.", "ORG", 50),
          m("National Association for the Advancement of Colored People", "ORG", 100),
          m("U.S.", "GPE", 200), m("United States", "GPE", 300),
          # an acronym that spells nothing here, and a word not written in capitals
          # (Apple is no acronym), stay apart
          m("NATO", "ORG", 400), m("Apple", "ORG", 500),
          m("Association of Pediatric Physicians Licensed Educators", "ORG", 600)]
    ents = merge_entities(ms)
    naacp = next(e for e in ents if "NAACP" in e.aliases)
    assert {"N.A.A.C.P.", "National Association for the Advancement of Colored People"} <= set(naacp.aliases)
    assert naacp.kind == "organisation" and len(naacp.mentions) == 3
    us = next(e for e in ents if "U.S." in e.aliases)
    assert "United States" in us.aliases
    assert len(ents) == 5  # NAACP, U.S., NATO, Apple, the association


def test_one_acronym_in_two_house_styles_is_one_name_whatever_its_labels() -> None:
    # the small model tags "F.B.I." a place and "FBI" an organisation in one story
    def m(text: str, label: str, start: int, article: str = "a") -> Mention:
        return Mention(article, start, start + len(text), text, label)

    ms = [m("FBI", "ORG", 0), m("FBI", "ORG", 10, "b"), m("F.B.I.", "GPE", 50), m("NRA", "ORG", 90),
          m("National Rifle Association", "GPE", 100), m("National Rifle Association", "GPE", 200)]
    ents = merge_entities(ms)
    fbi = next(e for e in ents if "FBI" in e.aliases)
    assert set(fbi.aliases) == {"FBI", "F.B.I."} and fbi.kind == "organisation"
    nra = next(e for e in ents if "NRA" in e.aliases)
    assert "National Rifle Association" in nra.aliases
    assert len(ents) == 2


def test_publisher_key_counts_one_publisher_once() -> None:
    assert publisher_key(None, "https://www.bbc.co.uk/news/x") == publisher_key("bbc.com") == "bbc"
    assert publisher_key("BBC News") == "bbc"
    assert publisher_key(None, "https://edition.cnn.com/x") != publisher_key("bbc.com")
    # a record's junk source names no publisher, and stops nothing
    assert publisher_key("...") is None and publisher_key("") is None and publisher_key("!!!") is None
    junk = {"a": ("...", None, None), "b": ("", "not a url", "  ")}
    assert publisher_voices(junk) == {"a": None, "b": None}


@pytest.mark.parametrize("text, ok", [
    ('"Your soldiers fought courageously," Putin said.', True),
    ('Putin praised their "trust and friendship" and left.', True),
    ("\u201cI know,\u201d he said.", True),
    # a sentence split inside a quote reads as broken: never a summary sentence
    ('It was a prank," Weiner reiterated. "', False),
    ('he said \u201cI know it was.', False),
    ('"We will rebuild," she said. "And', False),
])
def test_a_summary_sentence_closes_every_quote_it_opens(text: str, ok: bool) -> None:
    from newsdesk.account import _marks_balanced

    assert _marks_balanced(text) is ok


def test_cited_articles_once_each_in_number_order() -> None:
    cs = [{"article": "b", "start": 5}, {"article": "a", "start": 1}, {"article": "b", "start": 9},
          {"article": "z", "start": 0}]
    assert cited_articles(cs, {"a": 1, "b": 2}) == [(1, cs[1]), (2, cs[0])]


def test_publisher_voices_join_a_name_to_its_site_and_see_through_aggregators() -> None:
    voices = publisher_voices({
        # Google News entries: the link is the aggregator's, <source> the publisher
        "g1": ("The New York Times", "https://news.google.com/rss/articles/CBMiA", "The New York Times"),
        "g2": ("BBC News", "https://news.google.com/rss/articles/CBMiB", "BBC News"),
        "n1": (None, "https://www.nytimes.com/2025/09/03/world/putin-kim.html", None),
        "f1": ("Fox News", None, None),
        "f2": (None, "https://www.foxnews.com/world/putin-kim", None),
        "w1": ("Wall Street Journal", None, None),
        "w2": ("wsj.com", None, None),
        "r1": ("Reuters", None, None),
        "a1": ("Associated Press", None, None),
        "a2": (None, "https://apnews.com/article/x", None),
        "c1": ("CBS", None, None),
        "c2": (None, "https://www.cbsnews.com/news/y", None),
    })
    assert voices["g1"] == voices["n1"] == "nytimes"
    assert voices["g2"] == "bbc"
    assert voices["f1"] == voices["f2"] == "foxnews"
    assert voices["w1"] == voices["w2"] == "wsj"
    assert voices["r1"] == "reuters"
    assert voices["a1"] == voices["a2"] == "apnews" and voices["c1"] == voices["c2"] == "cbsnews"
    assert len(set(voices.values())) == 7
    # a name joins a site only when exactly one site of the group spells it
    both = publisher_voices({"a": ("Fox News", None, None), "b": (None, "https://fox.com/x", None),
                             "c": (None, "https://foxnews.com/y", None)})
    assert both["a"] == "fox"
    assert {"nytimes", "nyt"} <= publisher_aliases("The New York Times")


def test_an_aggregator_feeds_publishers_are_separate_voices(tmp_path: Path) -> None:
    # Both seed reports arrive through one Google News feed: two publishers, not one.
    items = []
    for name, seed, outlet in (("a", "003_1fbef299465c00bb.txt", "The New York Times"),
                               ("b", "000_2a837432b18d5e63.txt", "BBC News")):
        body = "".join(f"<p>{html.escape(line)}</p>" for line in
                       (SAMPLES / seed).read_text(encoding="utf-8").splitlines() if line.strip())
        items.append(
            f"<item><title>Putin and Kim {name}</title>"
            f"<link>https://news.google.com/rss/articles/{name}</link>"
            f"<source url=\"https://example.org/{name}\">{outlet}</source>"
            f"<description><![CDATA[{body}]]></description></item>")
    feed = tmp_path / "gnews.rss"
    feed.write_text('<?xml version="1.0"?><rss version="2.0"><channel><title>Google News</title>'
                    + "".join(items) + "</channel></rss>", encoding="utf-8")
    store = newsdesk.open_store(tmp_path / "news.db")
    assert not newsdesk.ingest(store, [feed]).problems
    (sid,) = {r["story"] for r in newsdesk.export_articles(store)}
    account = newsdesk.story_account(store, sid)
    assert account is not None
    anniversary = next(c for c in account["claims"] if c["claim"] == "80th anniversary")
    assert anniversary["status"] == "corroborated"
    assert any(q["voices"] == 2 for q in account["quotes"])


def _fig(article: str, value: float | None, text: str, counts: str = "dead",
         approx: bool = False, kind: str = "count") -> Figure:
    return Figure(article, 0, len(text), text, value, "people", counts, kind, approx, 0)


def _sent(article: str, voice: str, text: str = "A sentence with enough words to count here.") -> Sentence:
    return Sentence(article, 0, 0, len(text), text, voice, voice)


def test_figure_status_by_independent_voices() -> None:
    s = {("a", 0): _sent("a", "x"), ("b", 0): _sent("b", "y"), ("c", 0): _sent("c", "x")}
    corroborated = claims.figure_claims([_fig("a", 12, "12 dead"), _fig("b", 12, "12 dead")], s)
    assert [c.status for c in corroborated] == ["corroborated"]
    same_voice = claims.figure_claims([_fig("a", 12, "12 dead"), _fig("c", 12, "12 dead")], s)
    assert [c.status for c in same_voice] == ["single-source"]  # one publisher (or copies): one voice
    contradicted = claims.figure_claims([_fig("a", 12, "12 dead"), _fig("b", 15, "15 dead")], s,
                                        lambda a, b: 0.9)
    assert [c.status for c in contradicted] == ["contradicted"]
    assert contradicted[0].values == {"x": 12, "y": 15}
    vague = claims.figure_claims([_fig("a", 15000, "roughly 15,000 troops", "troops", True),
                                  _fig("b", None, "thousands of troops", "troops")], s)
    assert [c.status for c in vague] == ["single-source"]
    assert vague[0].outlets == ("x",)


def test_two_figures_of_one_sentence_are_two_claims_with_two_ids() -> None:
    # "... extending protections for 700,000 illegal immigrants ... and 300,000
    # immigrants from countries designated unsafe to return": one sentence, one count.
    text = "It protects 700,000 immigrants and 300,000 immigrants."
    s = {("a", 0): _sent("a", "x", text), ("b", 0): _sent("b", "y")}
    figs = [Figure("a", 12, 30, "700,000 immigrants", 700000, "immigrants", "immigrants", "count", False, 0),
            Figure("a", 35, 53, "300,000 immigrants", 300000, "immigrants", "immigrants", "count", False, 0)]
    out = claims.figure_claims(figs, s)
    assert sorted(c.value for c in out) == [300000, 700000]
    assert len({c.id for c in out}) == 2


def test_equal_amounts_join_at_a_looser_context_than_contradictions() -> None:
    # "which he estimates would cost about $8 billion" / "estimates the price tag at
    # around $8 billion": one amount, what it counts worded apart, sentences 0.35 close.
    s = {("a", 0): _sent("a", "x"), ("b", 0): _sent("b", "y")}
    money = [_fig("a", 8e9, "about $8 billion", "cost", True, "money"),
             _fig("b", 8e9, "around $8 billion", "estimate", True, "money")]
    (joined,) = claims.figure_claims(money, s, lambda a, b: 0.35)
    assert joined.status == "corroborated"
    assert len(claims.figure_claims(money, s, lambda a, b: 0.25)) == 2
    # "the 12th day" / "the 14th day" of a shutdown in two days' articles, as close:
    # no contradiction (disagreeing values need the stricter context).
    days = [_fig("a", 12, "12th day", "day", kind="ordinal"),
            _fig("b", 14, "14th day", "day", kind="ordinal")]
    assert [c.status for c in claims.figure_claims(days, s, lambda a, b: 0.35)] == ["single-source"] * 2
    assert [c.status for c in claims.figure_claims(days, s, lambda a, b: 0.45)] == ["contradicted"]


def test_statement_claims_one_sentence_per_article() -> None:
    ss = [_sent("a", "x", "The mayor opened the new bridge over the river on Monday."),
          _sent("b", "y", "On Monday the mayor opened the river's new bridge to traffic."),
          Sentence("b", 1, 0, 10, "The mayor opened the new bridge over the river, officials said.",
                   "y", "y")]
    v = np.array([[1.0, 0.0], [0.9, np.sqrt(1 - 0.81)], [0.95, np.sqrt(1 - 0.9025)]], dtype=np.float32)
    out = claims.statement_claims(ss, v)
    multi = [c for c in out if len(c.supports) > 1]
    assert len(multi) == 1 and multi[0].status == "corroborated"
    assert {s.article for s in multi[0].supports} == {"a", "b"}
    assert len(multi[0].supports) == 2  # never two sentences of one article in one claim


@pytest.mark.parametrize(("expr", "expected"), [
    ("Wednesday", (date(2025, 9, 3), "day")),  # the publication day itself is a Wednesday
    ("last Wednesday", (date(2025, 8, 27), "day")),
    ("last June", (date(2025, 6, 1), "month")),
    ("August 2024", (date(2024, 8, 1), "month")),
    ("Sept. 5, 2025", (date(2025, 9, 5), "day")),
    ("Dec. 31", (date(2025, 12, 31), "day")),  # no tense given: the nearest Dec. 31
    ("yesterday", (date(2025, 9, 2), "day")),
    ("three-and-a-half years", None),
    ("the 1990s", None),
    ("early in the Cold War", None),
])
def test_resolve_date(expr: str, expected: tuple[date, str] | None) -> None:
    assert resolve_date(expr, datetime(2025, 9, 3, 12)) == expected


@pytest.mark.parametrize(("expr", "published", "tense", "expected"), [
    ("Dec. 31", datetime(2025, 9, 3), "past", (date(2024, 12, 31), "day")),
    ("Dec. 31", datetime(2025, 12, 5), "past", (date(2024, 12, 31), "day")),  # not ahead of publication
    ("Feb. 15", datetime(2019, 1, 25), None, (date(2019, 2, 15), "day")),  # "until Feb. 15"
    ("February", datetime(2017, 12, 4), "past", (date(2017, 2, 1), "month")),  # "fired in February"
    ("February", datetime(2018, 12, 20), "future", (date(2019, 2, 1), "month")),  # "will leave in February"
    ("December", datetime(2019, 1, 25), None, (date(2018, 12, 1), "month")),
    ("last June", datetime(2025, 9, 3), "future", (date(2025, 6, 1), "month")),
    ("next March", datetime(2025, 3, 20), None, (date(2026, 3, 1), "month")),
    ("Thursday", datetime(2016, 6, 8), "future", (date(2016, 6, 9), "day")),  # "will meet on Thursday"
    ("Thursday", datetime(2016, 6, 8), None, (date(2016, 6, 2), "day")),
    ("next Tuesday", datetime(2018, 10, 30), None, (date(2018, 11, 6), "day")),  # a Tuesday
])
def test_resolve_date_by_tense(expr: str, published: datetime, tense: str | None,
                               expected: tuple[date, str]) -> None:
    assert resolve_date(expr, published, tense) == expected  # type: ignore[arg-type]


def test_the_tense_of_a_dates_verb_sets_its_year() -> None:
    a = _dated("a1", "Flynn stepped down in February. The speech, scheduled for March 3, was moved. "
               "The government will stay open until Feb. 15. The Dec. 27 debate was sponsored by Newsmax.",
               "t", "Daily One", "https://dailyone.example/t", datetime(2018, 1, 25))
    days = {d.text: d.day for d in analyse_article(a).dates}
    assert days == {"February": date(2017, 2, 1), "March 3": date(2018, 3, 3),
                    "Feb. 15": date(2018, 2, 15), "Dec. 27": date(2017, 12, 27)}


def test_relative_dates_need_a_publication_date() -> None:
    assert resolve_date("Wednesday", None) is None
    assert resolve_date("August 2024", None) == (date(2024, 8, 1), "month")


def _dated(aid: str, text: str, title: str, source: str, url: str, published: datetime) -> Article:
    return Article(id=aid, text=text, title=title, source=source, url=url, published=published,
                   lang="en", author=None, format="text", origin="t", content_hash=f"h-{aid}")


def test_build_account_on_hand_written_articles() -> None:
    a = _dated("a1", "Mayor Jane Doe opened the new Elm Street bridge on Monday. "
               "\"This bridge will carry 20,000 cars a day,\" Doe said. The bridge cost $12 million.",
               "Bridge opens", "Daily One", "https://dailyone.example/b", datetime(2024, 5, 8))
    b = _dated("b1", "The new Elm Street bridge opened on Monday, Mayor Jane Doe said. "
               "\"This bridge will carry 20,000 cars every day,\" the mayor said. "
               "It cost $15 million, according to the city.",
               "Elm Street bridge opens", "Town Two", "https://towntwo.example/x", datetime(2024, 5, 8))
    acc = build_account("st-test", [a, b], {x.id: analyse_article(x) for x in (a, b)}).to_json()
    multi = [q for q in acc["quotes"] if q["voices"] == 2]
    assert len(multi) == 1 and multi[0]["speaker"] == "Jane Doe"
    cost = [c for c in acc["claims"] if c["kind"] == "figure" and c["unit"] == "USD"]
    assert len(cost) == 1 and cost[0]["status"] == "contradicted"
    assert sorted(cost[0]["values"].values()) == [12e6, 15e6]
    assert any(e["date"] == "2024-05-06" for e in acc["timeline"]["events"])  # Monday before the 8th


def test_a_summary_quote_cites_only_outlets_giving_it_to_the_same_speaker() -> None:
    words = "The bridge will reopen on Monday once the inspectors have finished their work"
    arts = [
        _dated("a1", f'"{words}," Mayor Jane Doe said on Friday. The river rose overnight.',
               "Bridge", "Daily One", "https://dailyone.example/b", datetime(2024, 5, 8)),
        _dated("b1", f'"{words}," Jane Doe told reporters on Friday. Traffic was heavy.',
               "Bridge", "Town Two", "https://towntwo.example/b", datetime(2024, 5, 8)),
        _dated("c1", f'"{words}," John Roe said on Friday. Schools were closed.',
               "Bridge", "Third Post", "https://thirdpost.example/b", datetime(2024, 5, 8)),
    ]
    acc = build_account("st-q", arts, {x.id: analyse_article(x) for x in arts}).to_json()
    (group,) = [q for q in acc["quotes"] if len(q["wordings"]) == 3]
    assert group["speaker"] == "Jane Doe"
    (line,) = [s for s in acc["summary"] if words in s["text"]]
    assert sorted({c["article"] for c in line["citations"]}) == ["a1", "b1"]


def test_a_joint_speaker_is_shown_with_each_persons_full_name() -> None:
    words = "The bridge will reopen on Monday once the inspectors have finished their work"
    arts = [
        _dated("a1", f'Mayor Jane Doe and council member John Roe met on Friday. "{words}," Doe and Roe '
               "said.", "Bridge", "Daily One", "https://dailyone.example/b", datetime(2024, 5, 8)),
        _dated("b1", f'"{words}," Jane Doe told reporters on Friday. Traffic was heavy.',
               "Bridge", "Town Two", "https://towntwo.example/b", datetime(2024, 5, 8)),
    ]
    acc = build_account("st-j", arts, {x.id: analyse_article(x) for x in arts}).to_json()
    (group,) = [q for q in acc["quotes"] if len(q["wordings"]) == 2]
    assert {w["speaker"] for w in group["wordings"]} == {"Jane Doe and John Roe", "Jane Doe"}
    assert not any(w["different_speaker"] for w in group["wordings"])
    assert not [c for c in acc["claims"] if c["kind"] == "attribution"]


@pytest.mark.parametrize("day, precision, ahead", [
    (date(2036, 1, 1), "year", True), (date(2011, 1, 1), "year", False),
    (date(2011, 12, 1), "month", False), (date(2012, 1, 1), "month", True),
    (date(2011, 12, 13), "day", False), (date(2011, 12, 27), "day", True),
])
def test_an_event_after_the_newest_article_is_ahead(day: date, precision: str, ahead: bool) -> None:
    from newsdesk.timeline import Event

    assert Event(day, precision, ()).after(date(2011, 12, 13)) is ahead  # type: ignore[arg-type]


def test_the_timeline_marks_what_lies_ahead_of_the_articles() -> None:
    from rich.console import Console

    from newsdesk.account import account_markdown
    from newsdesk.render import account as print_account

    a = _dated("a1", "Trump said on Tuesday that he would not moderate the debate. The Dec. 27 "
               "debate was sponsored by Newsmax. By 2036 the fund will be empty, the trustees said.",
               "Trump drops debate", "Daily One", "https://dailyone.example/t", datetime(2011, 12, 13))
    acc = build_account("st-t", [a], {"a1": analyse_article(a)}).to_json()
    ahead = {e["date"]: e["ahead"] for e in acc["timeline"]["events"]}
    assert ahead == {"2011-12-13": False, "2011-12-27": True, "2036": True}
    assert "**2036** (after the newest article)" in account_markdown(acc)
    out = Console(record=True, width=200)
    print_account(out, acc)
    text = out.export_text()
    assert "2011-12-13 ◆" in text and "2011-12-27 ◇" in text and "2036 ◇" in text


def test_account_reads_originals_spread_over_outlets() -> None:
    from newsdesk.accountbook import select_members

    arts = {}
    for o in range(5):
        for k in range(30):
            aid = f"o{o}-{k:02d}"
            arts[aid] = Article(id=aid, text="x", title=None, source=f"outlet{o}.example", url=None,
                                published=datetime(2024, 1, 1, 0, k), lang="en", author=None,
                                format="text", origin="t", content_hash=aid)
    copy_of = {f"o0-{k:02d}": "o1-00" for k in range(10)}
    chosen = select_members(arts, copy_of, limit=60)
    assert len(chosen) == 60 and not any(a.id in copy_of for a in chosen)
    per_outlet = {o: sum(1 for a in chosen if a.source == f"outlet{o}.example") for o in range(5)}
    assert set(per_outlet.values()) == {12}
    assert [a.id for a in chosen if a.source == "outlet2.example"][:2] == ["o2-00", "o2-01"]  # earliest first
    small = select_members({k: arts[k] for k in list(arts)[:20]}, copy_of, limit=60)
    assert len(small) == 10  # o0-00..o0-09 are copies; o0-10..o0-19 remain


def test_account_skips_other_languages_and_reads_long_articles_in_part() -> None:
    from newsdesk.account import MAX_CHARS
    from newsdesk.accountbook import select_members

    def art(aid: str, lang: str | None, text: str = "x") -> Article:
        return Article(id=aid, text=text, title=None, source="o.example", url=None, published=None,
                       lang=lang, author=None, format="text", origin="t", content_hash=aid)

    chosen = select_members({"a": art("a", "en"), "b": art("b", "de"), "c": art("c", None)}, {})
    assert sorted(a.id for a in chosen) == ["a", "c"]
    para = "The council met on Monday. \"We will fix the roads,\" Mayor Jane Doe said.\n"
    long = art("l", "en", para * (3 * MAX_CHARS // len(para)))
    x = analyse_article(long)
    assert x.quotes and all(q.end <= MAX_CHARS for q in x.quotes)
    assert all(long.text[q.start:q.end] == q.text for q in x.quotes)
