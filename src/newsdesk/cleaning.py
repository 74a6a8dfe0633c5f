"""Cleaning of plain text that somebody else already scraped, junk included.

``clean_text`` is a pure function: it never reads anything but the packaged
line model (``data/line_model.npz``, loaded lazily, once).

Two kinds of decisions are made:

* precise rules, always applied: attribution spam glued to lines ("This news
  data comes from:http://..."), navigation / share / cookie lines, copyright
  lines, repeated headlines, a trailing list of "- other headline" links, and
  lines the store has seen on many pages of the same outlet;
* a statistical line classifier, applied only when the text did NOT come out
  of an HTML extractor (``extracted=False``), and with it a rule that drops
  readers' comment sections (``comment_section``; ``keep_comments=True`` keeps
  them).

Why a trained classifier: no available library cleans *plain* scraped text
well.  jusText and boilerpipe-style tools need the HTML block structure (on the
plain-text lines of the scrapinghub benchmark jusText scores F1 0.46), and
C4-style line rules score 0.62.  What separates article lines from menus,
related links and footers in plain text is a mix of the line's own shape
(length, punctuation, stop-word density, capitalisation, words like "share"),
its neighbours' shape, and where it sits relative to the document's main block
of prose.  A small gradient-boosted tree ensemble over such features, trained
on four public line-labelled corpora (see ``bench/train_line_model.py``) and
evaluated leave-one-dataset-out (``bench/bench_lines.py``), learns this mix;
its trees are exported to plain numpy arrays so inference needs no
scikit-learn and no pickle.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from newsdesk.records import Removal

__all__ = [
    "Cleaned",
    "MAX_CLEAN_CHARS",
    "MAX_CLEAN_LINES",
    "REASONS",
    "TextTooLarge",
    "clean_text",
    "comment_section",
    "line_features",
    "line_scores",
    "normalize_line",
    "removals_by_reason",
]

# Machine-readable reasons used in ``Removal.reason``.
REASONS: dict[str, str] = {
    "attribution-spam": "source-attribution spam (whole line or the glued-on part of a line)",
    "repeated-headline": "a copy of the headline inside the body",
    "title": "the headline line at the top, moved to Cleaned.title",
    "trailing-headline-list": "a list of '- other headline' links at the end",
    "navigation": "navigation, share or call-to-action line (Advertisement, Read more...)",
    "cookie-notice": "cookie / consent banner text",
    "copyright": "copyright / all-rights-reserved line",
    "repeated-across-outlet": "line the store saw on many pages of the same outlet",
    "boilerplate-line": "line the statistical classifier judged boilerplate",
    "reader-comments": "readers' comments under the article, from their heading or signatures on",
}


def removals_by_reason(removed: Sequence[Removal]) -> list[tuple[str, list[Removal]]]:
    """What cleaning removed, grouped by reason in the order the text first meets
    each, every group in line order.  A whole-page scrape loses hundreds of lines,
    nearly all to one or two reasons; grouped, a reader sees at once what went and
    why, and opens a group to read it."""
    groups: dict[str, list[Removal]] = {}
    for r in sorted(removed, key=lambda r: r.line):
        groups.setdefault(r.reason, []).append(r)
    return list(groups.items())


# Bounds on one text: the line classifier's time and memory grow with the number
# of lines (100,000 lines: 7 s and 750 MB), and no article, even a whole-page scrape
# with its comments, comes near these.
MAX_CLEAN_CHARS = 4_000_000
MAX_CLEAN_LINES = 20_000


class TextTooLarge(ValueError):
    """A text over MAX_CLEAN_CHARS characters or MAX_CLEAN_LINES non-blank lines."""


@dataclass(frozen=True, slots=True)
class Cleaned:
    """Result of :func:`clean_text`."""

    text: str
    title: str | None
    removed: tuple[Removal, ...]


# --------------------------------------------------------------------------
# normalisation
_NON_WORD = re.compile(r"[\W_]+")


def line_key(norm: str) -> int:
    """Stable 63-bit hash of a normalised line (the model stores hashes, not text)."""
    return int.from_bytes(hashlib.blake2b(norm.encode(), digest_size=8).digest(), "little") >> 1


def normalize_line(line: str) -> str:
    """Case-folded, accent-kept, punctuation-free, single-spaced form of a line.

    Used to compare headlines and lines seen across pages of one outlet.
    """
    s = unicodedata.normalize("NFKC", line).casefold()
    return _NON_WORD.sub(" ", s).strip()


# --------------------------------------------------------------------------
# precise rules
# Possessive quantifiers (``++``, ``*+``) and the ``(?<![\s,;])`` guards keep these
# searches linear: with plain ones, a long run of spaces or commas, or a long dotted
# "host", made every search quadratic (40,000 commas on one line: 38 s; found by the
# hostile-input tests, kept in tests/fuzz_corpus/clean/).
_URLISH = r"(?:https?://\S++|www\.\S++|[\w-]++(?:\.[\w-]++)++\S*+)"
# Attribution spam glued to the end of a line (or alone on a line).
_ATTRIBUTION_TAIL = [
    re.compile(
        r"(?<![\s,;])[\s,;]*+\b(?:this|the)\s+(?:news\s+)?"
        r"(?:data|article|story|content|news|post|information)"
        r"\s+(?:data\s+)?(?:comes?|came|is|was)\s+(?:from|sourced\s+from|taken\s+from)\s*[:：]?\s*"
        + _URLISH
        + r"\s*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"(?<![\s,;])[\s,;]*+\b(?:source|sourced\s+from|via|originally\s+published\s+(?:at|on))"
        r"\s*[:：]\s*"
        r"https?://\S++\s*$",
        re.IGNORECASE,
    ),
    re.compile(r"(?<!\s)\s*+\bThe post\b.{1,300}?\bappeared first on\b.{1,120}$"),
]
# Whole lines that only say where the text was copied from.
_ATTRIBUTION_LINE = re.compile(
    r"^(?:this\s+(?:article|story|post|piece)\s+(?:was\s+|is\s+)?(?:originally\s+|first\s+)?"
    r"(?:published|appeared|posted)\s+(?:on|in|at|by)\b|"
    r"(?:originally\s+)?(?:published|posted)\s+(?:on|at)\s*:?\s*" + _URLISH + r"$)",
    re.IGNORECASE,
)

# Normalised whole lines that are navigation / share / call-to-action words.
_NAV_WORDS = """advertisement
advertisements
story continues below advertisement
article continues below advertisement
continue reading
continue reading below
read more
read more below
read the full story
read full article
read full story
read next
more stories
more news
see more
show more
load more
view more
view comments
show comments
hide comments
comments
leave a comment
post a comment
add a comment
join the conversation
share
share this
share this article
share this story
share this page
share this post
share article
share story
share on facebook
share on twitter
share on linkedin
share via email
share on whatsapp
share by email
email this article
email this story
tweet
pin it
print
print this article
print this page
email
facebook
twitter
whatsapp
linkedin
reddit
pinterest
copy link
link copied
skip to content
skip to main content
skip navigation
skip to navigation
skip to search
back to top
back to home
home
menu
main menu
open menu
close menu
close
close search
sign in
log in
login
logout
log out
sign up
register
subscribe
subscribe now
subscribe today
newsletter
sign up for our newsletter
get the newsletter
related
related articles
related stories
related content
related news
related posts
related topics
recommended
recommended for you
recommended stories
you may also like
you might also like
also read
see also
more on this story
trending
trending now
most popular
most read
most viewed
top stories
latest news
latest stories
follow us
follow us on twitter
follow us on facebook
click here
tap here
loading
loading please wait
previous article
next article
previous post
next post
today
watch
watch now
watch live
listen to this article
sponsored
sponsored content
advertising
image caption
media caption
toggle caption
hide caption
enlarge this image"""
NAVIGATION_LINES: frozenset[str] = frozenset(_NAV_WORDS.split("\n"))

# Lines starting like this and shorter than ~20 words are calls to action.
_NAV_PREFIX = re.compile(
    r"^(?:read more|read also|also read|see also|related|recommended|click here|tap here|"
    r"follow us on|sign up for|sign up to|subscribe to|share this|share on|watch|listen)"
    r"\s*[:：|>»-]",
    re.IGNORECASE,
)
_NAV_PREFIX_SOFT = re.compile(
    r"^(?:click here to|follow us on|sign up for our|subscribe to our|download (?:our|the) app|"
    r"share this (?:article|story|post|page) (?:on|with|via))\b",
    re.IGNORECASE,
)
_COOKIE = re.compile(
    r"\b(?:we use cookies|(?:this|our) (?:web)?site uses cookies|uses cookies to|"
    r"accept (?:all )?cookies|cookie (?:policy|settings|preferences|consent)|"
    r"by (?:continuing to (?:use|browse)|using) (?:this|our) (?:web)?site)\b",
    re.IGNORECASE,
)
_COPYRIGHT = re.compile(
    r"^(?:©|\(c\)|copyright\b)|\ball rights reserved\b", re.IGNORECASE
)
_BULLET = re.compile(r"^(?:[-–—•·*▪►»]\s+)")
_TERMINAL = re.compile(r"[.!?…][\"'”’»)\]]*$")


def _words(s: str) -> int:
    return len(s.split())


def _nav_reason(line: str, norm: str) -> str | None:
    nw = _words(line)
    if norm in NAVIGATION_LINES:
        return "navigation"
    if nw <= 60 and _COOKIE.search(line):
        return "cookie-notice"
    if nw <= 25 and _COPYRIGHT.search(line):
        return "copyright"
    if nw <= 20 and (_NAV_PREFIX.match(line) or _NAV_PREFIX_SOFT.match(line)):
        return "navigation"
    return None


def _strip_attribution(line: str) -> tuple[str, str | None]:
    """Return (kept part, removed part or None)."""
    if _ATTRIBUTION_LINE.match(line) and _words(line) <= 30:
        return "", line
    for pat in _ATTRIBUTION_TAIL:
        m = pat.search(line)
        if m:
            kept = line[: m.start()].rstrip()
            return kept, line[m.start() :].strip()
    return line, None


def _headline_like(line: str) -> bool:
    nw = _words(line)
    return (
        2 <= nw <= 25
        and len(line) <= 220
        and not _TERMINAL.search(line.rstrip("\"'”’"))
        and line[:1] not in "\"“‘'-–—•*("
    )


# --------------------------------------------------------------------------
# features for the line classifier (shared with bench/train_line_model.py)
_STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from
further had has have having he her here hers herself him himself his how i if in into is it
its itself just me more most my myself no nor not now of off on once only or other our ours
ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were
what when where which while who whom why will with would you your yours yourself said says
also after would could may might must shall last first year years people""".split()
)
_BPWORDS = frozenset(
    """cookie cookies copyright rights reserved privacy policy terms conditions subscribe
newsletter login log sign register share shares tweet facebook twitter linkedin pinterest
whatsapp email print comments comment reply replies related advertisement advertise
sponsored menu home search navigation skip contact about careers sitemap rss follow
posted tags tagged categories category archive archives previous next click here more
trending popular read view views video videos photo photos gallery loading javascript
browser account password username feedback faq help""".split()
)
_MONTHS = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|"
    r"aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?\s*\d",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[^\W\d_]+")
