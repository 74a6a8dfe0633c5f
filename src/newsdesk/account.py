"""The cross-source account of a story.

Two steps, both pure:

1. ``analyse_article``: one spaCy parse of a cleaned article gives its
   sentences, named mentions and roles (``entities``), quotes (``quotes``),
   figures (``figures``) and dated expressions (``timeline``). This is the
   costly part (about 0.1–0.3 s an article) and is cached per article.
2. ``build_account``: over a story's analysed articles, entities are merged
   across spellings, quote speakers resolved to the merged full names, quotes
   aligned across outlets, claims grouped and given a status by independent
   voices, each outlet's exclusive reporting listed, the timeline drawn up,
   and a summary extracted from the best-supported claims and quotes.

The summary is extractive on purpose: every sentence is an article sentence
copied verbatim and cites it and the other outlets' sentences stating the same
claim, so no summary sentence says more than its sources and every quoted
string in it appears verbatim in a source.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from . import alignment, claims, entities, figures, nlp, quotes, timeline
from .alignment import AlignedQuote, Wording
from .claims import Claim, Sentence
from .entities import EntityIndex, Role
from .metadata import outlet_label, publisher_voices
from .records import Article, Entity, Figure, Mention, Quote, speaker_parts
from .timeline import DateMention, Event

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Span

__all__ = ["COMPONENT", "Account", "ArticleAnalysis", "account_markdown", "analyse_article",
           "analysis_hash", "build_account", "cited_articles", "claim_line", "components", "quote_line",
           "wording_tag"]

COMPONENT = "account.v7"
SUMMARY_SENTENCES = 5
MAX_CHARS = 100_000


def components() -> dict[str, str]:
    """Every component whose output an account depends on, with its version."""
    return {
        "nlp": nlp.COMPONENT,
        "entities": entities.COMPONENT,
        "quotes": quotes.COMPONENT,
        "figures": figures.COMPONENT,
        "timeline": timeline.COMPONENT,
        "alignment": alignment.COMPONENT,
        "claims": claims.COMPONENT,
        "account": COMPONENT,
    }


_ANALYSIS_PARTS = ("nlp", "entities", "quotes", "figures", "timeline")


def analysis_hash(article: Article) -> str:
    """What an article's analysis depends on: its text, its date, the components."""
    comp = components()
    key = json.dumps([article.content_hash,
                      article.published.isoformat() if article.published else None,
                      [comp[p] for p in _ANALYSIS_PARTS]])
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class ArticleAnalysis:
    """What the account components found in one article."""

    article: str
    sentences: tuple[tuple[int, int], ...]
    mentions: tuple[Mention, ...]
    roles: tuple[Role, ...]
    quotes: tuple[Quote, ...]
    figures: tuple[Figure, ...]
    dates: tuple[DateMention, ...]

    def sentence_of(self, offset: int) -> int:
        starts = [s for s, _ in self.sentences]
        return max(0, bisect.bisect_right(starts, offset) - 1)

    def to_json(self) -> str:
        d = asdict(self)
        for dm in d["dates"]:
            dm["day"] = dm["day"].isoformat()
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str) -> ArticleAnalysis:
        d = json.loads(data)
        return cls(
            article=d["article"],
            sentences=tuple((s, e) for s, e in d["sentences"]),
            mentions=tuple(Mention(**m) for m in d["mentions"]),
            roles=tuple(Role(**r) for r in d["roles"]),
            quotes=tuple(Quote(**q) for q in d["quotes"]),
            figures=tuple(Figure(**f) for f in d["figures"]),
            dates=tuple(DateMention(**(dm | {"day": date.fromisoformat(dm["day"])})) for dm in d["dates"]),
        )


