"""One statement, many wordings: align the quotes of a story across outlets.

Two quotes are the same statement when one outlet's wording is a run of the
other's (truncation: "your soldiers fought courageously and heroically" inside
a longer quote, or a one-word fragment of a mixed quote by the same speaker), or
when they share most of their content words (paraphrase), or when their
sentence embeddings are close (a low bar for one speaker, a high one across
speakers). Within one article, a quote that an attribution breaks in two
('"...," he said. "..."') is one statement. Groups form by average linkage
over those pair decisions. Thresholds were chosen on the even
stories of the hand-made BASIL gold set and checked on the odd ones
(docs/benchmarks.md). The word-by-word differences
come from difflib's SequenceMatcher over word tokens. The grouping is a few
lines of average linkage over a story's quotes (tens, so quadratic is fine).
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
from .records import Quote, speaker_parts

__all__ = ["COMPONENT", "AlignedQuote", "Wording", "align_quotes", "quote_words", "word_diff"]

COMPONENT = "alignment.v8"

Relation = Literal["verbatim", "truncated", "paraphrased"]
# Containment of content words above which two wordings are one statement.
OVERLAP = 0.6
# ... found within this many times the shorter wording's length (plus five words).
OVERLAP_WINDOW = 2
# ... and for quotes of two named speakers, who share words when they speak on one
# subject ("not going to pay ... for such a stupid wall", Calderón and Vicente Fox).
OVERLAP_ANY = 0.7
MIN_SHARED = 3  # two shared words of three are chance in a long quote
# Embedding cosine above which two quotes are one statement: of one speaker, and
# of any speakers (an outlet may credit a statement to someone else).
COSINE_SAME_SPEAKER = 0.55
COSINE_ANY = 0.85
# Two quotes of one speaker this close in one article are one statement broken
# by its attribution.
FRAGMENT_GAP = 60
LINKAGE = 0.2
MUTUAL_SLACK = 0.05
FRAGMENT_LOWER = True
MIN_RUN_WORDS = 4  # a shared run this long is a truncation whoever the speaker is

_WORD = re.compile(r"[\w’']+")
_QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]")
_STOP = frozenset(
    "a an the and or but of to in on at for with by from as is are was were be been being it its "
    "this that these those i we you he she they them our your his her their my me us will would "
    "shall should can could may might must have has had do does did not no so if than then there "
    "here what which who whom whose when where why how all any some more most very just also "
    "about into over after before up down out".split()
)


# "F.B.I." and "FBI", "U.S." and "US": one acronym in two house styles.
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}")


def quote_words(text: str) -> list[str]:
    """A wording's words, lower-cased, with one apostrophe and acronyms without
    their dots: what alignment compares."""
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", text)
    return [w.replace("’", "'").lower() for w in _WORD.findall(text)]


def _content(words: Sequence[str]) -> list[str]:
    return [w for w in words if w not in _STOP]


def _contains_run(short: Sequence[str], long: Sequence[str]) -> bool:
    n = len(short)
    if n == 0 or n > len(long):
        return False
    return any(list(long[i:i + n]) == list(short) for i in range(len(long) - n + 1))


def _fragments(q: Quote) -> list[list[str]]:
    """The speaker's own words in a mixed quote: its runs inside quotation marks
    that hold a content word (the rest of a mixed quote is the reporter's)."""
    if q.kind != "mixed":
        return []
    runs = (quote_words(m.group(1)) for m in _QUOTED.finditer(q.text))
    return [r for r in runs if _content(r)]


def _name_words(text: str) -> set[str]:
    """Words a text writes only with a capital: names ("United States Supreme Court")."""
    cased = _WORD.findall(text)
    lower = {w for w in cased if w[:1].islower()}
    return {w.replace("’", "'").lower() for w in cased if w[:1].isupper() and w.lower() not in lower}


def _overlap(a: Sequence[str], b: Sequence[str], names: frozenset[str] = frozenset()) -> float:
    """Share of the shorter wording's content words that the other also uses
    within a stretch about twice the shorter's length: a paraphrase or a part of
    a long statement says its words together, and three common words strewn over
    a 90-word quote ("tell", "right", "know") are not the same statement."""
    ca, cb = Counter(_content(a)), Counter(_content(b))
    if sum(ca.values()) > sum(cb.values()):
        a, b, ca, cb = b, a, cb, ca
    small = sum(ca.values())
    if small < 3:
        return 0.0
    width = OVERLAP_WINDOW * len(a) + 5
    if len(b) <= width:
        best = sum((ca & cb).values())
        common = set(ca & cb)
    else:
        best, common = 0, set()
        for i in range(len(b) - width + 1):
            shared = ca & Counter(_content(b[i:i + width]))
            if sum(shared.values()) > best:
                best, common = sum(shared.values()), set(shared)
            if best == small:
                break
    if common and common <= names:
        return 0.0  # only a name in common: two statements about one thing
    return best / small if best >= MIN_SHARED else 0.0


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


def _one_speaker(a: str | None, b: str | None) -> bool:
    """The same speaker, or people who share a voice ("Autor and Hanson" and "Autor")."""
    return a is not None and b is not None and (a == b or bool(set(speaker_parts(a)) & set(speaker_parts(b))))


def _same_statement(a: Quote, b: Quote, wa: list[str], wb: list[str], speaker_a: str | None,
                    speaker_b: str | None, cosine: float | None) -> int:
    """2: the words say so (a shared run, most content words); 1: only the
    embeddings say so; 0: not the same statement."""
    same_speaker = _one_speaker(speaker_a, speaker_b)
    short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if _contains_run(short, long) and (len(short) >= MIN_RUN_WORDS or same_speaker):
        return 2
    # A mixed quote's quoted words repeated in the other wording: 'saying they
    # fought "heroically."' reports "your soldiers fought courageously and heroically".
    for frag, other in [(f, wb) for f in _fragments(a)] + [(f, wa) for f in _fragments(b)]:
        if _contains_run(frag, other) and (len(frag) >= MIN_RUN_WORDS or same_speaker):
            return 2
    if a.article == b.article:
        return 0  # two different quotes of one article are two statements
    names = frozenset(_name_words(a.text) & _name_words(b.text))
    if _overlap(wa, wb, names) >= (OVERLAP if same_speaker or speaker_a is None or speaker_b is None
                            else OVERLAP_ANY):
        return 2
    if cosine is None:
        return 0
    return int(cosine >= (COSINE_SAME_SPEAKER if same_speaker else COSINE_ANY))


def _best_per_article(quotes: Sequence[Quote], sims: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """best[i, a]: the highest similarity of quote i to any quote of article a."""
    arts = {a: k for k, a in enumerate(dict.fromkeys(q.article for q in quotes))}
    col = np.array([arts[q.article] for q in quotes])
    best = np.full((len(quotes), len(arts)), -np.inf, dtype=np.float32)
    for k in arts.values():
        best[:, k] = sims[:, col == k].max(axis=1)
    return best, arts


def _mutual_best(quotes: Sequence[Quote], sims: np.ndarray, best: np.ndarray, arts: Mapping[str, int],
                 i: int, j: int) -> bool:
    """Is j (nearly) the closest quote to i in j's article, and i to j in i's?
    An embedding match alone is weak evidence: two statements of one speaker on
    one subject are close too ("your soldiers fought..." and "we will never
    forget..."), so it counts only between each other's best matches."""
    s = sims[i, j]
    return bool(s >= best[i, arts[quotes[j].article]] - MUTUAL_SLACK
                and s >= best[j, arts[quotes[i].article]] - MUTUAL_SLACK)


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
    words = [quote_words(q.text) for q in quotes]
    speakers = [speaker_of(q) for q in quotes]
    n = len(quotes)
    link = np.zeros((n, n), dtype=bool)
    sims = vectors @ vectors.T if vectors is not None and n else None
    best, arts = _best_per_article(quotes, sims) if sims is not None else (None, {})
    for i in range(n):
        for j in range(i + 1, n):
            if not words[i] or not words[j]:
                continue
            cos = float(sims[i, j]) if sims is not None else None
            how = _same_statement(quotes[i], quotes[j], words[i], words[j], speakers[i], speakers[j], cos)
            if how == 1 and sims is not None and best is not None and not _mutual_best(
                    quotes, sims, best, arts, i, j):
                how = 0
            if how:
                link[i, j] = link[j, i] = True

    # Fragments of one quote broken by its attribution ('"A," she said, "b"'), within
    # an article, start as one: two direct quotes, since a reported clause is split by
    # its own cue ("praised their 'trust and friendship' and said that ...": two
    # statements).
    clusters: list[list[int]] = []
    order = sorted(range(n), key=lambda i: (quotes[i].article, quotes[i].start))
    for k, i in enumerate(order):
        prev = order[k - 1] if k else None
        if (prev is not None and quotes[prev].article == quotes[i].article
                and speakers[i] is not None and speakers[prev] == speakers[i]
                and quotes[prev].kind == quotes[i].kind == "direct"
                and 0 <= quotes[i].start - quotes[prev].end <= FRAGMENT_GAP
                and (not FRAGMENT_LOWER or quotes[i].text[:1].islower())):
            clusters[-1].append(i)
        else:
            clusters.append([i])

    # Average linkage over the pair links: two groups join when more than a fifth of
    # their cross pairs are the same statement. Joining on any single link
    # (union-find) chained whole stories together on the gold set.
    # Link counts between clusters, updated as they merge (the closest pair first;
    # ties go to the earliest pair, so the result is deterministic).
    member = np.zeros((n, len(clusters)), dtype=np.float64)
    for k, c in enumerate(clusters):
        member[c, k] = 1.0
    counts = member.T @ link.astype(np.float64) @ member
    sizes = np.array([len(c) for c in clusters], dtype=np.float64)
    while len(clusters) > 1:
        score = counts / np.outer(sizes, sizes)
        score[np.tril_indices(len(clusters))] = -1.0
        flat = int(np.argmax(score))
        a, b = divmod(flat, len(clusters))
        if score[a, b] <= LINKAGE:
            break
        counts[a, :] += counts[b, :]
        counts[:, a] += counts[:, b]
        counts = np.delete(np.delete(counts, b, axis=0), b, axis=1)
        sizes[a] += sizes[b]
        sizes = np.delete(sizes, b)
        clusters[a] = clusters[a] + clusters[b]
        del clusters[b]

    aligned = []
    for members in clusters:
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
                different_speaker=bool(speakers[i] and speaker and not _one_speaker(speakers[i], speaker)),
                diff=word_diff(ref.text, q.text),
            ))
        key = "|".join(sorted(f"{quotes[i].article}:{quotes[i].start}" for i in members))
        aligned.append(AlignedQuote(
            id=hashlib.sha1(key.encode()).hexdigest()[:12], speaker=speaker, reference=ref,
            wordings=tuple(wordings),
        ))
    aligned.sort(key=lambda a: (-a.voices, -len(a.wordings), a.reference.article, a.reference.start))
    return aligned
