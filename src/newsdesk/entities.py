"""People, organisations and places of a story, merged across spellings.

spaCy finds the mentions; what no library does for news is the merge across
articles: "Kim Jong-un", "Kim Jong Un" and "Kim" are one person, "Putin" is the
"Vladimir Putin" named earlier, and "the Russian president" is Putin when the
story calls him "Russian President Vladimir Putin" and nobody else. (spaCy's
entity linker needs a knowledge base, coreferee and neuralcoref do not run on
spaCy 3.8, and none of them merges across documents.) The rules:

* a name's key folds case, hyphens, accents, possessives and a leading "the";
* a person named by a part of a full name (surname, first name, the last two
  words) joins that full name when exactly one full name of the story fits;
* the kind of an entity is the majority of spaCy's labels over its mentions
  (the small model calls Kyiv a person now and then);
* roles come from the words spaCy parses as modifiers of a person's name
  ("Russian President", "North Korea's leader"); "the <role>" in any article is
  a mention of that person when no other person of the story holds that role.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from .records import Entity, Mention

if TYPE_CHECKING:
    from nicknames import NickNamer
    from spacy.tokens import Doc, Span

__all__ = ["COMPONENT", "EntityIndex", "article_mentions", "merge_entities", "name_key"]

COMPONENT = "entities.rules.v8"

Kind = Literal["person", "organisation", "place", "group", "other"]
_KIND: dict[str, Kind] = {
    "PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place", "FAC": "place",
    "NORP": "group",
}
LABELS = frozenset(_KIND)
TITLES = frozenset(
    "mr mrs ms miss dr prof sir dame lord lady rev gen col lt sgt capt sen rep gov pres "
    "president premier minister chancellor king queen prince princess pope judge justice "
    "justices senator representative congressman congresswoman governor mayor".split()
)
# Words that may stand in a role before a name but are not the role itself.
_ROLE_STOP = frozenset("the a an his her their its our former then new late acting".split())
_ROLE_HEADS = frozenset(
    "president leader minister premier chancellor secretary spokesman spokeswoman spokesperson "
    "chief director chairman chairwoman chair ceo governor mayor senator representative "
    "ambassador general commander king queen prince pope counterpart founder head lawyer "
    "attorney judge official officer coach manager prosecutor analyst economist professor "
    "envoy dictator monarch emperor ruler candidate nominee speaker".split()
)


def _fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.casefold()


_POSSESSIVE = re.compile(r"['’]s?$")


def name_key(text: str) -> str:
    """A name folded for comparison: 'Kim Jong-un' and 'Kim Jong Un' give 'kim jong un'."""
    s = _fold(text.strip())
    s = _POSSESSIVE.sub("", s)
    s = re.sub(r"[-‐‑–_.]", " ", s)
    s = re.sub(r"[^\w\s&]", "", s)
    words = s.split()
    if words and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def _person_words(key: str) -> list[str]:
    """A person's name words without titles and, beside other words, without
    initials: "president anthony d weiner" and "anthony weiner" are one name."""
    words = [w for w in key.split() if w not in TITLES]
    named = [w for w in words if len(w) > 1]
    return named if named else words


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    from nicknames import NickNamer

    return NickNamer()


@lru_cache(maxsize=4096)
def _same_given_name(a: str, b: str) -> bool:
    """One given name or a nickname of it: "bob" and "robert", "dick" and "richard"."""
    if a == b:
        return True
    nn = _nicknamer()
    return b in nn.nicknames_of(a) or a in nn.nicknames_of(b)


def _same_person_name(a: list[str], b: list[str]) -> bool:
    """Two full names of one person: the same surname, given names that are one name
    or its nickname, and middle names of one inside the other's ("Hillary Rodham
    Clinton" and "Hillary Clinton"; not "John Paul Smith" and "John Peter Smith")."""
    if len(a) < 2 or len(b) < 2 or a[-1] != b[-1] or not _same_given_name(a[0], b[0]):
        return False
    ma, mb = a[1:-1], b[1:-1]
    return set(ma) <= set(mb) or set(mb) <= set(ma)