def analyse_article(article: Article, pipeline: Language | None = None) -> ArticleAnalysis:
    """Parse one cleaned article once and run every per-article extractor on the parse.

    Only the first ``MAX_CHARS`` characters are read: news articles are far
    shorter, spaCy refuses texts over a million characters, and parse time and
    memory grow with length. Offsets stay those of the full text.
    """
    text = article.text[:MAX_CHARS]
    doc = nlp.parse(text, pipeline)
    sentences = _sentence_spans(text, [(s.start_char, s.end_char) for s in doc.sents])
    starts = [s for s, _ in sentences]

    def sentence_of(offset: int) -> int:
        return max(0, bisect.bisect_right(starts, offset) - 1)

    mentions, roles = entities.article_mentions(doc, article.id)
    qs = [q if q.sentence is not None else _with_sentence(q, sentence_of(q.start))
          for q in quotes.extract_quotes(text, article.id, doc=doc)]
    figs = [_figure_sentence(f, sentence_of(f.start))
            for f in figures.extract_figures(text, article.id, doc=doc)]
    dates = []
    for ent in doc.ents:
        if ent.label_ != "DATE":
            continue
        resolved = timeline.resolve_date(ent.text, article.published, _tense(ent))
        if resolved:
            dates.append(DateMention(article.id, sentence_of(ent.start_char), ent.start_char,
                                     ent.end_char, ent.text, resolved[0], resolved[1]))
    return ArticleAnalysis(article.id, sentences, tuple(mentions), tuple(roles), tuple(qs),
                           tuple(figs), tuple(dates))


# Auxiliaries of a verb in the future tense, and of a perfect or passive in the past.
_FUTURE_AUX = frozenset({"will", "'ll", "’ll", "shall", "wo"})
_PAST_AUX = frozenset({"had", "has", "have", "was", "were"})


def _tense(ent: Span) -> timeline.Tense | None:
    """The tense of the verb a date expression tells the time of: "fired in
    February" past, "will leave in February" future; "scheduled for March 3"
    nothing, nor a date that modifies a noun ("the Dec. 27 debate was sponsored
    by ...", "by the February deadline"), whose verb's tense is not its time."""
    tok = ent.root
    for _ in range(4):
        if tok.pos_ in ("VERB", "AUX"):
            break
        head = tok.head
        if head is tok or head.pos_ not in ("ADP", "VERB", "AUX"):
            return None
        tok = head
    if tok.pos_ not in ("VERB", "AUX"):
        return None
    aux = {c.lower_ for c in tok.children if c.dep_ in ("aux", "auxpass")}
    if aux & _FUTURE_AUX:
        return "future"
    if tok.tag_ == "VBD" or tok.tag_ == "VBN" and aux & _PAST_AUX:
        return "past"
    return None


_CLOSERS = "\"”’'»)"


