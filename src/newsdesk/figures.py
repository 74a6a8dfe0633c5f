"""Numbers in news text with their unit and what they count, compared across articles.

"North Korea has sent roughly 15,000 troops" -> Figure(value=15000, unit="troops",
counts="troops", kind="count", approx=True). A regular expression finds the number
phrase (digits, number words, currency, scale words, vague plurals such as
"thousands"); the dependency parse of spaCy's small English model gives the noun or
event the number counts ("killed 12 people" -> counts "dead").

Libraries weighed: ``text2num`` composes number words ("three hundred and forty
two") and is used for that; it has no "two dozen", "a million", "1.2 million" or
"three-and-a-half", so those wrappers are written here. ``quantulum3`` extracts
number+unit pairs but reads "10:30 a.m." as 30 years, keeps years as figures, gives
no counted noun, approximation or vague amounts, and takes 2 s to load, so the
phrase grammar below (a few dozen lines) is written by hand instead.

Choices:
- Dates are never figures (the timeline is built elsewhere): years, days of the
  month, decades and times of day are skipped; ``kind="date"`` is not produced.
- "one"/"two" that count nothing ("one of the", "one said") or follow a determiner
  ("the two leaders") refer back to people already named rather than report a
  number, so they are skipped; so is a lone "one" that introduces someone ("one
  lawmaker said"), unless it is a casualty or bounded ("at least one").
- Word ordinals are kept only before a few nouns whose ordinal is a fact
  ("fifth term", "third anniversary"); "the first time" is not a figure.
- ``group_figures`` returns a partition: every figure is in exactly one group,
  singletons included.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from text_to_num import text2num

from newsdesk.records import Figure

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

__all__ = ["COMPONENT", "consistent", "extract_figures", "group_figures", "same_quantity"]

COMPONENT = "figures.rules.v5"
log = logging.getLogger(__name__)

_MAX_CHARS = 1_000_000  # spaCy's default max_length; longer texts are read up to here

# --- the number phrase ---------------------------------------------------------------


def _alt(words: Sequence[str]) -> str:
    return "(?:" + "|".join(sorted(words, key=len, reverse=True)) + ")"


_UNIT_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TEN_WORDS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_ATTACHED_SCALES = {"k": 1e3, "m": 1e6, "mn": 1e6, "bn": 1e9, "b": 1e9, "tn": 1e12}
_ORDINAL_WORDS = {
    w: i + 1
    for i, w in enumerate(
        "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
        "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split()
    )
} | {
    "thirtieth": 30,
    "fortieth": 40,
    "fiftieth": 50,
    "sixtieth": 60,
    "seventieth": 70,
    "eightieth": 80,
    "ninetieth": 90,
    "hundredth": 100,
}
# "thousands" spans 2,000 up to where "hundreds of thousands" starts, and so on; a
# vague amount only agrees with a value inside its range.
_VAGUE = {
    "dozens": (24.0, 199.0),
    "scores": (40.0, 199.0),
    "hundreds": (200.0, 1_999.0),
    "thousands": (2_000.0, 99_999.0),
    "tens of thousands": (10_000.0, 99_999.0),
    "hundreds of thousands": (100_000.0, 999_999.0),
    "millions": (2e6, 999e6),
    "tens of millions": (1e7, 99e6),
    "hundreds of millions": (1e8, 999e6),
    "billions": (2e9, 999e9),
}
_FEW = {"several": (3.0, 9.0), "a few": (2.0, 9.0), "a couple of": (2.0, 3.0), "many": (3.0, 99.0)}

_BASIC = rf"(?:{_alt(_TEN_WORDS)}(?:[- ]{_alt(_UNIT_WORDS[1:10])})?|{_alt(_UNIT_WORDS)})\b"
_SCALE = _alt(list(_SCALES))
_ITEM = rf"(?:{_BASIC}|{_SCALE}\b|dozen\b)"
_WORDNUM = rf"(?:an?(?=[- ](?:{_SCALE}|dozen)\b)|{_BASIC})(?:(?:[- ]and)?[- ]{_ITEM})*"
_FRACTION = r"(?:[- ]and[- ]an?[- ](?:half|quarter)|[- ]and[- ]three[- ]quarters)\b"
_DIGITS = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_END = r"(?![\w/:@]|[.,]\d)"
_CURRENCY = r"(?P<cur>US\$|A\$|C\$|HK\$|NZ\$|\$|€|£|¥|₹|(?:USD|EUR|GBP) ?)?"
_PHRASE = re.compile(
    rf"(?<![\w.,/:@#$€£¥₹-]){_CURRENCY}(?:"
    rf"(?P<range>{_DIGITS}) ?(?:-|–|to) ?(?P<range_hi>{_DIGITS}){_END}"
    rf"|(?P<ord>\d+)(?:st|nd|rd|th)\b"
    rf"|(?P<digits>{_DIGITS})(?:(?P<attached>bn|mn|tn|m|k|b)|\s(?P<dscale>{_SCALE}|dozen)\b)?{_END}"
    rf"|(?P<vague>(?:tens|hundreds) of (?:thousands|millions)|dozens|scores(?= of\b)"
    rf"|hundreds|thousands|millions|billions)\b"
    rf"|(?P<few>several|a few|a couple of|many) (?P<fewscale>dozen|{_SCALE})\b"
    rf"|(?P<half>half an?) (?P<halfscale>{_SCALE}|dozen)\b"
    rf"|(?P<words>{_WORDNUM})(?P<frac>{_FRACTION})?(?: (?P<wscale>{_SCALE})\b)?"
    rf"|(?P<ordword>{_alt(list(_ORDINAL_WORDS))})\b"
    r")",
    re.IGNORECASE,
)

# Approximation words just before the number, by what they say about the true value.
_MODIFIERS = (
    r"\b(?P<mod>roughly|about|around|approximately|some|an estimated|estimated|close to|nearly|almost"
    r"|more than|over|at least|upwards of|in excess of|no fewer than|just over|well over"
    r"|up to|fewer than|less than|under|at most|as many as|no more than|just under)\s+"
)
_MODIFIER = re.compile(_MODIFIERS + "$", re.IGNORECASE)  # just before a number
_MODIFIER_START = re.compile(_MODIFIERS, re.IGNORECASE)  # at the start of a figure's text
_LOWER_BOUND = {
    "more than",
    "over",
    "at least",
    "upwards of",
    "in excess of",
    "no fewer than",
    "just over",
    "well over",
}
_NEARLY = {"nearly", "almost", "just under"}
_UPPER_BOUND = {"up to", "fewer than", "less than", "under", "at most", "as many as", "no more than"}

# --- what follows or precedes it ----------------------------------------------------

_PERCENT = re.compile(r"\s?%|\s(?:percent|per cent|pct)\b|\s(?P<pp>percentage points?)\b", re.I)
# "one in five Americans", "a two-in-three chance", "3 out of 10 voters": a share
_ODDS = re.compile(rf"[- ](?:in|out of)[- ](?:(?P<d>{_DIGITS})|(?P<dw>{_WORDNUM})){_END}", re.I)
_AGE_AFTER = re.compile(r"[- ]?(?P<u>years?|months?)[- ]olds?\b", re.I)
_FRACTION_AFTER = re.compile(
    r"[- ](?:halves|thirds|quarters|fourths|fifths|sixths|sevenths|eighths|ninths|tenths)\b", re.I
)
_AGE_BEFORE = re.compile(r"\b(?:aged|age)\s+$", re.I)
_TIME_UNIT = re.compile(
    r"[- ](?P<u>seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies))\b", re.I
)
_CURRENCY_AFTER = re.compile(
    r"(?:\s(?:US|American|Canadian|Australian|Hong Kong))?\s(?P<c>dollars?|euros?|pounds sterling"
    r"|yen|yuan|renminbi|roubles?|rubles?|rupees?|francs?)\b",
    re.I,
)
_MEASURE = re.compile(
    r"\s?(?P<u>km|kilometres?|kilometers?|miles?|metres?|meters?|feet|foot|ft|kg|kilograms?|tonnes?|tons?"
    r"|litres?|liters?|gallons?|barrels?|acres?|hectares?|square (?:kilometres?|kilometers?|miles?)"
    r"|sq km|mph|km/h|kph|degrees?|mw|gw|kw|megawatts?|gigawatts?)\b",
    re.I,
)
# "an 800-pound gorilla", "a 5-pound bag": pounds of weight; pounds of money are written
# with "£" or "sterling" in British text, which is what makes a bare "pounds" money here.
_POUNDS = re.compile(r"[- ](?P<u>pounds?|lbs?)\b", re.I)
_STERLING = re.compile(r"£|\bsterling\b|\bpence\b", re.I)
_TIME_OF_DAY = re.compile(
    r"\s?(?:a\.m\.|p\.m\.|am\b|pm\b|o'clock|gmt\b|bst\b|utc\b|[ecmp][sd]?t\b|hrs\b)", re.I
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_MONTH_BEFORE = re.compile(rf"\b{_MONTHS}\.?\s+$", re.I)
_MONTH_AFTER = re.compile(rf"^(?:\s+of)?\s+{_MONTHS}\b", re.I)
_LABEL_BEFORE = re.compile(
    r"\b(?:page|pages|p|pp|section|chapter|article|paragraph|clause|no|number|item|room|flight|route"
    r"|highway|interstate|platform|gate|terminal|channel|episode|season|volume|vol|act|resolution"
    r"|level|category|grade|phase|stage|version|model|line|row|seat|box|unit|apartment|suite|exit"
    r"|block|lot|district|ward|precinct|squad|division|regiment|battalion|brigade|code|question)\.?\s+$"
    r"|#\s*$",
    re.I,
)
_MASKS = re.compile(
    r"(?:https?://|www\.)\S+"  # URLs
    r"|\b[\w.-]+\.(?:com|org|net|gov|edu|co|uk|io|info|news|int)\b(?:/\S*)?"
    r"|\S+@\S+\.\w+"  # e-mail
    r"|\+?\(?\d{1,4}\)?[ .-]\d{3,4}[ .-]\d{4}\b|\b\d{3}-\d{4}\b"  # phone numbers
    r"|(?m:^[ \t]*\(?\d{1,3}[.)](?=\s))"  # list numbering
    r"|\[\d+\]",  # citation marks
    re.IGNORECASE,
)

_CASUALTY_VERBS = {
    "kill": "dead",
    "die": "dead",
    "perish": "dead",
    "injure": "injured",
    "wound": "injured",
    "hurt": "injured",
}
_CASUALTY_WORDS = {
    "dead": "dead",
    "killed": "dead",
    "died": "dead",
    "death": "dead",
    "deaths": "dead",
    "fatalities": "dead",
    "fatality": "dead",
    "lives": "dead",
    "injured": "injured",
    "wounded": "injured",
    "hurt": "injured",
    "injuries": "injured",
    "injury": "injured",
    "casualties": "casualties",
}
_GENERIC_PEOPLE = {"people", "person", "persons", "others", "individuals"}
_ORDINAL_NOUNS = {
    "anniversary",
    "birthday",
    "term",
    "round",
    "consecutive",
    "straight",
    "edition",
    "summit",
    "victory",
    "win",
    "title",
    "season",
}
_DETERMINERS = {
    "the",
    "these",
    "those",
    "both",
    "all",
    "its",
    "their",
    "his",
    "her",
    "our",
    "my",
    "your",
    "whose",
    "this",
    "that",
}
_SKIP_ENTS = {"ORG", "PRODUCT", "FAC", "WORK_OF_ART", "LAW", "EVENT", "PERSON"}
_UNIT_NAMES = {
    "kilometre": "km",
    "kilometer": "km",
    "km": "km",
    "mile": "miles",
    "metre": "m",
    "meter": "m",
    "feet": "ft",
    "foot": "ft",
    "ft": "ft",
    "kg": "kg",
    "kilogram": "kg",
    "tonne": "tonnes",
    "ton": "tons",
    "litre": "litres",
    "liter": "litres",
    "gallon": "gallons",
    "barrel": "barrels",
    "acre": "acres",
    "hectare": "hectares",
    "mph": "mph",
    "km/h": "km/h",
    "kph": "km/h",
    "degree": "degrees",
    "mw": "MW",
    "megawatt": "MW",
    "gw": "GW",
    "gigawatt": "GW",
    "kw": "kW",
    "sq km": "sq km",
}
_CURRENCIES = {
    "$": "USD",
    "us$": "USD",
    "usd": "USD",
    "dollar": "USD",
    "€": "EUR",
    "eur": "EUR",
    "euro": "EUR",
    "£": "GBP",
    "gbp": "GBP",
    "pound": "GBP",
    "pounds sterling": "GBP",
    "¥": "JPY",
    "yen": "JPY",
    "yuan": "CNY",
    "renminbi": "CNY",
    "rouble": "RUB",
    "ruble": "RUB",
    "₹": "INR",
    "rupee": "INR",
    "franc": "CHF",
    "a$": "AUD",
    "c$": "CAD",
    "hk$": "HKD",
    "nz$": "NZD",
}


@dataclass(frozen=True, slots=True)
class _Number:
    """The value of a number phrase as written, before its context is read."""

    value: float | None
    low: float  # the range the writing allows: exact numbers have low == high
    high: float
    ordinal: bool = False
    word: bool = False  # written in words ("twelve")
    end: int = 0  # where the valid phrase ends (text2num may accept less than the regex took)


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def _words_value(words: str) -> float:
    """Number words to a value: text2num composes them; "a"/"an" and "dozen" are ours."""
    parts = words.lower().replace("-", " ").split()
    dozen = 12.0 if parts and parts[-1] == "dozen" else 1.0
    if dozen != 1.0:
        parts = parts[:-1]
    if not parts or parts in (["a"], ["an"]):
        return dozen
    if parts[0] in ("a", "an"):
        parts[0] = "one"
    return float(text2num(" ".join(parts), "en")) * dozen


def _precision(digits: str) -> float:
    """Half a unit of the last written digit ("4.5 billion" stands for 4.45-4.55 billion),
    but at most 2.5 %: "$5 billion" is not a fair way to write 4.5 billion."""
    half_unit = 0.5 * 10 ** -len(digits.split(".")[1]) if "." in digits else 0.5
    return min(half_unit, 0.025 * float(digits))


def _share(text: str, doc: Doc, end: int, number: _Number) -> tuple[_Number, int, str | None] | None:
    """ "one in five Americans", "a 2 in 3 chance": the share as a percentage, where it
    ends and what it is a share of; or None."""
    m = _ODDS.match(text, end)
    if m is None or not number.value or number.ordinal:
        return None
    whole = float(m.group("d").replace(",", "")) if m.group("d") is not None else _words_value(m.group("dw"))
    if whole <= number.value:
        return None
    v = 100.0 * number.value / whole
    span = doc.char_span(m.end(), len(text), alignment_mode="expand")
    nxt = next((t for t in span if not t.is_space), None) if span is not None else None
    of = nxt.lower_ if nxt is not None and nxt.pos_ in ("NOUN", "PROPN") else None  # as _percent_counts
    return _Number(v, v, v, end=m.end()), m.end(), of


def _parse_number(m: re.Match[str]) -> _Number | None:
    g = m.groupdict()
    if g["range"] is not None:
        lo, hi = float(g["range"].replace(",", "")), float(g["range_hi"].replace(",", ""))
        return _Number(None, lo, hi, end=m.end()) if lo < hi else None
    if g["ord"] is not None:
        v = float(g["ord"])
        return _Number(v, v, v, ordinal=True, end=m.end())
    if g["ordword"] is not None:
        v = float(_ORDINAL_WORDS[g["ordword"].lower()])
        return _Number(v, v, v, ordinal=True, word=True, end=m.end())
    if g["digits"] is not None:
        digits = g["digits"].replace(",", "")
        scale = 1.0
        if g["attached"]:
            scale = _ATTACHED_SCALES[g["attached"].lower()]
        elif g["dscale"]:
            scale = 12.0 if g["dscale"].lower() == "dozen" else _SCALES[g["dscale"].lower()]
        v = float(digits) * scale
        if scale == 1.0:
            return _Number(v, v, v, end=m.end())
        p = _precision(digits) * scale
        return _Number(v, v - p, v + p, end=m.end())
    if g["vague"] is not None:
        lo, hi = _VAGUE[" ".join(g["vague"].lower().split())]
        return _Number(None, lo, hi, end=m.end())
    if g["few"] is not None:
        lo, hi = _FEW[g["few"].lower()]
        s = 12.0 if g["fewscale"].lower() == "dozen" else _SCALES[g["fewscale"].lower()]
        return _Number(None, lo * s, hi * s, end=m.end())
    if g["half"] is not None:
        s = 12.0 if g["halfscale"].lower() == "dozen" else _SCALES[g["halfscale"].lower()]
        return _Number(s / 2, s / 2, s / 2, word=True, end=m.end())
    words = g["words"]
    # The regex may take more than a number ("three and five"): keep the longest prefix
    # text2num accepts.
    spans = [w.end() for w in re.finditer(r"[a-z]+", words, re.I)]
    for cut in reversed(spans):
        try:
            v = _words_value(words[:cut])
        except ValueError:
            continue
        if words[:cut].lower() in ("a", "an"):
            return None
        if cut == len(words):
            if g["frac"]:
                frac = g["frac"].lower()
                v += 0.75 if "three" in frac else 0.25 if "quarter" in frac else 0.5
            if g["wscale"]:
                v *= _SCALES[g["wscale"].lower()]
            return _Number(v, v, v, word=True, end=m.end())
        return _Number(v, v, v, word=True, end=m.start("words") + cut)
    return None


# --- reading the context ------------------------------------------------------------


def _count_key(word: str | None) -> str | None:
    if word is None:
        return None
    w = word.lower()
    irregular = {
        "people": "person",
        "children": "child",
        "men": "man",
        "women": "woman",
        "troops": "troop",
        "police": "police",
        "staff": "staff",
    }
    if w in irregular:
        return irregular[w]
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    return _singular(w)


def _casualty(tok: Token) -> str | None:
    """Whether a number (or the noun it counts) is said to be dead or injured."""
    found: list[str] = []
    for child in tok.children:
        if child.dep_ in ("acl", "amod", "relcl") and child.lemma_.lower() in _CASUALTY_VERBS:
            found.append(_CASUALTY_VERBS[child.lemma_.lower()])
    head = tok.head
    if tok.dep_ in ("dobj", "nsubjpass", "nsubj", "conj") or (tok.dep_ == "nummod" and head == tok):
        verb = head
        while verb.dep_ == "xcomp" and verb.lemma_.lower() not in _CASUALTY_VERBS:
            verb = verb.head  # "are believed to have been killed"
        verbs = [verb] + [c for c in verb.children if c.dep_ == "xcomp"]
        if tok.dep_ != "dobj":  # "were killed or wounded" share the subject; "and injured 30" does not
            verbs += [
                c
                for v in list(verbs)
                for c in v.children
                if c.dep_ == "conj" and not any(g.dep_ in ("nsubj", "nsubjpass", "dobj") for g in c.children)
            ]
        for v in verbs:
            lemma = v.lemma_.lower()
            if lemma in _CASUALTY_VERBS and (lemma in ("die", "perish") or tok.dep_ != "nsubj"):
                found.append(_CASUALTY_VERBS[lemma])
        for c in head.children:  # "left 15 people dead"
            if c.dep_ in ("oprd", "acomp") and c.lower_ in _CASUALTY_WORDS:
                found.append(_CASUALTY_WORDS[c.lower_])
    if head.lower_ in ("dead", "injured", "wounded", "hurt") and head.i == tok.i + 1:
        found.append(_CASUALTY_WORDS[head.lower_])
    if tok.dep_ == "pobj":  # "a death toll of 15", "the toll rose to 15"
        governor = head.head
        nouns = [governor] + [c for c in governor.children if c.dep_ in ("nsubj", "nsubjpass")]
        if any(n.lower_ == "toll" for n in nouns):
            found.append("dead")
    kinds = set(found)
    if not kinds:
        return None
    return kinds.pop() if len(kinds) == 1 else "casualties"


def _phrase_root(doc: Doc, start: int, end: int) -> Token | None:
    """The token that ties a phrase to the sentence; for "a million" the number, not "a"."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) == 0:
        return None
    tops = [t for t in span if t.head == t or not span.start <= t.head.i < span.end]
    numeric = [t for t in tops if t.like_num or t.pos_ == "NUM"]
    return (numeric or tops or [span.root])[-1]