def _initials_differ(a: str, b: str) -> bool:
    """Both keys written with initials, and not the same ones."""
    ia, ib = (tuple(w for w in k.split() if len(w) == 1) for k in (a, b))
    return bool(ia) and bool(ib) and ia != ib


def _clean_span(span: Span) -> tuple[int, int, str] | None:
    """Character offsets of an entity span without a leading 'the' or a trailing possessive."""
    tokens = list(span)
    while tokens and tokens[0].lower_ in ("the",):
        tokens = tokens[1:]
    while tokens and tokens[-1].text in ("'s", "’s", "'", "’"):
        tokens = tokens[:-1]
    if not tokens:
        return None
    start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
    # an editor's brackets are no part of a name ("[special prosecutor Robert] Mueller")
    text = re.sub(r"\s+", " ", re.sub(r"[\[\]]", "", span.doc.text[start:end])).strip()
    if not any(c.isupper() for c in text):
        return None  # "n’t" and "lesbian group" are no names
    return start, end, text


def _role_of(span: Span) -> str | None:
    """The role words spaCy parses as modifying a person's name: 'Russian President'."""
    doc = span.doc
    i = span.start - 1
    words: list[str] = []
    while i >= 0:
        t = doc[i]
        if t.is_punct and t.text not in ("'s", "’s"):
            break
        if t.ent_type_ == "PERSON":
            break
        inside = span.start <= t.head.i < span.end or (words and t.head.i > i and t.head.i < span.end)
        if not inside and t.text not in ("'s", "’s"):
            break
        if t.pos_ not in ("PROPN", "NOUN", "ADJ", "PART"):
            break
        words.append(t.text)
        i -= 1
    words.reverse()
    while words and words[0].lower() in _ROLE_STOP:
        words = words[1:]
    if not words or words[-1].lower() not in _ROLE_HEADS:
        return None
    return _role_text(" ".join(words))


def _role_text(text: str) -> str:
    return re.sub(r"\s+(['’]s)", r"\1", text).lower()


def _apposition_role(span: Span) -> str | None:
    """'Kim Jong Un, North Korea's leader,' and "North Korea's leader Kim Jong-un"
    (parsed as the name in apposition to the role) -> "north korea's leader"."""
    root = span.root
    head = root.head
    if root.dep_ == "appos" and head.i < span.start and head.lower_ in _ROLE_HEADS:
        words = [t.text for t in head.subtree if t.i <= head.i and t.lower_ not in _ROLE_STOP
                 and not t.is_punct]
        if words:
            return _role_text(" ".join(words))
    for child in root.children:
        if child.dep_ == "appos" and child.lower_ in _ROLE_HEADS:
            left = [t for t in child.subtree if t.i <= child.i]
            words = [t.text for t in left if t.lower_ not in _ROLE_STOP and not t.is_punct]
            if words:
                return _role_text(" ".join(words))
    return None


@dataclass(frozen=True, slots=True)
class Role:
    """A role an article gives a named person: ('vladimir putin', 'russian president')."""

    article: str
    person: str  # the name as written
    role: str


def article_mentions(doc: Doc, article_id: str) -> tuple[list[Mention], list[Role]]:
    """Named mentions of one parsed article, and the roles it gives people."""
    mentions: list[Mention] = []
    roles: list[Role] = []
    for ent in doc.ents:
        if ent.label_ not in LABELS:
            continue
        cleaned = _clean_span(ent)
        if cleaned is None:
            continue
        start, end, text = cleaned
        mentions.append(Mention(article_id, start, end, text, ent.label_))
        if ent.label_ == "PERSON":
            for role in (_role_of(ent), _apposition_role(ent)):
                if role:
                    roles.append(Role(article_id, text, role))
    return mentions, roles


