"""A deterministic ingest corpus in every input format, built from the shared data.

    python bench/corpus.py --n 10000 --out bench/out/ingest_corpus
    python bench/corpus.py --n 40000 --formats html --reword 0.25 --republish 0.1 --out DIR

Article texts are real: clustering/{basil,ecbplus,semeval22_pairs}, quotes/ggt,
quotes/polnear, the scrapinghub_aeb pages (their expected text, and their real
HTML for the html and WARC formats) and the article lines (label 1) of the
extraction/lines sets.  That is about 7,600 distinct articles; beyond that,
variants recombine the paragraphs of two real articles of the same language and
similar length (first part of one, last part of the other), with a real title of
the first, a new date and a new outlet of the same language.  Nothing is
invented: lengths and vocabulary stay real.  With ``--reword 0.25 --republish 0.1``
a quarter of each variant's words are swapped for real words of its language and a
tenth of the variants republish an earlier one, so that the share of copies stays
the same at any size (plain recombinations share halves with more and more others:
see ``make_variants``).  The junk added to the plain-text
files (advertisement markers, "Read more" links, share prompts, trailing lists of
other headlines) uses real headlines of the corpus and real boilerplate lines
(label 0) of the extraction/lines sets.

Formats written under ``out``:
  text/<outlet>/<id>.txt   title line, blank line, body (junk on ~35% of files)
  html/<id>.html           a page template per outlet (nav, header, article with
                           <h1> and <p>, related links, newsletter, footer), and
                           the 181 real scrapinghub_aeb pages as they are
  jsonl/part-NNN.jsonl     {id,url,title,text,source,published,lang}, 2,000 a file
  feed/<outlet>-NNN.xml    RSS 2.0, 100 items a file, content:encoded HTML
  warc/crawl-NNN.warc.gz   warcinfo + request/response records (warcio), 1,000
                           pages a file, the same HTML as html/

The evaluation data stays in ../shared/data; the corpus goes to a git-ignored or
temporary folder and is never committed.
"""

from __future__ import annotations

import argparse
import hashlib
import html as htmlmod
import io
import json
import math
import os
import random
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

CORPUS_VERSION = 2
FORMATS = ("text", "html", "jsonl", "feed", "warc")


def data_dir() -> Path:
    """The shared evaluation data; exit(2) with a clear message when it is absent."""
    env = os.environ.get("NEWSDESK_SHARED_DATA")
    d = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not (d / "clustering").is_dir() or not (d / "extraction").is_dir():
        sys.stderr.write(
            f"error: evaluation data not found at {d} (need clustering/, quotes/ and "
            "extraction/).\nThe ingest benchmark builds its corpus from the shared data "
            "folder: ../shared/data next to the repository, or set NEWSDESK_SHARED_DATA. "
            "It is not part of a fresh clone.\n"
        )
        raise SystemExit(2)
    return d


@dataclass
class Item:
    id: str
    title: str
    paras: list[str]
    source: str  # outlet display name
    domain: str
    url: str
    published: datetime
    lang: str | None
    author: str | None = None
    html: str | None = None  # a real page (scrapinghub_aeb)
    dataset: str = ""
    variant: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paras)

    @property
    def chars(self) -> int:
        return sum(len(p) for p in self.paras)