def _counted_noun(num: Token, end: int) -> Token | None:
    """The noun a number token counts: "15,000 troops", "thousands of troops"."""
    head = num.head
    if (
        num.dep_ in ("nummod", "quantmod", "compound", "amod", "nmod", "npadvmod")
        and head.pos_ in ("NOUN", "PROPN")
        and head.idx >= end
        and head.i - num.i <= 5
    ):
        if head.lower_ in ("of",):
            return None
        return head
    for child in num.children:  # "thousands of troops", "12 of the passengers"
        if child.dep_ == "prep" and child.lower_ == "of":
            objs = [c for c in child.children if c.dep_ == "pobj"]
            if objs and objs[0].pos_ in ("NOUN", "PROPN", "PRON"):
                return objs[0]
    return None


def _event(tok: Token) -> str | None:
    """What a duration or sum is of: the noun it modifies or the verb it belongs to."""
    node = tok
    for _ in range(4):
        if (
            node.dep_ in ("nummod", "compound", "amod", "npadvmod")
            and node.head.pos_ == "NOUN"
            and (node.head.i > node.i)
        ):
            return node.head.lemma_.lower()
        if node.head == node:
            break
        node = node.head
        if node.pos_ in ("VERB", "NOUN") and node.lemma_.lower() not in ("ago", "be", "have"):
            return node.lemma_.lower()
    return None


