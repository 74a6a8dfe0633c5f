"""A large synthetic store for the web UI / HTTP API benchmark (bench/bench_serve.py).

    python bench/build_serve_store.py --db bench/out/serve_100k.db --articles 100000
    python bench/build_serve_store.py --articles 100000 --force \\
        --db 'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_serve'

No ingest pipeline runs per article (cleaning, copy detection, story placement
would take hours at 100,000 articles on 2 cores). Instead:

* Real articles: clustering/basil, clustering/ecbplus and clustering/semeval22_pairs
  of ../shared/data (or NEWSDESK_SHARED_DATA; exit 2 when absent), about 4,100
  articles in 7 languages, grouped in their real stories (basil and ecbplus
  stories; semeval22 pairs rated the same story, label 1, joined transitively;
  every other semeval22 article alone).
* Synthetic stories (about one per 5 articles) of long-tailed sizes: a power law
  on 1..50 (most stories 1-5 articles) plus one story of 100-400 articles per
  12,500 articles. Each draws from one real story, starts on a date spread over
  2025 and runs for hours to weeks (longer when larger).
* Each synthetic article takes the paragraphs of a real article of that story with
  about a quarter of its sentences swapped for sentences of the story's other
  real articles in the same language, sentences shuffled in some paragraphs, a
  paragraph dropped or added now and then; the real title (sometimes another
  member's); an outlet of its language from a pool of about 200 (the data's own
  outlets, Zipf-weighted so a few publish a lot); a date after the story's start.
  Lengths and vocabulary stay real.
* Copies: in stories of 2+ articles, 6 % of later articles (30 % in stories of
  50+, wire stories) repeat an earlier member's text at another outlet, exactly
  or with a credit line added, and are recorded as copies of it.
* Embeddings: the real embedder (``storybook.shared_embedder``) encodes each
  real article's embedding text once (cached in bench/out/); each synthetic
  article gets its real source's vector plus Gaussian noise (sigma 0.012, cosine
  about 0.97 to the source), normalised.

Everything is written through the Store's public methods (``add_articles``,
``write_story_members``, ``save_copy_matches``, ``save_embeddings``), so the
store's migrations (full text index, pgvector column) apply as for any store.
A story index state is saved too: every article pinned to its synthetic story
(``StoryIndex.pin`` + ``place``, about a minute at 100,000), so a later ingest
into the store continues from it; without it (``--no-story-index``) an ingest
would first re-place every stored article.

Then the accounts of ``--accounts`` stories (English, 5-15 articles) are
computed and cached with ``accountbook.story_account``, and a sidecar JSON file
(``DB.sample.json`` next to an SQLite file; ``bench/out/serve_<schema>.sample.json``
for a database URL; or ``--sample``) lists them, 500 other story ids, offsets for
story list pages, and search terms: frequent real entity names (places,
organisations, people found by spaCy's NER in the real English articles) with
the number of synthetic articles containing each.

PostgreSQL: give the URL a schema of its own with ``?options=-csearch_path%3DNAME``;
the schema is created if missing (``--force`` drops and recreates it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

BUILD_VERSION = 1
ARTICLES_PER_STORY = 5.0  # 100,000 articles -> about 20,000 stories
BULK_MAX = 50  # bulk story sizes 1..50
BIG_EVERY = 12_500  # one 100-400 article story per this many articles
OUTLETS = 200
NOISE = 0.012  # per dimension; |noise| ~ 0.24 on 384 dims, cosine ~0.97
YEAR_START = datetime(2025, 1, 1)
SECTIONS = ("world", "politics", "business", "national", "news", "local", "us", "europe")
CREDITS = ("(Reuters)", "(AP)", "(AFP)", "— The Associated Press contributed to this report.",
           "This story was originally published by {src}.", "Copyright {year} {src}. All rights reserved.")
_SENT = re.compile(r"(?<=[.!?؟])\s+")


def data_dir() -> Path:
    """../shared/data (or NEWSDESK_SHARED_DATA); exit 2 with a clear message when absent."""
    env = os.environ.get("NEWSDESK_SHARED_DATA")
    d = Path(env) if env else HERE.parent.parent / "shared" / "data"
    need = [d / "clustering" / x / "articles.jsonl" for x in ("basil", "ecbplus", "semeval22_pairs")]
    missing = [p for p in need if not p.is_file()]
    if missing:
        sys.stderr.write(
            f"error: evaluation data not found: {', '.join(str(p) for p in missing)}\n"
            "build_serve_store.py makes its synthetic articles from the real articles of "
            "clustering/{basil,ecbplus,semeval22_pairs} in the shared data folder (../shared/data "
            "next to the repository, or set NEWSDESK_SHARED_DATA). It is not part of a fresh clone.\n")
        raise SystemExit(2)
    return d


# ----------------------------------------------------------------------------- progress
class Progress:
    """A rich progress bar on a terminal, a line every few seconds otherwise (logs)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._rich = None
        if self.tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._rich = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
            self._rich.start()
        self._task = None
        self._name = ""
        self._total = 0
        self._done = 0
        self._t0 = self._last = time.perf_counter()

    def phase(self, name: str, total: int) -> None:
        self.finish()
        self._name, self._total, self._done = name, total, 0
        self._t0 = self._last = time.perf_counter()
        if self._rich is not None:
            self._task = self._rich.add_task(name, total=total)
        else:
            log(f"{name}: 0/{total}")

    def advance(self, n: int = 1) -> None:
        self._done += n
        if self._rich is not None:
            self._rich.update(self._task, completed=self._done)
            return
        now = time.perf_counter()
        if now - self._last >= 5:
            self._last = now
            rate = self._done / max(now - self._t0, 1e-9)
            eta = (self._total - self._done) / rate if rate else 0
            rate_s = f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.2f}/s"
            log(f"{self._name}: {self._done}/{self._total} ({rate_s}, ~{eta:,.0f} s left)")

    def finish(self) -> float:
        took = time.perf_counter() - self._t0
        if self._name and self._rich is None:
            log(f"{self._name}: {self._done}/{self._total} done in {took:,.1f} s")
        self._name = ""
        return took

    def close(self) -> None:
        self.finish()
        if self._rich is not None:
            self._rich.stop()


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- real data
@dataclass
class Real:
    key: str
    title: str
    paras: list[list[str]]  # sentences of each paragraph
    lang: str
    source: str | None  # outlet name the data gives
    domain: str | None

    @property
    def text(self) -> str:
        return "\n".join(" ".join(p) for p in self.paras)


