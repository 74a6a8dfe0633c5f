"""Claims of a story and how many independent outlets stand behind each.

Three kinds of claim:

* figure: a number with its unit and what it counts (``figures.py`` extracts
  them; ``figures.group_figures`` says which state the same quantity). Outlets
  that give inconsistent values for one quantity make it *contradicted*.
* statement: a sentence of reported fact; sentences of different articles whose
  embeddings are close state the same fact.
* attribution: one statement that outlets attribute to different speakers
  (from the quote alignment) — contradicted by construction.

Independence: an article's *voice* is its publisher (``metadata.publisher_voices``),
and a copy speaks with its original's voice, so a wire story on ten sites, or
one publisher's two sites, count once. Two or more voices make a claim
*corroborated*; one makes it *single-source*.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from . import figures as figures_mod
from .alignment import AlignedQuote, Wording, quote_words
from .metadata import outlet_label
from .records import Figure, Quote, speaker_parts

__all__ = ["COMPONENT", "Claim", "Sentence", "Support", "attribution_claims", "figure_claims",
           "statement_claims"]

COMPONENT = "claims.v10"
Status = Literal["corroborated", "single-source", "contradicted"]
# Cosine of MiniLM sentence embeddings above which two sentences of different
# articles may state the same fact. Set on the seed pair, where the same-fact
# pairs score 0.72-0.95 and the closest different-fact pair 0.69; on BASIL,
# 0.70 alone paired sentences that merely share a subject, hence the shared
# words below. No gold set covers statements: these are judgement, not fit.
SAME_FACT = 0.70
SHARED_WORDS = 0.3  # ...and this share of the shorter sentence's content words in common,
SAME_FACT_ANYWAY = 0.85  # unless the embeddings are this close
MIN_WORDS = 6
_STOP = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been being it its this "
    "that these those he she they them his her their we our you your i me my has have had do does did "
    "not no so if than then there here what which who whom when where why how all any some more most "
    "very just also about into over after before up down out said says say would will could can may "
    "might must should".split()
)


def _content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w']+", text.lower().replace("’", "'")) if w not in _STOP}


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of a cleaned article, with its outlet and independence key."""

    article: str
    index: int
    start: int
    end: int
    text: str
    outlet: str | None
    voice: str
    quoted: float = 0.0  # share of its characters inside quotes


@dataclass(frozen=True, slots=True)
class Support:
    """Where one article states a claim."""

    article: str
    outlet: str | None
    voice: str
    sentence: int
    text: str  # the article's sentence, verbatim
    start: int  # the sentence's span in the article
    end: int
    value: float | None = None
    expression: str | None = None  # the figure as written: "roughly 15,000 troops"
    confirms: bool = True  # False: consistent but vaguer ("thousands" beside "15,000")
    expression_start: int | None = None  # the figure's span in the article
    expression_end: int | None = None


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    kind: Literal["figure", "statement", "attribution"]
    text: str
    status: Status
    supports: tuple[Support, ...]
    value: float | None = None
    unit: str | None = None
    counts: str | None = None
    values: dict[str, float | None] = field(default_factory=dict)  # outlet -> value, figures

    @property
    def voices(self) -> int:
        """Independent voices that state the claim (vaguer consistent figures aside)."""
        return len({s.voice for s in self.supports if s.confirms})

    @property
    def outlets(self) -> tuple[str, ...]:
        return tuple(sorted({outlet_label(s.outlet, s.voice) for s in self.supports if s.confirms}))

    @property
    def articles(self) -> tuple[str, ...]:
        return tuple(sorted({s.article for s in self.supports if s.confirms}))


def _claim_id(kind: str, supports: Sequence[Support], extra: str = "") -> str:
    # The expression's own offset too: one sentence can state two figures of one
    # kind ("700,000 illegal immigrants ... and 300,000 immigrants").
    key = kind + extra + "|" + "|".join(sorted(
        f"{s.article}:{s.start}" + ("" if s.expression_start is None else f":{s.expression_start}")
        for s in supports))
    return hashlib.sha1(key.encode()).hexdigest()[:12]


def _status(voices: int, contradicted: bool) -> Status:
    if contradicted:
        return "contradicted"
    return "corroborated" if voices >= 2 else "single-source"