def _money_counts(root: Token) -> str | None:
    # "$4.5 billion in aid": the parser hangs "in aid" on the sum or on the verb
    holders = [root, root.head] if root.dep_ == "dobj" else [root]
    for child in (c for h in holders for c in h.children):
        if child.dep_ == "prep" and child.lower_ in ("in", "of", "for") and child.i > root.i:
            objs = [c for c in child.children if c.dep_ == "pobj" and c.pos_ == "NOUN"]
            if objs:
                return objs[0].lemma_.lower()
    return _event(root)


# --- extraction ---------------------------------------------------------------------


def extract_figures(text: str, article_id: str = "", *, doc: Doc | None = None) -> list[Figure]:
    """Every figure of the story stated in ``text``, in text order.

    ``doc`` is spaCy's parse of ``text`` (from ``nlp.load()``); without it, or when it
    is of another text, the text is parsed here.
    """
    if not isinstance(text, str) or not text.strip():
        return []
    text = text[:_MAX_CHARS]
    if doc is None or doc.text != text:
        from newsdesk import nlp

        doc = nlp.load()(text)
    masked = _MASKS.sub(lambda m: "\x00" * len(m.group()), text)
    sent_starts = [s.start_char for s in doc.sents]
    figures: list[Figure] = []
    pos = 0
    while True:
        m = _PHRASE.search(masked, pos)
        if m is None:
            break
        pos = m.end()
        try:
            fig = _figure(text, doc, m, article_id, sent_starts)
        except (
            ValueError,
            IndexError,
            KeyError,
            OverflowError,
        ) as exc:  # one odd number never stops the rest
            log.debug("figure at %d skipped: %s", m.start(), exc)
            continue
        if fig is not None:
            figures.append(fig)
            pos = max(pos, fig.end)
    return figures