def _sentences(para: str) -> list[str]:
    return [s for s in (x.strip() for x in _SENT.split(para)) if s]


def load_real(d: Path) -> tuple[list[Real], list[list[int]]]:
    """The real articles and their real stories (lists of indices into the articles)."""
    arts: list[Real] = []
    index: dict[str, int] = {}
    story_of: dict[int, str] = {}

    def add(key: str, r: dict, group: str | None) -> None:
        title, paras = corpus.title_and_body(r["text"], r.get("title"))
        # A stub (a headline and a copyright line) is not an article; characters count too.
        if not paras or (sum(len(p.split()) for p in paras) < 60 and sum(len(p) for p in paras) < 300):
            return
        src, url = r.get("source"), r.get("url")
        if src in corpus.OUTLET_NAMES:
            name, dom = corpus.OUTLET_NAMES[src]
        elif corpus.host_of(url):
            dom = corpus.host_of(url)
            name = src if src and "." not in src else dom
        else:
            name, dom = src, (corpus.slug(src) + ".com" if src else None)
        index[key] = len(arts)
        if group is not None:
            story_of[len(arts)] = group
        arts.append(Real(key, title, [_sentences(p) for p in paras], (r.get("lang") or "en").lower(),
                         name, dom))

    for name in ("basil", "ecbplus"):
        for r in corpus._jsonl(d / "clustering" / name / "articles.jsonl"):
            add(f"{name}:{r['id']}", r, f"{name}:{r['story']}")
    sem = d / "clustering" / "semeval22_pairs"
    for r in corpus._jsonl(sem / "articles.jsonl"):
        add(f"semeval22:{r['id']}", r, None)
    # semeval22: pairs rated the same story (label 1), joined transitively.
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for p in corpus._jsonl(sem / "pairs.jsonl"):
        a, b = index.get(f"semeval22:{p['id1']}"), index.get(f"semeval22:{p['id2']}")
        if p.get("label") == 1 and a is not None and b is not None:
            parent[find(a)] = find(b)
    for i, a in enumerate(arts):
        if a.key.startswith("semeval22:"):
            story_of[i] = f"semeval22:{find(i)}"
    groups: dict[str, list[int]] = defaultdict(list)
    for i in range(len(arts)):
        groups[story_of[i]].append(i)
    return arts, [groups[k] for k in sorted(groups)]