def _role_words(role: str) -> list[str]:
    return [w for w in re.split(r"[\s'’]+", role.lower()) if w and w != "s"]


def _role_matches(description: str, role: str) -> bool:
    """'the russian president' matches 'russian president'; 'the north korean leader'
    matches "north korea's leader" (demonyms share a 4+ letter stem with the country)."""
    d, r = _role_words(description), _role_words(role)
    if not d or not r or d[-1] != r[-1]:
        return False
    for w in d[:-1]:
        if not any(w == x or (len(w) >= 4 and len(x) >= 4 and (w[:5] == x[:5])) for x in r[:-1]):
            return False
    return True


_DESCRIPTION = re.compile(
    r"\b[Tt]he\s+((?:[A-Z][\w'’-]*\s+){0,3}(?:[a-z]+\s+)?(" + "|".join(sorted(_ROLE_HEADS)) + r"))\b"
)


def _descriptions(text: str) -> Iterable[tuple[int, int, str]]:
    for m in _DESCRIPTION.finditer(text):
        yield m.start(), m.end(), m.group(1)


class EntityIndex:
    """Resolves a name or description written in a story to its merged entity."""

    def __init__(self, entities: Sequence[Entity]) -> None:
        self.entities = list(entities)
        self._by_key: dict[str, Entity] = {}
        for e in self.entities:
            for alias in e.aliases:
                self._by_key.setdefault(name_key(alias), e)

    def resolve(self, name: str | None) -> Entity | None:
        if not name:
            return None
        key = name_key(name)
        if key in self._by_key:
            return self._by_key[key]
        words = _person_words(key)
        fits = [e for e in self.entities if e.kind == "person" and words
                and _part_of(words, _person_words(name_key(e.name)))]
        if len(fits) == 1:
            return fits[0]
        for e in self.entities:
            if any(_role_matches(key, r) for r in e.roles):
                return e
        return None

    def canonical(self, name: str | None) -> str | None:
        """The merged full name, or the name itself when the story has no entity for it."""
        e = self.resolve(name)
        return e.name if e else name


def _part_of(part: list[str], full: list[str]) -> bool:
    """Is ``part`` a surname, first name or a trailing/leading run of ``full``?"""
    if not part or len(part) >= len(full):
        return False
    n = len(part)
    return full[-n:] == part or full[:n] == part


