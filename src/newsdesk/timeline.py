"""A story's timeline: the dated events its articles report, and when they appeared.

spaCy marks date expressions; a few rules resolve them against the article's
publication date. dateparser (installed with htmldate) was tried first and does
not follow news conventions: it puts "on Wednesday" in a Wednesday article a
week earlier, fails on "last June", and parses "the 1990s" as the moment of
parsing. The rules: a weekday is the latest such day up to and including the
publication day, or with a verb in the future tense the next; a month (or a day
of one) without a year is, with a verb in the past tense or after "last", the
latest such month up to publication, and otherwise the nearest one ("until Feb.
15" in an article of 25 January 2019 is 2019-02-15, "fired in February" in one of
December 2017 is 2017-02); expressions with no calendar anchor (durations such
as "three years", decades, "early in the Cold War") are not dates of events.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

__all__ = ["COMPONENT", "DateMention", "Event", "Tense", "resolve_date", "timeline"]

COMPONENT = "timeline.v2"
Precision = Literal["day", "month", "year"]
# What the clause of a date expression says of its time, from its verb (None: nothing).
Tense = Literal["past", "future"]

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(_MONTHS)} | {"sept": 9}
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_DAY = re.compile(r"\b([12]?\d|3[01])(st|nd|rd|th)?\b")
_MONTH_WORD = re.compile(r"\b(" + "|".join(_MONTHS) + r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\b\.?")
_RELATIVE_DAY = {"today": 0, "tonight": 0, "yesterday": -1, "last night": -1, "this morning": 0}


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date expression in one article, resolved."""

    article: str
    sentence: int
    start: int
    end: int
    text: str
    day: date
    precision: Precision


@dataclass(frozen=True, slots=True)
class Event:
    """What the story's articles say happened on one date."""

    day: date
    precision: Precision
    mentions: tuple[DateMention, ...]

    def after(self, day: date) -> bool:
        """Does the event lie wholly after ``day`` at its own precision ("2036" after
        an article of 2011; "December 2011" not after 13 December 2011)?"""
        if self.precision == "year":
            return self.day.year > day.year
        if self.precision == "month":
            return (self.day.year, self.day.month) > (day.year, day.month)
        return self.day > day

    @property
    def label(self) -> str:
        if self.precision == "year":
            return f"{self.day.year}"
        if self.precision == "month":
            return self.day.strftime("%Y-%m")
        return self.day.isoformat()


def resolve_date(expression: str, published: datetime | None,
                 tense: Tense | None = None) -> tuple[date, Precision] | None:
    """The calendar date an expression names, with its precision, or None.
    ``tense`` is that of the clause the expression is in, where known."""
    e = expression.lower().strip()
    words = e.split()
    base = published.replace(tzinfo=None) if published else None
    for word, delta in _RELATIVE_DAY.items():
        if re.search(rf"\b{word}\b", e):
            return ((base + timedelta(days=delta)).date(), "day") if base else None
    for i, wd in enumerate(_WEEKDAYS):
        if re.search(rf"\b{wd}\b", e):
            if base is None:
                return None
            if (tense == "future" or "next" in words) and "last" not in words:
                ahead = (i - base.weekday()) % 7
                if "next" in words and ahead == 0:
                    ahead = 7
                return (base + timedelta(days=ahead)).date(), "day"
            back = (base.weekday() - i) % 7
            if "last" in words and back == 0:
                back = 7
            return (base - timedelta(days=back)).date(), "day"
    year_m = _YEAR.search(e)
    month_m = _MONTH_WORD.search(e)
    if month_m:
        word = month_m.group(1)
        month = _MONTHS.index(word) + 1 if word in _MONTHS else _MONTH_ABBR[word[:3]]
        rest = e[:month_m.start()] + " " + e[month_m.end():]
        rest = _YEAR.sub(" ", rest)
        day_m = _DAY.search(rest)
        if year_m:
            year = int(year_m.group(1))
        elif base is not None:
            # In the past tense, or "last June": the latest such month up to publication.
            year = base.year if month <= base.month else base.year - 1
            if "last" in words and month == base.month:
                year -= 1
            if day_m and month == base.month and int(day_m.group(1)) > base.day:
                year = base.year - 1  # "Dec. 31" in the past of 5 December
            if "last" not in words and tense != "past":
                # Otherwise the nearest ("the deadline of Feb. 15", "elections in
                # March"), a past one on a tie; "next March" is the coming one.
                day = int(day_m.group(1)) if day_m else 15
                near = []
                for y in (base.year - 1, base.year, base.year + 1):
                    try:
                        near.append(date(y, month, day))
                    except ValueError:
                        continue
                pool = [d for d in near if d >= base.date()] if "next" in words else near
                if pool:
                    year = min(pool, key=lambda d: (abs((d - base.date()).days), d)).year
        else:
            return None
        if day_m:
            try:
                return date(year, month, int(day_m.group(1))), "day"
            except ValueError:
                return None
        return date(year, month, 1), "month"
    if year_m and not re.search(r"\d0s\b", e):
        return date(int(year_m.group(1)), 1, 1), "year"
    if base is not None and re.search(r"\blast year\b", e):
        return date(base.year - 1, 1, 1), "year"
    if base is not None and re.search(r"\bthis year\b", e):
        return date(base.year, 1, 1), "year"
    return None


def timeline(mentions: Sequence[DateMention]) -> list[Event]:
    """Events by date, oldest first; mentions of the same date and precision join."""
    by_key: dict[tuple[date, str], list[DateMention]] = {}
    for m in mentions:
        by_key.setdefault((m.day, m.precision), []).append(m)
    order = {"year": 0, "month": 1, "day": 2}
    events = [Event(day, prec, tuple(ms)) for (day, prec), ms in by_key.items()]  # type: ignore[arg-type]
    events.sort(key=lambda ev: (ev.day, order[ev.precision]))
    return events
