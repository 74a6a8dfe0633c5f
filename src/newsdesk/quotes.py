"""Quote extraction: who said what in one article.

Rules over spaCy's parse, hand-written because no library does this well
enough: spaCy has no quote component, and textacy's extractor (F1 0.57 on the
ggt set) rejects any document with an odd number of quotation marks. The
stages, all pure:

1. quotation-mark segments, paired per paragraph from the marks' context
   (straight or curly), with the news convention that a quote running over a
   paragraph break reopens but does not close; a stray mark never stops the rest;
2. reporting cues from the parse: a speech verb with a clause complement
   ("X said (that) ...", "..., X said", "X told reporters ..."), and
   "according to X"; a complement that is one quote makes that quote direct, one
   holding a quoted fragment makes a mixed quote, one without marks an indirect
   quote;
3. direct quotes without a parse cue look for "..., X said" / "X said: ..." next
   to the marks; the rest take the speaker of the quote before them (floating
   quotes, the second half of a split quote, later paragraphs of a long quote);
4. speakers resolved inside the article: names to the fullest form written,
   role nouns ("the spokesperson") through appositions and titles, he/she to the
   most salient compatible person of the sentences before.
"""

from __future__ import annotations

import bisect
import itertools
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

from newsdesk.records import Quote, QuoteKind, speaker_parts

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

__all__ = ["COMPONENT", "COMPONENT_ATTRIBUTIONS", "extract_quotes", "first_name_gender"]

log = logging.getLogger(__name__)

COMPONENT = "quotes.rules.v60"
COMPONENT_ATTRIBUTIONS = "quotes.rules.v60+attributions.clf.v1"

# spaCy's limit is 1,000,000 characters, and the parser's memory grows with a
# document; longer texts are parsed in pieces cut at paragraph breaks.
_CHUNK_CHARS = 100_000
# A quote with no cue takes the previous quote's speaker within this many
# paragraphs (with words); the reach made no difference between 3 and 20.
_FLOAT_REACH = 6

# Lemmas of verbs that report speech or writing. Beliefs ("think", "hope") are
# left out: ggt counts only what was said.
SPEECH_VERBS = frozenset(
    """
    say tell add warn argue claim note explain state insist suggest write announce
    report confirm deny acknowledge admit allege assert declare reply respond
    answer recall describe tweet testify caution concede complain maintain predict
    stress emphasize emphasise point remark observe reveal disclose indicate
    contend counter retort quip joke boast promise vow pledge assure urge ask
    question wonder propose recommend lament concur agree disagree conclude
    estimate repeat reiterate continue mention comment post shout yell scream
    whisper mutter cry exclaim confess threaten demand accuse charge blame praise
    criticize criticise speculate surmise guess hint imply theorize theorise affirm
    attest swear clarify specify
    """.split()
)

# Verbs that report speech only with a clause complement; as the "," X verb cue
# of a direct quote any verb will do ("...," she laughed).
_CUE_ONLY_WITH_CLAUSE = frozenset({"continue", "point", "answer", "question", "charge", "ask"})

_HONORIFICS = {
    "mr": "m", "mr.": "m", "mister": "m", "sir": "m", "lord": "m",
    "mrs": "f", "mrs.": "f", "ms": "f", "ms.": "f", "miss": "f", "madam": "f",
    "lady": "f", "dame": "f",
}
_TITLE_WORDS = frozenset(
    """
    mr mr. mrs mrs. ms ms. miss dr dr. prof prof. sir dame lord lady rev rev. hon hon.
    sen sen. rep rep. gov gov. gen gen. col col. capt capt. lt lt. sgt sgt. st st.
    president prime minister premier mayor senator governor chancellor king queen
    prince princess pope judge justice chief secretary general leader chairman
    chairwoman chair ceo director spokesman spokeswoman spokesperson officer
    """.split()
)
_SURNAME_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "mister"})
_MALE = frozenset({"he", "him", "his", "himself"})
_FEMALE = frozenset({"she", "her", "hers", "herself"})
_PLURAL = frozenset({"they", "them", "their", "themselves"})
PRONOUNS = frozenset(
    {"i", "me", "we", "us", "you", "it", "one", "who", "which", "that", "this", "these", "those"}
    | _MALE | _FEMALE | _PLURAL
)

_OPEN_MARKS = frozenset("“„«")
_CLOSE_MARKS = frozenset("”»")
_ALL_MARKS = frozenset('"') | _OPEN_MARKS | _CLOSE_MARKS
# Typewriter quotes of two characters (the New York Times' ''...'', the Penn
# Treebank's ``...''): one mark each, and one token each in spaCy's tokenizer.
_TWO_CHAR_MARKS = ("''", "``")
_MARK_TOKENS = _ALL_MARKS | frozenset(_TWO_CHAR_MARKS)
_OPENISH_BEFORE = frozenset("([{—–-/\u00a0")
_CLOSEISH_AFTER = frozenset(".,;:!?)]}—–-…")


# ----------------------------------------------------------------- records
@dataclass(slots=True)
class _Seg:
    """One span of text between quotation marks, inside one paragraph."""

    open: int  # offset of the opening mark
    close: int  # offset of the closing mark, or the paragraph end when unclosed
    start: int  # content, inside the marks, stripped
    end: int
    para: int
    closed: bool
    chain: int = -1  # index of the first segment of a quote that spans paragraphs
    cue: _Cue | None = None
    used: bool = False  # absorbed into a mixed quote
    nearby: bool = False  # its cue was found next to the marks, not in the parse


@dataclass(slots=True)
class _Cue:
    verb_text: str | None  # None: a name set before a colon as the quote's label
    verb_start: int
    sentence: int
    speaker: Token | None  # head token of the source


@dataclass(slots=True)
class _Speaker:
    name: str | None
    text: str | None
    start: int | None
    end: int | None


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    sent: int
    name: str  # canonical
    label: str
    subject: bool
    speaker: bool = False  # the source of a speech verb


@dataclass(slots=True)
class _Resolver:
    """Names, roles, genders and salience of one article's people."""

    doc: Doc
    sent_of: list[int]
    in_quote: list[bool]
    canon: dict[tuple[int, int], str] = field(default_factory=dict)  # ent char span -> name
    names: list[tuple[str, ...]] = field(default_factory=list)
    person_names: set[tuple[str, ...]] = field(default_factory=set)
    name_first: dict[str, int] = field(default_factory=dict)
    acronyms: dict[str, str] = field(default_factory=dict)
    gender: dict[str, str] = field(default_factory=dict)
    roles: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    mentions: list[_Mention] = field(default_factory=list)
    resolved: dict[int, str] = field(default_factory=dict)  # pronoun token -> name
    name_gender: dict[str, str] = field(default_factory=dict)  # from first names
    authors: list[tuple[int, str, str]] = field(default_factory=list)  # doc nouns
    ents: list[Span] = field(default_factory=list)  # the NER's, made consistent
    ent_at: dict[int, Span] = field(default_factory=dict)  # token index -> its entity


# ----------------------------------------------------------------- public API
def extract_quotes(
    text: str, article_id: str = "", *, doc: Doc | None = None, attributions: bool = False
) -> list[Quote]:
    """Direct, indirect and mixed quotes of ``text``, in text order.

    ``doc`` is an already parsed spaCy ``Doc`` of exactly ``text`` (with the
    dependency parse); without it the text is parsed with ``nlp.load()``.
    Never raises on any text; a quote whose speaker cannot be named has
    ``speaker=None``.

    By default only what was said or written counts (ggt's notion of a quote).
    ``attributions=True`` also reports beliefs, intentions, stances and findings
    ("X wants to ...", "X criticized Y", "the poll shows ...", PolNeAR's notion),
    found by a classifier learnt on PolNeAR train; its output is keyed by
    ``COMPONENT_ATTRIBUTIONS`` rather than ``COMPONENT``.
    """
    if not text or not text.strip():
        return []
    if doc is not None and (doc.text != text or not doc.has_annotation("DEP")):
        log.debug("given doc does not match the text or has no parse; parsing again")
        doc = None
    if doc is not None:
        return _extract_doc(doc, article_id, 0, 0, attributions)
    from newsdesk import nlp

    pipeline = nlp.load()
    out: list[Quote] = []
    sent_base = 0
    for off, piece in _chunks(text, _CHUNK_CHARS):
        if not piece.strip():
            continue
        d = _parse(pipeline, piece)
        out.extend(_extract_doc(d, article_id, off, sent_base, attributions))
        sent_base += sum(1 for _ in d.sents)
    return out


def _parse(pipeline: Language, text: str) -> Doc:
    from newsdesk import nlp

    return nlp.parse(text, pipeline)