_URL = re.compile(r"https?://|www\.|\.com\b|\.org\b|@\w+\.\w", re.IGNORECASE)
# Lines that mark user comments: "Reply", "Name — June 25th, 2012, 12:21 am",
# "Jo says:", "385 Comments", "Leave a comment".
_COMMENT_MARK = re.compile(
    r"^(?:reply|reply ↓|report|report abuse|permalink|flag|quote|like|recommend)$|"
    r"\b\d+\s+(?:comments?|replies|responses)\b|\b(?:says|said|wrote)\s*+:?\s*+$|"
    r"\b\d{1,2}:\d{2}\s*(?:[ap]\.?m\b\.?)?|\b\d+\s+(?:minutes?|hours?|days?|weeks?|months?|years?)\s+ago\b|"
    r"\b(?:leave a (?:reply|comment)|post a comment|comments? (?:are|is) closed|"
    r"add (?:a|your) comment)\b",
    re.IGNORECASE,
)
_SEPS = ("|", "»", "›", "•", "·", " / ", " - ", "::")
_QUOTES = ("\"", "“", "”", "«")
_TERM_CHARS = ".!?…"

BASE_NAMES = [
    "logchar", "nwords", "ntok", "upper_frac", "cap_frac", "digit_frac", "punct_frac",
    "end_term", "end_colon", "bullet", "nseps", "url", "stop_frac", "bp_count", "date",
    "n_inner_term", "quote", "comma_per_word", "nb_mean", "nb_sum", "lex", "lex_present",
    "dup", "start_lower", "avg_wlen", "long", "logdf", "df_avail", "cmark",
]
_CTX = ["logchar", "end_term", "stop_frac", "nb_mean", "long", "cap_frac", "lex", "nwords",
        "logdf"]