def merge_entities(mentions: Iterable[Mention], roles: Iterable[Role] = (),
                   texts: Mapping[str, str] | None = None) -> list[Entity]:
    """Merge the mentions of a story's articles into entities.

    ``texts`` (article id -> cleaned text) lets role descriptions such as "the
    Russian president" be added as mentions of the one person holding that role.
    """
    by_key: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        key = name_key(m.text)
        if key:
            by_key[key].append(m)

    labels = {k: Counter(_KIND[m.label] for m in ms) for k, ms in by_key.items()}
    kind_of: dict[str, Kind] = {k: c.most_common(1)[0][0] for k, c in labels.items()}
    # The small model often tags a surname alone as an organisation or a place
    # ("Etheridge": 9 ORG, 4 GPE, 4 PERSON beside "Bob Etheridge"). A name tagged a
    # person at least once that ends exactly one person's full name in the
    # story (its surname) is that person. Not a first part: "Alexandria" the
    # city would join "Alexandria Police Chief Michael Brown".
    full_names = {tuple(_person_words(k)) for k, kind in kind_of.items()
                  if kind == "person" and len(_person_words(k)) > 1}
    for k, kind in list(kind_of.items()):
        if kind != "person" and labels[k]["person"]:
            tail = tuple(_person_words(k))
            n = len(tail)
            if n and len([f for f in full_names if len(f) > n and f[-n:] == tail]) == 1:
                kind_of[k] = "person"

    # One name written with and without a title or a middle initial ("Anthony D.
    # Weiner", "Anthony Weiner", "Mr. Weiner" is a part, below) is one person, under
    # its fullest written key.
    parent: dict[str, str] = {}
    persons = [k for k in by_key if kind_of[k] == "person"]
    same: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for k in persons:
        same[tuple(_person_words(k))].append(k)
    for keys in same.values():
        if any(_initials_differ(a, b) for a in keys for b in keys):
            continue  # "George H. W. Bush" and "George W. Bush" are two people
        top = max(keys, key=lambda k: (len(k.split()), len(by_key[k]), k))
        for k in keys:
            if k != top:
                parent[k] = top
    # A nickname or a middle name more ("Bob Bauer" and "Robert F. Bauer", "Hillary
    # Rodham Clinton" and "Hillary Clinton"): one person when the name fits exactly
    # one other person's full name (two fits may be two people).
    names = sorted({_root(parent, k) for k in persons if len(_person_words(k)) > 1})
    for k in names:
        matches = {_root(parent, f) for f in names if f != k
                   and _same_person_name(_person_words(k), _person_words(f))
                   and not _initials_differ(k, f)} - {_root(parent, k)}
        if len(matches) == 1:
            other = matches.pop()
            a, b = sorted((_root(parent, k), other),
                          key=lambda r: (len(r.split()), len(by_key[r]), r))
            parent[a] = b
    # Persons named by part of a full name join it when exactly one full name fits.
    for k in sorted(persons, key=lambda k: len(k.split())):
        if k in parent:
            continue
        words = _person_words(k)
        fits = [f for f in persons if f != k and _part_of(words, _person_words(f))]
        roots = {_root(parent, f) for f in fits}
        if len(roots) == 1:
            parent[k] = roots.pop()
    moved = _part_names_by_article(by_key, persons, parent, texts) if texts else {}
    capitals = {k for k, ms in by_key.items()
                if any(re.sub(r"[\s.]", "", m.text).isupper() for m in ms)}
    _join_acronyms([k for k in by_key if k in capitals or len(k.split()) > 1], kind_of, parent)
    # A group of mentions whose key is the whole of another only differing by a title.
    groups: dict[str, list[str]] = defaultdict(list)
    for k in by_key:
        groups[_root(parent, k)].append(k)

    role_of: dict[str, set[str]] = defaultdict(set)
    for r in roles:
        root = _root(parent, name_key(r.person))
        if root in groups:
            role_of[root].add(r.role)

    # A role held by exactly one person makes "the <role>" a mention of that person.
    holders: dict[str, set[str]] = defaultdict(set)
    for root, held in role_of.items():
        for role in held:
            holders[role].add(root)
    extra: dict[str, list[Mention]] = defaultdict(list)
    for aid, text in (texts or {}).items():
        for start, end, desc in _descriptions(text):
            who = {root for role, held_by in holders.items() if _role_matches(desc, role)
                   for root in held_by}
            if len(who) == 1:
                extra[who.pop()].append(Mention(aid, start, end, text[start:end], "ROLE"))

    entities = []
    for root, keys in groups.items():
        ms = sorted([*(m for k in keys for m in by_key[k]), *moved.get(root, ())],
                    key=lambda m: (m.article, m.start))
        if not ms:
            continue  # a part-name whose every mention went to its article's person
        forms = Counter(m.text for m in ms)
        name = _fullest(forms)
        kind = Counter(kind_of[k] for k in keys for _ in by_key[k]).most_common(1)[0][0]
        if kind == "person":
            name = _untitled(name)
        all_ms = ms + sorted(extra.get(root, ()), key=lambda m: (m.article, m.start))
        aliases = tuple(sorted({m.text for m in all_ms}, key=lambda a: (-forms.get(a, 0), a)))
        entities.append(Entity(
            id=hashlib.sha1(f"{kind}:{name_key(name)}".encode()).hexdigest()[:12],
            name=name, kind=kind, aliases=aliases, mentions=tuple(all_ms),
            roles=tuple(sorted(role_of.get(root, ()))),
        ))
    entities.sort(key=lambda e: (-len(e.mentions), e.name))
    return entities