def _sentence_spans(text: str, spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """spaCy's sentences, with a closing quotation mark that it put at the start of
    the next sentence ('... fought "heroically.' + '"') moved back where it belongs."""
    out = [list(s) for s in spans]
    for i in range(1, len(out)):
        s, e = out[i]
        j = s
        while j < e and text[j] in _CLOSERS:
            j += 1
        if j > s and text[out[i - 1][0]:out[i - 1][1]].count('"') % 2 == 1 or (
                j > s and "“" in text[out[i - 1][0]:out[i - 1][1]]
                and "”" not in text[out[i - 1][0]:out[i - 1][1]]):
            out[i - 1][1] = j
            out[i][0] = j
    return tuple((s, e) for s, e in out if e > s)


def _with_sentence(q: Quote, index: int) -> Quote:
    return Quote(**(asdict(q) | {"sentence": index}))


def _figure_sentence(f: Figure, index: int) -> Figure:
    return f if f.sentence == index else Figure(**(asdict(f) | {"sentence": index}))


# --- the story account ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ArticleRef:
    id: str
    title: str | None
    outlet: str | None
    voice: str
    published: datetime | None
    url: str | None
    copy_of: str | None


@dataclass(frozen=True, slots=True)
class Citation:
    article: str
    outlet: str | None
    sentence: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SummarySentence:
    text: str
    source: Citation  # the sentence copied
    citations: tuple[Citation, ...]  # every article sentence stating the same
    claim: str | None  # the claim or aligned quote it comes from


@dataclass
class Account:
    story: str
    title: str | None
    articles: list[ArticleRef]
    entities: list[Entity]
    quotes: list[AlignedQuote]
    claims: list[Claim]
    coverage: dict[str, dict[str, list[str]]]
    timeline: list[Event]
    summary: list[SummarySentence]
    context: dict[tuple[str, int], str] = field(default_factory=dict)  # sentences of dated events
    provenance: dict[str, str] = field(default_factory=components)

    def to_json(self) -> dict[str, Any]:
        """The account as plain JSON data (what ``export story --format json`` writes)."""
        newest = max((a.published.date() for a in self.articles if a.published), default=None)
        return _jsonable({
            "story": self.story,
            "title": self.title,
            "provenance": self.provenance,
            "articles": [asdict(a) for a in self.articles],
            "summary": [asdict(s) | {"component": COMPONENT} for s in self.summary],
            "entities": [
                {"id": e.id, "name": e.name, "kind": e.kind, "aliases": list(e.aliases),
                 "roles": list(e.roles), "mentions": len(e.mentions),
                 "articles": sorted({m.article for m in e.mentions}),
                 "component": entities.COMPONENT}
                for e in self.entities
            ],
            "quotes": [
                {"id": a.id, "speaker": a.speaker, "text": a.reference.text, "voices": a.voices,
                 "outlets": list(a.outlets), "component": alignment.COMPONENT,
                 "wordings": [
                     {"article": w.quote.article, "outlet": w.outlet, "voice": w.voice,
                      "start": w.quote.start, "end": w.quote.end, "text": w.quote.text,
                      "kind": w.quote.kind, "speaker": w.quote.speaker,
                      "speaker_text": w.quote.speaker_text, "verb": w.quote.verb,
                      "sentence": w.quote.sentence, "relation": w.relation,
                      "different_speaker": w.different_speaker,
                      "diff": [list(d) for d in w.diff], "component": quotes.COMPONENT}
                     for w in a.wordings
                 ]}
                for a in self.quotes
            ],
            "claims": [
                {"id": c.id, "kind": c.kind, "claim": c.text, "status": c.status, "value": c.value,
                 "unit": c.unit, "counts": c.counts, "values": c.values, "voices": c.voices,
                 "outlets": list(c.outlets), "articles": list(c.articles),
                 "component": figures.COMPONENT if c.kind == "figure" else claims.COMPONENT,
                 "supports": [asdict(s) for s in c.supports]}
                for c in self.claims
            ],
            "coverage": self.coverage,
            "timeline": {
                "events": [
                    {"date": e.label, "precision": e.precision, "component": timeline.COMPONENT,
                     # after the newest article: a schedule, a plan or a projection
                     "ahead": newest is not None and e.after(newest),
                     "mentions": [{"article": m.article, "sentence": m.sentence, "text": m.text,
                                   "start": m.start, "end": m.end,
                                   "context": self.context.get((m.article, m.sentence))}
                                  for m in e.mentions]}
                    for e in self.timeline
                ],
                "articles": [{"article": a.id, "outlet": a.outlet,
                              "published": a.published} for a in sorted(
                                  self.articles, key=lambda a: (a.published is None, a.published or 0))],
            },
        })


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, datetime | date):
        return obj.isoformat()
    return obj


Encoder = Callable[[Sequence[str]], np.ndarray]


