"""Metadata found in the text itself: outlet, dateline, date, language, ids."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from .cleaning import SITE_NAME_SEP, normalize_line

_URL_RE = re.compile(r"https?://[^\s\"'<>)]+", re.I)

# "BEIJING —", "WASHINGTON (Reuters) -", "LONDON, Sept 3 (AP) —": an all-caps place
# at the very start of the body, then a dash. Mixed-case words are not datelines.
_DATELINE_RE = re.compile(
    r"^\s*(?P<place>[A-Z][A-Z.'\- ]{1,40}?(?:,\s*[A-Z][A-Za-z.]+(?:\s+\d{1,2})?)?)"
    r"\s*(?:\((?P<agency>[A-Za-z][\w .&-]{0,30})\)\s*)?[—–-]{1,2}\s+"
)

_MONTHS = (
    "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    "Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
_TEXT_DATE_RES = (
    re.compile(rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+(?:19|20)\d\d\b"),
    re.compile(rf"\b\d{{1,2}}\s+(?:{_MONTHS})\.?,?\s+(?:19|20)\d\d\b"),
    re.compile(r"\b(?:19|20)\d\d-[01]\d-[0-3]\d(?:[T ][0-2]\d:[0-5]\d(?::[0-5]\d)?)?\b"),
)


def outlet_from_url(url: str | None) -> str | None:
    """The registered host of a URL, without ``www.``: ``https://www.bbc.co.uk/x`` -> ``bbc.co.uk``."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    for prefix in ("www.", "www1.", "www2.", "m.", "amp.", "mobile."):
        if host.startswith(prefix):
            host = host[len(prefix):]
            break
    return host


_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "gov", "ac", "edu", "ne", "or", "go"})
_NAME_SUFFIXES = ("news", "online", "newspaper", "network", "media", "group", "daily", "digital")


def _is_domain(source: str | None) -> bool:
    """An outlet written as its site ("bbc.co.uk"), not as its name."""
    return source is not None and "." in source and " " not in source.strip()


def publisher_key(source: str | None, url: str | None = None) -> str | None:
    """The publisher behind an outlet, so one publisher's several sites count once:
    ``bbc.co.uk``, ``www.bbc.com`` and "BBC News" all give ``bbc``.

    A heuristic (no public-suffix list ships offline with a maintained library
    here): the registered label of the host, else the outlet's name without
    "the" and words like "News".
    """
    host = outlet_from_url(url) or (source.strip().lower() if source and _is_domain(source) else None)
    labels = [x for x in (host or "").lower().split(".") if x]
    if labels:  # a source of dots alone ("...") names no host
        if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL:
            return labels[-3]
        return labels[-2] if len(labels) >= 2 else labels[0]
    if not source or not source.strip():
        return None
    words = re.sub(r"[^\w\s]", " ", source.lower()).split()
    if words and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in _NAME_SUFFIXES:
        words = words[:-1]
    return "".join(words) or None


def _name_words(name: str) -> list[str]:
    return re.sub(r"[^\w\s]", " ", name.lower()).split()


def publisher_aliases(name: str) -> frozenset[str]:
    """The host labels a publisher's name may go by: "Fox News" -> foxnews, fox;
    "The New York Times" -> newyorktimes, nytimes, nyt; "Wall Street Journal" ->
    wsj; "The Guardian" -> theguardian, guardian; "Associated Press" -> apnews;
    "CBS" -> cbsnews. Without a list of publishers
    (none ships offline), these spellings are how a name meets its site's URL."""
    words = _name_words(name)
    out = {"".join(words)}
    if words and words[0] == "the":
        words = words[1:]
    if not words:
        return frozenset(w for w in out if w)
    out.add("".join(words))
    key = publisher_key(name)
    if key:
        out.add(key)
    short = "".join(w[0] for w in words) if len(words) >= 2 else words[0]
    if len(words) >= 2:
        out.add(short)  # wsj, bbc, afp
        out.add("".join(w[0] for w in words[:-1]) + words[-1])  # nytimes, latimes
    if short != "news":
        out.add(short + "news")  # "Associated Press" and apnews.com, "CBS" and cbsnews.com
    return frozenset(w for w in out if w)


def publisher_voices(
    articles: Mapping[str, tuple[str | None, str | None, str | None]],
) -> dict[str, str | None]:
    """The publisher key of each of a group of articles (id -> outlet name, URL, the
    publisher a feed entry's <source> names), so one publisher counts once across
    the ways it is named.

    A feed entry's <source> is its publisher: its link points at the aggregator
    (every Google News entry's host is news.google.com), so it is not used. An
    article known only by name takes the key of the one site among the group's
    URLs that its name spells ("Fox News" and foxnews.com; "The New York Times"
    and nytimes.com).
    """
    keys: dict[str, str | None] = {}
    named: dict[str, str] = {}
    hosts: set[str] = set()
    for aid, (source, url, feed_source) in articles.items():
        if feed_source and feed_source.strip():
            keys[aid] = publisher_key(feed_source)
            named[aid] = feed_source
        elif outlet_from_url(url):
            keys[aid] = publisher_key(source, url)
            hosts.add(keys[aid] or "")
        else:
            keys[aid] = publisher_key(source)
            if source and keys[aid] and not _is_domain(source):
                named[aid] = source
            elif keys[aid]:
                hosts.add(keys[aid] or "")
    hosts.discard("")
    for aid, name in named.items():
        fits = hosts & publisher_aliases(name)
        if len(fits) == 1:
            keys[aid] = fits.pop()
    return keys