_HONORIFIC_BEFORE = re.compile(r"\b(Mr|Mrs|Ms|Miss)\.?\s*$")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)\.?\s*$")
_OFFICES = TITLES - {"mr", "mrs", "ms", "miss"}


def _may_be(who: str, m: Mention, candidates: set[str], spread: Mapping[str, set[str]],
            by_key: Mapping[str, list[Mention]], texts: Mapping[str, str]) -> bool:
    """May the bare surname ``m`` be ``who``, the one full name its article writes?"""
    from .quotes import first_name_gender

    first = _person_words(who)[0]
    gender = first_name_gender(first)
    # Only the story's most widely named of them: a famous surname stands alone for its
    # best-known bearer ("Trump" in an article naming only Ivanka Trump is still Donald
    # Trump, whom the other articles name), and a headline's "Obama Willing" is nobody.
    if any(len(spread[c]) >= len(spread[who]) for c in candidates - {who}) or gender is None:
        return False
    # Not one whom the article also calls by first name alone: that is how news writes
    # of a principal's family ("Sasha", "Ivanka"), whose surname alone is the principal's.
    if any(x.article == m.article for x in by_key.get(first, ())):
        return False
    # Not a surname under a title of office ("President Obama" in an article naming only
    # Sasha Obama in full): someone in their own right, whom the article need not name
    # in full. Nor under "Mr."/"Mrs." of the other gender. (The title stands before the
    # mention or as its first word.)
    text = texts.get(m.article, "")
    word = _WORD_BEFORE.search(text[max(0, m.start - 16):m.start])
    title = (m.text.split() or [""])[0].strip(".").lower()
    if word is not None and word.group(1).lower() in _OFFICES or title in _OFFICES:
        return False
    h = (_HONORIFIC_BEFORE.search(text[max(0, m.start - 6):m.start])
         or _HONORIFIC_BEFORE.search((m.text.split() or [""])[0] + " "))
    return h is None or gender == ("m" if h.group(1) == "Mr" else "f")


def _part_names_by_article(by_key: dict[str, list[Mention]], persons: Sequence[str],
                           parent: Mapping[str, str], texts: Mapping[str, str]) -> dict[str, list[Mention]]:
    """A part-name that several full names of the story fit ("Hunter": Duncan Hunter
    and Margaret Hunter) is, mention by mention, the one of them its own article
    writes: Fox names only Duncan Hunter, so its "Hunter" is he. Not when a "Mrs." or
    "Mr." before it gives the other gender (the other conditions: ``_may_be``), and
    not where the article writes both (there it stays apart, as before). Takes those
    mentions out of ``by_key`` and returns them by the root of their person."""
    articles_of = {f: {m.article for m in by_key[f]} for f in persons}
    moved: dict[str, list[Mention]] = defaultdict(list)
    for k in persons:
        words = _person_words(k)
        # a surname alone ("Hunter"), not a first part ("Glenn Beck" of a headline's
        # "Glenn Beck CPAC")
        if k in parent or len(words) != 1:
            continue
        fits = [f for f in persons
                if f != k and len(_person_words(f)) > 1 and _person_words(f)[-1] == words[0]]
        candidates = {_root(parent, f) for f in fits}
        if len(candidates) < 2:
            continue
        spread: dict[str, set[str]] = defaultdict(set)  # the articles writing each full name
        for f in fits:
            spread[_root(parent, f)] |= articles_of[f]
        keep = []
        for m in by_key[k]:
            roots = {_root(parent, f) for f in fits if m.article in articles_of[f]}
            who = roots.pop() if len(roots) == 1 else None
            if who is not None and not _may_be(who, m, candidates, spread, by_key, texts):
                who = None
            if who is None:
                keep.append(m)
            else:
                moved[who].append(m)
        by_key[k] = keep
    return moved