# Two figures of one kind and unit state the same quantity, even when the words
# they count differ ("$84,000 in campaign funds" / "repay $84,000"), when they are
# equal and their sentences are EQUAL_CONTEXT close. Figures whose values
# disagree are one quantity (a contradiction) only when what they count matches,
# their values are within CLOSE_RATIO and their sentences CONTRADICT_CONTEXT close
# (stricter: "the 12th day" and "the 14th day" of a shutdown, in articles of two
# days, are no contradiction); and never when one article gives both (an outlet
# does not contradict itself: "17 percent" and "21 percent" of one poll are two
# quantities). Chosen on the even stories of the BASIL gold set, checked on the
# odd ones (docs/benchmarks.md).
EQUAL_CONTEXT = 0.3
CONTRADICT_CONTEXT = 0.4
CLOSE_RATIO = 1.3


def _ratio(a: Figure, b: Figure) -> float:
    lo, hi = sorted((abs(a.value or 0.0), abs(b.value or 0.0)))
    return hi / lo if lo > 0 else float("inf")


def _same_quantity(a: Figure, b: Figure, cosine: float) -> bool:
    agree = figures_mod.consistent(a, b)
    if figures_mod.same_quantity(a, b):
        return agree or (a.article != b.article and _ratio(a, b) <= CLOSE_RATIO
                         and cosine >= CONTRADICT_CONTEXT)
    if a.kind != b.kind or a.unit != b.unit or a.value is None or b.value is None:
        return False
    return a.value == b.value and a.kind != "count" and cosine >= EQUAL_CONTEXT


def group_figures(figs: Sequence[Figure], cosine: Callable[[Figure, Figure], float]) -> list[list[Figure]]:
    """Figures of a story that state the same quantity, by what they count
    (``figures.same_quantity``) or by value and context (``_same_quantity``)."""
    groups: list[list[Figure]] = [[f] for f in figs]
    pairs = [(cosine(figs[i], figs[j]), i, j) for i in range(len(figs)) for j in range(i + 1, len(figs))]
    where = list(range(len(figs)))  # figure index -> its group
    # Closest contexts first, so a figure joins the quantity its sentence is about.
    for cos, i, j in sorted(pairs, key=lambda t: -t[0]):
        gi, gj = where[i], where[j]
        if gi == gj or not _same_quantity(figs[i], figs[j], cos):
            continue
        if any(a.article == b.article and not figures_mod.consistent(a, b)
               for a in groups[gi] for b in groups[gj]):
            continue  # one article would contradict itself
        groups[gi].extend(groups[gj])
        groups[gj] = []
        for k, g in enumerate(where):
            if g == gj:
                where[k] = gi
    return [sorted(g, key=lambda f: (f.article, f.start)) for g in groups if g]


def figure_claims(figs: Sequence[Figure], sentences: Mapping[tuple[str, int], Sentence],
                  cosine: Callable[[Figure, Figure], float] | None = None) -> list[Claim]:
    """One claim per quantity the story's articles state. ``cosine`` gives the
    similarity of two figures' sentences (0 when not given)."""
    claims = []
    for group in group_figures(figs, cosine or (lambda a, b: 0.0)):
        found = [(f, sentences.get((f.article, f.sentence if f.sentence is not None else -1)))
                 for f in group]
        pairs = [(f, s) for f, s in found if s is not None]
        if not pairs:
            continue
        by_voice: dict[str, list[Figure]] = {}
        for f, s in pairs:
            by_voice.setdefault(s.voice, []).append(f)
        # Contradicted: two independent voices whose figures for the quantity disagree.
        voices = list(by_voice)
        contradicted = any(
            not figures_mod.consistent(fa, fb)
            for i, va in enumerate(voices) for vb in voices[i + 1:]
            for fa in by_voice[va] for fb in by_voice[vb]
        )
        ref = max(group, key=lambda f: (f.value is not None, not f.approx, len(f.text)))
        # A number is corroborated only by voices that give a number too: "thousands
        # of troops" does not contradict "roughly 15,000 troops", nor does it confirm it.
        supports = [Support(f.article, s.outlet, s.voice, s.index, s.text, s.start, s.end, f.value,
                            f.text, confirms=ref.value is None or f.value is not None,
                            expression_start=f.start, expression_end=f.end)
                    for f, s in pairs]
        backing = len({s.voice for s in supports if s.confirms})
        claims.append(Claim(
            id=_claim_id("figure", supports, ref.counts or ""), kind="figure", text=ref.text,
            status=_status(backing, contradicted), supports=tuple(supports),
            value=ref.value, unit=ref.unit, counts=ref.counts,
            values={s.outlet or s.article: s.value for s in supports},
        ))
    return claims