def outlet_pool(arts: list[Real], rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    """About ``OUTLETS`` (name, domain) pairs, per language, the most frequent of the data first."""
    by_lang: dict[str, Counter] = defaultdict(Counter)
    for a in arts:
        if a.source and a.domain:
            by_lang[a.lang][(a.source, a.domain)] += 1
    for name, dom in corpus.EN_OUTLETS:
        by_lang["en"][(name, dom)] += 5
    total = sum(len(c) for c in by_lang.values())
    pool: dict[str, list[tuple[str, str]]] = {}
    for lang, c in by_lang.items():
        k = max(3, round(OUTLETS * len(c) / total))
        pool[lang] = [o for o, _ in sorted(c.items(), key=lambda x: (-x[1], x[0]))[:k]]
    return pool


# ----------------------------------------------------------------------------- synthesis
def story_sizes(n: int, rng: random.Random) -> list[int]:
    """Long-tailed sizes summing to ``n``: power law on 1..BULK_MAX, plus big stories."""
    sizes: list[int] = []
    big_total = 0
    for _ in range(n // BIG_EVERY if n >= 2 * BIG_EVERY else (1 if n >= 2000 else 0)):
        s = int(math.exp(rng.uniform(math.log(100), math.log(min(400, max(100, n // 25))))))
        sizes.append(s)
        big_total += s
    rest = n - big_total
    target_mean = ARTICLES_PER_STORY * (n - big_total) / max(1.0, n - len(sizes) * ARTICLES_PER_STORY)
    s = np.arange(1, BULK_MAX + 1, dtype=float)
    lo, hi = 0.5, 4.0  # exponent: mean falls as it grows
    for _ in range(60):
        a = (lo + hi) / 2
        p = s ** -a
        mean = float((s * p).sum() / p.sum())
        lo, hi = (a, hi) if mean > target_mean else (lo, a)
    p = s ** -a
    cum = np.cumsum(p / p.sum())
    while rest > 0:
        k = int(np.searchsorted(cum, rng.random())) + 1
        k = min(k, rest)
        sizes.append(k)
        rest -= k
    rng.shuffle(sizes)
    return sizes


def recombine(base: Real, mates: list[Real], rng: random.Random) -> list[str]:
    """The base's paragraphs with sentences of its story's other articles mixed in."""
    paras: list[str] = []
    for sents in base.paras:
        if len(base.paras) > 2 and rng.random() < 0.08:
            continue  # a dropped paragraph
        out = [(rng.choice(rng.choice(rng.choice(mates).paras)) if mates and rng.random() < 0.25 else s)
               for s in sents]
        out = [s for s in out if s]
        if len(out) > 1 and rng.random() < 0.3:
            rng.shuffle(out)
        if out:
            paras.append(" ".join(out))
    if mates and rng.random() < 0.3:
        m = rng.choice(mates)
        paras.insert(rng.randrange(len(paras) + 1), " ".join(rng.choice(m.paras)))
    return paras or [" ".join(base.paras[0])]


@dataclass
class Synth:
    id: str
    story: str
    title: str
    text: str
    lang: str
    source: str
    domain: str
    published: datetime
    base: int  # index of the real article it comes from (its vector)
    copy_of: str | None = None
    copy_kind: str | None = None


def synthesize(arts: list[Real], groups: list[list[int]], n: int, seed: int,
               progress: Progress) -> tuple[list[Synth], dict[str, int]]:
    rng = random.Random(seed)
    pool = outlet_pool(arts, rng)
    weights = {lang: [1 / (r + 1) ** 0.9 for r in range(len(o))] for lang, o in pool.items()}
    sizes = story_sizes(n, rng)
    # Big synthetic stories draw from the biggest real stories; the rest cycle through all.
    by_size = sorted(range(len(groups)), key=lambda g: (-len(groups[g]), g))
    cycle = list(range(len(groups)))
    rng.shuffle(cycle)
    out: list[Synth] = []
    progress.phase("synthesising articles", n)
    ci = 0
    big_i = 0
    prefixes = ("UPDATE: ", "Analysis: ", "WATCH: ", "Live updates: ", "Opinion: ", "")
    for k, size in enumerate(sizes):
        if size >= 50:
            g = groups[by_size[big_i % 20]]
            big_i += 1
        else:
            g = groups[cycle[ci % len(cycle)]]
            ci += 1
        sid = "st-" + hashlib.sha1(f"serve:{seed}:story:{k}".encode()).hexdigest()[:12]
        t0 = YEAR_START + timedelta(seconds=rng.uniform(0, 365 * 86400))
        scale_h = 4 + 1.5 * size ** 0.9  # a 3-article story over ~hours, a 300-article one over weeks
        members = list(g)
        rng.shuffle(members)
        dates = sorted([t0] + [t0 + timedelta(hours=rng.expovariate(1 / scale_h)) for _ in range(size - 1)])
        copy_rate = 0.3 if size >= 50 else 0.06
        story: list[Synth] = []
        for j in range(size):
            base_i = members[j % len(members)]
            base = arts[base_i]
            lang = base.lang
            outlets = pool.get(lang) or pool["en"]
            source, domain = rng.choices(outlets, weights[lang if lang in pool else "en"])[0]
            aid = hashlib.sha256(f"serve:{seed}:article:{len(out) + j}".encode()).hexdigest()[:16]
            if story and rng.random() < copy_rate:
                orig = rng.choice([s for s in story if s.copy_of is None])
                text, kind = orig.text, "exact"
                if rng.random() < 0.5:
                    credit = rng.choice(CREDITS).format(src=orig.source, year=dates[j].year)
                    text, kind = f"{text}\n{credit}", "near-duplicate"
                s = Synth(aid, sid, orig.title, text, orig.lang, source, domain, dates[j], orig.base,
                          copy_of=orig.id, copy_kind=kind)
            else:
                mates = [arts[i] for i in g if i != base_i and arts[i].lang == lang]
                title = base.title
                if mates and rng.random() < 0.2:
                    title = rng.choice(mates).title
                if lang == "en" and rng.random() < 0.1:
                    title = rng.choice(prefixes) + title
                s = Synth(aid, sid, title, "\n".join(recombine(base, mates, rng)), lang, source, domain,
                          dates[j], base_i)
            story.append(s)
            progress.advance()
        out.extend(story)
    progress.finish()
    stats = {"stories": len(sizes), "biggest": max(sizes), "stories_1_5": sum(1 for s in sizes if s <= 5),
             "stories_50_plus": sum(1 for s in sizes if s >= 50),
             "stories_100_plus": sum(1 for s in sizes if s >= 100),
             "copies": sum(1 for s in out if s.copy_of)}
    return out, stats


def to_article(s: Synth, seed: int, i: int):  # -> newsdesk.records.Article
    from newsdesk.metadata import content_hash
    from newsdesk.records import Article

    section = SECTIONS[i % len(SECTIONS)]
    url = f"https://www.{s.domain}/{section}/{s.published:%Y/%m/%d}/{corpus.slug(s.title)}-{s.id[:6]}"
    return Article(id=s.id, text=s.text, title=s.title, source=s.source, url=url, published=s.published,
                   lang=s.lang, author=None, format="jsonl", origin=f"synthetic:serve-store:seed={seed}#{i}",
                   content_hash=content_hash(s.text),
                   raw_hash=hashlib.sha256(f"{s.id}\x00{s.title}\x00{s.text}".encode()).hexdigest())


# ----------------------------------------------------------------------------- embeddings
def real_vectors(arts: list[Real], progress: Progress) -> tuple[np.ndarray, str]:
    """The real embedder's vector of each real article (cached in bench/out by content)."""
    from newsdesk.embeddings import embedding_text
    from newsdesk.storybook import _encode, shared_embedder

    emb = shared_embedder()
    texts = [embedding_text(a.title, a.text) for a in arts]
    key = hashlib.sha256(json.dumps([emb.component, texts]).encode()).hexdigest()[:16]
    cache = HERE / "out" / f"serve_real_vectors_{key}.npy"
    if cache.is_file():
        log(f"real article vectors from {cache.relative_to(HERE.parent)}")
        return np.load(cache), emb.component
    progress.phase(f"embedding {len(texts)} real texts", len(texts))
    parts = []
    for i in range(0, len(texts), 128):
        parts.append(_encode(emb, texts[i:i + 128]))
        progress.advance(len(texts[i:i + 128]))
    progress.finish()
    vecs = np.vstack(parts).astype(np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vecs)
    return vecs, emb.component


# ----------------------------------------------------------------------------- search terms
def search_terms(arts: list[Real], synth: list[Synth], k: int, progress: Progress,
                 ner_docs: int = 600) -> list[dict]:
    """Frequent single-word entity names (places, organisations, people) of the real English
    articles, with the number of synthetic articles whose title or text contains each.

    spaCy's NER reads the ``ner_docs`` real English articles the synthetic ones use most
    (their first 1,500 characters; cached in bench/out/); a name written in lower case
    more than 1 time in 5 in the real texts ("House", "State") is a common word, dropped.
    """
    uses = Counter(s.base for s in synth)
    english = sorted((i for i, a in enumerate(arts) if a.lang == "en"), key=lambda i: (-uses[i], i))
    docs = english[:ner_docs]
    texts = [f"{arts[i].title}\n{arts[i].text[:1500]}" for i in docs]
    key = hashlib.sha256(json.dumps(["ner-v1", texts]).encode()).hexdigest()[:16]
    cache = HERE / "out" / f"serve_ner_{key}.json"
    if cache.is_file():
        found = json.loads(cache.read_text())
    else:
        from newsdesk import nlp

        pipe = nlp.load(parser=False)
        found = []
        progress.phase("finding entity names (NER)", len(texts))
        for doc in pipe.pipe(texts, batch_size=32):
            found.append(sorted({(e.text, e.label_) for e in doc.ents
                                 if e.label_ in ("GPE", "LOC", "ORG", "PERSON", "NORP")
                                 and re.fullmatch(r"[A-Z][\w'-]{3,}", e.text)}))
            progress.advance()
        progress.finish()
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps(found))
    weight: Counter = Counter()
    label_of: dict[str, Counter] = defaultdict(Counter)
    for i, names in zip(docs, found, strict=True):
        for name, label in names:
            weight[name] += uses[i]
            label_of[name][label] += 1
    words = Counter(w for i in english for w in re.findall(r"[\w'-]+", arts[i].text))
    common = {w for w in weight if words[w.lower()] > 0.2 * (words[w] + words[w.lower()])}
    seen: set[str] = set()
    cands = []  # one spelling of each name (Washington, not WASHINGTON too)
    for w, _ in weight.most_common():
        if w not in common and w.casefold() not in seen:
            seen.add(w.casefold())
            cands.append(w)
    cands = cands[: 4 * k]
    # Frequent ones mostly, and some of middling frequency (fewer hits per query).
    top = (3 * k) // 4
    chosen = cands[:top] + cands[top::3][: k - top]
    pat = re.compile(r"\b(" + "|".join(re.escape(w) for w in chosen) + r")\b")
    hits: Counter = Counter()
    progress.phase("counting search term hits", len(synth))
    for j, s in enumerate(synth):
        hits.update(set(pat.findall(s.title)) | set(pat.findall(s.text)))
        if j % 1000 == 999:
            progress.advance(1000)
    progress.advance(len(synth) % 1000)
    progress.finish()
    return [{"term": w, "label": label_of[w].most_common(1)[0][0], "articles": hits[w]}
            for w in sorted(chosen, key=lambda w: (-hits[w], w))]


# ----------------------------------------------------------------------------- database
def pg_schema(url: str) -> str | None:
    """The schema a PostgreSQL URL's ``options=-csearch_path=NAME`` names."""
    for opt in parse_qs(urlsplit(url).query).get("options", []):
        m = re.search(r"-c\s*search_path\s*=\s*([\w$]+)", unquote(opt))
        if m:
            return m.group(1)
    return None


def prepare_db(db: str, force: bool) -> None:
    """A fresh store: remove an SQLite file, or create (drop with --force) the URL's schema."""
    if "://" not in db:
        p = Path(db)
        olds = [p, *(Path(f"{p}{x}") for x in ("-wal", "-shm", "-journal", ".sample.json"))]
        if p.exists() and not force:
            raise SystemExit(f"error: {p} exists; pass --force to replace it")
        for f in olds:
            f.unlink(missing_ok=True)
        p.parent.mkdir(parents=True, exist_ok=True)
        return
    import sqlalchemy as sa

    from newsdesk.store import database_url

    schema = pg_schema(db)
    if not db.startswith("postgresql") or schema is None:
        raise SystemExit("error: for a database URL give a schema of its own, e.g. "
                         "'postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_serve'")
    eng = sa.create_engine(database_url(db))
    with eng.begin() as conn:
        exists = conn.scalar(sa.text("SELECT count(*) FROM information_schema.tables "
                                     "WHERE table_schema = :s AND table_name = 'articles'"), {"s": schema})
        if exists and not force:
            raise SystemExit(f"error: schema {schema} already holds a store; pass --force to drop it")
        if force:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    eng.dispose()


def store_size(store, db: str) -> int:
    import sqlalchemy as sa

    if store.engine.dialect.name == "sqlite":
        with store.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(Path(f"{db}{x}").stat().st_size for x in ("", "-wal") if Path(f"{db}{x}").exists())
    with store.engine.connect() as conn:
        return int(conn.scalar(sa.text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')")) or 0)


def sample_path(db: str, given: str | None) -> Path:
    if given:
        return Path(given)
    if "://" not in db:
        return Path(f"{db}.sample.json")
    name = pg_schema(db) or re.sub(r"\W+", "_", urlsplit(db).path.strip("/")) or "db"
    return HERE / "out" / f"serve_{name}.sample.json"


def write_store(store, synth: list[Synth], vecs: np.ndarray, component: str, seed: int,
                progress: Progress, batch: int = 2000) -> dict[str, float]:
    from newsdesk.copies import CopyEvidence, CopyMatch
    from newsdesk.stories import COMPONENT as STORY_COMPONENT

    rng = np.random.default_rng(seed)
    times: dict[str, float] = defaultdict(float)
    first_of_story: set[str] = set()
    progress.phase("writing articles", len(synth))
    for i in range(0, len(synth), batch):
        part = synth[i:i + batch]
        t = time.perf_counter()
        store.add_articles([to_article(s, seed, i + j) for j, s in enumerate(part)])
        times["articles"] += time.perf_counter() - t
        rows = []
        for s in part:
            new = s.story not in first_of_story
            first_of_story.add(s.story)
            reasons = ["new story"] if new else (["copy of " + s.copy_of] if s.copy_of else ["synthetic"])
            rows.append({"article_id": s.id, "story_id": s.story, "score": 0.0 if new else 1.0,
                         "reasons": json.dumps(reasons)})
        t = time.perf_counter()
        store.write_story_members(rows, {}, STORY_COMPONENT)
        times["story_members"] += time.perf_counter() - t
        base = vecs[[s.base for s in part]]
        v = base + rng.normal(0.0, NOISE, size=base.shape).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        t = time.perf_counter()
        store.save_embeddings(component, {s.id: v[j] for j, s in enumerate(part)})
        times["embeddings"] += time.perf_counter() - t
        progress.advance(len(part))
    progress.finish()
    matches = [CopyMatch(article_id=s.id, matched_id=s.copy_of, original_id=s.copy_of,
                         evidence=(CopyEvidence(s.copy_kind or "exact", 1.0 if s.copy_kind == "exact"
                                                else 0.93, "synthetic copy (build_serve_store.py)"),))
               for s in synth if s.copy_of]
    progress.phase("writing copies", len(matches))
    t = time.perf_counter()
    for i in range(0, len(matches), batch):
        store.save_copy_matches(matches[i:i + batch])
        progress.advance(len(matches[i:i + batch]))
    times["copies"] += time.perf_counter() - t
    progress.finish()
    return dict(times)


def build_story_index(store, synth: list[Synth], progress: Progress) -> float:
    """A saved story index that knows every article in its synthetic story (pins), so a
    later ingest continues from it instead of re-placing the whole store."""
    from newsdesk.stories import DEFAULT_CONFIG, StoryIndex, article_features
    from newsdesk.storybook import _state_to_bytes

    t0 = time.perf_counter()
    index = StoryIndex(DEFAULT_CONFIG)
    order = sorted(synth, key=lambda s: (s.published, s.id))
    progress.phase("story index (pinned)", len(order))
    for i in range(0, len(order), 2000):
        part = order[i:i + 2000]
        arts = store.get_articles([s.id for s in part])
        vecs = store.get_embeddings([s.id for s in part])
        for s in part:
            index.pin(s.id, s.story)
            index.place(article_features(arts[s.id], vecs[s.id]))
        progress.advance(len(part))
    progress.finish()
    store.save_story_state(_state_to_bytes(index), len(index))
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.split("\n")[1:]))
    ap.add_argument("--db", required=True, help="SQLite file or database URL (PostgreSQL: with a schema)")
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--accounts", type=int, default=30, help="stories whose account is computed and cached")
    ap.add_argument("--terms", type=int, default=40, help="search terms in the sidecar")
    ap.add_argument("--sample", help="sidecar JSON path (default: DB.sample.json, or bench/out/ for a URL)")
    ap.add_argument("--no-story-index", dest="story_index", action="store_false",
                    help="save no story index state (a later ingest would re-place every article)")
    ap.add_argument("--force", action="store_true", help="replace an existing file / drop the schema")
    a = ap.parse_args()

    d = data_dir()
    t_all = time.perf_counter()
    phases: dict[str, float] = {}
    progress = Progress()
    try:
        t = time.perf_counter()
        arts, groups = load_real(d)
        phases["load_real"] = time.perf_counter() - t
        sizes = Counter(len(g) for g in groups)
        log(f"{len(arts)} real articles in {len(groups)} real stories "
            f"(largest {max(len(g) for g in groups)}; {sizes[1]} alone)")

        t = time.perf_counter()
        synth, stats = synthesize(arts, groups, a.articles, a.seed, progress)
        phases["synthesise"] = time.perf_counter() - t
        log(f"{len(synth)} synthetic articles, {stats['stories']} stories "
            f"({stats['stories_1_5']} of 1-5 articles, {stats['stories_100_plus']} of 100+, "
            f"largest {stats['biggest']}), {stats['copies']} copies")

        t = time.perf_counter()
        vecs, component = real_vectors(arts, progress)
        phases["embed_real"] = time.perf_counter() - t

        prepare_db(a.db, a.force)
        from newsdesk.store import Store

        t = time.perf_counter()
        with Store(a.db) as store:
            phases["open_store"] = time.perf_counter() - t
            t = time.perf_counter()
            write_times = write_store(store, synth, vecs, component, a.seed, progress)
            phases["write"] = time.perf_counter() - t
            if a.story_index:
                phases["story_index"] = build_story_index(store, synth, progress)

            # Accounts of English stories of 5-15 articles.
            by_story: dict[str, list[Synth]] = defaultdict(list)
            for s in synth:
                by_story[s.story].append(s)
            rng = random.Random(a.seed + 7)
            fit = sorted(sid for sid, m in by_story.items()
                         if 5 <= len(m) <= 15 and all(s.lang == "en" for s in m))
            rng.shuffle(fit)
            chosen = sorted(fit[: a.accounts])
            from newsdesk import accountbook

            t = time.perf_counter()
            progress.phase(f"accounts of {len(chosen)} stories", len(chosen))
            account_secs = {}
            for sid in chosen:
                t1 = time.perf_counter()
                if accountbook.story_account(store, sid) is None:
                    raise SystemExit(f"error: no account for {sid}")
                account_secs[sid] = round(time.perf_counter() - t1, 2)
                progress.advance()
            progress.finish()
            phases["accounts"] = time.perf_counter() - t

            t = time.perf_counter()
            terms = search_terms(arts, synth, a.terms, progress)
            phases["search_terms"] = time.perf_counter() - t
            size = store_size(store, a.db)
            migrations = store.migrations()
            dialect = store.engine.dialect.name
            vector_search = store.vector_search
    finally:
        progress.close()
    wall = time.perf_counter() - t_all
    others = sorted(set(by_story) - set(chosen))
    rng.shuffle(others)
    story_size = {sid: len(m) for sid, m in by_story.items()}
    sample = {
        "version": BUILD_VERSION,
        "db": a.db if "://" not in a.db else re.sub(r"//[^@/]*@", "//***@", a.db),
        "dialect": dialect, "articles": len(synth), "seed": a.seed, **stats,
        "account_stories": chosen,
        "account_story_sizes": {sid: story_size[sid] for sid in chosen},
        "account_seconds": account_secs,
        "story_ids": sorted(others[:500]),
        "list_offsets": sorted({0, 50, 500, 5000, 10000, max(0, stats["stories"] - 50)}
                               & set(range(0, max(1, stats["stories"])))),
        "search_terms": terms,
        "built": {"when": datetime.now().isoformat(timespec="seconds"), "seconds": round(wall, 1),
                  "phases": {k: round(v, 1) for k, v in phases.items()},
                  "write": {k: round(v, 1) for k, v in write_times.items()},
                  "bytes": size, "migrations": migrations, "vector_search": vector_search,
                  "python": sys.version.split()[0], "cpus": os.cpu_count()},
    }
    out = sample_path(a.db, a.sample)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(sample, indent=1, ensure_ascii=False))
    log(f"built {len(synth):,} articles / {stats['stories']:,} stories in {wall:,.0f} s "
        f"({', '.join(f'{k} {v:,.0f} s' for k, v in phases.items())}); "
        f"size {size / 2**20:,.0f} MiB; sample -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