def _figure(text: str, doc: Doc, m: re.Match[str], article: str, sent_starts: list[int]) -> Figure | None:
    number = _parse_number(m)
    if number is None:
        return None
    start, end = m.start(), number.end
    core_start = m.start("cur") if m.group("cur") else start
    after, before = text[end : end + 40], text[max(0, start - 40) : start]
    if _skipped_by_context(text, doc, m, start, end, before, after, number):
        return None
    mod = _MODIFIER.search(before)
    modifier = mod.group("mod").lower() if mod else None
    mod_start = start - len(before) + mod.start() if mod else start

    root = _phrase_root(doc, core_start, end)
    if root is None:
        return None
    kind, unit, counts = "count", None, None
    currency = m.group("cur")
    if currency:
        unit = _CURRENCIES.get(currency.strip().lower())
    share = _share(text, doc, end, number) if not currency else None
    if share is not None:
        # "2 in 3", "two-in-three": a share, as a percentage so the writings are one value
        number, end, counts = share
        kind, unit = "percent", "%"
    elif (p := _PERCENT.match(after)) is not None:
        kind, unit = "percent", "percentage points" if p.group("pp") else "%"
        end += p.end()
        counts = _percent_counts(doc, start, end)
    elif unit is not None or (c := _CURRENCY_AFTER.match(after)) is not None:
        if unit is None and c is not None:
            unit = _CURRENCIES[_singular(c.group("c").lower())]
            end += c.end()
        kind = "money"
        counts = _money_counts(_phrase_root(doc, core_start, end) or root)
        if m.group("attached") and m.group("attached").lower() == "m" and not currency:
            return None  # "5m" without a currency is metres; too ambiguous to keep
    elif (a := _AGE_AFTER.match(after)) is not None or _AGE_BEFORE.search(before):
        kind = "age"
        if a is not None:
            unit = _singular(a.group("u").lower()) + "s"
            end += a.end()
            person = doc.char_span(end, len(text), alignment_mode="expand")
            nxt = person[0] if person is not None and len(person) else None
            counts = nxt.lower_ if nxt is not None and nxt.pos_ == "NOUN" else None
        else:
            unit = "years"
            aged = _AGE_BEFORE.search(before)
            if aged is not None:
                start = start - len(before) + aged.start()
            h = root.head.head if root.head.lower_ in ("aged", "age") else root.head
            counts = h.lower_ if h.pos_ == "NOUN" else None
    elif (apposed := _appositive_age(doc, text, start, end, number)) is not None:
        kind, unit, counts = "age", "years", apposed  # "Malia, 16, wore ..."
    elif number.ordinal:
        kind = "ordinal"
        noun = root.head if root.head.pos_ in ("NOUN", "ADJ") and root.head.i > root.i else None
        if noun is None or (number.word and noun.lemma_.lower() not in _ORDINAL_NOUNS):
            return None
        counts = noun.lower_
        end = noun.idx + len(noun)
    elif (t := _TIME_UNIT.match(after)) is not None:
        kind = "duration"
        unit = _singular(t.group("u").lower()).replace("centurie", "century")
        unit = "centuries" if unit == "century" else unit + "s"
        end += t.end()
        unit_tok = _phrase_root(doc, core_start, end) or root
        counts = _event(unit_tok)
        if modifier == "over":
            modifier = None  # "over three days" says when, not how many
    elif (w := _POUNDS.match(after)) is not None and (
        w.group(0).startswith("-") or _STERLING.search(text) is None
    ):
        kind, unit = "quantity", "lb"
        end += w.end()
        counts = _event(_phrase_root(doc, core_start, end) or root)
    elif (q := _MEASURE.match(after)) is not None or m.group("attached") in ("m", "M"):
        kind = "quantity"
        raw = q.group("u").lower() if q is not None else "m"
        unit = _UNIT_NAMES.get(raw, _UNIT_NAMES.get(_singular(raw), raw))
        end += q.end() if q is not None else 0
        counts = _event(_phrase_root(doc, core_start, end) or root)
        if m.group("attached"):
            return None
    else:
        noun = _counted_noun(root, end)
        # "15 people were killed" says it of the noun; "thousands of them were killed" of the number
        casualty = _casualty(
            noun
            if noun is not None
            and noun.i > root.i
            and noun.head == root.head
            or noun is not None
            and root.head == noun
            else root
        )
        if noun is not None and noun.lower_ in _CASUALTY_WORDS:
            casualty = _CASUALTY_WORDS[noun.lower_]
        if noun is not None and noun.pos_ != "PRON":
            word = re.match(r"[\w'’]+(?:-[\w'’]+)*", text[noun.idx :])  # "ex-felons" is one word
            noun_end = noun.idx + (word.end() if word else len(noun))
            unit = text[noun.idx : noun_end].lower()
            if noun.idx >= end and all(
                t.pos_ in ("ADJ", "NOUN", "PROPN", "PUNCT", "ADP", "DET") for t in doc[root.i + 1 : noun.i]
            ):
                end = noun_end
        counts = casualty if casualty is not None else unit
        if (
            counts is None
            and root.dep_ == "pobj"
            and root.head.lower_ == "of"
            and root.head.head.pos_ == "NOUN"
        ):
            counts = root.head.head.lower_  # "a population of 5 million"
        if unit is not None and unit in _CASUALTY_WORDS:
            unit = None
        if counts is None and (number.word and (number.value or 0) <= 2):
            return None  # "one of the", "one said"
        if number.word and number.value == 1 and modifier is None and casualty is None:
            return None  # "one lawmaker told" introduces a speaker; "one person died" is kept
        if unit is not None and (cur := _CURRENCIES.get(_singular(unit))) is not None:
            kind, unit, counts = "money", cur, None  # "tens of thousands of dollars"
        if number.value is None and counts is None and m.group("few"):
            return None  # "many hundred" that counts nothing
    if modifier is not None:
        start = min(start, mod_start)
    sentence = bisect.bisect_right(sent_starts, start) - 1
    return Figure(
        article=article,
        start=start,
        end=end,
        text=text[start:end],
        value=number.value,
        unit=unit,
        counts=counts,
        kind=kind,
        approx=modifier is not None or number.value is None,
        sentence=max(sentence, 0),
    )