def _chunks(text: str, size: int) -> Iterable[tuple[int, str]]:
    """Pieces of at most ``size`` characters, cut at paragraph (else any) breaks."""
    i = 0
    while i < len(text):
        j = min(len(text), i + size)
        if j < len(text):
            k = text.rfind("\n", i + size // 2, j)
            if k < 0:
                k = text.rfind(" ", i + size // 2, j)
            if k > i:
                j = k + 1
        yield i, text[i:j]
        i = j


# ----------------------------------------------------------------- one doc
def _prepare(doc: Doc) -> tuple[list[int], list[int], list[_Seg], list[bool], _Resolver]:
    """Sentence of each token, paragraphs, quote segments, tokens inside
    quotes, and the article's people."""
    text = doc.text
    sent_of = [0] * len(doc)
    for si, sent in enumerate(doc.sents):
        for ti in range(sent.start, sent.end):
            sent_of[ti] = si
    paras = _paragraph_starts(text)
    segs = _segments(text, paras)
    seg_starts = [s.open for s in segs]
    in_quote = [False] * len(doc)
    for t in doc:
        k = _seg_at(segs, seg_starts, t.idx)
        in_quote[t.i] = k >= 0 and segs[k].start <= t.idx < segs[k].end
    return sent_of, paras, segs, in_quote, _build_resolver(doc, sent_of, in_quote)


def _extract_doc(
    doc: Doc, article_id: str, offset: int, sent_base: int, attributions: bool = False
) -> list[Quote]:
    text = doc.text
    sent_of, paras, segs, in_quote, res = _prepare(doc)

    found: list[tuple[int, int, QuoteKind, _Cue]] = []  # indirect and mixed
    for cue, c_start, c_end in _parse_cues(doc, sent_of, in_quote, attributions):
        inside = [
            k for k, s in enumerate(segs)
            if s.start < c_end and c_start < s.end
        ]
        if inside:
            # Words of the complement outside the marks decide direct or mixed.
            outside = _outside_words(text, c_start, c_end, [segs[k] for k in inside])
            if outside == 0:
                for k in inside:
                    if segs[k].cue is None:
                        segs[k].cue = cue
                continue
            # A short quote that opens the sentence looks like a whole statement,
            # but with words of the reporter after it the sentence is one mixed
            # quote ("'I held and hugged' grieving families ..., he said").
            short = all(len(text[segs[k].start : segs[k].end].split()) < 8
                        and not text[max(0, segs[k].open - 4) : segs[k].open].rstrip().endswith(":")
                        for k in inside)
            # A long quote that starts in lower case after the reporter's words
            # continues the reported clause ('she has "every confidence in ..."'):
            # one mixed quote, not a statement of its own.
            full = [k for k in inside if _is_full_quote(text, segs[k]) and not (
                text[segs[k].start : segs[k].start + 1].islower()
                and _outside_words(text, c_start, segs[k].open, []) >= 2
                and doc[_token_before(doc, segs[k].open)].lemma_.lower() not in _VOICING)]
            if all(segs[k].cue is None or segs[k].used for k in inside) and (
                not full or short and outside >= _MIXED_MIN_OUTSIDE
            ):
                for k in inside:
                    segs[k].used = True
                    if segs[k].closed and c_start <= segs[k].open and segs[k].start < c_end <= segs[k].close:
                        # the quoted words end the clause: so does their closing mark
                        c_end = segs[k].close + _mark_width(text, segs[k].close)
                found.append((c_start, c_end, "mixed", cue))
                continue
            if full:
                for k in inside:
                    if segs[k].cue is None and _is_full_quote(text, segs[k]):
                        segs[k].cue = cue
                # "said he saw no need to change anything, telling X that '...'": the
                # reported clause before the one the quote belongs to is a quote too
                lead = _lead_clause_end(doc, c_start, min(segs[k].open for k in inside))
                if lead is not None:
                    found.append((c_start, lead, "indirect", cue))
                continue
        if _capitals(text[c_start:c_end]):
            continue  # a link's label the parse took for the clause ("READ MORE: Alberta proposes")
        found.append((c_start, c_end, "indirect", cue))

    _window_cues(doc, text, segs, sent_of)
    _chain_cues(segs)

    # In text order, so that a floating quote follows the quote before it.
    items: list[tuple[int, int, QuoteKind, _Cue | None]] = list(found)
    for seg in segs:
        if seg.used or seg.end <= seg.start:
            continue
        if seg.cue is None and not _is_full_quote(text, seg):
            continue  # scare quotes, titles, nicknames
        if seg.nearby and _term(doc, text, seg):
            continue
        if _title(text[seg.start : seg.end]) and not _said(doc, seg.cue):
            continue  # a book, film or show ('reclaims "The Kid Who Would Be King"')
        if _names_a_work(text, seg):
            continue  # 'told NBC's "Today" show'
        items.append((seg.start, seg.end, "direct", seg.cue))
    items.sort(key=lambda it: (it[0], it[1]))

    out: list[Quote] = []
    prev: _Speaker | None = None
    prev_para = -10
    wpara = _word_paragraphs(text, paras)
    for start, end, kind, qcue in items:
        start, end = _trim(text, start, end, kind == "direct")
        if end <= start:
            continue
        para = wpara[bisect.bisect_right(paras, start) - 1]
        if qcue is not None:
            spk = _joint(res, qcue.speaker, _resolve(res, qcue.speaker))
            verb: str | None = qcue.verb_text
            sentence: int | None = qcue.sentence
        else:
            # Floating quote: the speaker of the quote just before it, if near.
            near = prev is not None and para - prev_para <= _FLOAT_REACH
            spk = _Speaker(prev.name if prev is not None and near else None, None, None, None)
            verb = None
            tok = _token_at(doc, start)
            sentence = sent_of[tok] if tok is not None else None
        if qcue is not None and spk.name is None and spk.text is None and prev is not None:
            spk = _Speaker(prev.name, None, None, None)
        if (spk.name is None and (spk.text or "").lower() == "they" and prev is not None
                and para - prev_para <= _FLOAT_REACH and len(speaker_parts(prev.name)) > 1):
            # '"We will sue," said Sandmann and Phillips. ... "It was fine," they said.'
            spk = _Speaker(prev.name, spk.text, spk.start, spk.end)
        out.append(
            Quote(
                article=article_id,
                start=start + offset,
                end=end + offset,
                text=text[start:end],
                kind=kind,
                speaker=spk.name,
                speaker_text=spk.text,
                speaker_start=None if spk.start is None else spk.start + offset,
                speaker_end=None if spk.end is None else spk.end + offset,
                verb=verb,
                sentence=None if sentence is None else sentence + sent_base,
            )
        )
        if spk.name is not None:
            prev = spk
            prev_para = para
    return out


# ----------------------------------------------------------------- marks
def _lead_clause_end(doc: Doc, a: int, mark: int) -> int | None:
    """End of a clause of its own that a reported clause starting at ``a`` makes
    before the verb or clause holding the quotation mark at ``mark``, or None."""
    t = doc[_token_before(doc, mark + 1)]
    top = t
    for anc in t.ancestors:
        if anc.left_edge.idx <= a:
            break
        top = anc
    if top.pos_ != "VERB" or top.idx > mark:
        return None  # "that '...'", "have two choices: '...'" (the quote goes on with the clause)
    end = top.left_edge.i - 1
    while end >= 0 and (doc[end].is_punct or doc[end].dep_ == "cc"):
        end -= 1
    if end < 0 or doc[end].idx < a:
        return None
    return _tok_end(doc[end])


def _capitals(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _paragraph_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _word_paragraphs(text: str, paras: list[int]) -> list[int]:
    """For each paragraph, how many paragraphs with words precede it (scraped
    text has separator lines such as " ." that should not count as distance)."""
    out, n = [], 0
    for i, ps in enumerate(paras):
        out.append(n)
        pe = paras[i + 1] if i + 1 < len(paras) else len(text)
        if re.search(r"\w", text[ps:pe]):
            n += 1
    return out


def _mark_width(text: str, i: int) -> int:
    """Characters of the quotation mark at ``i``; 0 where there is none."""
    if text[i] in _ALL_MARKS:
        return 1
    pair = text[i : i + 2]
    if pair in _TWO_CHAR_MARKS and text[i - 1 : i] != pair[0] and text[i + 2 : i + 3] != pair[0]:
        return 2
    return 0


def _mark_role(text: str, i: int, width: int = 1) -> str:
    """'open', 'close' or 'either' for the quotation mark at ``i``."""
    ch = "\u201c" if text[i] == "`" else text[i]  # `` only ever opens
    before = text[i - 1] if i > 0 else "\n"
    after = text[i + width] if i + width < len(text) else "\n"
    openish = before.isspace() or before in _OPENISH_BEFORE or before in _ALL_MARKS
    closeish = after.isspace() or after in _CLOSEISH_AFTER or after in _ALL_MARKS
    if openish and not closeish:
        return "open"
    if closeish and not openish:
        return "close"
    if ch in _OPEN_MARKS:
        return "open"
    if ch in _CLOSE_MARKS:
        return "close"
    return "either"


def _segments(text: str, paras: list[int]) -> list[_Seg]:
    """Quotation-mark spans, paired inside each paragraph."""
    segs: list[_Seg] = []
    for pi, ps in enumerate(paras):
        pe = paras[pi + 1] - 1 if pi + 1 < len(paras) else len(text)
        open_at, open_width = -1, 1
        i = ps
        while i < pe:
            width = _mark_width(text, i)
            if not width:
                i += 1
                continue
            role = _mark_role(text, i, width)
            if open_at < 0:
                if role != "close":
                    open_at, open_width = i, width
                elif segs and not segs[-1].closed and segs[-1].para < pi:
                    # The previous paragraph's quote goes on here without reopening.
                    segs.append(_make_seg(text, ps - 1, i, pi, True))
            elif role != "open":
                segs.append(_make_seg(text, open_at, i, pi, True, open_width))
                open_at = -1
            else:
                open_at, open_width = i, width  # a second opener: the first one was stray
            i += width
        if open_at >= 0:
            segs.append(_make_seg(text, open_at, pe, pi, False, open_width))
    # A quote running over a paragraph break reopens, without closing, in the
    # next paragraph that has words.
    for k, s in enumerate(segs):
        if s.chain < 0:
            s.chain = k
        if s.closed or k + 1 >= len(segs):
            continue
        nxt = segs[k + 1]
        gap = text[s.close : nxt.open]
        if nxt.open >= s.close and not re.search(r"\w", gap):
            nxt.chain = s.chain
    return segs


def _make_seg(text: str, o: int, c: int, para: int, closed: bool, width: int = 1) -> _Seg:
    a, b = o + width, c
    while a < b and text[a].isspace():
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] == ","):
        b -= 1
    return _Seg(open=o, close=c, start=a, end=b, para=para, closed=closed)


def _seg_at(segs: list[_Seg], starts: list[int], pos: int) -> int:
    k = bisect.bisect_right(starts, pos) - 1
    if k >= 0 and segs[k].open <= pos <= segs[k].close:
        return k
    return -1


def _term(doc: Doc, text: str, s: _Seg) -> bool:
    """A word or two in marks inside the reporter's sentence, with no verb: a term
    or a name ('the word "yeet," which ...', 'known as a "backstop" argue',
    'singer Riefian "Ifan" Fajarsyah told'), whatever verb follows it."""
    toks = _tokens_between(doc, s.start, s.end)
    words = [t for t in toks if not t.is_punct]
    if not words or len(words) > 3 or any(t.pos_ in ("VERB", "AUX") for t in toks):
        return False
    before = text[max(0, s.open - 2) : s.open].rstrip()
    if not before or not (before[-1].isalnum() or before[-1] == ","):
        return False
    # ... unless a verb of naming or saying comes just before it: "called Trump a
    # 'blowhard'", "calling it a 'global takeover.'", "shouted, 'Cruz,'".
    return not any(t.pos_ == "VERB" and t.lemma_.lower() in _SAYING_OR_NAMING
                   for t in _line_before(doc, text, s)[-8:])


def _said(doc: Doc, cue: _Cue | None) -> bool:
    """The cue is a verb of saying ('"We Will Not Back Down," Lee said')."""
    i = None if cue is None else _token_at(doc, cue.verb_start)
    return i is not None and doc[i].lemma_.lower() in SPEECH_VERBS


# Words a title leaves in lower case ("The Kid Who Would Be King", "Gone with the Wind").
_TITLE_SMALL = frozenset("a an the and or nor but of in on at to for by from with as".split())


def _title(content: str) -> bool:
    """Words in marks written as a title ("The Kid Who Would Be King"): every word
    capitalised but the small ones, and no sentence punctuation."""
    words = re.findall(r"[^\W\d_][\w'’-]*", content)
    if len(words) < 3 or re.search(r"[.!?,;:]", content.strip().rstrip("\"”’'")):
        return False
    return all(w[0].isupper() or w.lower() in _TITLE_SMALL for w in words)


# Nouns that words in marks before them name ('NBC's "Today" show').
_WORK_NOUNS = frozenset(
    "show shows program programs programme programmes series film films movie movies book books "
    "novel album song column podcast magazine newspaper blog documentary episode broadcast "
    "segment special play musical hashtag".split()
)


def _names_a_work(text: str, s: _Seg) -> bool:
    """A few words in marks that name a show or a book, not a quote: a noun of a
    work follows them ('"Today" show host Meredith Vieira asked', 'the "Meet the
    Press" program'), or they are whom something was told ('he told "Today."'),
    whatever cue the window found for them."""
    if not s.closed:
        return False
    content = text[s.start : s.end]
    if len(content.split()) > 6 or re.search(r"[.!?,;:]", content.rstrip(".,!?\"”’'")):
        return False
    after = re.match(r"\s*([A-Za-z]+)", text[s.close + 1 : s.close + 40])
    if after and after.group(1).lower() in _WORK_NOUNS:
        return True
    # whom something was told: 'he told "Today."', 'she told "Fox News Sunday"'
    words = re.findall(r"[^\W\d_][\w'’-]*", content)
    return (bool(_TOLD_BEFORE.search(text[max(0, s.open - 12) : s.open])) and 0 < len(words) <= 4
            and all(w[0].isupper() or w.lower() in _TITLE_SMALL for w in words))


_TOLD_BEFORE = re.compile(r"\b(?:told|tell|tells|telling)\s*$", re.I)


def _line_before(doc: Doc, text: str, s: _Seg) -> list[Token]:
    """The tokens of the segment's line before its opening mark."""
    return _tokens_between(doc, text.rfind("\n", 0, s.open) + 1, s.open)


_NAMING_VERBS = frozenset("call label dub brand cite term refer coin nickname".split())
_SAYING_OR_NAMING = SPEECH_VERBS | _NAMING_VERBS
# Verbs whose object in marks is what was said ("expressed 'deep concern'").
_VOICING = SPEECH_VERBS | frozenset({"express", "chant"})


def _is_full_quote(text: str, s: _Seg) -> bool:
    """A quote that stands as a statement rather than a scare-quoted phrase."""
    content = text[s.start : s.end]
    words = len(content.split())
    if words >= 8:
        return True
    if words < 3:
        return False
    before = text[max(0, s.open - 3) : s.open].strip()
    at_start = before == "" or before[-1:] in ":.\n"
    return at_start and content[-1:] in ".!?" or at_start and content[:1].isupper()


def _outside_words(text: str, a: int, b: int, segs: list[_Seg]) -> int:
    """Words of text[a:b] outside the given quote segments."""
    pieces = []
    pos = a
    for s in sorted(segs, key=lambda s: s.open):
        pieces.append(text[pos : max(pos, s.open)])
        pos = max(pos, s.close + 1)
    pieces.append(text[pos:b])
    words = [w for w in re.findall(r"\w+", " ".join(pieces)) if w.lower() not in ("that", "and")]
    return len(words)


def _trim(text: str, a: int, b: int, direct: bool) -> tuple[int, int]:
    # A direct quote keeps its own final "." or "?"; a reported clause does not.
    tail = ",;:—–-" if direct else ",;:—–-."
    while a < b and (text[a].isspace() or text[a] in ",;:—–-"):
        a += 1
    while b > a and (text[b - 1].isspace() or text[b - 1] in tail):
        b -= 1
    return a, b


# ----------------------------------------------------------------- cues
def _parse_cues(
    doc: Doc, sent_of: list[int], in_quote: list[bool], attributions: bool = False
) -> Iterable[tuple[_Cue, int, int]]:
    """(cue, content start, content end) of every speech verb with a clause
    complement, and every "according to X", outside quotation marks."""
    text = doc.text
    model = _cue_model() if attributions else {}
    for t in doc:
        if in_quote[t.i]:
            continue
        got = False
        for cue, a, b in _cue_of(doc, t, sent_of):
            # The content stays in the cue's paragraph.
            lo = text.rfind("\n", 0, cue.verb_start) + 1
            hi = text.find("\n", cue.verb_start)
            a, b = max(a, lo), min(b, hi if hi >= 0 else len(text))
            if b - a >= 8:
                got = True
                yield cue, a, b
        if got or not model:
            continue
        # Attributions: where the rules see no cue, the classifier learnt on
        # PolNeAR train may. (Its additions are nearly all beliefs, plans and
        # stances that ggt does not count, so quotes proper never use it.)
        cand = _candidate(t)
        if cand is None:
            continue
        src, a, b = cand
        if _score(model, _features(t, src, a, b)) >= _CLF_MIN_SCORE:
            yield _Cue(t.text, t.idx, sent_of[t.i], src), doc[a].idx, _tok_end(doc[b - 1])


def _hyphenated(t: Token) -> bool:
    """The second part of a word the tokenizer split at its hyphen ("self-described",
    "Vice-president"): never a verb that reports, and part of one noun with the word
    before it."""
    if t.i < 2:
        return False
    h, w = t.doc[t.i - 1], t.doc[t.i - 2]
    return h.text in ("-", "\u2010") and not h.whitespace_ and not w.whitespace_ and w.is_alpha


def _tok_end(t: Token) -> int:
    return t.idx + len(t)


# ----------------------------------------------------------------- learnt cues
# Dependents of a verb that hold what was said, believed or wanted.
_CONTENT_DEPS = frozenset({"dobj", "ccomp", "xcomp", "prep", "attr", "oprd", "acomp", "dative"})
_NOUN_PREPS = frozenset({"of", "for", "about", "on", "against", "to", "that"})


def _candidate(t: Token) -> tuple[Token | None, int, int] | None:
    """(source, first, end token index of the content) of a verb with a subject
    and a complement after it, or a noun with an owner and a complement
    ("Trump's call for a ban"); None for anything else."""
    src: Token | None
    if t.pos_ == "VERB":
        src = _subject(t)
        if src is None and not _CLF_NO_SOURCE:
            return None
        kids = [c for c in t.rights if c.dep_ in _CONTENT_DEPS]
    elif t.pos_ == "NOUN":
        owners = [c for c in t.lefts if c.dep_ == "poss"]
        if not owners and not _CLF_NO_SOURCE:
            return None
        src = owners[0] if owners else None
        kids = [c for c in t.rights if c.dep_ == "prep" and c.lower_ in _NOUN_PREPS
                or c.dep_ in ("acl", "ccomp")]
    else:
        return None
    if not kids:
        return None
    a = min(x.i for x in kids[0].subtree)
    b = max(x.i for x in kids[-1].subtree) + 1
    while b > a and (t.doc[b - 1].is_punct or t.doc[b - 1].is_space):
        b -= 1
    if b <= a or b - a > 80:
        return None
    return src, a, b


def _features(t: Token, src: Token | None, a: int, b: int) -> list[str]:
    """Sparse features of a cue candidate, shared by the extractor and
    bench/train_quote_clf.py."""
    doc = t.doc
    lemma = t.lemma_.lower()
    pos = "v" if t.pos_ == "VERB" else "n"
    frame = sorted({
        c.dep_ + ("_" + c.lower_ if c.dep_ == "prep" else "")
        for c in t.rights if c.dep_ in _CONTENT_DEPS or c.dep_ == "acl"
    })
    if src is None:
        kinds = ["none"]
    else:
        kinds = [src.ent_type_ or ("pron:" + src.lower_ if src.pos_ == "PRON" else src.pos_)]
    feats = [f"{pos}l={lemma}", f"{pos}:src={kinds[0]}", f"dep={t.dep_}", f"tag={t.tag_}"]
    feats += [f"fr={f}" for f in frame] + [f"lf={lemma}/{f}" for f in frame]
    feats.append(f"ls={lemma}/{kinds[0].split(':')[0]}")
    if src is not None and src.pos_ in ("NOUN", "PROPN") and not src.ent_type_:
        feats.append(f"sl={src.lemma_.lower()}")
    if lemma in SPEECH_VERBS:
        feats.append("speech")
    for c in t.children:
        if c.dep_ == "neg":
            feats.append("neg")
        elif c.dep_ == "aux":
            feats.append(f"aux={c.lower_}")
    if t.dep_ in ("xcomp", "conj", "ccomp", "advcl") and t.head.i != t.i:
        feats.append(f"hl={t.head.lemma_.lower()}")
    n = b - a
    feats.append(f"len={min(n, 12) if n < 12 else 12 + min(3, n // 12)}")
    head = min((c for c in t.rights if c.dep_ in _CONTENT_DEPS), key=lambda c: c.i, default=None)
    if head is not None:
        feats.append(f"hp={head.pos_}")
        if head.dep_ == "prep":
            objs = [g for g in head.children if g.dep_ in ("pobj", "pcomp")]
            if objs:
                feats.append(f"pp={objs[0].pos_}")
    first = doc[a]
    if first.is_stop:
        feats.append(f"c0={first.lower_}")
    for c in t.children:
        if c.dep_ == "prt":
            feats.append(f"prt={lemma}_{c.lower_}")
    if any(x.text in _MARK_TOKENS for x in doc[a:b]):
        feats.append("marks")
    if a > 0 and t.i + 1 < len(doc) and doc[t.i + 1].text == ":":
        feats.append("colon")
    return feats


def _score(model: dict[str, float], feats: list[str]) -> float:
    return model.get("__bias__", 0.0) + sum(model.get(f, 0.0) for f in feats)


@lru_cache(maxsize=1)
def _cue_model() -> dict[str, float]:
    """Feature weights of the logistic cue classifier that
    bench/train_quote_clf.py learnt on PolNeAR train."""
    try:
        raw = resources.files("newsdesk").joinpath("data/quote_clf.json").read_text("utf-8")
        weights = json.loads(raw)["weights"]
        return {str(k): float(v) for k, v in weights.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("learned quote classifier unavailable: %s", exc)
        return {}


# A log-odds threshold, tuned on PolNeAR train (fitted on articles 0-699,
# scored on 700-839).
_CLF_MIN_SCORE = -0.5
_CLF_NO_SOURCE = True


# Words of the reporter's own beside a short quote that make a sentence mixed.
_MIXED_MIN_OUTSIDE = 4
_QUESTION_VERBS = frozenset({"ask", "wonder", "question", "inquire", "query"})
_WH = frozenset({"what", "whether", "why", "how", "if", "when", "where", "who", "which"})
# Speech verbs whose object is whom they spoke to ("told reporters ...").
_HEARER_VERBS = frozenset(
    "tell assure inform remind warn advise promise notify convince persuade reassure ask urge".split()
)


def _cue_of(doc: Doc, t: Token, sent_of: list[int]) -> Iterable[tuple[_Cue, int, int]]:
    lemma = t.lemma_.lower()
    if t.pos_ == "VERB" and lemma in SPEECH_VERBS:
        comps = ([c for c in t.children if c.dep_ == "ccomp" and not _before_colon(c, t)]
                 or _that_clause_of_object(t) or _that_clause_of_adverbial(t)
                 or _bare_clause_after_object(t) or _question_asked(t)
                 or _gerund_subject(t))
        if not comps:
            if t.dep_ == "parataxis":
                yield from _parenthetical(doc, t, sent_of)
            elif (directive := _directive(t)) is not None:
                yield _Cue(t.text, t.idx, sent_of[t.i], _subject(t)), *directive
            elif (inverted := _clause_after_cue(t)) is not None:
                yield _Cue(t.text, t.idx, sent_of[t.i], _subject(t)), *inverted
            elif (verdict := _verdict(t)) is not None:
                yield _Cue(t.text, t.idx, sent_of[t.i], _subject(t)), *verdict
            elif (marked := _marked_content(t)) is not None:
                yield _Cue(t.text, t.idx, sent_of[t.i], _subject(t)), *marked
            else:
                yield from _learned(doc, t, sent_of)
            return
        if (aside := _inverted_aside(t)) is not None:
            who, parts = aside
            for a, b in parts:
                yield _Cue(t.text, t.idx, sent_of[t.i], who), a, b
            return
        # A clause after a colon or semicolon with its own subject is a sentence
        # of its own ("she says she didn't ...: she notes that ..."): the clause
        # before it is the one reported.
        after = [c for c in comps if c.i > t.i]
        later = [c.left_edge.i for c in after[1:] if _has_subject(c) and any(
            x.text in (":", ";") for x in doc[after[0].right_edge.i + 1 : c.left_edge.i])]
        # A that-clause after the verb is what was said, however long a clause the
        # parse also hung on the verb before it ("Even though she co-authored books
        # ..., she maintains that ...").
        that = [c for c in after if any(m.dep_ == "mark" and m.lower_ == "that" for m in c.children)]
        comp = after[0] if later else that[0] if that else max(
            comps, key=lambda c: len(list(c.subtree)))
        sub = list(comp.subtree)
        if comp.i > t.i and not _has_subject(comp):
            # "said smaller brewers who ... are likely to suffer": the parse took
            # the clause's subject for the verb's object.
            # (Not the hearer: "told reporters", "told Global News the laws ...")
            objs = [c for c in t.children if c.dep_ == "dobj" and t.i < c.i < comp.i]
            if objs and not (len(objs) == 1 and lemma in _HEARER_VERBS and _hearer(objs[0])):
                sub = list(doc[objs[-1].left_edge.i : sub[-1].i + 1])
        if sub[0].lower_ in _WH and not (
            # "if" marking a part of the clause, not the clause itself (the parse
            # may hang it on a word other than the clause's own advcl: "said if
            # elected president he could ...")
            sub[0].lower_ in ("if", "when") and sub[0].dep_ == "mark"
            and sub[0].head.i != comp.i and lemma not in _QUESTION_VERBS
        ) and not _asks(t):
            # "did not say why ...", "wondered whether ...", but not a condition or
            # time inside the reported clause ("said if he won, he would ..."), nor
            # a question someone put ("asked Sanders how he was feeling")
            return
        while len(sub) > 1 and sub[-1].dep_ == "cc":  # "... X and" said "Y": the cue's
            sub = sub[:-1]
        if len(sub) < 3 or not any(x.pos_ in ("VERB", "AUX") for x in sub):
            return
        spk = _subject(t)
        if spk is None or spk.lower_ == "it" and not spk.ent_type_ and not _has_subject(comp):
            return
        a = sub[0].idx
        b = sub[-1].idx + len(sub[-1])
        if comp.i > t.i and sub[0].text == ",":
            # "said too often, the ER becomes ...": an adverb set off before the
            # clause is the clause's, though the parse hangs it on the verb.
            adv = [c for c in t.children if c.dep_ == "advmod" and t.i < c.i < sub[0].i
                   and c.right_edge.i == sub[0].i - 1 and c.lower_ not in _CONNECTIVES]
            if adv:
                a = adv[0].left_edge.idx
        if comp.i > t.i:
            # A reported clause after its verb runs to the end of the sentence
            # ("he has lost 16 lbs. since he signed up ..."), which the parse
            # often hangs on the main verb instead.
            last = _last_word(t.sent)
            if later:  # up to that sentence
                last = _last_word(doc[sub[-1].i : later[0]])
            # ... but not out of a relative clause the verb is in ("Pyongyang,
            # which acknowledged that ..., has also pledged ...").
            rel = next((x for x in [t, *t.ancestors] if x.dep_ in ("relcl", "acl")), None)
            if rel is not None and last is not None and last.i > rel.right_edge.i:
                last = _last_word(doc[sub[-1].i : rel.right_edge.i + 1])
            if last is not None and not any(
                x.text in _MARK_TOKENS for x in doc[sub[-1].i + 1 : last.i + 1]
            ):
                b = max(b, last.idx + len(last))
            end = _reporter_resumes(t, sub[0].i, _token_before(doc, b))
            if end is not None:
                b = end
        yield _Cue(t.text, t.idx, sent_of[t.i], spk), a, b
    elif t.lower_ == "according" and t.i + 1 < len(doc) and doc[t.i + 1].lower_ == "to":
        to = doc[t.i + 1]
        objs = [c for c in to.children if c.dep_ == "pobj"]
        if not objs:
            return
        src = objs[0]
        sent = doc[t.i].sent
        phrase = list(t.subtree)
        p0, p1 = phrase[0].i, phrase[-1].i + 1
        # The sentence without the phrase: "X, according to Y, is Z" / "According
        # to Y, X" / "X, according to Y."
        # (within the phrase's line: a sentence the parse runs on past a line
        # break would carry the content across the phrase)
        text = doc.text
        lo = text.rfind("\n", 0, t.idx) + 1
        hi = text.find("\n", t.idx)
        hi = len(text) if hi < 0 else hi
        left = [x for x in doc[sent.start : p0] if not x.is_punct and x.idx >= lo]
        right = [x for x in doc[p1 : sent.end] if not x.is_punct and x.idx < hi]
        if len(left) + len(right) < 3:
            return
        cue = _Cue("according to", t.idx, sent_of[t.i], src)
        # the heads of the part before the phrase: a subject whose verb comes
        # after it, or a clause of its own
        heads = [x for x in left if not left[0].i <= x.head.i <= left[-1].i or x.head.i == x.i]
        if (left and right and any(x.pos_ in ("VERB", "AUX") for x in right)
                and any(x.dep_ in ("nsubj", "nsubjpass") and x.head.i > p0
                        or x.pos_ in ("VERB", "AUX") for x in heads)
                and not any(x.lemma_.lower() in SPEECH_VERBS for x in left)):
            # The phrase inside the sentence ("Shelter residents, according to the
            # findings, are fearful ..."): the two parts as written, as for a
            # parenthetical "he says"; not a phrase before the subject ("In 2017,",
            # "At the heart of the trouble,"), nor inside another cue's clause
            # ("The AP reported that, according to ...").
            while len(right) > 1 and right[0].dep_ == "cc":  # ", and that rink ..."
                right = right[1:]
            yield cue, left[0].idx, _tok_end(left[-1])
            yield cue, right[0].idx, _tok_end(right[-1])
            return
        first = left[0] if left else right[0]
        last = right[-1] if right else left[-1]
        yield cue, first.idx, _tok_end(last)
    elif t.pos_ == "VERB" and (verdict := _verdict(t)) is not None:
        yield _Cue(t.text, t.idx, sent_of[t.i], _subject(t)), *verdict
    elif t.pos_ == "VERB" and (marked := _marked_content(t)) is not None:
        yield _Cue(t.text, t.idx, sent_of[t.i], _subject(t)), *marked
    elif t.pos_ == "VERB":
        yield from _learned(doc, t, sent_of)




# Adverbs that link the reporter's sentences, not part of what was said.
_CONNECTIVES = frozenset({
    "however", "also", "though", "meanwhile", "instead", "moreover", "furthermore",
    "therefore", "then", "still", "nevertheless", "nonetheless", "later", "earlier",
    "previously", "again", "too", "further"})
_SET_OFF = frozenset({",", "—", "–", "-", "--", ";", "("})


def _token_before(doc: Doc, pos: int) -> int:
    """Index of the last token that starts before character ``pos`` (0 if none)."""
    return max(0, bisect.bisect_left(doc, pos, key=lambda t: t.idx) - 1)


def _continues_outer_speech(v: Token) -> bool:
    """A speech verb the parse hung on a reported clause that is the reporter's:
    a participle after a comma ("said X will stick, insisting ...") or a verb in
    the speech verb's tense, not the clause's ("said the plan will work and added
    ...")."""
    head = v.head
    if head.dep_ != "ccomp" or head.head.lemma_.lower() not in SPEECH_VERBS:
        return False
    if v.dep_ == "advcl":
        return v.tag_ == "VBG" and v.i > 0 and v.doc[v.i - 1].text == ","
    return (v.dep_ == "conj" and not _has_subject(v) and v.tag_ == head.head.tag_
            and v.tag_ != head.tag_)


def _reporter_resumes(verb: Token, first: int, last: int) -> int | None:
    """End offset of a reported clause that stops before the reporter's own words
    resume inside tokens first..last, or None when they do not. They resume at a
    participle joined to the speech verb ("..., citing ..."), at a new speech act
    ("... but Chapman says ...", "..., insisting ...", "and added ..."; not "...
    but that he should have insisted", a second reported clause), and at
    "according to" set off by a comma or dash (another source). (Not at any clause
    joined to the speech verb: the parse hangs the reported clause's own second
    half there too, "said X is emerging, but it is complex".)"""
    doc = verb.doc
    for x in doc[first + 1 : last + 1]:
        according = x.lower_ == "according" and x.i + 1 < len(doc) and doc[x.i + 1].lower_ == "to"
        if not (according or _new_speech(verb, x)):
            continue
        # back over the conjunction and punctuation that join it to the clause
        j = x.i if according else x.left_edge.i
        while j > first and (doc[j - 1].dep_ == "cc" or doc[j - 1].is_punct):
            j -= 1
        if according and not any(y.text in _SET_OFF for y in doc[j : x.i]):
            continue  # "according to" inside the clause's own wording
        if j - first < 3:
            return None  # too little left: not a clause of its own
        return _tok_end(doc[j - 1])
    return None


def _new_speech(verb: Token, x: Token) -> bool:
    """Is ``x``, inside or after the clause ``verb`` reports, the reporter's: a
    participle of the speech verb, or a speech act of its own?"""
    head_is_verb = x.head.i == verb.i
    if x.dep_ == "advcl" and x.tag_ == "VBG":
        return (head_is_verb and x.i > verb.i and x.i == x.left_edge.i
                or x.lemma_.lower() in SPEECH_VERBS and x.doc[x.i - 1].text == ",")
    return (x.dep_ == "conj" and x.lemma_.lower() in SPEECH_VERBS
            and not any(c.dep_ == "mark" for c in x.children)
            and (head_is_verb and x.tag_ == verb.tag_ or _has_subject(x)
                 or _continues_outer_speech(x)))


def _clause_after_cue(verb: Token) -> tuple[int, int] | None:
    """(start, end) of the clause after "Chapman admits in this instance, there were
    fatalities": the parse made the reporting words a complement of the clause
    they report."""
    head = verb.head
    subj = [c for c in verb.children if c.dep_ == "nsubj" and c.i < verb.i]
    if verb.dep_ != "ccomp" or head.i <= verb.i or not subj or head.pos_ not in ("VERB", "AUX"):
        return None
    if head.lemma_.lower() in SPEECH_VERBS:
        return None  # "X agreed to ..., officials said": the clause's own cue is later
    if any(c.dep_ in ("dobj", "xcomp", "ccomp", "attr", "oprd") for c in verb.children):
        return None  # "reported not seeing any signs, ... before waves washed ashore"
    rest = [x for x in head.subtree
            if x.i > verb.right_edge.i and not (x.is_punct or x.is_space)]
    if not rest or rest[0].dep_ in ("cc", "mark") or (
        rest[0].lower_ in _CONNECTIVES | {"so"}
    ):
        return None  # not "..., so CTV News caught up with him"
    return rest[0].idx, _tok_end(rest[-1])


def _directive(verb: Token) -> tuple[int, int] | None:
    """(start, end) of what a verb of saying asked or told a hearer to do: "urged
    police to investigate", "told workers to install ..."; None when it has no
    hearer and no to-infinitive after it ("asked to speak" is the subject's own
    wish), or no subject to say it."""
    if _subject(verb) is None:
        return None
    objs = [c for c in verb.children if c.dep_ in ("dobj", "dative") and c.i > verb.i]
    for c in verb.children:
        if (c.dep_ == "xcomp" and objs and c.i > objs[0].i
                and any(a.lower_ == "to" and a.dep_ == "aux" for a in c.children)):
            sub = list(c.subtree)
            if len(sub) >= 2:
                return sub[0].idx, _tok_end(sub[-1])
    return None


def _verdict(verb: Token) -> tuple[int, int] | None:
    """(start, end) of what someone called something: "critics called the plan
    reckless", "called it a bandage solution that won't ...", "calling him a 'total
    stiff'", "in what he called 'the loneliest moment of my life'"; not a name
    ("called him Jonathan"), nor a call for something."""
    lemma = verb.lemma_.lower()
    if lemma in _AS_VERDICT:
        return _verdict_as(verb) or _verdict_appos(verb)
    if lemma != "call":
        return None
    # a participle ("..., calling him a 'loser'") speaks for the sentence's subject
    # (and a verb joined to the subject's first: "took the stage and called the
    # political system 'rotten to the core'")
    if not any(c.dep_ == "nsubj" for c in verb.children) and not (
        (verb.tag_ == "VBG" and verb.dep_ == "advcl" or verb.dep_ == "conj")
        and _subject(verb) is not None
    ):
        return None
    objs = [c for c in verb.children if c.dep_ == "dobj"]
    if not objs:
        return None
    for c in verb.children:
        if c.dep_ == "oprd" and c.pos_ != "PROPN" and c.i > verb.i:
            sub = list(c.subtree)
            # Words in marks are the speaker's own, and with them what was so
            # called is part of the quote (PolNeAR: 'called undocumented immigrants
            # from Mexico "rapists"'); a pronoun ("it", "him", "what") adds nothing.
            if any(x.text in _MARK_TOKENS for x in sub) and objs[0].pos_ != "PRON" \
                    and verb.i < objs[0].i < c.i:
                sub = list(objs[0].subtree) + sub
            if objs[0].lower_ == "it":
                # "called it unfair for the students to ...", "... that ...": the
                # clause "it" stands for is part of the verdict
                sub += [x for k in verb.children if k.dep_ in ("advcl", "ccomp") and k.i > c.i
                        and k.left_edge.lower_ in ("for", "that", "to") for x in k.subtree]
            return sub[0].idx, _tok_end(sub[-1])
    return _verdict_appos(verb)


def _verdict_appos(verb: Token) -> tuple[int, int] | None:
    """(start, end) of 'called his actions "a crucial step forward"' when the parse
    hangs the words in marks on the object as an apposition rather than as its
    complement (for "call" and the verbs of ``_AS_VERDICT``): only with the marks, and
    only when the verb has its speaker (its subject, or the sentence's for a
    participle)."""
    if _subject(verb) is None:
        return None
    obj = next((c for c in verb.children if c.dep_ == "dobj" and c.i > verb.i), None)
    if obj is None:
        return None
    doc = verb.doc
    for c in obj.children:
        if c.dep_ == "appos" and c.left_edge.i > 0 \
                and doc[c.left_edge.i - 1].text in _MARK_TOKENS:
            return obj.left_edge.idx, _tok_end(c.right_edge)
    return None


# Verbs that give someone's verdict on something with "as": "described the field
# as 'all very good'", "referred to Obama as 'the founder'".
_AS_VERDICT = frozenset({"describe", "refer", "characterize", "characterise", "label",
                         "brand", "portray", "depict", "dismiss", "hail", "tout"})


def _verdict_as(verb: Token) -> tuple[int, int] | None:
    """(start, end) of "X as '...'" after a verb of ``_AS_VERDICT``: only with words
    in marks, the speaker's own (without them, "described the plan as a start" is
    the reporter's summary), and what was so described with them (PolNeAR's mixed
    attributions)."""
    if not any(c.dep_ == "nsubj" for c in verb.children) and not (
        verb.dep_ in ("advcl", "conj") and _subject(verb) is not None
    ):
        return None
    as_ = next((c for c in verb.children if c.dep_ == "prep" and c.lower_ == "as" and c.i > verb.i), None)
    if as_ is None:
        return None
    sub = list(as_.subtree)
    if not any(x.text in _MARK_TOKENS for x in sub):
        return None
    what = next((c for c in verb.children if verb.i < c.i < as_.i and (
        c.dep_ == "dobj" or c.dep_ == "prep" and c.lower_ == "to")), None)
    if what is not None and what.dep_ == "prep":
        what = next((g for g in what.children if g.dep_ == "pobj"), None)
    if what is None:
        return None  # "were sometimes referred to as 'George's boys'": the passive
    if what.pos_ != "PRON":
        sub = list(what.subtree) + sub
    return sub[0].idx, _tok_end(sub[-1])


# Verbs of praise, blame and promise whose object holds the subject's own words
# when they are in marks ("decried the GOP for 'turning its back'", "pledged to
# 'win many hundreds of delegates'"); without marks they are the reporter's summary.
_STANCE_VERBS = frozenset(
    "decry mock accuse praise pledge vow promise bemoan blast slam criticize criticise "
    "condemn blame hail thank laud deride denounce tout".split()
)
_MARKED_DEPS = frozenset({"dobj", "xcomp", "prep"})


def _marked_content(verb: Token) -> tuple[int, int] | None:
    """(start, end) of the object of a ``_STANCE_VERBS`` verb when words in marks
    are in it; whether the whole is a mixed quote or the marks a direct one is decided
    with the marks, as for any reported clause."""
    if verb.lemma_.lower() not in _STANCE_VERBS or _subject(verb) is None:
        return None
    kids = [c for c in verb.children if c.dep_ in _MARKED_DEPS and c.i > verb.i]
    if not kids:
        return None
    sub = [x for c in kids for x in c.subtree]
    if not any(x.text in _MARK_TOKENS for x in sub):
        return None
    sub.sort(key=lambda x: x.i)
    return sub[0].idx, _tok_end(sub[-1])


def _asks(verb: Token) -> bool:
    """A verb of asking in the active voice: its wh-clause is the question put, a
    speech act ("asked Sanders how he was feeling"); in the passive ("when asked
    whether ...", "Asked what he would tell the mayor, Brooks says") the subject is
    the one asked and the asker is unnamed."""
    opens = all(x.is_punct or x.is_space for x in verb.doc[verb.sent.start : verb.i])
    return verb.lemma_.lower() in _ASKING and verb.tag_ != "VBN" and not opens


def _question_asked(verb: Token) -> list[Token]:
    """"asked workers if they planned to ...": the parse hangs the question on the
    verb as a condition."""
    if not _asks(verb):
        return []
    return [c for c in verb.children if c.dep_ == "advcl" and c.i > verb.i and any(
        m.dep_ == "mark" and m.lower_ in ("if", "whether") for m in c.children)]


_ASKING = frozenset({"ask", "question", "inquire", "query"})


def _gerund_subject(verb: Token) -> list[Token]:
    """"said legalizing it could put thousands to work": the parse made the gerund
    that is the clause's subject a complement of the verb, with the clause's verb
    hung under it."""
    return [c for c in verb.children if c.dep_ == "xcomp" and c.tag_ == "VBG"
            and c.i == verb.i + 1 and any(g.dep_ == "ccomp" and g.i > c.i for g in c.children)]


def _that_clause_of_object(verb: Token) -> list[Token]:
    """"told NBC's show on Wednesday that he wasn't ...": a that-clause with its
    own subject that the parse hung on the speech verb's object, not the verb."""
    return [
        g for c in verb.children if c.dep_ in ("dobj", "dative") and c.i > verb.i
        for g in c.children if g.dep_ == "acl" and _has_subject(g)
        and any(m.dep_ == "mark" and m.lower_ == "that" for m in g.children)
    ]


_TIME_MARKS = frozenset({"after", "before", "when", "as", "since", "while", "once"})


def _that_clause_of_adverbial(verb: Token) -> list[Token]:
    """ "said after the reports broke that he would repay the $84,000": a that-clause
    with its own subject that the parse hung on a time clause between the speech
    verb and it."""
    return [
        g for c in verb.children if c.dep_ == "advcl" and c.i > verb.i
        and any(m.dep_ == "mark" and m.lower_ in _TIME_MARKS for m in c.children)
        for g in c.children if g.dep_ == "ccomp" and g.i > c.i and _has_subject(g)
        and any(m.dep_ == "mark" and m.lower_ == "that" for m in g.children)
    ]


def _bare_clause_after_object(verb: Token) -> list[Token]:
    """"told Global News the laws ... favour the owner": the parse made the
    clause's subject a second object and its verb a bare complement."""
    objs = [c.i for c in verb.children if c.dep_ in ("dobj", "dative") and c.i > verb.i]
    return [
        c for c in verb.children if c.dep_ == "xcomp" and objs and c.i > min(objs)
        and c.tag_ in ("VB", "VBP", "VBZ", "VBD") and not any(a.lower_ == "to" for a in c.children)
    ]


def _hearer(tok: Token) -> bool:
    return tok.pos_ == "PRON" or tok.ent_type_ in ("PERSON", "ORG", "NORP")


def _has_subject(clause: Token) -> bool:
    return any(c.dep_ in ("nsubj", "nsubjpass", "expl", "csubj") for c in clause.children)


def _last_word(sent: Span) -> Token | None:
    for x in reversed(sent):
        if not (x.is_punct or x.is_space):
            return x
    return None


def _before_colon(c: Token, t: Token) -> bool:
    """A clause before a colon is never what a verb after it reports ("the party
    announced a policy ...: leader Justin Trudeau promised ...")."""
    # (the parse may hang the colon on the clause itself)
    return c.i < t.i and any(x.text == ":" for x in t.doc[c.right_edge.i : t.i])


def _inverted_aside(t: Token) -> tuple[Token, list[tuple[int, int]]] | None:
    """ "Her comments, said Josh Earnest, the press secretary, are “entirely
    consistent”": an inverted "said NAME" set off by commas inside the reported
    sentence. The parse makes the words before it the verb's subject and the name
    the reported clause's (or a second subject); the speaker is the name and what
    was said is the sentence around the aside, in two parts as written."""
    doc = t.doc
    sent = t.sent
    if t.i < 2 or doc[t.i - 1].text != "," or t.i + 1 >= sent.end:
        return None
    left = [c for c in t.children if c.dep_ == "nsubj" and c.i < t.i]
    if len(left) != 1 or left[0].left_edge.i != sent.start or left[0].right_edge.i not in (t.i - 2, t.i - 1):
        return None
    # the name right after the verb: proper nouns (a title among them), its head
    # the subject of the verb or of its clause
    k = t.i + 1
    while k < sent.end and doc[k].pos_ == "PROPN":
        k += 1
    name = doc[k - 1] if k > t.i + 1 else None
    if name is None or name.dep_ != "nsubj" or name.head.i not in (t.i, *(
            c.i for c in t.children if c.dep_ == "ccomp" and c.i > t.i)):
        return None
    # the aside ends at the comma after the name and whatever stands in apposition
    end = max(name.right_edge.i, k - 1)
    if name.head.i != t.i:
        end = max([end] + [x.right_edge.i for x in name.children if x.dep_ == "appos"])
    while end + 1 < sent.end and doc[end + 1].text != "," and doc[end + 1].dep_ == "appos":
        end += 1
    if end + 1 >= sent.end or doc[end].text != "," and doc[end + 1].text != ",":
        return None
    rest = [x for x in doc[end + 1 : sent.end] if not x.is_punct]
    if not rest or not any(x.pos_ in ("VERB", "AUX") for x in rest):
        return None
    first = doc[sent.start]
    last_left = doc[t.i - 2]
    return name, [(first.idx, last_left.idx + len(last_left)), (rest[0].idx, _tok_end(rest[-1]))]


def _parenthetical(doc: Doc, t: Token, sent_of: list[int]) -> Iterable[tuple[_Cue, int, int]]:
    """"Too often, he says, they get it": the sentence around the cue, in two
    parts as written."""
    subj = [c for c in t.children if c.dep_ == "nsubj"]
    if not subj:
        return
    if len(subj) > 1 and t.i > 0 and doc[t.i - 1].text == ",":
        # "The decision, said Smith, was wrong": the parse gave the aside's verb
        # the sentence's subject too; the speaker is the one after the verb.
        subj = [c for c in subj if c.i > t.i] or subj
    if t.lemma_.lower() not in _HEARER_VERBS and any(c.dep_ == "dobj" for c in t.children):
        return  # "(we explained his history at that layout above)": an aside with its own object
    core = {t.i} | {x.i for x in subj[0].subtree}
    core |= {c.i for c in t.children if c.dep_ in ("punct", "advmod", "prep", "npadvmod")
             and c.i <= t.i + 4}
    for c in list(t.children):
        if c.dep_ == "prep":
            core |= {x.i for x in c.subtree}
    lo, hi = min(core), max(core) + 1
    sent = t.sent
    cue = _Cue(t.text, t.idx, sent_of[t.i], subj[0])
    if lo - sent.start >= 1:
        left = doc[sent.start : lo]
        yield cue, left[0].idx, left[-1].idx + len(left[-1])
    if sent.end - hi >= 2:
        right = doc[hi : sent.end]
        first = next((x for x in right if not x.is_punct), right[0])
        if first.lower_ in ("though", "although") and first.dep_ == "mark" and any(
            c.dep_ == "nsubj" and c.lower_ == subj[0].lower_ for c in first.head.children
        ):
            return  # "..., he said, though he did not name anyone": the reporter's aside
        yield cue, right[0].idx, right[-1].idx + len(right[-1])


_FRAME_PREPS = frozenset({"about", "of", "for", "against", "on", "with", "over"})


def _frames(t: Token) -> Iterable[tuple[str, Token]]:
    """(frame, head of the content) of a verb: "ccomp", "xcomp", "dobj" or
    "prep_about" ("warned about X"), as the learned cue list keys them."""
    for c in t.children:
        if c.dep_ in ("ccomp", "xcomp", "dobj") and not _before_colon(c, t):
            yield c.dep_, c
        elif c.dep_ == "prep" and c.lower_ in _FRAME_PREPS:
            objs = [g for g in c.children if g.dep_ in ("pobj", "pcomp")]
            if objs:
                yield "prep_" + c.lower_, objs[0]


# Verbs of refusing that the list learnt from PolNeAR keeps ("decline/xcomp"; "refuse"
# is under the rate): PolNeAR counts a refusal as an attribution (attributions=True
# still finds it, by the classifier), but it reports nothing said, the default's
# notion of a quote.
_REFUSALS = frozenset({"decline"})


def _learned(doc: Doc, t: Token, sent_of: list[int]) -> Iterable[tuple[_Cue, int, int]]:
    """Frames the speech-verb list misses, from the list learnt on PolNeAR train
    ("vowed to ...", "accused X of ...")."""
    if t.lemma_.lower() in _REFUSALS:
        return  # "declined to say why", "declined to hear the appeal": nothing said
    table = _learned_frames()
    for frame, head in _frames(t):
        if table.get(f"{t.lemma_.lower()}/{frame}", 0.0) < _LEARNED_MIN_RATE:
            continue
        sub = list(head.subtree)
        if len(sub) < _LEARNED_MIN_TOKENS:
            continue
        spk = _subject(t)
        if spk is None or spk.lower_ == "it" and not spk.ent_type_:
            continue
        yield _Cue(t.text, t.idx, sent_of[t.i], spk), sub[0].idx, sub[-1].idx + len(sub[-1])
        return


@lru_cache(maxsize=1)
def _learned_frames() -> dict[str, float]:
    """verb/frame -> share of its occurrences that were attributions, as
    bench/train_quote_cues.py counted them on PolNeAR train."""
    try:
        raw = resources.files("newsdesk").joinpath("data/quote_cues.json").read_text("utf-8")
        frames = json.loads(raw)["frames"]
        return {k: pos / n for k, (pos, n) in frames.items() if n >= _LEARNED_MIN_COUNT}
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a broken install loses only these
        log.warning("learned quote cues unavailable: %s", exc)
        return {}


# Tuned on the ggt development half and PolNeAR train.
_LEARNED_MIN_RATE, _LEARNED_MIN_COUNT, _LEARNED_MIN_TOKENS = 0.8, 8, 2


def _subjects(v: Token) -> list[Token]:
    """The subjects of ``v``, the one nearest before it first: a dateline the parse
    made a second subject ("LONDON (Reuters) - Donald Trump said") is farther."""
    subj = [c for c in v.children if c.dep_ in ("nsubj", "nsubjpass")]
    return sorted((c for c in subj if c.i < v.i), key=lambda c: -c.i) + [c for c in subj if c.i > v.i]


_FREE_RELATIVES = frozenset({"what", "whatever", "which", "whichever"})


def _subject(verb: Token) -> Token | None:
    """The source of a speech verb, climbing through "went on to say", "adding"."""
    v: Token | None = verb
    for _ in range(4):
        if v is None:
            return None
        subj = _subjects(v)
        if subj and subj[0].lower_ in _FREE_RELATIVES and v.dep_ in ("ccomp", "xcomp", "advcl", "conj"):
            # "recalled what happened in 2008 to point out that ...": the parse hung
            # the verb on a clause whose subject is "what"; the speaker is further up
            subj = []
        if subj:
            if subj[0].dep_ == "nsubjpass":
                agent = [c for c in v.children if c.dep_ == "agent"]
                objs = [g for a in agent for g in a.children if g.dep_ == "pobj"]
                return objs[0] if objs else None
            return subj[0]
        if v.i == verb.i and verb.tag_ in ("VBD", "VBZ", "VBP") and verb.i > 0:
            # "tenants advocate Josh Matlow told ...": the parse made the name an
            # object of the noun before it, leaving the verb without a subject.
            prev = verb.doc[verb.i - 1]
            if prev.text == ")":
                # "Sen. John Cornyn (R-Texas) speculated": the name before the brackets
                opening = next((t for t in reversed(verb.doc[max(0, verb.i - 8):verb.i - 1])
                                if t.text == "("), None)
                if opening is not None and opening.i > 0:
                    prev = verb.doc[opening.i - 1]
            if prev.pos_ == "PROPN" and prev.ent_type_ in ("PERSON", "ORG") and not prev.is_sent_start:
                return prev
            # "Out of the Cold program users report they ...": the parse took the
            # name for a preposition and left the verb without a subject; the noun
            # before the verb, if it agrees with it
            if prev.pos_ == "NOUN" and prev.dep_ == "pobj" and (
                verb.tag_ == "VBP" and prev.tag_ == "NNS" or verb.tag_ == "VBZ" and prev.tag_ == "NN"
            ):
                return prev
        if v.i == verb.i and (author := _author_of_saying(v)) is not None:
            return author
        if v.i == verb.i and _continues_outer_speech(v):
            # "said the province will stick with it, insisting ...", "said the
            # plan will work and added ...": the first speaker's, though the parse
            # hung it on the reported clause.
            v = v.head.head
        elif v.dep_ in ("conj", "xcomp", "advcl", "ccomp") and v.head.i != v.i:
            if v.i == verb.i and (nearer := _nearer_speaker(v)) is not None:
                return nearer
            v = v.head
        else:
            return None
    return None


def _nearer_speaker(v: Token) -> Token | None:
    """ "Rice's comments came as Netanyahu turned down an invitation ..., saying such a
    session could ...": a participle the parse hung on a clause whose subject cannot
    speak belongs to the clause just before it whose subject can; or None."""
    head = v.head
    if v.dep_ != "advcl" or v.tag_ != "VBG" or not (subj := _subjects(head)) or _may_speak(subj[0]):
        return None
    before = [c for c in head.children if c.dep_ == "advcl" and c.i < v.i]
    for c in reversed(before):
        own = _subjects(c)
        if own and own[0].dep_ == "nsubj" and _may_speak(own[0]):
            return own[0]
    return None


_SENDING_VERBS = frozenset("send issue release post write publish email e-mail tweet file".split())


def _author_of_saying(v: Token) -> Token | None:
    """ "Cheney issued a statement saying that ...", "sent an e-mail to RNC members
    saying ...": a participle hung on what was written (or, misparsed, on whom it was
    sent to) reports the writer, the subject of the verb that sent it; or None."""
    if v.dep_ != "acl" or v.tag_ != "VBG" or not any(c.dep_ == "ccomp" for c in v.children):
        return None  # (not "a letter asking them to ...": a request, not a report)
    n = v.head
    if n.pos_ not in ("NOUN", "PROPN"):
        return None
    gov = n.head.head if n.dep_ == "pobj" and n.head.dep_ in ("prep", "dative") else n.head
    if n.dep_ not in ("dobj", "pobj", "dative") or gov.pos_ != "VERB":
        return None
    if n.lemma_.lower() not in _DOC_NOUNS and gov.lemma_.lower() not in _SENDING_VERBS:
        return None
    subj = _subjects(gov)
    return subj[0] if subj and subj[0].dep_ == "nsubj" else None


def _window_cues(doc: Doc, text: str, segs: list[_Seg], sent_of: list[int]) -> None:
    """Cues next to the marks, for direct quotes the parse did not attach:
    '"...," X said', '"...," said X' and 'X said: "..."'; and a name set before the
    marks as their label ('... - Philip Bump: "..."'), over any cue the parse gave."""
    for k, s in enumerate(segs):
        if s.used:
            continue
        label = _label_before_colon(_line_before(doc, text, s), sent_of)
        if label is not None:
            s.cue, s.nearby = label, True
            continue
        if s.cue is not None:
            continue
        nxt_open = segs[k + 1].open if k + 1 < len(segs) else len(text)
        para_end = text.find("\n", s.close)
        limit = min(nxt_open, para_end if para_end >= 0 else len(text))
        after = _tokens_between(doc, s.close + 1, limit)
        full = _is_full_quote(text, s) or text[s.close - 1 : s.close] in (",", "!", "?")
        words = [t for t in after if not (t.is_punct or t.is_space)]
        if text[s.close - 1 : s.close] == "." and words and words[0].is_title \
                and (words[0].pos_ not in ("PROPN", "PRON") or words[0].lower_ in _NOT_SOURCES):
            # '"... was delicious." The cake can be found ...', '"...." It means ...': a
            # new sentence of the reporter's, not a cue ('"...." Smith said' still is one).
            cue = None
        else:
            cue = _cue_after(after, sent_of, strict=not full)
        if cue is None:
            prev_close = segs[k - 1].close + 1 if k > 0 and segs[k - 1].para == s.para else -1
            para_start = text.rfind("\n", 0, s.open) + 1
            lo = max(prev_close, para_start)
            before = _tokens_between(doc, lo, s.open)
            cue = _cue_before(before, sent_of) or _cue_of_colon(before, sent_of)
        if cue is None and _is_full_quote(text, s):
            cue = _cue_in_sentence(doc, s, sent_of) or _cue_of_lead_in(doc, text, s, sent_of)
        if cue is None:
            cue = _cue_of_object(doc, text, s, sent_of)
        s.cue = cue
        s.nearby = cue is not None


def _cue_of_object(doc: Doc, text: str, s: _Seg, sent_of: list[int]) -> _Cue | None:
    """Words in marks right after a verb of saying are what was said ('described the
    scene as "chaos all around."', 'expressed "deep concern"', 'chanted "Trudeau must
    go!"'); not after one of naming ('a tool called "Screenwise Meter"' is a name)."""
    lead = _line_before(doc, text, s)
    # "as" allows the thing described between ("described the scene as")
    allowed = ("DET", "ADP", "PRON", "PUNCT", "AUX") + (
        ("NOUN", "PROPN", "ADJ") if lead and lead[-1].lower_ == "as" else ())
    for gap, t in enumerate(reversed(lead)):
        if t.pos_ == "VERB" and t.lemma_.lower() in _VOICING:
            return _Cue(t.text, t.idx, sent_of[t.i], _subject(t))
        if t.pos_ not in allowed or gap >= 4:
            return None  # "it a", "what he", "the scene as"
    return None


# Subjects that never speak for a quote inside their sentence.
_NOT_SOURCES = frozenset({"it", "this", "that", "there", "what", "which", "these", "those"})


def _cue_of_lead_in(doc: Doc, text: str, s: _Seg, sent_of: list[int]) -> _Cue | None:
    """A quote that opens its paragraph after a paragraph ending in a colon ("Cruz
    continued:", "X released the following statement:"): the lead-in's subject."""
    para_start = text.rfind("\n", 0, s.open) + 1
    if text[para_start : s.open].strip():
        return None
    end = para_start  # the end of the paragraph before, blank lines skipped
    while end > 0 and text[end - 1].isspace():
        end -= 1
    if end == 0 or text[end - 1] != ":":
        return None
    toks = _tokens_between(doc, text.rfind("\n", 0, end) + 1, end)
    cue = _cue_before(toks, sent_of)
    if cue is not None:
        return cue
    for t in reversed(toks):
        if t.pos_ == "VERB":
            src = _subject(t)
            if src is not None and (src.pos_ == "PROPN" or src.ent_type_ in ("PERSON", "ORG")):
                return _Cue(t.text, t.idx, sent_of[t.i], src)
    return None


def _cue_in_sentence(doc: Doc, s: _Seg, sent_of: list[int]) -> _Cue | None:
    """A quote set inside the reporter's sentence, after its main verb ("Moore thanked
    him for 'stepping up ...'", "Bolton called it 'disrespectful to ...'"): the
    sentence's subject said it, not the speaker of the quote before."""
    i = _token_at(doc, s.open)
    if i is None:
        return None
    sent = doc[i].sent
    if sum(1 for t in doc[sent.start : i] if not (t.is_punct or t.is_space)) < 2:
        return None
    v = sent.root
    if v.pos_ != "VERB" or v.i >= i:
        return None
    subj = [c for c in v.children if c.dep_ == "nsubj"]
    if not subj or subj[0].lower_ in _NOT_SOURCES:
        return None
    src = subj[0]
    if not (src.pos_ in ("PROPN", "PRON") or src.ent_type_ in ("PERSON", "ORG")):
        return None
    return _Cue(v.text, v.idx, sent_of[v.i], src)


def _tokens_between(doc: Doc, a: int, b: int) -> list[Token]:
    if b <= a:
        return []
    span = doc.char_span(a, b, alignment_mode="contract")
    return list(span) if span is not None else []


# What a speaker's name and description before its verb are made of.
_NAME_PHRASE = frozenset({"PROPN", "NOUN", "DET", "ADJ", "PART", "NUM", "PUNCT"})


def _cue_after(toks: list[Token], sent_of: list[int], strict: bool) -> _Cue | None:
    window: list[Token] = []
    for t in toks:
        if t.text in (".", "!", "?", ";") or t.text in _MARK_TOKENS:
            break
        window.append(t)
        if len(window) >= 12:
            break
    while window and window[0].is_punct:
        window = window[1:]
    if not window:
        return None
    for k, t in enumerate(window):
        # The verb comes within six words, or later after a long name ('"...,"
        # Italy's Northern League leader Matteo Salvini wrote').
        if k >= 6 and not all(x.pos_ in _NAME_PHRASE for x in window[:k]):
            break
        lemma = t.lemma_.lower()
        if t.pos_ == "NOUN" and t.tag_ == "NNS" and lemma in SPEECH_VERBS and k > 0 \
                and window[k - 1].pos_ == "PROPN" and k + 1 == len(window):
            # '"...," Conway notes.': the tagger may read the verb as a plural noun
            return _Cue(t.text, t.idx, sent_of[t.i], window[k - 1])
        if t.pos_ != "VERB" or _hyphenated(t):
            continue
        subj = _subjects(t)
        spk: Token | None = subj[0] if subj else None
        if spk is None and k > 0 and window[k - 1].pos_ == "PROPN":
            spk = window[k - 1]  # or as a verb whose subject is parsed as a compound
        if spk is None and lemma in _HEARER_VERBS:
            # '"...," Ramos, 58, told AFP': the name before the verb; the one after
            # it is who heard it.
            spk = next((x for x in reversed(window[:k]) if x.pos_ == "PROPN"), None)
            if spk is None:
                continue
        if spk is None and t.dep_ == "conj" and sum(
            x.text in _MARK_TOKENS for x in t.doc[t.head.i + 1 : window[0].i]
        ) >= 2:
            # 'declaring it "another super Tuesday" and said it was ...': a verb
            # joined to one before the quote (not to the quote's own) speaks for
            # that one's subject, not for the word after it.
            spk = _subject(t)
        if spk is None:
            # "said Putin": the name after the verb.
            for x in window[k + 1 :]:
                if x.pos_ in ("PROPN", "NOUN", "PRON"):
                    while x.dep_ == "compound" and x.head.i > x.i and x.head.pos_ in ("PROPN", "NOUN"):
                        x = x.head  # "recalled Mr. Rhodes": the name, not its title
                    spk = x
                    break
                if x.pos_ not in ("DET", "ADJ", "PUNCT"):
                    break
        if spk is None:
            continue
        if lemma in SPEECH_VERBS or (
            not strict and lemma not in _CUE_ONLY_WITH_CLAUSE and k <= 4 and _may_speak(spk)
        ):
            return _Cue(t.text, t.idx, sent_of[t.i], spk)
    return None


def _may_speak(x: Token) -> bool:
    """Could ``x`` say something ('"...!" she laughed'), as far as the words tell:
    a name, a pronoun or a noun for a person or group; not "the balloons cascaded"."""
    return (x.pos_ in ("PROPN", "PRON") or x.ent_type_ in ("PERSON", "ORG", "NORP")
            or x.lemma_.lower() in _PERSON_NOUNS | _ORG_NOUNS)


def _cue_before(toks: list[Token], sent_of: list[int]) -> _Cue | None:
    # Only the sentence right before the mark, ending in ":" or "," (or nothing).
    while toks and toks[-1].is_space:
        toks = toks[:-1]
    if not toks:
        return None
    if toks[-1].text not in (":", ","):
        return None
    cut = 0
    for i, t in enumerate(toks):
        if t.text in (".", "!", "?", ";") and i < len(toks) - 1:
            cut = i + 1
    window = toks[cut:]
    for t in reversed(window):
        if t.pos_ == "VERB" and t.lemma_.lower() in SPEECH_VERBS:
            spk = _subject(t)
            if spk is not None:
                return _Cue(t.text, t.idx, sent_of[t.i], spk)
    return None


def _cue_of_colon(toks: list[Token], sent_of: list[int]) -> _Cue | None:
    """A quote after a colon that ends a sentence about someone, with no verb of
    saying ("Martell, the addictions doctor, is more blunt: '...'", "Lee had a
    different view: '...'"): the sentence's subject, when it is a name or he/she."""
    window = _colon_window(toks)
    if window is None:
        return None
    # the verb heading the words before the colon (the parse may hang it on the quote)
    heads = [t for t in window if t.pos_ in ("VERB", "AUX")
             and not (window[0].i <= t.head.i <= window[-1].i and t.head.i != t.i)]
    for verb in heads:
        subj = next((c for c in verb.children if c.dep_ == "nsubj"), None)
        if subj is not None and (subj.ent_type_ in ("PERSON", "ORG") or subj.pos_ == "PROPN"
                                 or subj.lower_ in _MALE | _FEMALE):
            return _Cue(verb.text, verb.idx, sent_of[verb.i], subj)
    return None


# What may stand between a heading and a name that labels the quote after it.
_LABEL_BREAKS = frozenset({"-", "–", "—", "|"})


def _colon_window(toks: list[Token]) -> list[Token] | None:
    """The words of the sentence that ``toks`` end with a colon, the colon included."""
    while toks and toks[-1].is_space:
        toks = toks[:-1]
    if not toks or toks[-1].text != ":":
        return None
    cut = max((i + 1 for i, t in enumerate(toks[:-1]) if t.text in (".", "!", "?", ";")), default=0)
    return toks[cut:]


def _label_before_colon(toks: list[Token], sent_of: list[int]) -> _Cue | None:
    """A name alone before the colon that ends ``toks``, as in a transcript or a
    digest of what others wrote ("Philip Bump: '...'", "... contests - Frank Newport
    and Jim Harter: '...'"): the name is the speaker, whatever verb the heading before
    it has; there is no verb."""
    window = _colon_window(toks)
    if window is None:
        return None
    name = window[:-1]
    for i in range(len(name) - 1, -1, -1):
        if name[i].text in _LABEL_BREAKS:
            name = name[i + 1 :]
            break
    # nothing but names and their "and" ("Frank Newport and Jim Harter"); the model
    # leaves many names untagged, so two proper nouns make a name too ("Philip Bump")
    names = [t for t in name if t.ent_type_ in ("PERSON", "ORG")
             or t.pos_ == "PROPN" and not t.ent_type_]
    if not names or len(names) + sum(t.lower_ in ("and", "&", ",") for t in name) < len(name):
        return None
    # untagged proper nouns in capitals are a rubric ("WATCH:", "EDITOR NOTE:"); a
    # name the model missed is written as a name ("HuffPollster:", "Philip Bump:")
    if not any(t.ent_type_ for t in names) and all(t.text.isupper() for t in names):
        return None
    head = names[0]  # the last word of the first name: "Bump" of "Philip Bump"
    while head.i < name[-1].i and head.doc[head.i + 1] in names:
        head = head.doc[head.i + 1]
    return _Cue(None, name[0].idx, sent_of[head.i], head)


def _chain_cues(segs: list[_Seg]) -> None:
    """Every segment of a quote that spans paragraphs gets the chain's cue."""
    by_chain: dict[int, _Cue] = {}
    for s in segs:
        if s.cue is not None and s.chain not in by_chain:
            by_chain[s.chain] = s.cue
    for s in segs:
        if s.cue is None and s.chain in by_chain:
            s.cue = by_chain[s.chain]


# ----------------------------------------------------------------- speakers
def _name_words(s: str) -> tuple[str, ...]:
    words = [w.strip(".,") for w in s.replace("’", "'").split()]
    if words and words[-1].endswith("'s"):
        words[-1] = words[-1][:-2]
    # (a title word in an institution's name is no title: "the Justice Department")
    institution = len(words) > 1 and words[-1].lower() in _ORG_LAST_WORDS | _ORG_NOUNS
    if len(words) > 1 and words[0].lower() == "the" and (words[1].lower() not in _TITLE_WORDS or institution):
        # "The Washington Post reported" is the Washington Post's ("The King" is a title)
        words = words[1:]
    while words and words[0].lower() in _TITLE_WORDS and not institution:
        words = words[1:]
    return tuple(w for w in words if w)


_NAME_LABELS = ("PERSON", "ORG", "NORP", "GPE")
# Labels the small model gives a surname alone now and then.
_MISNAMED = ("LOC", "FAC", "PRODUCT", "LAW", "WORK_OF_ART", "EVENT")


def _consistent_ents(doc: Doc) -> list[Span]:
    """The NER's entities, with one label per name across the article.

    The small model labels the same name differently from one sentence to the
    next ("Schuh" a person, then a nationality; "Facebook" an organisation, then
    a person) and misses some occurrences outright ("In a statement, Facebook
    said"). One label per name per article (the majority of its mentions; a
    surname of a person named in full is that person) and every capitalised
    occurrence of a name it found elsewhere, which the caller's ``doc`` keeps
    untouched: the spans are new."""
    from spacy.tokens import Span

    ents = [_person_before_verb(_person_after_owner(_person_after_title(e))) for e in doc.ents]
    votes: dict[str, dict[str, int]] = {}
    for e in ents:
        if e.label_ in _NAME_LABELS:
            v = votes.setdefault(e.text, {})
            v[e.label_] = v.get(e.label_, 0) + 1
    label_of: dict[str, str] = {}
    for text, v in votes.items():
        ranked = sorted(v.items(), key=lambda kv: -kv[1])
        if len(ranked) > 1 and ranked[0][1] > ranked[1][1]:
            label_of[text] = ranked[0][0]
    # A name written once after a person's title is a person wherever it stands: Fox
    # writes "President Trump said ... Trump announced ...", and the small model tags
    # every "Trump" of that article an organisation, leaving each "he" nobody to be.
    # So is a name right after a noun for a person ("Strzok attorney Aitan Goelman said",
    # an organisation to the small model, so "the attorney said" went to someone else).
    for e in ents:
        if (e.label_ in _NAME_LABELS and e.start > 0 and (
                doc[e.start - 1].lower_ in _PERSON_TITLES
                or doc[e.start - 1].lemma_.lower() in _PERSON_NOUNS and doc[e.start - 1].pos_ == "NOUN")
                and all(t.pos_ == "PROPN" and t.text[:1].isupper() for t in e)):
            label_of[e.text] = "PERSON"
    # A surname only from a name of capitalised words ("Lisa Schuh", not "the
    # Birth of Modern Canada"), and never a word the article uses as a place.
    surnames = {
        _name_words(e.text)[-1] for e in ents
        if e.label_ == "PERSON" and len(e) >= 2 and all(t.text[:1].isupper() for t in e)
    }
    surnames -= {_name_words(t)[0] for t, v in votes.items()
                 if v.get("GPE", 0) >= 2 and _name_words(t)}
    out: list[Span] = []
    taken = [False] * len(doc)
    for e in ents:
        label = label_of.get(e.text, e.label_)
        w = _name_words(e.text)
        # (whatever else the model called it: "Schiff" was a place five times in one
        # HuffPost article, "Schiff’s" a product and a law)
        if label in _NAME_LABELS + _MISNAMED and len(w) == 1 and w[0] in surnames:
            label = "PERSON"
        out.append(e if label == e.label_ else Span(doc, e.start, e.end, label=label))
        for i in range(e.start, e.end):
            taken[i] = True
    # Occurrences the NER missed: the same capitalised words as a name it found.
    known: dict[tuple[str, ...], str] = {}
    for e in out:
        if e.label_ in ("PERSON", "ORG") and all(t.pos_ == "PROPN" for t in e):
            known.setdefault(tuple(t.text for t in e), e.label_)
    # A name the NER never found at all ("Poulter said", sixteen times) but that
    # is a proper noun saying something at least twice: a person. (Only "say",
    # "tell", "add": "Story continues below" is a web page's furniture.)
    speaking: dict[str, int] = {}
    for t in doc:
        if (not taken[t.i] and t.pos_ == "PROPN" and t.dep_ == "nsubj" and t.text[:1].isupper()
                and t.head.lemma_.lower() in ("say", "tell", "add")):
            speaking[t.text] = speaking.get(t.text, 0) + 1
    for word, n in speaking.items():
        if n >= 2 and not any(word in k for k in known):
            known[(word,)] = "PERSON"
    # A name described as a person the NER missed ("Yuni, a resident of Lampung, was
    # watching television when she heard ...").
    for t in doc:
        if (not taken[t.i] and t.pos_ == "PROPN" and t.dep_ in ("nsubj", "nsubjpass")
                and t.text[:1].isupper() and any(
                    c.dep_ == "appos" and c.lemma_.lower() in _PERSON_NOUNS for c in t.children)):
            first = t
            while first.i > 0 and doc[first.i - 1].dep_ == "compound" \
                    and doc[first.i - 1].pos_ == "PROPN" and not taken[first.i - 1]:
                first = doc[first.i - 1]
            out.append(Span(doc, first.i, t.i + 1, label="PERSON"))
            for i in range(first.i, t.i + 1):
                taken[i] = True
    # A surname of a person the NER found, alone as a subject where the NER missed
    # it ("Green himself was excited": Damon Green, though "green" is a word too).
    # (The tagger takes a surname with an apostrophe inside for a common noun:
    # "O’Rourke added", and writes it with either apostrophe.)
    for t in doc:
        if (not taken[t.i] and t.dep_ in ("nsubj", "nsubjpass")
                and (t.pos_ == "PROPN" or t.pos_ == "NOUN" and _INNER_APOSTROPHE.search(t.text))
                and t.text.replace("’", "'") in surnames
                and (t.i + 1 >= len(doc) or doc[t.i + 1].pos_ != "PROPN")
                and (t.i == 0 or doc[t.i - 1].pos_ != "PROPN")):
            out.append(Span(doc, t.i, t.i + 1, label="PERSON"))
            taken[t.i] = True
    longest = max((len(k) for k in known), default=0)
    i = 0
    while i < len(doc):
        hit = 0
        if not taken[i] and doc[i].pos_ == "PROPN":
            for n in range(min(longest, len(doc) - i), 0, -1):
                key = tuple(t.text for t in doc[i : i + n])
                if key in known and not any(taken[i : i + n]):
                    out.append(Span(doc, i, i + n, label=known[key]))
                    hit = n
                    break
        i += hit or 1
    out.sort(key=lambda e: e.start)
    return out


_INNER_APOSTROPHE = re.compile(r"^[A-Z][’'][A-Z][a-z]")  # O’Rourke, D'Souza

# Nouns that describe a person in apposition to a name ("Yuni, a resident of ...").
_PERSON_NOUNS = frozenset(
    """
    resident man woman boy girl mother father son daughter wife husband sister brother
    student teacher worker owner farmer spokesperson spokesman spokeswoman doctor nurse
    lawyer attorney survivor witness victim volunteer driver neighbour neighbor friend fan
    professor researcher analyst expert activist founder employee veteran grandmother
    grandfather parent player coach artist author writer singer actor chef
    """.split()
)
# Titles that the small NER swallows into an organisation with the name after
# them ("Wet'suwet'en Hereditary Chief Na'moks" as one ORG).
_PERSON_TITLES = frozenset(
    "president minister premier mayor senator governor chancellor king queen prince princess "
    "pope judge justice chief secretary chairman chairwoman ceo director spokesman "
    "spokeswoman spokesperson sen. rep. gov. dr. mr. mrs. ms.".split()
)


_MODALS = frozenset("may might will would can could should must shall".split())


_NOMINAL_DEPS = frozenset({"nsubj", "nsubjpass", "dobj", "pobj", "appos", "compound"})


def _person_before_verb(e: Span) -> Span:
    """A person span that runs on into a headline's verb ("Trump Says He Never
    Suggested ...", "Trump May Not Have ..."): the name before it, or ``e``."""
    from spacy.tokens import Span

    if e.label_ != "PERSON":
        return e
    # (not a surname the tagger took for a verb but the parse for a noun: "Rev. John
    # Paul Hopping of ... told HuffPost", where "Hopping" is the subject)
    k = next((k for k in range(1, len(e)) if e[k].pos_ in ("VERB", "AUX", "PRON", "PART", "ADV")
              and e[k].dep_ not in _NOMINAL_DEPS), None)
    if k is None:
        return e
    if k > 1 and e[k - 1].lower_ in _MODALS:
        k -= 1
    return Span(e.doc, e.start, e.start + k, label="PERSON")


def _person_after_owner(e: Span) -> Span:
    """The person after a possessive inside a name span ("Fox News’ Megyn Kelly",
    "CNN's Jake Tapper" tagged as one name): the outlet owns the journalist, it is not
    part of their name; or ``e``."""
    from spacy.tokens import Span

    if e.label_ not in ("PERSON", "ORG"):
        return e
    k = next((k for k in range(1, len(e) - 1) if e[k].tag_ == "POS" or e[k].text in ("'", "’")), None)
    if k is None:
        return e
    rest = e[k + 1 :]
    if 1 <= len(rest) <= 3 and all(t.pos_ == "PROPN" and t.text[:1].isupper()
                                   and t.lower_ not in _TITLE_WORDS for t in rest):
        return Span(e.doc, rest.start, rest.end, label="PERSON")
    return e


def _person_after_title(e: Span) -> Span:
    """The person at the end of an organisation span that holds their title, or ``e``."""
    from spacy.tokens import Span

    if e.label_ != "ORG":
        return e
    for k in range(len(e) - 2, -1, -1):
        if e[k].lower_ in _PERSON_TITLES:
            rest = e[k + 1:]
            if 1 <= len(rest) <= 3 and all(t.pos_ == "PROPN" and t.text[:1].isupper()
                                           and t.lower_ not in _TITLE_WORDS for t in rest) and (
                    rest[-1].lower_ not in _ORG_LAST_WORDS | _ORG_NOUNS):  # "the Justice Department"
                return Span(e.doc, rest.start, rest.end, label="PERSON")
            break
    return e


def _build_resolver(doc: Doc, sent_of: list[int], in_quote: list[bool]) -> _Resolver:
    res = _Resolver(doc=doc, sent_of=sent_of, in_quote=in_quote)
    res.ents = _consistent_ents(doc)
    for e in res.ents:
        for i in range(e.start, e.end):
            res.ent_at[i] = e
    ents = [e for e in res.ents if e.label_ in ("PERSON", "ORG")]
    for e in ents:
        w = _name_words(e.text)
        if w and w not in res.names:
            res.names.append(w)
            res.name_first[" ".join(w)] = e.start_char
        if w and e.label_ == "PERSON":
            res.person_names.add(w)
        # "Assembly of First Nations (AFN)"
        if e.label_ == "ORG" and e.end + 2 < len(doc) and doc[e.end].text == "(":
            acr = doc[e.end + 1].text
            if acr.isupper() and doc[e.end + 2].text == ")":
                res.acronyms[acr] = " ".join(w)
    for e in ents:
        w = _name_words(e.text)
        if not w:
            continue
        honorific = _HONORIFICS.get(doc[e.start - 1].lower_) if e.start > 0 else None
        name = _fullest(res, w, e.label_, e.start_char, honorific)
        res.canon[(e.start_char, e.end_char)] = name
        if e.label_ == "PERSON":
            g = honorific
            if g:
                res.gender.setdefault(name, g)
            elif len(name.split()) >= 2 or len(w) == 1 and not any(
                len(n) > 1 and n[-1] == w[0] for n in res.names
            ):
                g = first_name_gender(name.split()[0])
                if g:
                    res.name_gender.setdefault(name, g)
            for role in _left_title(doc, e) + _appos_roles(e):
                res.roles.setdefault(role, []).append((e.start_char, name))
        if not any(in_quote[t.i] for t in e):
            # "the group's chief executive, Barry Rand, issued": the name in apposition
            # to the subject is the subject.
            heads = [t.head if t.dep_ == "appos" else t for t in e]
            subj = any(t.dep_ in ("nsubj", "nsubjpass") for t in heads)
            spk = any(t.dep_ == "nsubj" and t.head.lemma_.lower() in SPEECH_VERBS for t in heads)
            label = e.label_
            nw = tuple(name.split())
            if label == "PERSON" and any(n[-1].lower() in _ORG_LAST_WORDS for n in [w, nw] + [
                n for n in res.names if len(n) > len(nw) and n[: len(nw)] == nw
            ]):
                # "Riverside High School", "Jane Doe / CBC News"; "Covington Catholic"
                # in an article about "Covington Catholic High School"
                label = "ORG"
            res.mentions.append(
                _Mention(e.start_char, e.end_char, sent_of[e.start], name, label, subj, spk)
            )
    # "Kim Jong-un" written "Kim" later: the first word is the family name, so it
    # says nothing of gender.
    for e in ents:
        w = _name_words(e.text)
        name = res.canon.get((e.start_char, e.end_char), "")
        if e.label_ == "PERSON" and len(w) == 1 and name.split()[:1] == [w[0]] and " " in name:
            res.name_gender.pop(name, None)
    _vote_genders(res)
    # Subject pronouns resolved in text order, each keeping its referent salient
    # for the next one ("She met ... She said ... , she said").
    for t in doc:
        if (
            t.lower_ in _MALE | _FEMALE | _PLURAL
            and t.dep_ in ("nsubj", "nsubjpass")
            and not in_quote[t.i]
        ):
            ref = _pronoun(res, t)
            if ref is not None:
                res.resolved[t.i] = ref
                label = "ORG" if t.lower_ in _PLURAL else "PERSON"
                spk = t.head.lemma_.lower() in SPEECH_VERBS
                res.mentions.append(
                    _Mention(t.idx, t.idx + len(t), sent_of[t.i], ref, label, True, spk)
                )
    for t in doc:
        if t.pos_ == "NOUN" and t.lemma_.lower() in _DOC_NOUNS and not in_quote[t.i]:
            author = _author(res, t)
            if author is not None:
                res.authors.append((t.idx, t.lemma_.lower(), author))
    return res


# Last words of names that the NER calls people but are not.
_ORG_LAST_WORDS = frozenset(
    """
    school university college institute inc inc. corp corp. ltd ltd. llc company group
    council association party church hospital services service department centre center
    hall foundation society club news network agency
    """.split()
)


def _vote_genders(res: _Resolver) -> None:
    """he/she of a person from pronouns that follow a sentence naming only them."""
    votes: dict[str, list[str]] = {}
    by_sent: dict[int, set[str]] = {}
    for m in res.mentions:
        if m.label == "PERSON":
            by_sent.setdefault(m.sent, set()).add(m.name)
    for t in res.doc:
        low = t.lower_
        if res.in_quote[t.i] or low not in _MALE | _FEMALE:
            continue
        si = res.sent_of[t.i]
        here = {m.name for m in res.mentions
                if m.sent == si and m.label == "PERSON" and m.start < t.idx}
        people = here or by_sent.get(si - 1, set())
        g = "m" if low in _MALE else "f"
        # A first name of the other gender rules a person out of the vote.
        people = {p for p in people if res.name_gender.get(p, g) == g}
        if len(people) == 1:
            votes.setdefault(next(iter(people)), []).append(g)
    for name, v in votes.items():
        if name not in res.gender:
            n_m, n_f = v.count("m"), v.count("f")
            if n_m != n_f:
                res.gender[name] = "m" if n_m > n_f else "f"


@lru_cache(maxsize=1)
def _first_names() -> dict[str, str]:
    """First name -> "m"/"f" from the US census lists that the ``names`` package
    ships (MIT), where one gender is at least ``_NAME_RATIO`` times as frequent."""
    try:
        import names as names_pkg

        base = resources.files(names_pkg)
        freq: dict[str, dict[str, float]] = {}
        for g, fn in (("m", "dist.male.first"), ("f", "dist.female.first")):
            for line in base.joinpath(fn).read_text("utf-8").splitlines():
                parts = line.split()
                if len(parts) >= 2:
                    freq.setdefault(parts[0].lower(), {})[g] = float(parts[1])
    except (ImportError, OSError, ValueError) as exc:
        log.warning("first-name genders unavailable: %s", exc)
        return {}
    out = {}
    for n, f in freq.items():
        m, w = f.get("m", 0.0), f.get("f", 0.0)
        if m >= _NAME_RATIO * max(w, 1e-4):
            out[n] = "m"
        elif w >= _NAME_RATIO * max(m, 1e-4):
            out[n] = "f"
    return out


def first_name_gender(first: str) -> str | None:
    """ "m" or "f" for a first name one gender holds far more often, else None."""
    return _first_names().get(first.lower().strip("."))


_NAME_RATIO = 5.0
# Capitalised words, with the small words names keep inside ("Bank of Canada").
_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|the|and|for|on)\s+)?[A-Z][\w'’-]*)+")


def _fullest(
    res: _Resolver, w: tuple[str, ...], label: str, pos: int, gender: str | None = None
) -> str:
    """The fullest name of the article that ``w`` is a short form of; with the
    ``gender`` an honorific gives ("Mr. Obama"), never a name whose first name says
    otherwise ("Malia Obama")."""
    if len(w) == 1 and w[0] in res.acronyms:
        return res.acronyms[w[0]]
    if len(w) == 1 and w[0].isupper() and 2 <= len(w[0]) <= 6:
        # "PBO" for the "Parliamentary Budget Officer" named before.
        for n in res.names:
            if len(n) >= 2 and "".join(x[0] for x in n if x[:1].isupper()) == w[0]:
                return " ".join(n)
        # ... or written out before without the NER calling it a name.
        # ("The Parliamentary Budget Officer Yves Giroux": any stretch of the run).
        for m in _CAPITALISED_RUN.finditer(res.doc.text, 0, pos):
            words = m.group(0).split()
            for i, j in itertools.combinations(range(len(words) + 1), 2):
                part = words[i:j]
                if (j - i >= 2 and part[-1][:1].isupper()
                        and "".join(x[0] for x in part if x[:1].isupper()) == w[0]):
                    return " ".join(part)
    best = w
    best_key = (len(w), 0)
    for n in res.names:
        if len(n) <= len(w) or len(n) > 5:
            continue
        # a first name or the start of a name stands for a person's full name only,
        # never for an organisation named after one ("Mr. Trump" is not "Trump
        # Administration", "Obama" not "Obama Foundation")
        ok = n[-len(w) :] == w or (
            ((len(w) == 1 and n[0] == w[0]) or n[: len(w)] == w)
            and (label != "PERSON" or n in res.person_names))
        if not ok:
            continue
        if gender is not None and first_name_gender(n[0]) not in (None, gender):
            continue
        first = res.name_first.get(" ".join(n), 0)
        # Prefer longer names, then the one introduced last before this mention.
        key = (min(len(n), 3), first if first <= pos else -first)
        if key > best_key:
            best, best_key = n, key
    return " ".join(best)


_DEFINITE = "the "  # a role key that only a definite description may use
_ROLE_ABBREVIATIONS = {
    "gov.": ("governor",), "sen.": ("senator", "lawmaker"),
    "rep.": ("representative", "congressman", "congresswoman", "lawmaker"),
    "gen.": ("general",), "col.": ("colonel",), "capt.": ("captain",), "lt.": ("lieutenant",),
    "sgt.": ("sergeant",), "supt.": ("superintendent",), "det.": ("detective",),
    "prof.": ("professor",),
}


def _left_title(doc: Doc, e: Span) -> list[str]:
    """Role nouns written before a name: "Russian President X", "spokesperson X"."""
    roles: list[str] = []
    i = e.start - 1
    while i >= 0 and i >= e.start - 4:
        t = doc[i]
        if t.is_punct or t.ent_type_ == "PERSON":
            break
        if t.dep_ in ("compound", "amod", "nmod") or t.ent_type_ == "NORP" or (
            t.pos_ in ("NOUN", "PROPN") and e.start <= t.head.i < e.end
        ):
            if t.lower_ in _ROLE_ABBREVIATIONS:
                # "Gov. Mike Pence ... the governor"; only for a definite description
                # ("a representative for his office" is someone else)
                roles.extend(_DEFINITE + r for r in _ROLE_ABBREVIATIONS[t.lower_])
            elif t.pos_ in ("NOUN", "PROPN") and t.is_alpha and not t.ent_type_:
                if t.lower_ not in ("mr", "mrs", "ms", "dr"):
                    # "Vice-President X" is the vice-president, not the president
                    roles.append(f"{doc[i - 2].lower_}-{t.lower_}" if _hyphenated(t) else t.lower_)
            i -= 1
        else:
            break
    return roles


def _appos_roles(e: Span) -> list[str]:
    roles = []
    root = e.root
    for c in root.children:
        if c.dep_ == "appos" and c.pos_ == "NOUN":
            roles.append(c.lemma_.lower())
    if root.dep_ == "appos" and root.head.pos_ == "NOUN":
        roles.append(root.head.lemma_.lower())
    return roles


def _ent_of(res: _Resolver, tok: Token) -> Span | None:
    return res.ent_at.get(tok.i)


def _noun_phrase(tok: Token) -> tuple[int, int]:
    """Character span of the noun phrase headed by ``tok`` (no relative clauses)."""
    idx = {tok.i}
    for c in tok.lefts:
        if c.dep_ in ("det", "amod", "compound", "nmod", "poss", "nummod", "quantmod") and not (
            c.tag_ in ("VBD", "VBZ") and c.is_lower  # '... respect." added Lauten': the cue
        ):
            idx.update(x.i for x in c.subtree)
    for c in tok.rights:
        if c.dep_ == "compound" or c.dep_ == "prep" and c.lower_ in ("of", "for", "at", "from"):
            # not a relative clause inside ("An executive from Apple Inc., which plans
            # to build a plant in Mesa,")
            clauses = {x.i for r in c.subtree if r.dep_ == "relcl" for x in r.subtree}
            idx.update(x.i for x in c.subtree if x.i not in clauses)
    lo = hi = tok.i
    while lo - 1 in idx:
        lo -= 1
    while hi + 1 in idx:
        hi += 1
    doc = tok.doc
    while hi > tok.i and doc[hi].is_punct and doc[hi].text not in (")", "]"):
        hi -= 1
    while lo >= 2 and _hyphenated(doc[lo]):
        lo -= 2  # "Fact-checkers", "Vice-president": the tokenizer split the word
    return doc[lo].idx, doc[hi].idx + len(doc[hi])


# Nouns naming an organisation that a definite "the company" refers back to.
_ORG_NOUNS = frozenset(
    """
    company firm agency group bank government department ministry union organization
    organisation association council board commission committee service university
    school team club party court office corporation network coalition authority
    airline retailer manufacturer giant startup campaign diocese church hospital
    """.split()
)
# Nouns naming what a source wrote: "her statement said" is hers.
_DOC_NOUNS = frozenset(
    """
    statement release post tweet account letter email e-mail report document memo filing
    note message website notice blog column op-ed lawsuit suit complaint submission
    book study survey research analysis poll paper ruling finding decision judgment speech
    interview video advertisement ad petition motion brief affidavit database
    """.split()
)
# Document nouns one article uses for the same text: "a study by X ... the report said".
_DOC_FAMILY = {w: fam for fam in (
    frozenset("report study survey research analysis paper poll".split()),
    frozenset("statement release".split()),
    frozenset("post tweet blog".split()),
    frozenset("lawsuit suit complaint".split()),
) for w in fam}
# Things that are said to say ("the indictment alleged", "the bill says") but are
# neither people nor documents with an author (so not in _DOC_NOUNS: "Hunter's
# indictment" is not Hunter's writing): a description of one is never the person just
# named ("Hunter ... The indictment also alleged" is not Hunter's).
_THINGS = frozenset(
    """
    indictment charge warrant subpoena verdict transcript bill legislation measure
    proposal plan law data figure result budget order agreement deal contract treaty
    """.split()
)
_RELATIVE = frozenset({"who", "which", "that", "whom"})


_TIME_LABELS = frozenset({"DATE", "TIME"})


def _resolve(res: _Resolver, tok: Token | None) -> _Speaker:
    if tok is None:
        return _Speaker(None, None, None, None)
    doc = res.doc
    if res.in_quote[tok.i] and tok.lower_ not in PRONOUNS:
        # A source inside quotation marks is a misparse ("Doug Purdy, who lost 16
        # lbs. 'and two belt loops' ..., says"): the sentence's first person or
        # organisation outside the marks, else no one.
        sent = tok.sent
        outside = [e for e in res.ents if sent.start_char <= e.start_char < tok.idx
                   and e.label_ in ("PERSON", "ORG") and not res.in_quote[e.start]]
        if not outside:
            return _Speaker(None, None, None, None)
        tok = doc[outside[0].end - 1]
    if tok.lower_ in _RELATIVE and tok.head.dep_ == "relcl" and tok.head.head.i != tok.i:
        tok = tok.head.head  # "officials who say ..." -> officials
    if (tok.i + 3 < len(doc) and _hyphenated(doc[tok.i + 2]) and not tok.ent_type_
            and doc[tok.i + 3].ent_type_ == "PERSON"):
        # "said Indivisible co-founder Ezra Levin": the parse made "co", the first half
        # of a word split at its hyphen, the subject; the person named right after it.
        e = _ent_of(res, doc[tok.i + 3])
        if e is not None and e.label_ == "PERSON":
            return _resolve(res, doc[e.end - 1])
    if tok.ent_type_ in _TIME_LABELS and tok.lower_ not in ("old", "olds"):
        # A time never speaks: "Earlier Friday, chairman of the committee Rep. Adam
        # Schiff revealed" (the parse made Friday the subject); the person named
        # between it and the verb, else no one. (An age does: "says my two-year-old".)
        verb = tok.head
        between = [e for e in res.ents if tok.idx < e.start_char and e.end_char <= verb.idx
                   and e.label_ in ("PERSON", "ORG")]
        between.sort(key=lambda e: (e.label_ != "PERSON", e.start_char))
        if not between or tok.i >= verb.i:
            return _Speaker(None, None, None, None)
        return _resolve(res, doc[between[0].end - 1])
    e = _ent_of(res, tok)
    if e is not None and e.label_ == "ORG" and (person := _person_titled_after(res, e, tok)):
        return _resolve(res, person)
    if e is None or e.label_ != "PERSON":
        # "One red-state Democrat, Montana Sen. Jon Tester, said": the person in
        # apposition
        # (or a name the NER took for an organisation in apposition to a noun
        # for a person: "A spokesman for the committee, Brad Woodhouse, said")
        person = next((c for c in tok.children if c.dep_ == "appos" and (
            (x := _ent_of(res, c)) is not None and x.label_ == "PERSON"
            or tok.lemma_.lower() in _PERSON_NOUNS and c.pos_ == "PROPN"
            and (x is None or x.label_ == "ORG" and 2 <= len(x) <= 3)
        )), None)
        if person is not None:
            return _resolve(res, person)
    if e is not None and e.label_ == "NORP" and tok.tag_ in ("NN", "NNP") and any(
        c.lower_ == "the" for c in tok.lefts
    ):
        # "the Kentucky Republican said": one party member, the person just named.
        name = _best(res, tok, "PERSON", None, reach=_DESC_REACH, subjects=True)
        if name is not None:
            a, b = _noun_phrase(tok)
            return _Speaker(name, doc.text[a:b], a, b)
    if e is not None and e.label_ in ("PERSON", "ORG", "NORP", "GPE"):
        name = res.canon.get((e.start_char, e.end_char))
        if name is None:
            name = " ".join(_name_words(e.text)) or None
        if name is None and e.label_ == "PERSON":
            name = _titled_surname(res, e)
        return _Speaker(name, e.text, e.start_char, e.end_char)
    low = tok.lower_
    if low in PRONOUNS:
        name = res.resolved.get(tok.i)
        if name is None and (tok.dep_ not in ("nsubj", "nsubjpass") or low == "it") \
                and not res.in_quote[tok.i]:
            name = _pronoun(res, tok)
        return _Speaker(name, tok.text, tok.idx, tok.idx + len(tok))
    a, b = _noun_phrase(tok)
    written = doc.text[a:b]
    if tok.pos_ == "PROPN":
        run = _name_run(tok, a, b)
        if run is not None:
            # "The Gay and Lesbian Alliance Against Defamation has asked": a name
            # with "and" in it, which the parse split into two.
            a, b = run
            written = doc.text[a:b]
        w = _name_words(written)
        name = _fullest(res, w, "PERSON", a) if w else None
        if not w and tok.text[:1].isupper():
            # "King says": a surname that is also a title word, alone (with "the"
            # before it, "The King", the words stay as written); the NER left it
            # untagged.
            name = tok.text
        return _Speaker(name, written, a, b)
    lemma, lower = tok.lemma_.lower(), tok.lower_
    if _hyphenated(tok):  # a vice-president is not the president
        lemma, lower = (f"{doc[tok.i - 2].lower_}-{w}" for w in (lemma, lower))
    named = _named_in(tok)
    if named is not None:
        # "A disaster agency official named Jhony told reporters": the name given
        inner = _resolve(res, named)
        if inner.name is not None:
            return _Speaker(inner.name, written, a, b)
    if lemma in _DOC_NOUNS:
        # "her statement", "the RCMP statement", "a report by the agency": the author.
        author = _author(res, tok)
        if author is None:
            # "the report": the author of the report written of before.
            family = _DOC_FAMILY.get(lemma, {lemma})
            earlier = [n for p, lem, n in res.authors if lem in family and p < tok.idx]
            author = earlier[-1] if earlier else None
        if author is not None:
            return _Speaker(author, written, a, b)
    definite = any(c.lower_ == "the" for c in tok.lefts)
    # (not a number of them: "47 percent of Cuban Americans", "two officials")
    counted = any(c.dep_ == "nummod" for c in tok.children) or tok.tag_ == "NNS"  # or several
    cands = None if counted else res.roles.get(lemma) or res.roles.get(lower) or (
        res.roles.get(_DEFINITE + lemma) if definite else None)
    if cands:
        before = [n for p, n in cands if p < tok.idx]
        name = before[-1] if before else cands[0][1]
        if len(set(before)) > 1:
            # "President Trump ... his opponent for president, Hillary Clinton ... Mr.
            # Trump ... the president said": of the people the article gives the
            # role, the one mentioned last (by surname too: "Mr. Hutchinson").
            surname = {n.split()[-1]: n for n in before}
            last: dict[str, int] = {}
            for m in res.mentions:
                if m.start < tok.idx and m.label == "PERSON":
                    who = m.name if m.name in before else surname.get(m.name.split()[-1])
                    if who is not None:
                        last[who] = m.start
            if last:
                name = max(last, key=lambda n: last[n])
        return _Speaker(name, written, a, b)
    # "A Superior Court judge chastised the station ... Justice Sean Dunphy directed
    # ...": a description that brings in someone new, then the person the next
    # sentence brings in by name.
    indefinite = any(c.lower_ in ("a", "an", "one") and c.dep_ in ("det", "nummod")
                     for c in tok.lefts)
    if indefinite and tok.tag_ == "NN" and lemma not in _ORG_NOUNS | _DOC_NOUNS | _THINGS:
        name = _introduced_next(res, tok)
        if name is not None:
            return _Speaker(name, written, a, b)
    # "the company": the organisation named before. (Sending other definite
    # descriptions, "the 26-year-old", to the most salient person was neutral on
    # the development half, so they stay as written.)
    if definite and tok.tag_ == "NN" and lemma in _ORG_NOUNS:
        name = _salient(res, tok, "ORG", lemma)
        if name is not None:
            return _Speaker(name, written, a, b)
    # "The 32-year-old labourer said": a singular description right after a
    # sentence about one person is that person.
    if definite and tok.tag_ == "NN" and lemma not in _ORG_NOUNS | _DOC_NOUNS | _THINGS and (
        not any(c.dep_ == "prep" for c in tok.rights)
    ):
        name = _best(res, tok, "PERSON", _noun_gender(lemma), reach=_DESC_REACH, subjects=True)
        if name is not None:
            return _Speaker(name, written, a, b)
    # A group or an unnamed source ("police", "officials"): the words as written.
    words = written.split()
    while words and words[0].lower() in ("the", "a", "an"):
        words = words[1:]
    return _Speaker(" ".join(words) or None, written, a, b)


def _joint(res: _Resolver, tok: Token | None, spk: _Speaker) -> _Speaker:
    """ "Autor and Hanson said", "said Nick Sandmann and Nathan Phillips": people named
    together as the subject speak together; the speaker is all of them ("David Autor
    and Gordon Hanson"), not the first. Only named people: "Sanders and his wife"
    stays Sanders's, an organisation named with "and" in it stays one name."""
    if tok is None or spk.name is None or spk.start is None:
        return spk
    e = _ent_of(res, tok)
    if e is None or e.label_ != "PERSON" or not any(
            c.dep_ == "cc" and c.lower_ in ("and", "&") for x in (tok, *tok.conjuncts) for c in x.children):
        return spk
    names, end = [spk.name], spk.end or e.end_char
    for c in tok.conjuncts:
        ce = _ent_of(res, c)
        if ce is None or ce.start_char < e.end_char or ce.label_ != "PERSON" and not (
                # "John Lewis, Andre Carson and Emanuel Cleaver said": a name the small
                # model tagged an organisation, in a row of people, with a first name
                ce.label_ == "ORG" and 2 <= len(ce) <= 3 and first_name_gender(ce[0].text) is not None):
            continue
        other = _resolve(res, res.doc[ce.end - 1]).name
        if other is None or other in names:
            continue
        names.append(other)
        end = max(end, ce.end_char)
    if len(names) == 1:
        return spk
    joined = ", ".join(names[:-1]) + " and " + names[-1]
    return _Speaker(joined, res.doc.text[spk.start:end], spk.start, end)


def _person_titled_after(res: _Resolver, e: Span, tok: Token) -> Token | None:
    """The person an organisation's title introduces just before the verb ("The
    National Organization for Women President Terry O'Neill said", where the parse
    made the organisation the subject and the person an object of its "for")."""
    doc = res.doc
    j = e.end
    while j < len(doc) and j < e.end + 3 and doc[j].lower_ in _TITLE_WORDS | _PERSON_TITLES:
        j += 1
    person = res.ent_at.get(j)
    if (j == e.end or person is None or person.label_ != "PERSON" or person.start != j
            or tok.head.i != person.end or tok.head.i == tok.i):
        return None
    return doc[person.end - 1]


def _name_run(tok: Token, a: int, b: int) -> tuple[int, int] | None:
    """The run of capitalised words that starts at ``tok``'s noun phrase and goes on
    past it inside ``tok``'s subtree, or None."""
    text = tok.doc.text
    stop = tok.right_edge.idx + len(tok.right_edge)
    for m in _CAPITALISED_RUN.finditer(text, a, stop):
        if m.start() > b:
            break
        if m.start() <= tok.idx < m.end() and m.end() > b:
            # not two people ("Smith and Jones said")
            span = tok.doc.char_span(m.start(), m.end(), alignment_mode="expand")
            if span is None or any(t.ent_type_ == "PERSON" for t in span) \
                    or sum(t.text[:1].isupper() for t in span) < 3:
                return None
            return min(a, m.start()), m.end()
    return None


_MALE_NOUNS = frozenset("man father son brother husband boy king prince uncle grandfather actor".split())
_FEMALE_NOUNS = frozenset(
    "woman mother daughter sister wife girl queen princess aunt grandmother actress".split())


def _noun_gender(lemma: str) -> str | None:
    """The gender a noun for a person gives ("the four-term congressman": not Lauren
    Greene), or None."""
    if lemma in _FEMALE_NOUNS or lemma.endswith("woman"):
        return "f"
    if lemma in _MALE_NOUNS or lemma.endswith("man") and lemma not in ("human", "ottoman"):
        return "m"
    return None


def _named_in(tok: Token) -> Token | None:
    """The name a description gives its person: "an official named Jhony", "a
    spokesperson identified as John Smith" (wherever the parse hangs "named")."""
    for x in tok.subtree:
        if x.dep_ == "acl" and x.tag_ == "VBN" and x.lemma_.lower() in ("name", "identify"):
            for c in x.children:
                # "named Jhony", "identified as John Smith"
                name = c if c.pos_ == "PROPN" else next(
                    (g for g in c.children if c.dep_ == "prep" and g.pos_ == "PROPN"), None)
                if name is not None:
                    return name
    return None


def _introduced_next(res: _Resolver, tok: Token) -> str | None:
    """The person whom the sentence after ``tok``'s brings in as its subject, if the
    article has not named that person before ``tok``."""
    si = res.sent_of[tok.i]
    nxt = [m for m in res.mentions if m.label == "PERSON" and m.sent == si + 1 and m.subject]
    if not nxt:
        return None
    first = min(nxt, key=lambda m: m.start)
    if any(m.name == first.name and m.start < tok.idx for m in res.mentions):
        return None
    # "an AARP spokeswoman said ... AARP legislative policy director David Certner
    # said": a person brought in under another description is someone else.
    doc = res.doc
    span = doc.char_span(first.start, first.end, alignment_mode="expand")
    if span is not None:
        own = []
        i = span.start - 1
        while i >= 0 and doc[i].tag_ in ("NN", "JJ", "NNP") and doc[i].sent == span.sent:
            if doc[i].tag_ == "NN" and doc[i].is_lower:
                own.append(doc[i].lemma_.lower())
            i -= 1
        if own and tok.lemma_.lower() not in own:
            return None
    return first.name


def _titled_surname(res: _Resolver, e: Span) -> str | None:
    """ "Mr. King", "Ms. Justice": a surname that is also a title word, which a name's
    words drop; right after an honorific (in the name or just before it) it can only
    be the name."""
    last = e[-1]
    title = e[-2] if len(e) > 1 else (e.doc[e.start - 1] if e.start > 0 else None)
    if title is None or title.lower_.rstrip(".") not in _SURNAME_TITLES or not last.text[:1].isupper():
        return None
    return _fullest(res, (last.text,), "PERSON", e.start_char) or last.text


def _author(res: _Resolver, tok: Token) -> str | None:
    """Who wrote the document noun ``tok``: its owner ("her statement", "the RCMP
    report", "a study by X", "a statement e-mailed by X"), or else the subject of
    the verb that made it ("X released a report", "X said in the company's post")."""
    doc = tok.doc
    owners = [c for c in tok.children if c.dep_ == "poss" or (
        c.dep_ == "compound" and c.ent_type_ in ("PERSON", "ORG"))]
    # "Mattis’ resignation letter": a name ending in s with a bare apostrophe, which
    # the small model does not parse as a possessive.
    owners += [c for c in tok.lefts if c.dep_ in ("nmod", "compound") and c.pos_ == "PROPN"
               and c.i + 1 < tok.i and doc[c.i + 1].text in ("’", "'") and c.lower_.endswith("s")]
    owners += [g for c in tok.children if c.dep_ in ("prep", "agent")
               and c.lower_ in ("by", "from", "of") for g in c.children if g.dep_ == "pobj"
               and (g.ent_type_ in ("PERSON", "ORG") or c.lower_ != "of")]
    # "a statement e-mailed to The Globe by X": the agent of a participle of writing
    # or sending (not of any participle: "the memo obtained by The Globe").
    owners += [g for v in tok.children if v.dep_ == "acl"
               and v.lemma_.lower() in SPEECH_VERBS | _AUTHOR_VERBS
               for c in v.children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj"]
    head = tok.head
    makers: list[Token] = []
    if tok.dep_ == "dobj" and head.lemma_.lower() in _AUTHOR_VERBS:
        makers = [c for c in head.children if c.dep_ == "nsubj"]
    if tok.dep_ == "pobj" and head.lower_ in ("in", "through", "via"):
        verb = head.head
        if verb.pos_ == "VERB" and verb.lemma_.lower() in SPEECH_VERBS | _AUTHOR_VERBS:
            subj = _subject(verb)
            makers = [subj] if subj is not None else []
    # Makers only when no owner resolves: "X said in the company's post" is X's.
    for o in owners + makers:
        if o.lower_ in _RELATIVE or o.i == tok.i:
            continue
        if o.lemma_.lower() in _DOC_NOUNS:
            continue
        inner = _resolve(res, o)
        if inner.name is not None and (o.ent_type_ or o.lower_ in PRONOUNS or o.pos_ == "PROPN"
                                       or any(c.dep_ == "appos" and c.ent_type_ == "PERSON"
                                              for c in o.children)):
            # (a description with the person's name in apposition: "the statement
            # from Grimm's attorney, William McGinley")
            return inner.name
    return None


_AUTHOR_VERBS = frozenset(
    "release publish issue commission conduct produce prepare write send post file author "
    "present table submit unveil email mail".split()
)


def _salient(res: _Resolver, tok: Token, label: str, noun: str) -> str | None:
    """The most salient ``label`` mention before ``tok`` (one whose name holds
    ``noun`` preferred)."""
    si = res.sent_of[tok.i]
    named = [m for m in res.mentions if m.label == label and m.start < tok.idx
             and si - m.sent <= 8 and noun in m.name.lower()]
    if named:
        return max(named, key=lambda m: m.start).name
    if noun not in _BUSINESS_NOUNS:
        # "the government", "the union", "the commission": institutions are named
        # with that word ("the Public Service Alliance union" aside), so one whose
        # name lacks it is another body; the description as written is the better
        # answer than the last organisation mentioned.
        return None
    return _best(res, tok, label, None)


# Organisation nouns whose referents' names seldom contain them ("the company" is
# Rogers Media, "the team" the Maple Leafs, "the agency" TransLink).
_BUSINESS_NOUNS = frozenset(
    "company firm bank airline retailer manufacturer giant startup corporation network group "
    "team club agency organization organisation".split()
)


def _pronoun(res: _Resolver, tok: Token) -> str | None:
    low = tok.lower_
    if low == "it":
        # "It said current officials have ...": the organisation just named
        return _best(res, tok, "ORG", None, reach=2)
    if low not in _MALE | _FEMALE | _PLURAL:
        return None
    if low in _PLURAL:
        return _best(res, tok, "ORG", None, reach=2)
    gender = "m" if low in _MALE else "f"
    # "Schniederjans, who he calls a good ball-striker": the subject of a relative
    # clause is not the person the clause is about.
    about = None
    if tok.head.dep_ == "relcl" and tok.dep_ in ("nsubj", "nsubjpass"):
        e = _ent_of(res, tok.head.head)
        if e is not None:
            about = res.canon.get((e.start_char, e.end_char)) or " ".join(_name_words(e.text))
    # The speaker of a parenthetical "he said" is never a name inside the clause it
    # reports ("Saying President Obama, he said, was 'too simple an answer'").
    bound: set[int] = set()
    if tok.dep_ == "nsubj" and tok.head.dep_ == "parataxis":
        bound.update(y.idx for y in tok.head.head.subtree if y.i != tok.i)
    # Nobody fits in the last sentences: the most salient person of the article.
    return (_best(res, tok, "PERSON", gender, exclude=about, bound=bound)
            or _best(res, tok, "PERSON", gender, reach=10**6, exclude=about, bound=bound))


def _best(
    res: _Resolver, tok: Token, label: str, gender: str | None, reach: int = 8,
    subjects: bool = False, exclude: str | None = None, bound: set[int] | None = None,
) -> str | None:
    """Salience of the names before ``tok``, but ``exclude`` and the mentions that
    start at a ``bound`` offset: recent sentences, grammatical subjects and sources of
    speech verbs weigh most; a known gender must agree."""
    si = res.sent_of[tok.i]
    score: dict[str, float] = {}
    for m in res.mentions:
        if m.label != label or m.start >= tok.idx or m.name == exclude:
            continue
        if bound and m.start in bound:
            continue
        dist = si - m.sent
        if dist > reach or subjects and not m.subject:
            continue
        g = res.gender.get(m.name)
        # A first name only rules a person out; the text's own he/she also counts for.
        g_any = g or res.name_gender.get(m.name)
        if gender is not None and g_any is not None and g_any != gender:
            continue
        sc = -dist + _W_SUBJECT * m.subject + _W_SPEAKER * m.speaker + 1e-6 * m.start
        if gender is not None and g == gender:
            sc += _W_GENDER
        elif gender is not None and g_any == gender:
            sc += _W_NAME_GENDER
        score[m.name] = max(score.get(m.name, -1e9), sc)
    if not score:
        return None
    return max(score, key=lambda n: score[n])


# Tuned on the ggt development half (how often a name is repeated did not help).
_W_SUBJECT, _W_SPEAKER, _W_GENDER = 1.0, 1.0, 1.5
# A first name's usual gender is weaker evidence than the text's own he/she
# (tuned on the ggt development half: 0.75 and 1.5 both gain there, 0.75 more).
_W_NAME_GENDER = 0.75
_DESC_REACH = 1


def _token_at(doc: Doc, pos: int) -> int | None:
    for t in doc:
        if t.idx <= pos < t.idx + len(t):
            return t.i
        if t.idx > pos:
            return t.i
    return None