# ----------------------------------------------------------------------- outlets
OUTLET_NAMES = {
    "fox": ("Fox News", "foxnews.com"),
    "nyt": ("The New York Times", "nytimes.com"),
    "hpo": ("HuffPost", "huffpost.com"),
    "huff-post": ("HuffPost", "huffpost.com"),
    "breitbart": ("Breitbart", "breitbart.com"),
    "politico": ("Politico", "politico.com"),
    "usa-today": ("USA Today", "usatoday.com"),
    "wash-post": ("The Washington Post", "washingtonpost.com"),
    "west-journal": ("The Western Journal", "westernjournal.com"),
    "CBC News": ("CBC News", "cbc.ca"),
    "CTVNews": ("CTV News", "ctvnews.ca"),
    "Global News": ("Global News", "globalnews.ca"),
    "HuffingtonPost": ("HuffPost Canada", "huffingtonpost.ca"),
    "NationalPost": ("National Post", "nationalpost.com"),
    "The Globe And Mail": ("The Globe and Mail", "theglobeandmail.com"),
    "TheStar": ("Toronto Star", "thestar.com"),
}
# Outlets for articles whose outlet the data does not give (ecbplus without URL,
# the lines sets): the English outlets the data does name.
EN_OUTLETS = [v for k, v in OUTLET_NAMES.items() if k != "huff-post"]


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    m = re.match(r"https?://([^/:?#]+)", url)
    if not m:
        return None
    h = m.group(1).lower()
    return h[4:] if h.startswith("www.") else h


def slug(s: str, n: int = 60) -> str:
    s = re.sub(r"[^\w]+", "-", s.lower(), flags=re.UNICODE).strip("-")
    return s[:n].strip("-") or "article"


# ----------------------------------------------------------------------- reading
_SENT = re.compile(r"(?<=[.!?。؟])\s+")


def split_paras(text: str) -> list[str]:
    paras = [p.strip() for p in text.split("\n")]
    paras = [p for p in paras if p and re.search(r"\w", p)]
    if len(paras) == 1 and len(paras[0]) > 500:
        # One long block (semeval22): paragraphs of about three sentences.
        sents = _SENT.split(paras[0])
        paras = [" ".join(sents[i : i + 3]) for i in range(0, len(sents), 3)]
    return paras


def title_and_body(text: str, title: str | None) -> tuple[str, list[str]]:
    """The headline and body paragraphs; a headline repeated as the first line is dropped."""
    paras = split_paras(text)
    if title:
        if paras and paras[0].rstrip(". ").strip() == title.rstrip(". ").strip():
            paras = paras[1:]
        return title.strip(), paras
    if len(paras) > 2 and len(paras[0].split()) <= 16 and not paras[0].endswith((".", ":")):
        return paras[0], paras[1:]
    # No headline given: the lead sentence, cut at a word boundary.
    first = _SENT.split(paras[0])[0] if paras else "Untitled"
    words = first.split()
    return (" ".join(words[:12]) + ("…" if len(words) > 12 else "")), paras


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _date(value: str | None, rng: random.Random) -> datetime:
    if value:
        try:
            d = datetime.fromisoformat(value[:10])
            return d + timedelta(hours=rng.randint(5, 22), minutes=rng.randint(0, 59))
        except ValueError:
            pass
    return random_date(rng)


def random_date(rng: random.Random) -> datetime:
    start = datetime(2015, 1, 1)
    return start + timedelta(days=rng.randint(0, 4340), hours=rng.randint(5, 22),
                             minutes=rng.randint(0, 59))


@dataclass
class Pool:
    items: list[Item]
    junk_lines: list[str]  # real boilerplate lines (label 0) of the lines sets