def outlet_label(outlet: str | None, voice: str) -> str:
    """How an account names an outlet: its name, or for an article without one,
    "unknown outlet (<article id>)" so two unnamed outlets stay apart."""
    return outlet or f"unknown outlet ({voice.removeprefix('article:')})"


def outlet_from_attribution(snippet: str) -> str | None:
    """The site named by attribution spam such as ``This news data comes from:http://x.com``."""
    m = _URL_RE.search(snippet)
    return outlet_from_url(m.group(0)) if m else None


def outlet_from_title_line(line: str, title: str) -> str | None:
    """The site named after the headline in a page-title line: ``"Mourinho agrees deal |
    UK News | Sky News"`` with the title ``"Mourinho agrees deal"`` gives ``"Sky News"``
    (the last part, of at most five words, of at most eight words after the headline;
    cut at " - ", " | " and the like, not at a colon, which ends a section's name)."""
    key = normalize_line(title)
    if not key:
        return None
    for m in SITE_NAME_SEP.finditer(line):
        if not normalize_line(line[:m.start()]).endswith(key):
            continue
        parts = [p.strip() for p in SITE_NAME_SEP.split(line[m.end():]) if p.strip()]
        if not parts or sum(len(p.split()) for p in parts) > 8 or len(parts[-1].split()) > 5:
            return None  # words of the headline's own, not a site's name
        return parts[-1] if any(c.isalpha() for c in parts[-1]) else None
    return None


def find_dateline(text: str) -> str | None:
    """The dateline place at the start of a body (``BEIJING —`` -> ``BEIJING``)."""
    m = _DATELINE_RE.match(text[:200])
    if not m:
        return None
    place = m.group("place").strip(" ,")
    # Guard against ordinary capitalised words: a dateline is mostly upper case letters.
    letters = [c for c in place.split(",")[0] if c.isalpha()]
    if len(letters) < 3 or sum(c.isupper() for c in letters) / len(letters) < 0.9:
        return None
    return place


def find_text_date(text: str, *, head_chars: int = 600) -> datetime | None:
    """A publication date written near the top of a text ("November 18, 2019")."""
    from dateutil import parser

    head = text[:head_chars]
    for rx in _TEXT_DATE_RES:
        m = rx.search(head)
        if m:
            try:
                return parser.parse(m.group(0).replace("Sept", "Sep"))
            except (ValueError, OverflowError):
                continue
    return None


_CREDIT = re.compile(r"\s*\([^()]{1,40}\)\s*$")  # "(AP)", "(Photo: Jo Reed)"
_NOT_STAMP = re.compile(r"\(@\w+\)|^(?:source|sources|credit|photo|image)s?\s*:", re.IGNORECASE)


def find_stamp_date(text: str, *, head_lines: int = 12, max_words: int = 15) -> datetime | None:
    """The date of a date stamp near the top of a cleaned body: the first of its first
    ``head_lines`` lines that is short and no sentence (a stamp or byline, "By Jo Reed
    | November 18, 2019", "Updated 10:01 pm, Tuesday, November 19, 2019") and holds a
    date.  A whole page's scrape opens with menus, so its own first characters rarely
    hold the date, and a date inside a sentence ("In this Dec. 12, 2006, file photo")
    is not the article's."""
    lines = [line.strip() for line in text.split("\n") if line.strip()][:head_lines]
    for line in lines:
        words = len(line.split())
        # a stamp is no sentence (a caption's credit does not count: "... on Aug. 31,
        # 2019. (AP)"), no embedded tweet ("— Jo (@jo) November 1, 2019") and no
        # source line ("Source: Ministry of Defence, October 25, 2019")
        if (words > max_words or _NOT_STAMP.search(line)
                or (words > 6 and _CREDIT.sub("", line).endswith((".", "!", "?")))):
            continue
        found = find_text_date(line)
        if found is not None:
            return found
    return None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when there is too little text."""
    sample = text[:3000]
    if sum(c.isalpha() for c in sample) < 20:
        return None
    import py3langid

    lang, _score = py3langid.classify(sample)
    return str(lang)


def normalize_for_hash(text: str) -> str:
    """Case, Unicode form and whitespace folded: equal texts hash equal."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split())


def content_hash(text: str) -> str:
    return hashlib.sha256(normalize_for_hash(text).encode()).hexdigest()


def article_id(url: str | None, body: str) -> str:
    """A stable id from the input: the same input always gets the same id.

    The URL takes part so that one wire text republished by two sites stays two
    articles (later grouped as copies), not one.
    """
    h = hashlib.sha256()
    h.update((url or "").strip().encode())
    h.update(b"\x00")
    h.update(normalize_for_hash(body).encode())
    return h.hexdigest()[:16]
