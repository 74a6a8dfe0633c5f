"""Geometry of the web UI's charts, as plain records a template draws as SVG.

Pure functions: no I/O, no markup. The template escapes every label, so an
outlet name or a quote never reaches the page as markup. Hand-written because a
chart library would ship a script bundle to the browser, and the page is
server-rendered and runs no third-party script (its Content-Security-Policy
allows only its own static files).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

__all__ = ["Bar", "BarChart", "Mark", "TimelineChart", "bar_chart", "event_period", "timeline_chart"]

WIDTH = 760
LABEL_W = 180  # room for row labels (outlet names) left of the axis
ROW_H = 26


@dataclass(frozen=True)
class Mark:
    """A point (width 0) or a period on one row of the timeline."""

    x: float
    width: float
    title: str  # the tooltip: what happened or which article
    href: str | None = None
    kind: str = "article"  # "article" or "event"


@dataclass
class TimelineChart:
    width: int
    height: int
    rows: list[tuple[str, float, list[Mark]]] = field(default_factory=list)  # (label, y, marks)
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (x, label)
    axis_y: float = 0.0
    undated: int = 0  # articles with no date, which the chart cannot place

    @property
    def empty(self) -> bool:
        return not any(marks for _, _, marks in self.rows)


def event_period(label: str, precision: str) -> tuple[date, date] | None:
    """The days an event's date label covers: ``2024`` a year, ``2024-08`` a month,
    ``2024-08-15`` a day. None for a label that is no such date."""
    try:
        if precision == "year" or len(label) == 4:
            y = int(label[:4])
            return date(y, 1, 1), date(y, 12, 31)
        if precision == "month" or len(label) == 7:
            y, m = int(label[:4]), int(label[5:7])
            return date(y, m, 1), date(y, m, calendar.monthrange(y, m)[1])
        d = date.fromisoformat(label[:10])
        return d, d
    except ValueError:
        return None


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def timeline_chart(account: Mapping[str, Any], *, width: int = WIDTH,
                   article_href: str = "/articles/{id}") -> TimelineChart:
    """The story's dated events on one row and each outlet's articles on its own row,
    on one time axis. Events the articles mention (a month, a day) are drawn as
    periods; articles as points at their publication time."""
    events: list[tuple[date, date, str]] = []
    for e in account["timeline"]["events"]:
        period = event_period(e["date"], e.get("precision", ""))
        if period is None:
            continue
        m = e["mentions"][0] if e["mentions"] else {}
        events.append((period[0], period[1], f"{e['date']}: {m.get('context') or m.get('text', '')}"))
    by_outlet: dict[str, list[tuple[datetime, str]]] = {}
    undated = 0
    for a in account["timeline"]["articles"]:
        when = _day(a.get("published"))
        if when is None:
            undated += 1
            continue
        by_outlet.setdefault(a.get("outlet") or "unknown outlet", []).append((when, a["article"]))

    points: list[datetime] = [datetime.combine(d, datetime.min.time()) for s, e, _ in events for d in (s, e)]
    points += [w for arts in by_outlet.values() for w, _ in arts]
    chart = TimelineChart(width=width, height=ROW_H, undated=undated)
    if not points:
        return chart
    lo, hi = min(points), max(points)
    if hi - lo < timedelta(days=1):  # one day or less: show that day, centred
        lo, hi = lo - timedelta(hours=12), hi + timedelta(hours=12)
    span = (hi - lo).total_seconds()
    plot_w = width - LABEL_W - 20

    def x_of(t: datetime) -> float:
        return round(LABEL_W + plot_w * (t - lo).total_seconds() / span, 1)

    y = 14.0
    if events:
        marks = []
        for s, e, title in events:
            x0 = x_of(datetime.combine(s, datetime.min.time()))
            x1 = x_of(datetime.combine(e, datetime.max.time().replace(microsecond=0)))
            marks.append(Mark(x0, max(0.0, min(x1, LABEL_W + plot_w) - x0), title, kind="event"))
        chart.rows.append(("events in the text", y, marks))
        y += ROW_H
    for outlet in sorted(by_outlet, key=lambda o: (-len(by_outlet[o]), o)):
        marks = [Mark(x_of(w), 0.0, f"{outlet}, {w:%Y-%m-%d %H:%M}",
                      article_href.format(id=quote(aid, safe="")))
                 for w, aid in sorted(by_outlet[outlet])]
        chart.rows.append((outlet, y, marks))
        y += ROW_H
    chart.axis_y = y
    for i in range(5):
        t = lo + (hi - lo) * i / 4
        fmt = "%Y-%m-%d %H:%M" if span < 3 * 86400 else ("%Y-%m-%d" if span < 400 * 86400 else "%Y-%m")
        chart.ticks.append((x_of(t), t.strftime(fmt)))
    chart.height = int(y + 24)
    return chart


@dataclass(frozen=True)
class Bar:
    label: str
    parts: tuple[tuple[float, float, str], ...]  # (x, width, css class) segments
    text: str  # the figures, written beside the bar
    y: float


@dataclass
class BarChart:
    width: int
    height: int
    bars: list[Bar]


def bar_chart(rows: Sequence[tuple[str, Sequence[tuple[int, str]], str]], *,
              width: int = WIDTH) -> BarChart:
    """Horizontal stacked bars: one per (label, [(value, css class), ...], text)."""
    top = max([sum(v for v, _ in parts) for _, parts, _ in rows] + [1])
    plot_w = width - LABEL_W - 190
    bars = []
    for i, (label, parts, text) in enumerate(rows):
        x = float(LABEL_W)
        segs = []
        for value, css in parts:
            w = round(plot_w * value / top, 1)
            if w > 0:
                segs.append((x, w, css))
            x += w
        bars.append(Bar(label, tuple(segs), text, 6.0 + i * 24))
    return BarChart(width, int(12 + 24 * len(rows)), bars)