def load_pool(d: Path, seed: int) -> Pool:
    rng = random.Random(seed)
    items: list[Item] = []

    def add(dataset: str, rid: str, title: str | None, text: str, src: str | None,
            url: str | None, published: str | None, lang: str | None, author: str | None = None,
            page: str | None = None) -> None:
        t, paras = title_and_body(text, title)
        # Real articles only: a record of a headline and a copyright line (a few
        # semeval22 pages) or a stub is not an article.  (Characters count too:
        # Japanese text has few spaces.)
        if not paras or (sum(len(p.split()) for p in paras) < 60
                         and sum(len(p) for p in paras) < 300):
            return
        if src in OUTLET_NAMES:
            name, dom = OUTLET_NAMES[src]
        elif host_of(url):
            dom = host_of(url) or ""
            name = src if src and "." not in src else dom
        elif src:
            name, dom = src, slug(src) + ".com"
        else:
            name, dom = rng.choice(EN_OUTLETS)
        pub = _date(published, rng)
        if not url:
            url = f"https://www.{dom}/news/{pub:%Y/%m/%d}/{slug(t)}"
        items.append(Item(id=f"{dataset}:{rid}", title=t, paras=paras, source=name, domain=dom,
                          url=url, published=pub, lang=lang, author=author, html=page,
                          dataset=dataset))

    for r in _jsonl(d / "clustering/basil/articles.jsonl"):
        add("basil", r["id"], r.get("title"), r["text"], r.get("source"), r.get("url"),
            r.get("published"), r.get("lang") or "en")
    for r in _jsonl(d / "clustering/ecbplus/articles.jsonl"):
        add("ecbplus", r["id"], r.get("title"), r["text"], r.get("source"), r.get("url"),
            r.get("published"), r.get("lang") or "en")
    for r in _jsonl(d / "clustering/semeval22_pairs/articles.jsonl"):
        add("semeval22", r["id"], r.get("title"), r["text"], r.get("source"), r.get("url"),
            r.get("published"), r.get("lang"))
    for r in _jsonl(d / "quotes/ggt/test.jsonl"):
        add("ggt", r["id"], r.get("title"), r["text"], r.get("source"), r.get("url"), None, "en")
    for split in ("train", "dev", "annotator-training"):
        p = d / f"quotes/polnear/{split}.jsonl"
        if p.is_file():
            for r in _jsonl(p):
                add("polnear", r["id"], r.get("title"), r["text"], r.get("source"), r.get("url"),
                    r.get("published"), "en", r.get("author") or None)
    base = d / "extraction/scrapinghub_aeb"
    for r in _jsonl(base / "data.jsonl"):
        page = (base / r["html_path"]).read_text(encoding="utf-8", errors="replace")
        m = re.search(r"<title[^>]*>(.*?)</title>", page, re.S | re.I)
        title = htmlmod.unescape(m.group(1)).strip() if m else None
        if title:
            title = re.split(r"\s+[|\-–—]\s+[^|\-–—]{2,40}$", title)[0].strip() or None
        add("scrapinghub_aeb", r["id"], title, r["expected_text"], None, r["url"], None, None,
            page=page)  # mostly English, a few Japanese and other pages
    junk: list[str] = []
    for name in ("dragnet", "cleaneval", "readability_moz"):
        p = d / f"extraction/lines/derived_{name}.jsonl"
        if not p.is_file():
            continue
        for r in _jsonl(p):
            body = [ln["text"] for ln in r["lines"] if ln["label"] == 1]
            junk.extend(ln["text"].strip() for ln in r["lines"]
                        if ln["label"] == 0 and 2 <= len(ln["text"].split()) <= 8
                        and len(ln["text"]) <= 60)
            add(f"lines_{name}", r["id"], None, "\n".join(body), None, None, None,
                "en" if name != "cleaneval" else None)
    # Distinct texts only (the sets share a few articles).
    seen: set[str] = set()
    unique = []
    for it in items:
        h = hashlib.sha1(it.text.encode()).hexdigest()
        if h not in seen:
            seen.add(h)
            unique.append(it)
    junk = sorted(set(junk))
    return Pool(unique, junk)


# ---------------------------------------------------------------------- variants
_WORD = re.compile(r"[^\W\d_]+")


def _vocabulary(pool: list[Item]) -> dict[str | None, list[str]]:
    """Every word of the real articles of each language, as often as it occurs (so a draw
    from it follows the language's real word frequencies)."""
    words: dict[str | None, list[str]] = defaultdict(list)
    for it in pool:
        for p in it.paras:
            words[it.lang].extend(w.lower() for w in _WORD.findall(p))
    return words


def _reword(text: str, share: float, words: list[str], rng: random.Random) -> str:
    """``text`` with about ``share`` of its words each replaced by a word drawn from the
    language's real words (capitalised where the original was)."""
    def swap(m: re.Match[str]) -> str:
        if rng.random() >= share:
            return m.group(0)
        w = rng.choice(words)
        return w.capitalize() if m.group(0)[0].isupper() else w
    return _WORD.sub(swap, text)