def _appositive_age(doc: Doc, text: str, start: int, end: int, number: _Number) -> str | None:
    """The person whose age a bare number in apposition gives: news style writes
    "Tara Reid, 33, has entered ..." and "Sasha, 13, wore ..."."""
    if number.word or number.value is None or not 0 < number.value < 120 or number.value % 1:
        return None
    if not text[:start].endswith(", ") or not re.match(r"\s*[,)]", text[end:end + 2]):
        return None
    name = doc.char_span(max(0, start - 2 - 1), start - 2, alignment_mode="expand")
    if name is None or not len(name):
        return None
    tok = name[-1]
    if tok.ent_type_ != "PERSON" and not (tok.pos_ == "PROPN" and tok.text[:1].isupper()
                                          and tok.ent_type_ in ("", "PERSON", "GPE", "ORG", "NORP")):
        return None  # the small model takes "Malia" for a place now and then
    if tok.i > 0 and doc[tok.i - 1].lower_ in ("in", "at", "from", "on"):
        return None  # "in Paris, 2, ..." is not an age
    ent = next((e for e in doc.ents if e.start <= tok.i < e.end), None)
    return ent.text.lower() if ent is not None and ent.label_ == "PERSON" else tok.lower_


def _percent_counts(doc: Doc, start: int, end: int) -> str | None:
    """What a percentage is of: "3.5 percent of GDP", "unemployment rose to 4.2%"."""
    root = _phrase_root(doc, start, end)
    if root is None:
        return None
    for child in root.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            objs = [c for c in child.children if c.dep_ == "pobj"]
            if objs:
                return objs[0].lower_
    if root.head.pos_ == "NOUN" and root.head.i > root.i:
        return root.head.lower_  # "a 10% discount"
    verb = root.head.head if root.dep_ == "pobj" else root.head
    subj = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass") and c.pos_ in ("NOUN", "PROPN")]
    return subj[0].lower_ if subj else None