def build_account(
    story_id: str,
    members: Sequence[Article],
    analyses: Mapping[str, ArticleAnalysis],
    *,
    copy_of: Mapping[str, str] | None = None,
    encode: Encoder | None = None,
) -> Account:
    """The account of one story from its articles and their analyses.

    ``copy_of`` maps a copy to its original (copies speak with the original's
    voice); ``encode`` embeds texts into unit vectors (MiniLM by default) for
    sentence claims and paraphrased quotes.
    """
    copy_of = copy_of or {}
    by_id = {a.id: a for a in members}
    arts = sorted(members, key=lambda a: (a.published is None, a.published or datetime.min, a.id))

    publishers = publisher_voices({a.id: (a.source, a.url, a.feed_source) for a in members})

    def voice(aid: str) -> str:
        root = copy_of.get(aid, aid)
        a = by_id.get(root) or by_id[aid]
        return publishers.get(a.id) or f"article:{root}"

    refs = [ArticleRef(a.id, a.title, a.source, voice(a.id), a.published, a.url, copy_of.get(a.id))
            for a in arts]
    outlet_of = {a.id: a.source for a in arts}
    voice_of = {r.id: r.voice for r in refs}
    an = [analyses[a.id] for a in arts if a.id in analyses]

    # Entities across the story, and quote speakers resolved to their full names.
    ents = entities.merge_entities(
        (m for x in an for m in x.mentions), (r for x in an for r in x.roles),
        {a.id: a.text for a in arts})
    index = EntityIndex(ents)

    def speaker(q: Quote) -> str | None:
        parts = speaker_parts(q.speaker)
        if len(parts) > 1:  # people who spoke together, each by their merged name
            names = [index.canonical(p) or p for p in parts]
            return ", ".join(names[:-1]) + " and " + names[-1]
        return index.canonical(q.speaker)

    all_quotes = [q for x in an for q in x.quotes]
    resolved_quotes = [Quote(**(asdict(q) | {"speaker": speaker(q)})) for q in all_quotes]

    # Sentences with their outlet and independence key.
    sentences: list[Sentence] = []
    for x in an:
        text = by_id[x.article].text
        quoted = _quoted_mask(len(text), [(q.start, q.end) for q in x.quotes])
        for i, (s, e) in enumerate(x.sentences):
            body = text[s:e].strip()
            if not body:
                continue
            lead = len(text[s:e]) - len(text[s:e].lstrip())
            share = float(quoted[s:e].mean()) if e > s else 0.0
            sentences.append(Sentence(x.article, i, s + lead, s + lead + len(body), body,
                                      outlet_of.get(x.article), voice_of[x.article], share))
    sent_at = {(s.article, s.index): s for s in sentences}

    encode = encode or _default_encoder()
    texts = [s.text for s in sentences] + [q.text for q in resolved_quotes]
    vecs = encode(texts) if texts else np.zeros((0, 384), dtype=np.float32)
    svec, qvec = vecs[:len(sentences)], vecs[len(sentences):]

    aligned = alignment.align_quotes(resolved_quotes, outlet_of=outlet_of, voice_of=voice_of,
                                     vectors=qvec if len(resolved_quotes) else None)
    row_of = {(s.article, s.index): i for i, s in enumerate(sentences)}

    def figure_cosine(a: Figure, b: Figure) -> float:
        ra, rb = row_of.get((a.article, a.sentence or 0)), row_of.get((b.article, b.sentence or 0))
        return float(svec[ra] @ svec[rb]) if ra is not None and rb is not None else 0.0

    story_claims = (
        claims.figure_claims([f for x in an for f in x.figures], sent_at, figure_cosine)
        + claims.statement_claims(sentences, svec)
        + claims.attribution_claims(aligned, sent_at)
    )
    order = {"contradicted": 0, "corroborated": 1, "single-source": 2}
    story_claims.sort(key=lambda c: (order[c.status], -c.voices, c.kind != "figure",
                                     _first_position(c, arts), c.id))

    coverage = _coverage(story_claims, aligned, refs)
    events = timeline.timeline([d for x in an for d in x.dates])
    summary = _summary(story_claims, aligned, sent_at, svec, sentences, arts)
    title = next((a.title for a in arts if a.title), None)
    context = {(m.article, m.sentence): sent_at[(m.article, m.sentence)].text
               for e in events for m in e.mentions if (m.article, m.sentence) in sent_at}
    return Account(story_id, title, refs, ents, aligned, story_claims, coverage, events, summary,
                   context)