def make_variants(pool: list[Item], k: int, rng: random.Random, *, reword: float = 0.0,
                  republish: float = 0.0) -> list[Item]:
    """``k`` recombinations: the first part of one real article, the rest of another
    real article of the same language and similar length.

    Beyond a few times the ~7,600 real articles, plain recombinations share halves with
    more and more others, so copy folding finds more copies the larger the corpus (12 %
    at 10,000, 40 % at 40,000, 57 % at 100,000) and stories grow with it. ``reword``
    replaces that share of each variant's words by real words of its language, drawn by
    frequency, so variants stop sharing word runs (shingles, anchors); ``republish`` makes
    that share of the variants a republished copy of an earlier one (its text, another
    outlet, a later date): the share of copies then stays the same at any size."""
    vocab = _vocabulary(pool) if reword else {}
    buckets: dict[tuple[str | None, int], list[Item]] = defaultdict(list)
    for it in pool:
        if len(it.paras) >= 2:
            buckets[(it.lang, int(math.log2(max(it.chars, 256))))].append(it)
    bases = [it for it in pool if len(it.paras) >= 2]
    rng.shuffle(bases)
    outlets_by_lang: dict[str | None, list[tuple[str, str]]] = defaultdict(list)
    for it in pool:
        outlets_by_lang[it.lang].append((it.source, it.domain))
    for lang in outlets_by_lang:
        outlets_by_lang[lang] = sorted(set(outlets_by_lang[lang]))
    prefixes = ["UPDATE: ", "Analysis: ", "WATCH: ", "Live updates: ", "Opinion: "]
    out = []
    for i in range(k):
        if republish and out and rng.random() < republish:  # no draw at 0: the plain corpus stays as it was
            src = rng.choice(out)
            name, dom = rng.choice(outlets_by_lang[src.lang] or EN_OUTLETS)
            pub = src.published + timedelta(hours=rng.randint(1, 48))
            out.append(replace(src, id=f"variant:{i}", source=name, domain=dom, published=pub,
                               url=f"https://www.{dom}/{rng.choice(SECTIONS).lower()}/{pub:%Y/%m/%d}/"
                                   f"{slug(src.title)}-{i}", extra={}))
            continue
        a = bases[i % len(bases)]
        same = buckets[(a.lang, int(math.log2(max(a.chars, 256))))]
        b = a
        for _ in range(10):
            b = rng.choice(same)
            if b is not a:
                break
        if b is a:
            b = rng.choice(bases)
        cut_a = max(1, round(len(a.paras) * rng.uniform(0.35, 0.65)))
        cut_b = min(len(b.paras) - 1, max(1, round(len(b.paras) * rng.uniform(0.35, 0.65))))
        paras = a.paras[:cut_a] + b.paras[cut_b:]
        if reword:
            paras = [_reword(p, reword, vocab[a.lang], rng) for p in paras]
        title = a.title
        if a.lang == "en" and rng.random() < 0.25:
            title = rng.choice(prefixes) + title
        name, dom = rng.choice(outlets_by_lang[a.lang] or EN_OUTLETS)
        pub = random_date(rng)
        out.append(Item(id=f"variant:{i}", title=title, paras=paras, source=name, domain=dom,
                        url=f"https://www.{dom}/{rng.choice(SECTIONS).lower()}/{pub:%Y/%m/%d}/"
                            f"{slug(title)}-{i}",
                        published=pub, lang=a.lang, author=a.author, dataset="variant",
                        variant=True))
    return out