def _skipped_by_context(
    text: str, doc: Doc, m: re.Match[str], start: int, end: int, before: str, after: str, number: _Number
) -> bool:
    """Numbers that are not facts of the story: dates, times, labels, names."""
    core = text[start:end]
    if _LABEL_BEFORE.search(before) or _TIME_OF_DAY.match(after) or _FRACTION_AFTER.match(after):
        return True
    if m.group("ord") or m.group("digits"):
        if _MONTH_BEFORE.search(before) or _MONTH_AFTER.match(after):
            return True  # "August 5", "5th of August", "Sept. 5, 2025"
    span = doc.char_span(start, end, alignment_mode="expand")
    ents = {t.ent_type_ for t in span} if span is not None else set()
    if ents & _SKIP_ENTS:
        return True
    if "TIME" in ents and not _TIME_UNIT.match(after):
        return True
    if m.group("digits") and not m.group("dscale") and not m.group("attached"):
        digits = m.group("digits")
        if re.fullmatch(r"1[5-9]\d\d|20\d\d", digits):  # a year unless it counts something
            nxt = doc.char_span(end, len(text), alignment_mode="expand")
            counts_noun = (
                nxt is not None and len(nxt) and nxt[0].pos_ == "NOUN" and not _TIME_UNIT.match(after)
            )
            if "DATE" in ents or not counts_noun:
                return True
    if m.group("range") and re.fullmatch(r"1[5-9]\d\d|20\d\d", m.group("range").replace(",", "")):
        return True  # "2019-2024"
    if "DATE" in ents and not (
        _TIME_UNIT.match(after) or _AGE_AFTER.match(after) or _AGE_BEFORE.search(before)
        or _appositive_age(doc, text, start, end, number) is not None  # spaCy calls "Sasha, 13," a date
    ):
        return True
    if span is not None and len(span) and _in_a_name(doc, span[0], core, after, number.word):
        return True
    if number.word and number.value is not None and number.value <= 2:
        w = core.lower()
        if w in ("one", "two") and re.search(r"\b(\w+)\s+$", before):
            prev = re.search(r"\b(\w+)\s+$", before).group(1).lower()  # type: ignore[union-attr]
            if prev in _DETERMINERS or prev in ("no", "every", "any", "each"):
                return True  # "the two leaders", "no one"
        if re.match(r"-on-", after):
            return True  # "one-on-one"
        if w == "one" and re.match(r"\s+(?:of|another|by|day|time|point|side|hand|way|thing)\b", after, re.I):
            return True
    return False


