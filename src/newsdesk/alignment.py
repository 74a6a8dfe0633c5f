"""One statement, many wordings: align the quotes of a story across outlets.

Two quotes are the same statement when one outlet's wording is a run of the
other's (truncation: "your soldiers fought courageously and heroically" inside
a longer quote, or a one-word fragment of a mixed quote by the same speaker), or
when they share most of their content words (paraphrase), or, for the same
speaker, when their sentence embeddings are close. The word-by-word differences
come from difflib's SequenceMatcher over word tokens; the grouping is a small
union-find, since the pairs are few (quotes of one story).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

import numpy as np

from .metadata import outlet_label
from .records import Quote

__all__ = ["COMPONENT", "AlignedQuote", "Wording", "align_quotes", "word_diff"]

COMPONENT = "alignment.v1"

Relation = Literal["verbatim", "truncated", "paraphrased"]
# Containment of content words above which two wordings are one statement.
OVERLAP = 0.6
# Embedding cosine above which two quotes of one speaker are one statement.
COSINE = 0.8
MIN_RUN_WORDS = 4  # a shared run this long is a truncation whoever the speaker is

_WORD = re.compile(r"[\w’']+")
_STOP = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been being it its "
    "this that these those i we you he she they them our your his her their my me us will would "
    "shall should can could may might must have has had do does did not no so if than then there "
    "here what which who whom whose when where why how all any some more most very just also "
    "about into over after before up down out".split()
)


def _words(text: str) -> list[str]:
    return [w.replace("’", "'").lower() for w in _WORD.findall(text)]


def _content(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in _STOP]


def _contains_run(short: Sequence[str], long: Sequence[str]) -> bool:
    n = len(short)
    if n == 0 or n > len(long):
        return False
    return any(list(long[i:i + n]) == list(short) for i in range(len(long) - n + 1))


def _overlap(a: Sequence[str], b: Sequence[str]) -> float:
    """Share of the shorter wording's content words that the other also uses."""
    ca, cb = Counter(_content(a)), Counter(_content(b))
    small = min(sum(ca.values()), sum(cb.values()))
    if small < 3:
        return 0.0
    return sum((ca & cb).values()) / small


@dataclass(frozen=True, slots=True)
class Wording:
    """One outlet's wording of an aligned statement, compared with the reference."""

    quote: Quote
    outlet: str | None
    voice: str  # independence key: copies and one publisher's sites share it
    relation: Relation
    different_speaker: bool
    diff: tuple[tuple[str, str], ...]  # ("=", words) same, ("-", words) only in the
    # reference, ("+", words) only in this wording


@dataclass(frozen=True, slots=True)
class AlignedQuote:
    """A statement as several articles report it."""

    id: str
    speaker: str | None
    reference: Quote  # the fullest wording
    wordings: tuple[Wording, ...]

    @property
    def voices(self) -> int:
        return len({w.voice for w in self.wordings})

    @property
    def outlets(self) -> tuple[str, ...]:
        return tuple(sorted({outlet_label(w.outlet, w.voice) for w in self.wordings}))


def word_diff(reference: str, other: str) -> tuple[tuple[str, str], ...]:
    """Word-level differences of ``other`` against ``reference``, case and
    punctuation aside: ("=", same words), ("-", dropped), ("+", added)."""
    ra, rb = reference.split(), other.split()
    na = [re.sub(r"\W", "", w).lower() for w in ra]
    nb = [re.sub(r"\W", "", w).lower() for w in rb]
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, na, nb, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(rb[j1:j2])))
        if op in ("delete", "replace"):
            out.append(("-", " ".join(ra[i1:i2])))
        if op in ("insert", "replace"):
            out.append(("+", " ".join(rb[j1:j2])))
    return tuple(out)


def _same_statement(a: Quote, b: Quote, wa: list[str], wb: list[str], speaker_a: str | None,
                    speaker_b: str | None, cosine: float | None) -> bool:
    same_speaker = speaker_a is not None and speaker_a == speaker_b
    short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if _contains_run(short, long) and (len(short) >= MIN_RUN_WORDS or same_speaker):
        return True
    if a.article == b.article:
        return False  # two different quotes of one article are two statements
    if _overlap(wa, wb) >= OVERLAP:
        return True
    return same_speaker and cosine is not None and cosine >= COSINE


def align_quotes(
    quotes: Sequence[Quote],
    *,
    outlet_of: Mapping[str, str | None],
    voice_of: Mapping[str, str],
    speaker_of: Callable[[Quote], str | None] = lambda q: q.speaker,
    vectors: np.ndarray | None = None,
) -> list[AlignedQuote]:
    """Group the quotes of a story's articles into statements.

    ``outlet_of``/``voice_of`` map article ids to the outlet name and to the
    independence key; ``speaker_of`` gives the story-level speaker (entities
    merged); ``vectors`` (optional, one unit row per quote) adds the paraphrase
    test for quotes of one speaker.
    """
    words = [_words(q.text) for q in quotes]
    speakers = [speaker_of(q) for q in quotes]
    parent = list(range(len(quotes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(quotes)):
        for j in range(i + 1, len(quotes)):
            if find(i) == find(j) or not words[i] or not words[j]:
                continue
            cos = float(vectors[i] @ vectors[j]) if vectors is not None else None
            if _same_statement(quotes[i], quotes[j], words[i], words[j], speakers[i], speakers[j], cos):
                parent[find(j)] = find(i)

    groups: dict[int, list[int]] = {}
    for i in range(len(quotes)):
        groups.setdefault(find(i), []).append(i)

    aligned = []
    for members in groups.values():
        # The reference is the fullest wording, a direct quote before a paraphrase.
        ref_i = max(members, key=lambda i: (quotes[i].kind != "indirect", len(words[i]), -i))
        ref = quotes[ref_i]
        named = Counter(s for s in (speakers[i] for i in members) if s)
        speaker = named.most_common(1)[0][0] if named else None
        wordings = []
        for i in sorted(members, key=lambda i: (i != ref_i, quotes[i].article, quotes[i].start)):
            q = quotes[i]
            if words[i] == words[ref_i]:
                relation: Relation = "verbatim"
            elif _contains_run(words[i], words[ref_i]):
                relation = "truncated"
            else:
                relation = "paraphrased"
            wordings.append(Wording(
                quote=q, outlet=outlet_of.get(q.article), voice=voice_of.get(q.article, q.article),
                relation=relation,
                different_speaker=bool(speakers[i] and speaker and speakers[i] != speaker),
                diff=word_diff(ref.text, q.text),
            ))
        key = "|".join(sorted(f"{quotes[i].article}:{quotes[i].start}" for i in members))
        aligned.append(AlignedQuote(
            id=hashlib.sha1(key.encode()).hexdigest()[:12], speaker=speaker, reference=ref,
            wordings=tuple(wordings),
        ))
    aligned.sort(key=lambda a: (-a.voices, -len(a.wordings), a.reference.article, a.reference.start))
    return aligned