def build_items(n: int, seed: int, d: Path | None = None, *, reword: float = 0.0,
                republish: float = 0.0) -> tuple[list[Item], Pool]:
    """``n`` articles: real ones first (all scrapinghub pages when n allows), then variants."""
    d = d or data_dir()
    pool = load_pool(d, seed)
    rng = random.Random(seed)
    real = list(pool.items)
    pages = [it for it in real if it.html is not None]
    rest = [it for it in real if it.html is None]
    rng.shuffle(pages)
    rng.shuffle(rest)
    n_pages = min(len(pages), max(1, n // 50) if n < 181 * 50 else len(pages))
    chosen = pages[:n_pages] + rest[: max(0, n - n_pages)]
    if len(chosen) < n:
        chosen += make_variants(real, n - len(chosen), rng, reword=reword, republish=republish)
    rng.shuffle(chosen)
    # Corpus ids and unique URLs.
    out = []
    for i, it in enumerate(chosen):
        url = quote(it.url, safe=":/?&=%#~+,;@!$'()*[]")  # as a crawler sees it: ASCII
        out.append(replace(it, id=f"nd{seed}-{i:06d}", url=url, extra={"from": it.id}))
    seen: set[str] = set()
    for it in out:
        if it.url in seen:
            it.url = f"{it.url}{'&' if '?' in it.url else '?'}v={it.id}"
        seen.add(it.url)
    return out, pool


# ------------------------------------------------------------------------- writers
SECTIONS = ["World", "Politics", "Business", "Tech", "Science", "Health", "Sports", "Culture",
            "Opinion", "Local", "Climate", "Travel"]


def text_file(it: Item, items: list[Item], idx: int, pool: Pool, rng: random.Random) -> str:
    """Title line, blank line, body; about a third carry realistic scraped junk."""
    paras = list(it.paras)
    head: list[str] = []
    tail: list[str] = []
    if rng.random() < 0.35 and it.lang in ("en", None):
        kinds = rng.sample(["ad", "readmore", "related", "share", "junk"], rng.randint(1, 3))
        if "ad" in kinds and len(paras) > 2:
            for _ in range(rng.randint(1, 2)):
                paras.insert(rng.randint(1, len(paras) - 1), "Advertisement")
        if "readmore" in kinds and len(paras) > 2:
            other = items[rng.randrange(len(items))]
            paras.insert(rng.randint(1, len(paras) - 1),
                         rng.choice(["Read more: ", "READ MORE: ", "Related: "]) + other.title)
        if "share" in kinds:
            head.append(rng.choice(["Share this article", "Share on Facebook  Share on Twitter",
                                    "Listen to this article", f"By {it.author}" if it.author
                                    else "Share"]))
            tail.append(rng.choice([f"Follow {it.source} on Twitter and Facebook.",
                                    "Sign up for our daily newsletter",
                                    f"© {it.published.year} {it.source}. All rights reserved."]))
        if "junk" in kinds and pool.junk_lines:
            head.extend(rng.sample(pool.junk_lines, rng.randint(1, 3)))
            tail.extend(rng.sample(pool.junk_lines, rng.randint(1, 3)))
        if "related" in kinds:
            tail.append(rng.choice(["Related stories", "More from " + it.source, "Most read",
                                    "You may also like"]))
            tail.extend(items[rng.randrange(len(items))].title for _ in range(rng.randint(3, 6)))
    lines = head + [it.title, ""] + ["\n\n".join(paras)] + ([""] + tail if tail else [])
    return "\n".join(lines) + "\n"


_STYLE = ("body{font-family:Georgia,serif;margin:0}header,footer{background:#111;color:#eee}"
          "nav ul{list-style:none;display:flex;gap:1em}.article-body p{line-height:1.6}"
          ".ad{min-height:250px;background:#f3f3f3}.related li{margin:.4em 0}")


def page_html(it: Item, items: list[Item], rng: random.Random) -> str:
    """A news page around the article: the real page for scrapinghub items, else a
    template (one of three layouts, chosen by outlet)."""
    if it.html is not None:
        return it.html
    e = htmlmod.escape
    layout = int(hashlib.md5(it.source.encode()).hexdigest(), 16) % 3
    section = SECTIONS[int(hashlib.md5(it.url.encode()).hexdigest(), 16) % len(SECTIONS)]
    nav = "".join(f'<li><a href="/{s.lower()}/">{s}</a></li>' for s in SECTIONS)
    related = [items[rng.randrange(len(items))] for _ in range(rng.randint(4, 8))]
    rel = "".join(f'<li><a href="{e(r.url)}">{e(r.title)}</a></li>' for r in related)
    body_parts = []
    for j, p in enumerate(it.paras):
        body_parts.append(f"<p>{e(p)}</p>")
        if j in (2, 8) and len(it.paras) > j + 2:
            body_parts.append('<div class="ad" aria-hidden="true"><span>Advertisement</span>'
                              '<script>window.ads=window.ads||[];ads.push({slot:"mid"})</script></div>')
        if j == 4 and len(it.paras) > 7:
            r = related[0]
            body_parts.append(f'<p class="inline-link"><strong>Read more:</strong> '
                              f'<a href="{e(r.url)}">{e(r.title)}</a></p>')
    iso = it.published.strftime("%Y-%m-%dT%H:%M:%SZ")
    byline = (f'<span class="author">By <a href="/authors/{slug(it.author)}">{e(it.author)}</a></span>'
              if it.author else "")
    jsonld = ""
    if layout != 2:
        jsonld = ('<script type="application/ld+json">' + json.dumps({
            "@context": "https://schema.org", "@type": "NewsArticle", "headline": it.title,
            "datePublished": iso, "publisher": {"@type": "Organization", "name": it.source},
            **({"author": {"@type": "Person", "name": it.author}} if it.author else {}),
        }).replace("</", "<\\/") + "</script>")
    lang = f' lang="{it.lang}"' if it.lang else ""
    head = (f'<!DOCTYPE html>\n<html{lang}><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(it.title)} | {e(it.source)}</title>"
            f'<meta name="description" content="{e(it.paras[0][:160])}">'
            f'<meta property="og:title" content="{e(it.title)}">'
            f'<meta property="og:site_name" content="{e(it.source)}">'
            f'<meta property="og:url" content="{e(it.url)}">'
            f'<meta property="article:published_time" content="{iso}">'
            f'<link rel="canonical" href="{e(it.url)}"><style>{_STYLE}</style>{jsonld}'
            '<script async src="https://cdn.example-ads.net/tag.js"></script></head>')
    header = (f'<body class="layout-{layout}"><a class="skip" href="#main">Skip to content</a>'
              f'<header><div class="logo"><a href="/">{e(it.source)}</a></div>'
              f'<nav aria-label="Sections"><ul>{nav}</ul></nav>'
              '<form class="search" action="/search"><input name="q" placeholder="Search">'
              '<button>Search</button></form><a class="subscribe" href="/subscribe">Subscribe</a>'
              '</header>')
    crumbs = ('<ol class="breadcrumbs"><li><a href="/">Home</a></li>'
              f'<li><a href="/{section.lower()}/">{section}</a></li></ol>')
    share = ('<div class="share"><a href="#">Share on Facebook</a><a href="#">Share on Twitter</a>'
             '<a href="#">Email</a><button>Copy link</button></div>')
    article = (f'<main id="main">{crumbs}<article><header><h1>{e(it.title)}</h1>'
               f'<p class="byline">{byline} <time datetime="{iso}">{it.published:%B %d, %Y}</time>'
               f"</p>{share if layout == 0 else ''}</header>"
               f'<div class="article-body">{"".join(body_parts)}</div>'
               f"{share if layout != 0 else ''}</article>")
    aside = (f'<aside class="related"><h2>{"Related" if layout else "More from " + e(it.source)}'
             f"</h2><ul>{rel}</ul></aside>"
             '<section class="newsletter"><h2>Get the morning briefing</h2>'
             '<p>Sign up for our newsletter and never miss a story.</p>'
             '<form><input type="email" placeholder="Email address"><button>Sign up</button>'
             "</form></section></main>")
    footer = (f'<footer><ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a>'
              '</li><li><a href="/privacy">Privacy policy</a></li><li><a href="/terms">Terms of '
              'use</a></li><li><a href="/advertise">Advertise with us</a></li></ul>'
              f"<p>© {it.published.year} {e(it.source)}. All rights reserved.</p></footer>"
              '<script>(function(){var s=document.createElement("script");s.src="/static/app.js";'
              "document.body.appendChild(s)})();</script></body></html>\n")
    return head + header + article + aside + footer


def rss_item(it: Item, with_source: bool = False) -> str:
    e = htmlmod.escape
    content = "".join(f"<p>{e(p)}</p>" for p in it.paras).replace("]]>", "]]&gt;")
    author = f"<dc:creator>{e(it.author)}</dc:creator>" if it.author else ""
    return (f"<item><title>{e(it.title)}</title><link>{e(it.url)}</link>"
            f'<guid isPermaLink="true">{e(it.url)}</guid>'
            f"<pubDate>{format_datetime(it.published.replace(tzinfo=UTC))}</pubDate>"
            f"{author}"
            + (f'<source url="https://www.{e(it.domain)}/rss.xml">{e(it.source)}</source>'
               if with_source else "")
            + f"<description>{e(it.paras[0][:300])}</description>"
            f"<content:encoded><![CDATA[{content}]]></content:encoded></item>")


def rss_file(outlet: str, domain: str, lang: str | None, items: list[Item],
             with_source: bool = False) -> str:
    e = htmlmod.escape
    lang_el = f"<language>{lang}</language>" if lang else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">'
            f"<channel><title>{e(outlet)}</title><link>https://www.{e(domain)}/</link>"
            f"<description>Latest news from {e(outlet)}</description>{lang_el}"
            f'<atom:link href="https://www.{e(domain)}/rss.xml" rel="self" type="application/rss+xml"/>'
            + "".join(rss_item(it, with_source) for it in items) + "</channel></rss>\n")


def write_warc(path: Path, pages: list[tuple[Item, str]], rng: random.Random) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        info = w.create_warcinfo_record(path.name, {"software": "newsdesk bench corpus",
                                                    "format": "WARC File Format 1.1"})
        w.write_record(info)
        for it, page in pages:
            crawl = it.published + timedelta(hours=rng.randint(0, 48))
            wdate = crawl.strftime("%Y-%m-%dT%H:%M:%SZ")
            host = host_of(it.url) or it.domain
            req = StatusAndHeaders(f"GET /{it.url.split('/', 3)[-1]} HTTP/1.1",
                                   [("Host", host), ("User-Agent", "newsdesk-bench/1.0"),
                                    ("Accept", "text/html")], is_http_request=True)
            body = page.encode("utf-8")
            resp_headers = StatusAndHeaders("200 OK", [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Date", format_datetime(crawl.replace(tzinfo=UTC), usegmt=True)),
                ("Server", "nginx")], protocol="HTTP/1.1")
            resp = w.create_warc_record(it.url, "response", payload=io.BytesIO(body),
                                        http_headers=resp_headers,
                                        warc_headers_dict={"WARC-Date": wdate})
            request = w.create_warc_record(it.url, "request", payload=io.BytesIO(b""),
                                           http_headers=req,
                                           warc_headers_dict={"WARC-Date": wdate})
            w.write_request_response_pair(request, resp)


def build(out: Path, n: int, seed: int, formats: tuple[str, ...] = FORMATS,
          force: bool = False, *, reword: float = 0.0, republish: float = 0.0) -> dict:
    """Write the corpus (reusing an identical earlier build); returns its manifest.
    ``reword``, ``republish``: see ``make_variants`` (0: plain recombinations)."""
    manifest_path = out / "manifest.json"
    want: dict = {"version": CORPUS_VERSION, "n": n, "seed": seed}
    if reword or republish:
        want |= {"reword": reword, "republish": republish}
    if not force and manifest_path.is_file():
        found = json.loads(manifest_path.read_text())
        if {k: found.get(k) for k in want} == want and all(f in found["formats"] for f in formats):
            return found
    items, pool = build_items(n, seed, reword=reword, republish=republish)
    rng = random.Random(seed + 1)
    m: dict = dict(want, formats={}, datasets={})
    for it in items:
        m["datasets"][it.dataset] = m["datasets"].get(it.dataset, 0) + 1
    m["langs"] = {}
    for it in items:
        m["langs"][str(it.lang)] = m["langs"].get(str(it.lang), 0) + 1
    m["words_median"] = sorted(len(it.text.split()) for it in items)[len(items) // 2]
    m["outlets"] = len({it.source for it in items})
    import shutil

    for fmt in formats:
        d = out / fmt
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        files = 0
        if fmt == "text":
            for i, it in enumerate(items):
                od = d / slug(it.source, 40)
                od.mkdir(exist_ok=True)
                (od / f"{it.id}.txt").write_text(text_file(it, items, i, pool, rng), encoding="utf-8")
                files += 1
            # The outlet of each folder, for ingest(source=...).
            (out / "text_outlets.json").write_text(json.dumps(
                {slug(it.source, 40): it.source for it in items}, ensure_ascii=False, indent=0))
        elif fmt == "html":
            for it in items:
                (d / f"{it.id}.html").write_text(page_html(it, items, rng), encoding="utf-8")
                files += 1
        elif fmt == "jsonl":
            for k in range(0, len(items), 2000):
                with (d / f"part-{k // 2000:03d}.jsonl").open("w", encoding="utf-8") as fh:
                    for it in items[k : k + 2000]:
                        fh.write(json.dumps({
                            "id": it.id, "url": it.url, "title": it.title, "text": it.text,
                            "source": it.source, "published": it.published.isoformat(),
                            "lang": it.lang}, ensure_ascii=False) + "\n")
                files += 1
        elif fmt == "feed":
            # Outlets with 100+ articles get their own feeds; the rest go to aggregator
            # feeds whose items name their publisher with RSS <source>.
            by_outlet: dict[str, list[Item]] = defaultdict(list)
            for it in items:
                by_outlet[it.source].append(it)
            rest: list[Item] = []
            for outlet, its in sorted(by_outlet.items()):
                its.sort(key=lambda x: x.published, reverse=True)
                full = len(its) // 100 * 100
                for k in range(0, full, 100):
                    chunk = its[k : k + 100]
                    (d / f"{slug(outlet, 40)}-{k // 100:03d}.xml").write_text(
                        rss_file(outlet, chunk[0].domain, chunk[0].lang, chunk), encoding="utf-8")
                    files += 1
                rest.extend(its[full:])
            rest.sort(key=lambda x: x.published, reverse=True)
            for k in range(0, len(rest), 100):
                (d / f"aggregator-{k // 100:03d}.xml").write_text(
                    rss_file("World News Digest", "newsdigest.example", None, rest[k : k + 100],
                             with_source=True), encoding="utf-8")
                files += 1
        elif fmt == "warc":
            pages = [(it, page_html(it, items, rng)) for it in items]
            for k in range(0, len(pages), 1000):
                write_warc(d / f"crawl-{k // 1000:03d}.warc.gz", pages[k : k + 1000], rng)
                files += 1
        size = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
        m["formats"][fmt] = {"files": files, "articles": len(items), "bytes": size}
    manifest_path.write_text(json.dumps(m, indent=1))
    return m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "out" / "ingest_corpus")
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--reword", type=float, default=0.0,
                    help="share of each variant's words replaced by real words of its language (e.g. 0.25)")
    ap.add_argument("--republish", type=float, default=0.0,
                    help="share of variants that republish an earlier one under another outlet (e.g. 0.1)")
    a = ap.parse_args()
    if not (0.0 <= a.reword <= 1.0 and 0.0 <= a.republish < 1.0):
        ap.error("--reword must be within [0, 1] and --republish within [0, 1)")
    m = build(a.out, a.n, a.seed, tuple(a.formats.split(",")), force=a.force,
              reword=a.reword, republish=a.republish)
    print(json.dumps(m, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