_OFFSETS = (-3, -2, -1, 1, 2, 3)
_WIN = ["long", "logchar", "nb_mean", "end_term", "stop_frac", "logdf"]
_WIDTHS = (3, 10)


def feature_names() -> list[str]:
    names = list(BASE_NAMES)
    names += [f"{c}@{o:+d}" for c in _CTX for o in _OFFSETS]
    names += [f"{c}~{w}" for c in _WIN for w in _WIDTHS]
    names += ["mass_before", "mass_after", "inside", "pos", "logi", "logrem"]
    names += ["in_block", "block_dist_before", "block_dist_after"]
    names += ["cm_before", "cm_after", "cm_win", "cm_frac_before"]
    names += ["doc_logn", "doc_long", "doc_term", "doc_logchar", "doc_nb", "doc_logmass",
              "doc_stop"]
    return names


def _window_mean(x: np.ndarray, w: int) -> np.ndarray:
    n = len(x)
    c = np.concatenate(([0.0], np.cumsum(x)))
    idx = np.arange(n)
    lo = np.maximum(idx - w, 0)
    hi = np.minimum(idx + w + 1, n)
    return (c[hi] - c[lo]) / (hi - lo)


def line_features(
    lines: list[str],
    word_logodds: dict[str, float] | None = None,
    line_logodds: dict[int, float] | None = None,
    line_df: Mapping[str, int] | None = None,
) -> np.ndarray:
    """Feature matrix (len(lines), n_features) for non-blank ``lines``.

    ``word_logodds``/``line_logodds`` are the lexicons of the model (word ->
    log-odds of boilerplate, line_key(normalised line) -> log-odds); the packaged ones are
    used when omitted.  ``line_df`` maps a normalised line to the number of
    pages of the same corpus / outlet it occurs on (None: unknown).
    """
    if word_logodds is None or line_logodds is None:
        m = _model()
        word_logodds = m.word_logodds if word_logodds is None else word_logodds
        line_logodds = m.line_logodds if line_logodds is None else line_logodds
    n = len(lines)
    nb = len(BASE_NAMES)
    base = np.zeros((n, nb), dtype=np.float64)
    norms = [normalize_line(s) for s in lines]
    counts = Counter(norms)
    get_w = word_logodds.get
    for i, s in enumerate(lines):
        nchar = len(s)
        ws = s.split()
        nw = len(ws)
        toks = _TOKEN.findall(s)
        ntok = len(toks)
        letters = sum(len(t) for t in toks)
        upper = sum(1 for ch in s if ch.isupper())
        digits = sum(1 for ch in s if ch.isdigit())
        spaces = s.count(" ")
        punct = nchar - letters - digits - spaces
        low = [t.lower() for t in toks]
        cap = sum(1 for t in toks if t[0].isupper())
        stop = sum(1 for t in low if t in _STOP)
        bp = sum(1 for t in low if t in _BPWORDS)
        last = s.rstrip("\"'”’»)]*")[-1:] if s else ""
        end_term = 1.0 if last and last in _TERM_CHARS else 0.0
        nbv = [v for v in (get_w(t) for t in low) if v is not None]
        lx = line_logodds.get(line_key(norms[i])) if norms[i] else None
        inner = s.count(". ") + s.count("? ") + s.count("! ")
        row = base[i]
        row[0] = math.log1p(nchar)
        row[1] = nw
        row[2] = ntok
        row[3] = upper / letters if letters else 0.0
        row[4] = cap / ntok if ntok else 0.0
        row[5] = digits / nchar if nchar else 0.0
        row[6] = punct / nchar if nchar else 0.0
        row[7] = end_term
        row[8] = 1.0 if s.endswith(":") else 0.0
        row[9] = 1.0 if _BULLET.match(s) else 0.0
        row[10] = sum(s.count(x) for x in _SEPS)
        row[11] = 1.0 if _URL.search(s) else 0.0
        row[12] = stop / ntok if ntok else 0.0
        row[13] = bp
        row[14] = 1.0 if _MONTHS.search(s) else 0.0
        row[15] = inner
        row[16] = 1.0 if any(q in s for q in _QUOTES) else 0.0
        row[17] = s.count(",") / nw if nw else 0.0
        row[18] = sum(nbv) / len(nbv) if nbv else 0.0
        row[19] = sum(nbv) if nbv else 0.0
        row[20] = lx if lx is not None else 0.0
        row[21] = 1.0 if lx is not None else 0.0
        row[22] = counts[norms[i]] - 1
        row[23] = 1.0 if s[:1].islower() else 0.0
        row[24] = letters / ntok if ntok else 0.0
        row[25] = 1.0 if (nw >= 10 and end_term) else 0.0
        if line_df is not None:
            row[26] = math.log1p(line_df.get(norms[i], 0)) if norms[i] else 0.0
            row[27] = 1.0
        row[28] = 1.0 if nw <= 25 and _COMMENT_MARK.search(s) else 0.0
    col = {name: base[:, j] for j, name in enumerate(BASE_NAMES)}
    parts = [base]
    # neighbours
    ctx = np.stack([col[c] for c in _CTX], axis=1)
    pad = np.full((3, ctx.shape[1]), -1.0)
    padded = np.concatenate([pad, ctx, pad])
    for_ctx = []
    for c in range(ctx.shape[1]):
        for o in _OFFSETS:
            for_ctx.append(padded[3 + o : 3 + o + n, c])
    parts.append(np.stack(for_ctx, axis=1) if n else np.zeros((0, len(for_ctx))))
    wins = [_window_mean(col[c], w) for c in _WIN for w in _WIDTHS]
    parts.append(np.stack(wins, axis=1) if n else np.zeros((0, len(wins))))
    # where the line sits relative to the mass of prose
    mass = col["long"] * np.exp(col["logchar"])
    total = mass.sum()
    cum = np.cumsum(mass)
    before = (cum - mass) / total if total > 0 else np.zeros(n)
    after = (total - cum) / total if total > 0 else np.zeros(n)
    inside = ((before > 0) & (after > 0)).astype(np.float64)
    idx = np.arange(n, dtype=np.float64)
    pos = idx / max(n - 1, 1)
    parts.append(np.stack([before, after, inside, pos, np.log1p(idx), np.log1p(n - 1 - idx)], 1))
    # the densest block of prose (max-subarray of a per-line prose score)
    score = np.where(col["long"] > 0, col["nwords"], -3.0)
    best, cur, start, lo, hi = 0.0, 0.0, 0, 0, -1
    for i in range(n):
        if cur <= 0:
            cur, start = 0.0, i
        cur += score[i]
        if cur > best:
            best, lo, hi = cur, start, i
    in_block = ((idx >= lo) & (idx <= hi)).astype(np.float64)
    d_before = np.log1p(np.maximum(lo - idx, 0)) if hi >= 0 else np.zeros(n)
    d_after = np.log1p(np.maximum(idx - hi, 0)) if hi >= 0 else np.zeros(n)
    parts.append(np.stack([in_block, d_before, d_after], 1) if n else np.zeros((0, 3)))
    # user comments: how many comment markers lie before / after / around
    cm = col["cmark"]
    ccum = np.cumsum(cm)
    cbefore = ccum - cm
    cafter = ccum[-1] - ccum if n else ccum
    ctot = ccum[-1] if n else 0.0
    parts.append(
        np.stack(
            [np.log1p(cbefore), np.log1p(cafter), _window_mean(cm, 6),
             cbefore / ctot if ctot else np.zeros(n)],
            1,
        )
        if n
        else np.zeros((0, 4))
    )
    doc = np.array(
        [
            math.log1p(n),
            col["long"].mean() if n else 0.0,
            col["end_term"].mean() if n else 0.0,
            col["logchar"].mean() if n else 0.0,
            col["nb_mean"].mean() if n else 0.0,
            math.log1p(total),
            col["stop_frac"].mean() if n else 0.0,
        ]
    )
    parts.append(np.broadcast_to(doc, (n, len(doc))))
    return np.concatenate(parts, axis=1)