def _quoted_mask(n: int, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    mask = np.zeros(n, dtype=np.float32)
    for s, e in spans:
        mask[max(0, s):max(0, e)] = 1.0
    return mask


def _first_position(c: Claim, arts: Sequence[Article]) -> int:
    return min((s.sentence for s in c.supports), default=0)


def _coverage(cls: Sequence[Claim], aligned: Sequence[AlignedQuote],
              refs: Sequence[ArticleRef]) -> dict[str, dict[str, list[str]]]:
    """Per outlet: the claims and quotes only it (its voice) reports."""
    voices_outlets: dict[str, set[str]] = {}
    for r in refs:
        voices_outlets.setdefault(r.voice, set()).add(outlet_label(r.outlet, r.voice))
    out: dict[str, dict[str, list[str]]] = {}
    for r in refs:
        out.setdefault(outlet_label(r.outlet, r.voice), {"claims": [], "quotes": []})
    if len(voices_outlets) < 2:
        return out  # with one voice nobody leaves anything out
    for c in cls:
        vs = {s.voice for s in c.supports if s.confirms}
        if len(vs) == 1 and c.kind != "attribution":
            for outlet in sorted({outlet_label(s.outlet, s.voice) for s in c.supports if s.confirms}):
                out.setdefault(outlet, {"claims": [], "quotes": []})["claims"].append(c.id)
    for a in aligned:
        vs = {w.voice for w in a.wordings}
        if len(vs) == 1:
            for outlet in sorted({outlet_label(w.outlet, w.voice) for w in a.wordings}):
                out.setdefault(outlet, {"claims": [], "quotes": []})["quotes"].append(a.id)
    return out


def _summary(cls: Sequence[Claim], aligned: Sequence[AlignedQuote],
             sent_at: Mapping[tuple[str, int], Sentence], svec: np.ndarray,
             sentences: Sequence[Sentence], arts: Sequence[Article]) -> list[SummarySentence]:
    """A few article sentences carrying the best-supported claims and quotes."""
    row = {(s.article, s.index): i for i, s in enumerate(sentences)}
    picked: list[SummarySentence] = []
    chosen_rows: list[int] = []

    def cite(sup_article: str, sup_sentence: int) -> Citation | None:
        s = sent_at.get((sup_article, sup_sentence))
        return Citation(s.article, s.outlet, s.index, s.start, s.end) if s else None

    def try_add(source: Sentence, cites: list[Citation], claim_id: str) -> None:
        r = row.get((source.article, source.index))
        if r is None or len(source.text.split()) < 6 or not _marks_balanced(source.text):
            return
        if any(float(svec[r] @ svec[c]) >= 0.7 for c in chosen_rows):
            return  # already said
        chosen_rows.append(r)
        own = Citation(source.article, source.outlet, source.index, source.start, source.end)
        uniq = list(dict.fromkeys([own, *cites]))
        picked.append(SummarySentence(source.text, own, tuple(uniq), claim_id))

    candidates: list[tuple[tuple[int, int, int], Callable[[], None]]] = []
    for c in cls:
        if c.kind == "attribution" or (c.status == "single-source" and c.kind == "figure"):
            continue
        cites = [x for x in (cite(s.article, s.sentence) for s in c.supports) if x]
        if not cites:
            continue
        source = _best_source(c, sent_at)
        if source is None:
            continue
        prio = (0 if c.status != "single-source" else 1, -c.voices, source.index)
        candidates.append((prio, _adder(try_add, source, cites, c.id)))
    for a in aligned:
        # An outlet that gives the words to someone else does not support the sentence
        # that names the speaker ("an AARP spokeswoman said" is not what Fox wrote).
        own = [w for w in a.wordings if not w.different_speaker]
        voices = len({w.voice for w in own})
        if voices < 2:
            continue
        s = _quote_sentence(own, sent_at)
        if s is None:
            continue
        cites = [x for x in (cite(w.quote.article, w.quote.sentence if w.quote.sentence is not None
                                  else -1) for w in own) if x]
        candidates.append(((0, -voices, s.index + 1), _adder(try_add, s, cites, a.id)))
    for prio, add in sorted(candidates, key=lambda t: t[0]):
        # What one outlet alone says fills the summary only when little is corroborated.
        if len(picked) >= SUMMARY_SENTENCES or (prio[0] == 1 and len(picked) >= 3):
            break
        add()
    # In reading order: by position in the earliest article that carries each sentence.
    order = {a.id: i for i, a in enumerate(arts)}
    picked.sort(key=lambda s: (order.get(s.source.article, 0), s.source.sentence))
    return picked


_PRONOUNS = frozenset("he she they it we i you".split())


def _quote_sentence(wordings: Sequence[Wording],
                    sent_at: Mapping[tuple[str, int], Sentence]) -> Sentence | None:
    """The sentence to copy for a quote: one that carries the quotation marks and
    its attribution ("...," Putin said; a name before "he"), so the summary never
    states a quote as fact or leaves it without a speaker."""
    best: tuple[tuple[int, int, int], Sentence] | None = None
    for w in wordings:
        q = w.quote
        s = sent_at.get((q.article, q.sentence if q.sentence is not None else -1))
        if s is None or not (s.start <= q.start < s.end):
            continue
        marks = any(m in s.text for m in ('"', "“", "”"))
        if not marks:
            continue
        if not (q.speaker_text and q.speaker_text in s.text):
            continue  # the sentence must say who speaks ("..., he said" at least)
        named = q.speaker_text.lower() not in _PRONOUNS
        key = (0 if named else 1, 0 if w.relation != "paraphrased" else 1, len(s.text))
        if best is None or key < best[0]:
            best = (key, s)
    return best[1] if best else None


def _marks_balanced(text: str) -> bool:
    """Does every quotation mark the sentence opens close in it? A sentence split
    inside a quote ('It was a prank," Weiner reiterated. "') reads as broken."""
    depth = 0
    for i, c in enumerate(text):
        if c == '"':
            # a straight mark opens at the start or after a space, a bracket or a dash
            opens = i == 0 or text[i - 1].isspace() or text[i - 1] in "([{\u2014\u2013-"
        elif c in "\u201c\u201d":
            opens = c == "\u201c"
        else:
            continue
        depth += 1 if opens else -1
        if depth < 0:
            return False
    return depth == 0


def _adder(fn: Callable[[Sentence, list[Citation], str], None], s: Sentence, cites: list[Citation],
           cid: str) -> Callable[[], None]:
    return lambda: fn(s, cites, cid)


def _best_source(c: Claim, sent_at: Mapping[tuple[str, int], Sentence]) -> Sentence | None:
    """The supporting sentence to copy: the claim's own wording, else the shortest."""
    found = [sent_at.get((s.article, s.sentence)) for s in c.supports if s.confirms]
    ss = [s for s in found if s is not None and s.quoted < 0.5]
    if not ss:
        return None
    exact = [s for s in ss if s.text == c.text]
    return exact[0] if exact else min(ss, key=lambda s: (len(s.text), s.article))


def _default_encoder() -> Encoder:
    from .storybook import _encode, sentence_embedder

    emb = sentence_embedder()
    return lambda texts: _encode(emb, list(texts))


# --- markdown --------------------------------------------------------------------------

def claim_line(claim: Mapping[str, Any]) -> str:
    """A claim of an account's data where it stands alone (what one outlet alone
    reports): a figure says what it counts ("Thousands (casualties)")."""
    text = str(claim["claim"])
    counts = claim.get("counts")
    if claim.get("kind") == "figure" and counts and str(counts).lower() not in text.lower():
        return f"{text} ({counts})"
    return text


def wording_tag(wording: Mapping[str, Any], wordings: int) -> str:
    """What a reader is told about one outlet's wording of a quote: how it relates to
    the fullest wording (when there are several), the kind of quote unless direct,
    and a speaker other than the quote's."""
    parts = [str(wording["relation"])] if wordings > 1 else []
    if wording.get("kind", "direct") != "direct":
        parts.append(str(wording["kind"]))
    if wording.get("different_speaker"):
        parts.append(f"different speaker: {wording.get('speaker') or '?'}")
    return ", ".join(parts)


def quote_line(quote: Mapping[str, Any]) -> str:
    """A quote of an account's data where it stands alone: its speaker, and quotation
    marks only around words reported verbatim.  An indirect quote is a reporter's
    paraphrase, and a mixed one carries its own marks ('they fought "heroically."'),
    so neither is put in marks."""
    text = str(quote["text"])
    kind = next((w.get("kind") for w in quote.get("wordings", ()) if w.get("text") == text), "direct")
    if kind == "direct":
        text = f"\u201c{text}\u201d"
    return f"{quote['speaker']}: {text}" if quote.get("speaker") else text


def cited_articles(citations: Sequence[Mapping[str, Any]],
                   number: Mapping[str, int]) -> list[tuple[int, Mapping[str, Any]]]:
    """Each cited article once, by its number, with its first cited sentence: a
    statement two sentences of one article carry is cited "[2]", not "[2][2]"."""
    first: dict[int, Mapping[str, Any]] = {}
    for c in citations:
        n = number.get(c["article"])
        if n is not None and n not in first:
            first[n] = c
    return sorted(first.items(), key=lambda t: t[0])


def account_markdown(data: Mapping[str, Any]) -> str:
    """The account (as ``Account.to_json`` gives it) as a Markdown report."""
    lines = [f"# {data.get('title') or 'Untitled story'}", "", f"Story `{data['story']}`", ""]
    arts = {a["id"]: a for a in data["articles"]}
    cite_no = {a["id"]: i + 1 for i, a in enumerate(data["articles"])}

    def cites(cs: Sequence[Mapping[str, Any]]) -> str:
        return "".join(f"[{n}]" for n, _ in cited_articles(cs, cite_no))

    lines += ["## Summary", ""]
    for s in data["summary"]:
        lines.append(f"- {s['text']} {cites(s['citations'])}")
    lines += ["", "## Quotes", ""]
    for q in data["quotes"]:
        lines.append(f"**{q['speaker'] or 'unknown speaker'}** ({q['voices']} outlet(s): "
                     f"{', '.join(q['outlets'])})")
        lines.append("")
        for w in q["wordings"]:
            diff = " ".join(
                t if op == "=" else (f"~~{t}~~" if op == "-" else f"**{t}**") for op, t in w["diff"])
            direct = w.get("kind", "direct") == "direct"  # marks only around verbatim words
            text = f"\u201c{w['text']}\u201d" if direct else w["text"]
            tag = wording_tag(w, len(q["wordings"]))
            lines.append(f"- {w['outlet'] or w['article']} [{cite_no.get(w['article'], '?')}]"
                         f"{', ' + tag if tag else ''}: {text}")
            if w["relation"] != "verbatim":
                lines.append(f"  - differences: {diff}")
        lines.append("")
    lines += ["## Claims", ""]
    for status in ("contradicted", "corroborated", "single-source"):
        group = [c for c in data["claims"] if c["status"] == status]
        if not group:
            continue
        lines += [f"### {status} ({len(group)})", ""]
        for c in group:
            vals = ""
            if c["kind"] == "figure" and status == "contradicted":
                vals = " — " + "; ".join(f"{k}: {v:g}" if isinstance(v, int | float) else f"{k}: ?"
                                          for k, v in c["values"].items())
            lines.append(f"- {c['claim']}{vals} {cites(c['supports'])} ({', '.join(c['outlets'])})")
        lines.append("")
    lines += ["## Coverage by outlet", ""]
    claim_text = {c["id"]: claim_line(c) for c in data["claims"]}
    quote_text = {q["id"]: quote_line(q) for q in data["quotes"]}
    for outlet, cov in data["coverage"].items():
        lines.append(f"### {outlet}: {len(cov['claims'])} claim(s) and {len(cov['quotes'])} "
                     "quote(s) no other outlet reports")
        lines += [f"- {claim_text[c]}" for c in cov["claims"] if c in claim_text]
        lines += [f"- {quote_text[q]}" for q in cov["quotes"] if q in quote_text]
        lines.append("")
    lines += ["## Timeline", ""]
    for e in data["timeline"]["events"]:
        mentions = e["mentions"]
        ahead = " (after the newest article)" if e.get("ahead") else ""
        lines.append(f"- **{e['date']}**{ahead}: " + "; ".join(
            f"{m['text']} {cites([m])}" for m in mentions[:3]))
    lines += ["", "Articles:", ""]
    for a in data["timeline"]["articles"]:
        lines.append(f"- {a['published'] or 'undated'} — {a['outlet'] or 'unknown outlet'} "
                     f"[{cite_no[a['article']]}]")
    lines += ["", "## Sources", ""]
    for aid, n in cite_no.items():
        a = arts[aid]
        copy = f" (copy of {a['copy_of']})" if a.get("copy_of") else ""
        lines.append(f"{n}. {a['outlet'] or 'unknown outlet'}: {a['title'] or aid} `{aid}`"
                     f"{' ' + a['url'] if a['url'] else ''}{copy}")
    lines.append("")
    return "\n".join(lines)