def _in_a_name(doc: Doc, first: Token, core: str, after: str, word: bool) -> bool:
    """A number that is part of a name or a rank, not a quantity: a number word with a
    capital right after a word ("the Group of Seven", "the Final Four"; not after a
    dateline's dash or a quotation mark), a number right after a proper noun ("Fortune
    500", "FTSE 100", "Organization 1"), or joined to a capitalised word or to "star"
    ("7-Eleven", "a four-star general")."""
    prev = doc[first.i - 1] if first.i > 0 else None
    if word and core[:1].isupper() and prev is not None and prev.is_alpha and not first.is_sent_start:
        return True
    if (core[:1].isdigit() and prev is not None and prev.pos_ == "PROPN" and not prev.is_sent_start
            and prev.text[:1].isupper() and prev.whitespace_ and prev.ent_type_ not in ("DATE", "GPE")):
        return True
    return re.match(r"-(?:[A-Z]|star\b)", after) is not None


# --- comparing ----------------------------------------------------------------------


def _scope_compatible(a: Figure, b: Figure) -> bool:
    if a.kind in ("money", "percent", "duration", "quantity", "age"):
        return a.unit == b.unit
    if a.counts in ("dead", "injured", "casualties"):
        ua, ub = _count_key(a.unit), _count_key(b.unit)
        generic = {None, "person", "other", "individual"}
        return ua == ub or (ua in generic and ub in generic)
    return _count_key(a.unit) == _count_key(b.unit) or a.unit is None or b.unit is None