# --------------------------------------------------------------------------
# packaged model
@dataclass(frozen=True)
class _Model:
    feat: np.ndarray  # (T, N) int
    thr: np.ndarray  # (T, N) float
    left: np.ndarray  # (T, N) int
    right: np.ndarray  # (T, N) int
    leaf: np.ndarray  # (T, N) bool
    value: np.ndarray  # (T, N) float
    depth: int
    baseline: float
    threshold: float
    word_logodds: dict[str, float]
    line_logodds: dict[int, float]

    def decision(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[0]
        T = self.feat.shape[0]
        if n == 0:
            return np.zeros(0)
        if n > _DECISION_ROWS:  # bounded memory: the walk holds several (rows, trees) arrays
            return np.concatenate([self.decision(X[i:i + _DECISION_ROWS])
                                   for i in range(0, n, _DECISION_ROWS)])
        node = np.zeros((n, T), dtype=np.int64)
        tix = np.arange(T)[None, :]
        rows = np.arange(n)[:, None]
        for _ in range(self.depth):
            f = self.feat[tix, node]
            x = X[rows, f]
            nxt = np.where(x <= self.thr[tix, node], self.left[tix, node], self.right[tix, node])
            node = np.where(self.leaf[tix, node], node, nxt)
        return self.baseline + self.value[tix, node].sum(axis=1)


_DECISION_ROWS = 4096


def load_model(path: str | None = None) -> _Model:
    """Load a line model saved by ``bench/train_line_model.py`` (an .npz file)."""
    if path is None:
        ref = resources.files("newsdesk") / "data" / "line_model.npz"
        with resources.as_file(ref) as p, np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    else:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    return _Model(
        feat=arrays["feat"].astype(np.int64),
        thr=arrays["thr"].astype(np.float64),
        left=arrays["left"].astype(np.int64),
        right=arrays["right"].astype(np.int64),
        leaf=arrays["leaf"].astype(bool),
        value=arrays["value"].astype(np.float64),
        depth=int(arrays["depth"]),
        baseline=float(arrays["baseline"]),
        threshold=float(arrays["threshold"]),
        word_logodds=dict(
            zip(arrays["words"].tolist(), arrays["word_lo"].astype(float).tolist(), strict=True)
        ),
        line_logodds=dict(
            zip(arrays["line_keys"].tolist(), arrays["line_lo"].astype(float).tolist(), strict=True)
        ),
    )


_MODEL_OVERRIDE: list[_Model] = []


@lru_cache(maxsize=1)
def _packaged_model() -> _Model:
    return load_model()


def _model() -> _Model:
    return _MODEL_OVERRIDE[-1] if _MODEL_OVERRIDE else _packaged_model()


def line_scores(
    lines: list[str], model: _Model | None = None, line_df: Mapping[str, int] | None = None
) -> np.ndarray:
    """Probability that each (non-blank) line is article text."""
    m = model or _model()
    X = line_features(lines, m.word_logodds, m.line_logodds, line_df)
    z = m.decision(X)
    return 1.0 / (1.0 + np.exp(-z))


# --------------------------------------------------------------------------
# the cleaner
# Readers' comments under an article.  They are not the outlet's report (their
# sentences must not become its quotes or claims), but a line classifier sees prose
# like the article's, and the public line-labelled sets disagree on them (cleaneval
# labels comments article text, dragnet boilerplate), so the model trained on both
# keeps them.  The structure of a comment thread is what gives it away: a heading
# ("12 Comments", "Leave a Reply", "3 thoughts on ...") followed by signature lines
# ("Jo says:", "October 1, 2012 at 5:43 pm", "Reply"), or, with no heading, a run of
# signatures with reply buttons or "2 hours ago" stamps.  No library finds comment
# sections in plain text (extractors such as trafilatura do it from the HTML).
_COMMENTS_HEADER = re.compile(
    r"^(?:[\d,]+\s+(?:comments?|responses?|replies|thoughts|reactions)(?:\s+(?:on|to|for)\b.*)?"
    r"|(?:\d+\s+)?(?:reader|readers'?|user|your|latest|recent)?\s*comments?"
    r"(?:\s*[(\[]\s*\d+\s*[)\]])?"
    r"|(?:reader\s+)?(?:discussion|responses|reactions)"
    r"|leave\s+a\s+(?:reply|comment|response)(?:\s+to\b.*)?|post\s+a\s+comment"
    r"|add\s+(?:a|your)\s+comment|write\s+a\s+comment"
    r"|join\s+the\s+(?:discussion|conversation)|what\s+do\s+you\s+think\??|have\s+your\s+say"
    r"|(?:show|view|read|see|load)\s+(?:all\s+)?(?:[\d,]+\s+)?comments?"
    r")\s*[:.]?\s*(?:\(\d+\))?$",
    re.IGNORECASE,
)
_NO_COMMENTS = re.compile(r"^0\s|\(\s*0\s*\)|\[\s*0\s*\]")  # "0 Comments", "Comments (0)"
# Signatures of a comment: its author line, its time, its reply button.  (The line
# classifier's ``_COMMENT_MARK`` feature is looser, and changing it would mean a new
# model; these are the rule's own.)
_AGO = r"\b\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago\b"
_COMMENT_SIGN = re.compile(
    r"\b(?:says|said|wrote|writes)\s*:\s*$"
    r"|^(?:reply|reply\s+delete|report(?:\s+abuse)?|permalink|flag|delete|quote|like|recommend"
    r"|reply\s*↓)$"
    rf"|{_AGO}"
    r"|^(?:by|posted\s+by|--|—|–)\s+\S.{0,60}?(?:\d{1,2}:\d{2}|\d{4})"
    r"|\b(?:at|@)\s+\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?\b"
    r"|\d{1,2}:\d{2}\s*[ap]\.?m\.?\b",
    re.IGNORECASE,
)
# Without a heading only signatures that blog posts and news articles do not carry
# count: "X says:" / "X wrote:" author lines, reply buttons (in a line of at most
# 12 words: "Reply", "up reply actions"), "2 hours ago".
_COMMENT_AUTHOR = re.compile(r"\b(?:says|said|wrote|writes)\s*:", re.IGNORECASE)
_COMMENT_SAYS = re.compile(r"\bsays\s*:", re.IGNORECASE)
_COMMENT_ACTION = re.compile(
    rf"^(?=(?:\S+\s+){{0,11}}\S+$).*\b(?:reply|report\s+(?:abuse|comment))\b|{_AGO}",
    re.IGNORECASE,
)
_COMMENT_WINDOW = 40  # lines after a heading in which its signatures must appear
_RUN_WINDOW = 60  # lines in which a heading-less run of signatures must appear
_RUN_MIN = 4  # signatures in such a run
_PROSE_MIN = 2  # sentences of kept prose before a section can start


def _header_form(line: str) -> str:
    return re.sub(r"[\d\W]+", " ", line.lower()).strip()


def _signature(line: str, nw: int) -> bool:
    """A comment's author, time or reply line: short, and not a sentence."""
    return nw <= 12 and not _TERMINAL.search(line) and bool(_COMMENT_SIGN.search(line))


def _run_signature(line: str, nw: int) -> bool:
    return nw <= 15 and not _TERMINAL.search(line) and bool(
        _COMMENT_AUTHOR.search(line) or _COMMENT_ACTION.search(line))


def comment_section(lines: Sequence[str], kept: Sequence[bool] | None = None) -> int | None:
    """Index of the first line of a readers' comment section in ``lines``, or None.

    ``lines`` are a page's non-blank lines in order; ``kept`` optionally says which
    of them are still taken for article text (only those count as prose: a teaser
    in a menu does not start the article).  A section starts after at least
    ``_PROSE_MIN`` sentences of prose (kept lines of ten words or more ending a
    sentence; a byline such as "by Bud Elliott on Aug 9, 2012 10:31 AM" is none) at
    a comment heading that at least two signature lines follow within the next
    ``_COMMENT_WINDOW`` lines, and runs to the end of the page.  A heading found
    three times or more is a per-post link of a listing page ("Comments (3)" under
    every post), and of one found twice only the second counts (the first is the
    link under the headline: "Comments (186)"); one with no comments ("Comments
    (0)") opens nothing.  Without a heading, a run of at least ``_RUN_MIN`` author or
    action signatures within ``_RUN_WINDOW`` lines, one of them a reply button, a
    "2 hours ago" stamp or a "says:" line, starts it.
    """
    n = len(lines)
    if kept is not None and len(kept) != n:
        raise ValueError(f"kept has {len(kept)} flags for {n} lines")
    nw = [len(t.split()) for t in lines]
    ok = kept if kept is not None else [True] * n
    prose = [nw[i] >= 10 and bool(ok[i]) and bool(_TERMINAL.search(lines[i])) for i in range(n)]
    headers = [i for i in range(n) if nw[i] <= 10 and _COMMENTS_HEADER.match(lines[i])]
    forms = Counter(_header_form(lines[i]) for i in headers)
    last = set({_header_form(lines[i]): i for i in headers}.values())
    seen = 0
    for i in range(n):
        if prose[i]:
            seen += 1
        if seen < _PROSE_MIN or i not in last or _NO_COMMENTS.search(lines[i]):
            continue
        if forms[_header_form(lines[i])] > 2:
            continue
        signs = sum(1 for j in range(i + 1, min(n, i + 1 + _COMMENT_WINDOW))
                    if _signature(lines[j], nw[j]))
        if signs >= 2:
            return i
    seen = 0
    for i in range(n):
        if prose[i]:
            seen += 1
            continue
        if seen < _PROSE_MIN or not _run_signature(lines[i], nw[i]):
            continue
        run = [lines[j] for j in range(i, min(n, i + _RUN_WINDOW)) if _run_signature(lines[j], nw[j])]
        if len(run) >= _RUN_MIN and any(_COMMENT_ACTION.search(r) or _COMMENT_SAYS.search(r) for r in run):
            return i
    return None


# Characters of table rows, schedules and product specs, not of headlines.
_NOT_HEADLINE = re.compile(r"[\d:;()\[\]<>@|/–—=+#&%$€£]|\s-\s|--")


# At most this many classifier passes over one text (a bound on the cost).  Most
# pages need two; of the 2,417 pages of the four line sets one needs 11
# (bench/bench_lines.py --idempotence, 2026-12-07).
_MAX_PASSES = 20


def _drop_bullet_tail(lines: list[str], keep: list[bool], drop: Callable[[int, str], None]) -> int:
    """Drop a trailing list of >= 3 "- other headline" lines; returns how many went."""
    tail: list[int] = []
    for i in range(len(lines) - 1, -1, -1):
        if not keep[i]:
            continue
        if _BULLET.match(lines[i]) and _words(lines[i]) <= 30 and not _TERMINAL.search(
            lines[i]
        ):
            tail.append(i)
        elif _BULLET.match(lines[i]) and _words(lines[i]) <= 30 and len(tail) >= 1:
            tail.append(i)  # an occasional item ending with a full stop
        else:
            break
    if len(tail) < 3:
        return 0
    for i in tail:
        drop(i, "trailing-headline-list")
    return len(tail)


def _drop_menus_around(lines: list[str], keep: list[bool], drop: Callable[[int, str], None]) -> int:
    """Menus and headline lists around the article: after the last prose line, a
    run of >= 3 headline-like lines (other stories); before the first prose line,
    a run of >= 4 one- or two-word lines (section links).  Returns how many went."""
    n = len(lines)
    live = [i for i in range(n) if keep[i]]
    prose = [i for i in live if _words(lines[i]) >= 10 and _TERMINAL.search(lines[i])]
    if not prose:
        return 0
    after = _drop_runs([j for j in live if j > prose[-1]], 3, "trailing-headline-list", drop,
                       lambda i: _headline_like(lines[i]) and 4 <= _words(lines[i]) <= 14
                       and not _NOT_HEADLINE.search(lines[i]))
    before = _drop_runs([j for j in live if j < prose[0]], 4, "navigation", drop,
                        lambda i: _words(lines[i]) <= 2 and not _TERMINAL.search(lines[i]))
    return after + before


# Where a page's <title> puts the site's name: "Headline - WSJ", "Headline | News |
# Al Jazeera", "Opinion | Headline", "Impeachment hearings: Headline - CBS News".
# (An extractor reads the <title> and the <h1> from the HTML; in plain text the two
# are lines, and this pairs them.)
# SITE_NAME_SEP cuts a site's name off a headline (ingest reads the outlet with it:
# ``metadata.outlet_from_title_line``); a colon also ends a section's name before one.
SITE_NAME_SEP = re.compile(r"\s+[-–—|»·•]\s+|\s*\|\s*|\s+::\s+")
_SITE_SEP = re.compile(SITE_NAME_SEP.pattern + r"|\s+:\s+|(?<=\w):\s+")
_SITE_WORDS = 8  # at most this many words of site name around a headline
_TOP_LINES = 3  # where a scrape's <title> line is


def _with_site_name(lines: Sequence[str], keep: Sequence[bool]) -> dict[str, set[int]]:
    """Normalised text -> the lines that are that text with a site name before or
    after it, cut at a separator."""
    out: dict[str, set[int]] = {}
    for j, line in enumerate(lines):
        if not keep[j] or len(line) > 300:
            continue
        # cut points: the line's ends and its separators ("Section: <headline> - Site")
        cuts = [(0, 0), *((m.start(), m.end()) for m in _SITE_SEP.finditer(line)), (len(line), len(line))]
        for a in range(len(cuts) - 1):
            if _words(line[:cuts[a][0]]) > _SITE_WORDS:
                break
            for b in range(len(cuts) - 1, a, -1):
                if (a, b) == (0, len(cuts) - 1):
                    continue  # the whole line is not "with a site name"
                if _words(line[cuts[b][1]:]) > _SITE_WORDS:
                    break
                out.setdefault(normalize_line(line[cuts[a][1]:cuts[b][0]]), set()).add(j)
    out.pop("", None)
    return out


def _drop_copies(at: int, norms: Sequence[str], keep: Sequence[bool],
                 drop: Callable[[int, str], None]) -> int:
    """Drop the other copies of the headline found at line ``at``."""
    copies = [i for i, nm in enumerate(norms) if keep[i] and i != at and nm == norms[at]]
    for i in copies:
        drop(i, "repeated-headline")
    return len(copies)


def _is_prose(line: str) -> bool:
    return _words(line) >= 10 and bool(_TERMINAL.search(line))


def _content_words(line: str) -> set[str]:
    return {w for w in (t.lower() for t in _TOKEN.findall(line)) if len(w) >= 3 and w not in _STOP}


def _about(line: str, prose: Sequence[str]) -> bool:
    """Whether a headline candidate is about what ``prose`` is about: at least two
    of its content words, and a third of them, occur in it (a headline words things
    its own way: "River crossing to close" over "the bridge will close")."""
    words = _content_words(line)
    if not words:
        return False
    seen: set[str] = set()
    for p in prose:
        seen |= words & _content_words(p)
    return len(seen) >= min(2, len(words)) and 3 * len(seen) >= len(words)


_BYLINE = re.compile(r"^(?:by|posted|published|updated|written)\b", re.IGNORECASE)
_HEADLINE_REACH = 3  # kept lines before the first sentence where a headline is looked for


def _headline_before_prose(lines: Sequence[str], keep: Sequence[bool]) -> int | None:
    """The headline of a page that writes it once: the nearest headline-like line of
    four words or more among the few kept lines right before the article's first
    sentence (a byline or a date may sit between them), about what the article's
    sentences are about."""
    live = [i for i in range(len(lines)) if keep[i]]
    prose = [i for i in live if _is_prose(lines[i])]
    if not prose:
        return None
    before = [i for i in live if i < prose[0]][-_HEADLINE_REACH:]
    for i in reversed(before):
        line = lines[i]
        if (_headline_like(line) and _words(line) >= 4 and not _BYLINE.match(line)
                and not _MONTHS.search(line) and _about(line, [lines[j] for j in prose])):
            return i
    return None


def _drop_runs(idx: list[int], least: int, reason: str, drop: Callable[[int, str], None],
               item: Callable[[int], object]) -> int:
    """Drop every run of >= ``least`` consecutive ``idx`` lines that are ``item``s."""
    gone = 0
    run: list[int] = []
    for i in [*idx, None]:
        if i is not None and item(i):
            run.append(i)
            continue
        if len(run) >= least:
            for j in run:
                drop(j, reason)
            gone += len(run)
        run = []
    return gone


def clean_text(
    text: str,
    *,
    title: str | None = None,
    extracted: bool = False,
    outlet_boilerplate: frozenset[str] = frozenset(),
    model: _Model | None = None,
    line_df: Mapping[str, int] | None = None,
    keep_comments: bool = False,
) -> Cleaned:
    """Clean scraped plain ``text``; see the module docstring.

    ``title`` is a headline already known from metadata; ``extracted`` says the
    text came out of an HTML extractor (only precise rules then);
    ``outlet_boilerplate`` holds :func:`normalize_line` forms of lines seen on
    many pages of the same outlet.  ``model`` overrides the packaged line model
    (benchmarks use it).  ``line_df`` optionally maps :func:`normalize_line`
    forms to the number of pages of the same outlet / corpus they occur on; the
    classifier then uses it (lines repeating across pages are mostly
    boilerplate).  Readers' comments under the article are dropped (reason
    ``reader-comments``, :func:`comment_section`) unless ``keep_comments``.

    Cleaning is idempotent given the title it found: ``clean_text(c.text,
    title=c.title)`` removes nothing from ``c = clean_text(text)`` (re-ingesting an
    exported article does this).  Without the title the body is another input: its
    first headline-like line that occurs twice, or a short first paragraph, may be
    taken for the headline.

    Raises :class:`TextTooLarge` for a text over the bounds above.
    """
    if len(text) > MAX_CLEAN_CHARS:
        raise TextTooLarge(f"text is {len(text):,} characters, over the {MAX_CLEAN_CHARS:,} limit")
    raw = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if len(raw) > MAX_CLEAN_LINES and sum(1 for s in raw if s.strip()) > MAX_CLEAN_LINES:
        raise TextTooLarge(f"text has over {MAX_CLEAN_LINES:,} non-blank lines")
    lines = [unicodedata.normalize("NFC", s).strip() for s in raw]
    n = len(lines)
    keep = [bool(s) for s in lines]
    removed: list[Removal] = []

    def drop(i: int, reason: str) -> None:
        if keep[i]:
            keep[i] = False
            removed.append(Removal(i, lines[i], reason))

    # 1. attribution spam (possibly a part of a line)
    for i in range(n):
        if not keep[i]:
            continue
        kept, cut = _strip_attribution(lines[i])
        if cut is not None:
            if kept:
                removed.append(Removal(i, cut, "attribution-spam"))
                lines[i] = kept
            else:
                drop(i, "attribution-spam")
    norms = [normalize_line(s) for s in lines]

    # 2. lines seen on many pages of the outlet, navigation words
    for i in range(n):
        if not keep[i]:
            continue
        if norms[i] and norms[i] in outlet_boilerplate:
            drop(i, "repeated-across-outlet")
            continue
        r = _nav_reason(lines[i], norms[i])
        if r:
            drop(i, r)

    # 3. headline: known, repeated, or a short first paragraph
    found_title: str | None = title.strip() if title and title.strip() else None
    tnorm = normalize_line(found_title) if found_title else ""
    suffixed: list[int] = []  # the headline again with the site's name: "<headline> - WSJ"
    if not tnorm:
        counts = Counter(norms[i] for i in range(n) if keep[i] and norms[i])
        prose = [i for i in range(n) if keep[i] and _is_prose(lines[i])]
        with_site = _with_site_name(lines, keep)
        top = [i for i in range(n) if keep[i]][:_TOP_LINES]
        # The <title> line leads a whole-page scrape: a headline paired with a line
        # among the first three comes first.  Elsewhere a menu entry may have a line
        # of its own with the site's name ("Follow Letters of Note: RSS | Email"), so
        # a pair further down needs a headline about the page's sentences.
        for near_top in (True, False):
            for i in range(n):
                others = with_site.get(norms[i], set()) - {i} if keep[i] and _words(lines[i]) >= 3 else set()
                if others and ((min(others) in top) if near_top else _about(
                        lines[i], [lines[j] for j in prose if norms[j] != norms[i]])):
                    found_title, tnorm = lines[i], norms[i]
                    suffixed = sorted(with_site[norms[i]] - {i})
                    break
            if tnorm:
                break
    if not tnorm:
        for i in range(n):
            # A whole page repeats its menu entries ("Today's Paper", "Privacy Notice")
            # as often as a scrape repeats its headline: a headline has three words or
            # more and is about what the page's sentences are about.  A comment's
            # "Reply" button repeats under every comment.
            if (keep[i] and counts[norms[i]] >= 2 and _headline_like(lines[i])
                    and _words(lines[i]) >= 3
                    and not _COMMENT_ACTION.search(lines[i]) and not _COMMENT_SIGN.search(lines[i])
                    and _about(lines[i], [lines[j] for j in prose if norms[j] != norms[i]])):
                found_title, tnorm = lines[i], norms[i]
                break
    if tnorm:
        for i in range(n):
            if keep[i] and (norms[i] == tnorm or i in suffixed):
                drop(i, "repeated-headline")
    else:
        live = [i for i in range(n) if keep[i]]
        if len(live) >= 2:
            first = live[0]
            nxt_nonblank = next((j for j in range(first + 1, n) if lines[j]), None)
            if (
                _headline_like(lines[first])
                and first + 1 < n
                and not lines[first + 1]
                and nxt_nonblank is not None
                and keep[nxt_nonblank]
                and _words(lines[nxt_nonblank]) >= 8
            ):
                found_title = lines[first]
                drop(first, "title")
                _drop_copies(first, norms, keep, drop)

    # 4. trailing list of "- other headline" lines
    _drop_bullet_tail(lines, keep, drop)

    # 5. statistical classifier (plain scraped text only).  The first pass sees
    # every non-blank line, as the model was trained on whole scraped pages.
    # Readers' comments (unless kept) are looked for after each pass: on the whole
    # page the first time (their signature lines are mostly gone after it), then on
    # what is left.  6. then drops menus and headline lists around the article.
    # Passes repeat until one that scored exactly the surviving lines drops
    # nothing, so that cleaning the cleaned text again (with the title it found)
    # removes nothing: idempotence.  Every rule that drops a line changes the
    # neighbours the classifier sees, hence the rules inside the loop.
    if not extracted:
        m = model or _model()
        pool = [i for i in range(n) if lines[i]]
        for step in range(_MAX_PASSES):
            live = [i for i in range(n) if keep[i]]
            if len(live) < 2:
                break
            p = line_scores([lines[i] for i in pool], m, line_df)
            dropped = 0
            for i, pi in zip(pool, p, strict=True):
                if keep[i] and pi < m.threshold:
                    drop(i, "boilerplate-line")
                    dropped += 1
            if not keep_comments:
                seen = [i for i in range(n) if lines[i]] if step == 0 else [i for i in range(n) if keep[i]]
                start = comment_section([lines[i] for i in seen], [keep[i] for i in seen])
                if start is not None:
                    for i in seen[start:]:
                        if keep[i]:
                            drop(i, "reader-comments")
                            dropped += 1
            dropped += _drop_bullet_tail(lines, keep, drop)
            dropped += _drop_menus_around(lines, keep, drop)
            if found_title is None:
                at = _headline_before_prose(lines, keep)
                if at is not None:
                    found_title = lines[at]
                    drop(at, "title")
                    dropped += 1 + _drop_copies(at, norms, keep, drop)
            scored_live = pool == live
            pool = [i for i in range(n) if keep[i]]
            if not dropped and scored_live:
                break

    # 7. assemble: keep paragraph breaks, collapse runs of blank lines
    out: list[str] = []
    for i in range(n):
        if keep[i]:
            out.append(lines[i])
        elif not lines[i] and out and out[-1] != "":
            out.append("")
    while out and out[-1] == "":
        out.pop()
    removed.sort(key=lambda r: r.line)
    return Cleaned("\n".join(out), found_title, tuple(removed))