# Words an acronym skips ("National Association for the Advancement of Colored People").
_ACRONYM_SKIP = frozenset("of the for and in on at to a an de du la le".split())


def _acronym(key: str) -> str | None:
    """A key that is an acronym: "naacp", or "n a a c p" from "N.A.A.C.P."."""
    words = key.split()
    if len(words) == 1 and 2 <= len(words[0]) <= 8 and words[0].isalpha():
        return words[0]
    if len(words) >= 2 and all(len(w) == 1 and w.isalpha() for w in words):
        return "".join(words)
    return None


def _join_acronyms(keys: Sequence[str], kind_of: Mapping[str, Kind], parent: dict[str, str]) -> None:
    """Organisations and places written as an acronym (in capitals; ``keys`` holds
    only those and longer names) join the one longer name of
    the same kind whose initials spell it ("NAACP", "N.A.A.C.P." and "National
    Association for the Advancement of Colored People"; "U.S." and "United
    States"). Several spellings of one acronym join each other too."""
    by_acronym: dict[tuple[str, Kind], list[str]] = defaultdict(list)
    longer: dict[tuple[str, Kind], list[str]] = defaultdict(list)
    spellings: dict[str, list[tuple[str, Kind]]] = defaultdict(list)
    for k in keys:
        kind = kind_of[k]
        if kind == "person" or k in parent:
            continue
        short = _acronym(k)
        if short:
            spellings[short].append((k, kind))
            continue
        words = [w for w in k.split() if w not in _ACRONYM_SKIP]
        if len(words) >= 2:
            longer[("".join(w[0] for w in words), kind)].append(k)
    # One acronym in two house styles is one name whatever kind the model gave each
    # spelling ("FBI" an organisation, "F.B.I." a place in one Times article): the kind
    # of the longer name it spells, else of most spellings, an organisation on a tie.
    for short, ks in spellings.items():
        kinds = Counter(kind for _, kind in ks)
        long_kinds = [kd for a, kd in longer if a == short]
        kind = long_kinds[0] if len(long_kinds) == 1 else max(
            kinds, key=lambda kd: (kinds[kd], kd == "organisation"))
        by_acronym[(short, kind)] += [k for k, _ in ks]
    for ak, spelled in by_acronym.items():
        full = longer.get(ak, [])
        target = full[0] if len(full) == 1 else None
        if target is None:
            if len(spelled) < 2:
                continue
            target = max(spelled, key=lambda k: (len(k.split()) == 1, k))
        for k in spelled:
            if k != target:
                parent[k] = target


# Titles of office and courtesy a person's name is shown without ("Representative K.
# Michael Conaway" is K. Michael Conaway); "King Abdullah" and "Pope Francis" keep theirs.
_OFFICE_TITLES = frozenset(
    "mr mrs ms miss dr prof rep sen gov pres president senator representative congressman "
    "congresswoman governor mayor premier minister chancellor".split()
)


def _untitled(name: str) -> str:
    words = name.split()
    while len(words) > 1 and name_key(words[0]) in _OFFICE_TITLES:
        words = words[1:]
    return " ".join(words)


def _fullest(forms: Counter[str]) -> str:
    """The most complete written form (name words, then initials: "Robert F. Bauer"
    over "Bob Bauer"); among equally complete ones, the most frequent."""
    def words(f: str) -> tuple[int, int]:
        key = name_key(f)
        return len(_person_words(key)), len([w for w in key.split() if w not in TITLES])

    return max(forms, key=lambda f: (words(f), forms[f], -len(f), f))


def _root(parent: Mapping[str, str], k: str) -> str:
    seen = set()
    while k in parent and k not in seen:
        seen.add(k)
        k = parent[k]
    return k