def statement_claims(sentences: Sequence[Sentence], vectors: np.ndarray,
                     threshold: float = SAME_FACT) -> list[Claim]:
    """Group sentences of different articles that state the same fact.

    Sentences that are mostly quotation are left to the quote alignment; very
    short ones (captions, datelines) say too little to be claims.
    """
    keep = [i for i, s in enumerate(sentences) if s.quoted < 0.5 and len(s.text.split()) >= MIN_WORDS]
    if not keep:
        return []
    vec = vectors[keep]
    sims = vec @ vec.T
    parent = list(range(len(keep)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Best-first complete linkage, one sentence per article per claim: the closest
    # pairs join first, a claim never takes two sentences of one article, and every
    # sentence of a claim is close to every other (joining on one close pair let a
    # third sentence about something else ride along).
    members: dict[int, set[str]] = {i: {sentences[keep[i]].article} for i in range(len(keep))}
    rows: dict[int, list[int]] = {i: [i] for i in range(len(keep))}
    words = [_content_words(sentences[k].text) for k in keep]

    def same_fact(i: int, j: int) -> bool:
        # Close embeddings and shared words: MiniLM puts two sentences on one
        # subject ("the cover ...") close even when they state different things.
        if sentences[keep[i]].article == sentences[keep[j]].article or sims[i, j] < threshold:
            return False
        small = min(len(words[i]), len(words[j]))
        shared = len(words[i] & words[j]) / small if small else 0.0
        return bool(sims[i, j] >= SAME_FACT_ANYWAY or shared >= SHARED_WORDS)

    pairs = [(sims[i, j], i, j) for i in range(len(keep)) for j in range(i + 1, len(keep))
             if same_fact(i, j)]
    for _, i, j in sorted(pairs, reverse=True):
        ri, rj = find(i), find(j)
        if ri == rj or members[ri] & members[rj]:
            continue
        if not all(same_fact(a, b) for a in rows[ri] for b in rows[rj]):
            continue
        parent[rj] = ri
        members[ri] |= members.pop(rj)
        rows[ri] += rows.pop(rj)

    groups: dict[int, list[int]] = {}
    for i in range(len(keep)):
        groups.setdefault(find(i), []).append(i)
    claims = []
    for idx in groups.values():
        ss = [sentences[keep[i]] for i in idx]
        # The claim's wording: the sentence closest to the others (the medoid).
        medoid = max(idx, key=lambda i: (float(sims[i, idx].sum()), -i))
        supports = tuple(Support(s.article, s.outlet, s.voice, s.index, s.text, s.start, s.end)
                         for s in ss)
        voices = len({s.voice for s in ss})
        claims.append(Claim(id=_claim_id("statement", supports), kind="statement",
                            text=sentences[keep[medoid]].text, status=_status(voices, False),
                            supports=supports))
    return claims


_NOT_NAMES = frozenset(
    "the a an his her their its our this that these those he she they it we i you one some "
    "many several".split()
)


def _names_speaker(written: str | None) -> bool:
    """Is the speaker written as a name ("Brad Woodhouse", "the NAACP"), not a
    pronoun or a description ("he", "the young man", "Weiner's office", "Rice's
    comments")? A name starts and ends with a capital."""
    words = (written or "").split()
    if words and words[0].lower() == "the":
        words = words[1:]
    return (bool(words) and words[0][:1].isupper() and words[-1][:1].isupper()
            and words[0].lower() not in _NOT_NAMES)


# "Trump Jr." and "Mr. Trump" (the Times' second reference to him): one surname.
_SUFFIXES = frozenset("jr jr. sr sr. ii iii iv".split())
# A news organisation credited with a report ("according to the Times", "the Washington
# Post reports", "CNN reported") is where the outlet read it, not who said it. No
# library lists news organisations; these are the name endings and names of the
# outlets that such credits name most, in BASIL's stories and the wider press.
_NEWS_SOURCE = re.compile(
    r"(?:\b(?:Times|Post|Journal|Guardian|Herald|Tribune|Gazette|Telegraph|Chronicle|"
    r"Examiner|Inquirer|Reuters|Associated Press|Newsweek|Politico|Axios|Bloomberg|BuzzFeed "
    r"News|NBC News|CBS News|ABC News|Fox News)$)|^(?:CNN|MSNBC|NPR|BBC|AP|AFP|Reuters)$"
)


def _surname(name: str) -> str:
    words = [w for w in name.split() if w.casefold() not in _SUFFIXES]
    return (words or name.split())[-1].casefold()


def _surnames(name: str) -> set[str]:
    """Each speaker's surname: people who spoke together ("Autor and Hanson") share
    the statement with either of them alone."""
    return {_surname(p) for p in speaker_parts(name)}


RUN_WORDS = 6  # words in a row that two outlets print alike: the same quote, not alike talk


def _same_words_two_speakers(wordings: Sequence[Wording]) -> bool:
    """Two wordings of two outlets, credited to different speakers, that share a run of words."""
    ws = [(w, quote_words(w.quote.text)) for w in wordings if w.quote.speaker]
    for i, (w1, t1) in enumerate(ws):
        for w2, t2 in ws[i + 1:]:
            if w1.voice == w2.voice or _surnames(w1.quote.speaker or "") & _surnames(w2.quote.speaker or ""):
                continue
            short, long = (t1, t2) if len(t1) <= len(t2) else (t2, t1)
            grams = {tuple(long[k:k + RUN_WORDS]) for k in range(len(long) - RUN_WORDS + 1)}
            if any(tuple(short[k:k + RUN_WORDS]) in grams for k in range(len(short) - RUN_WORDS + 1)):
                return True
    return False


def attribution_claims(aligned: Sequence[AlignedQuote],
                       sentences: Mapping[tuple[str, int], Sentence]) -> list[Claim]:
    """A statement that independent outlets attribute to different speakers."""
    claims = []
    by_article: dict[str, list[Quote]] = defaultdict(list)
    for a in aligned:
        for w in a.wordings:
            by_article[w.quote.article].append(w.quote)

    def reported_within(q: Quote) -> bool:
        """Inside a longer quote of someone else in its article: "which he claimed the
        Republican Party was asking him to do" is his claim about the party, not the
        outlet's attribution."""
        return any(o.start <= q.start and q.end <= o.end and o.end - o.start > q.end - q.start
                   and o.speaker != q.speaker for o in by_article[q.article])

    for a in aligned:
        speakers = {w.quote.speaker for w in a.wordings if w.quote.speaker}
        if len(speakers) < 2 or not any(w.different_speaker for w in a.wordings):
            continue
        # Only outlets that name the speaker in the quote's own sentence contradict
        # each other: a speaker found through "he", "the young man" or the quote
        # before is the resolver's guess, and about one in six such guesses is wrong.
        # Speakers are compared by surname: "Vincente Fox" (a typo) and "Vicente Fox",
        # "Dick Durbin" and "Richard J. Durbin" are one person written two ways.
        named: dict[str, set[str]] = defaultdict(set)
        counted = []
        for w in a.wordings:
            if (w.quote.speaker and _names_speaker(w.quote.speaker_text) and not reported_within(w.quote)
                    and not _NEWS_SOURCE.search(w.quote.speaker)):
                named[w.voice] |= _surnames(w.quote.speaker)
                counted.append(w)
        if not any(named[v1].isdisjoint(named[v2]) for v1 in named for v2 in named if v1 < v2):
            continue
        # ... and print the same words: a paraphrase credited to two people is as often two
        # people saying alike on one subject (two senators asking to cancel a meeting).
        if not _same_words_two_speakers(counted):
            continue
        supports = []
        for w in a.wordings:
            s = sentences.get((w.quote.article, w.quote.sentence if w.quote.sentence is not None else -1))
            if s is not None:
                supports.append(Support(s.article, s.outlet, s.voice, s.index, s.text, s.start, s.end,
                                        expression=w.quote.speaker))
        if len({s.voice for s in supports}) < 2:
            continue
        text = f"who said \u201c{a.reference.text}\u201d: " + " / ".join(sorted(speakers))
        claims.append(Claim(id=_claim_id("attribution", supports), kind="attribution", text=text,
                            status="contradicted", supports=tuple(supports)))
    return claims