def same_quantity(a: Figure, b: Figure) -> bool:
    """Whether ``a`` and ``b`` state the same measured thing: the same kind, what they
    count and unit. Figures that say nothing about what they count are never the same."""
    if a.kind != b.kind or a.counts is None or b.counts is None:
        return False
    if _count_key(a.counts) != _count_key(b.counts):
        return False
    return _scope_compatible(a, b)


def _interval(f: Figure) -> tuple[float, float] | None:
    """The range of true values the wording allows."""
    m = _MODIFIER_START.match(f.text)
    mod = m.group("mod").lower() if m else None
    body = f.text[m.end() :] if m else f.text
    pm = _PHRASE.match(body)
    number = _parse_number(pm) if pm is not None else None
    if number is not None:
        lo, hi = number.low, number.high
        if (
            number.value is not None
            and f.value is not None
            and abs(number.value - f.value) > 1e-9 * max(1.0, abs(f.value))
        ):
            lo = hi = f.value
    elif f.value is not None:
        lo = hi = f.value
    else:
        return None
    if mod is None or (f.kind == "duration" and mod == "over"):
        return lo, hi
    if mod in _LOWER_BOUND:
        return lo, hi * 2
    if mod in _NEARLY:
        return lo * 0.8, hi
    if mod in _UPPER_BOUND:
        return lo / 2, hi
    tol = max(0.1 * hi, 1.0)  # "about 300" agrees with 312; "roughly 15,000" with 15,200
    return lo - tol, hi + tol


def consistent(a: Figure, b: Figure) -> bool:
    """Whether two figures of the same quantity agree: equal values, or ranges that meet
    (approximate values within 10 %, "more than X" up to 2X, vague "thousands")."""
    if a.kind != b.kind or (a.kind not in ("count", "ordinal") and a.unit != b.unit):
        return False  # 4.5 billion dollars and 4.5 billion euros do not agree
    ia, ib = _interval(a), _interval(b)
    if ia is None or ib is None:
        return False
    eps = 1e-9 * max(1.0, abs(ia[1]), abs(ib[1]))
    return ia[0] <= ib[1] + eps and ib[0] <= ia[1] + eps


def group_figures(figures: Sequence[Figure]) -> list[list[Figure]]:
    """Partition ``figures`` into groups that state the same quantity.

    Members are in (article, start) order; groups in the order of their first member.
    Figures that match no other form a group of one.
    """
    order = sorted(
        range(len(figures)), key=lambda i: (figures[i].article, figures[i].start, figures[i].end, i)
    )
    parent = list(range(len(figures)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    buckets: dict[tuple[str, str | None], list[int]] = {}
    for i in order:
        f = figures[i]
        buckets.setdefault((f.kind, _count_key(f.counts)), []).append(i)
    for members in buckets.values():
        for x, i in enumerate(members):
            for j in members[x + 1 :]:
                if same_quantity(figures[i], figures[j]):
                    ri, rj = find(i), find(j)
                    if ri != rj:
                        parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[Figure]] = {}
    for i in order:
        groups.setdefault(find(i), []).append(figures[i])
    return sorted(groups.values(), key=lambda g: (g[0].article, g[0].start, g[0].end))
