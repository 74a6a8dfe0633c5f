"""A story's account in the terminal (rich): text where text is best, and small
drawings where people would rather see than read — coverage by outlet as bars,
the timeline as a date axis with the articles' arrival beneath it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .account import cited_articles, claim_line, quote_line, wording_tag

__all__ = ["account", "diff_text", "when"]

_STATUS_STYLE = {"contradicted": "bold red", "corroborated": "green", "single-source": "yellow"}
BAR = 30


def when(value: datetime | str | None) -> str:
    """A date for people: "2011-06-17" when no time of day is known (a date-only
    record parses as midnight, and "00:00" would claim a time), else with the minutes."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if (value.hour, value.minute, value.second) == (0, 0, 0):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M")


def diff_text(diff: Sequence[Sequence[str]]) -> Text:
    """Word differences against the reference, marked as git's word diff does
    ([-dropped-] {+added+}) so they read without colour too, and coloured."""
    t = Text()
    for op, words in diff:
        if t:
            t.append(" ")
        if op == "=":
            t.append(words)
        elif op == "-":
            t.append(f"[-{words}-]", style="red")
        else:
            t.append(f"{{+{words}+}}", style="bold green")
    return t


def account(out: Console, data: Mapping[str, Any], *, limit: int | None = 12) -> None:
    """Print an account (as ``Account.to_json`` gives it)."""
    number = {a["id"]: i + 1 for i, a in enumerate(data["articles"])}

    def refs(items: Sequence[Mapping[str, Any]]) -> str:
        return "".join(f"[{n}]" for n, _ in cited_articles(items, number))

    omitted = data.get("omitted") or {}
    if any(omitted.get(k) for k in ("copies", "other_language", "over_limit")):
        out.print(f"[dim]the account reads {len(data['articles'])} article(s): "
                  f"{len(omitted.get('copies', []))} copy(ies) speak with their original, "
                  f"{len(omitted.get('other_language', []))} not in English (its models read English), "
                  f"{len(omitted.get('over_limit', []))} more left out past the limit[/dim]")
    out.print()
    out.print("[bold]Summary[/bold] [dim](every sentence is copied from the articles cited)[/dim]")
    if not data["summary"]:
        out.print("  [dim]nothing reported by two outlets, and no claim stands out[/dim]")
    for s in data["summary"]:
        out.print(Text("  • ") + Text(s["text"]) + Text(" " + refs(s["citations"]), style="cyan"))

    ents = [e for e in data["entities"] if e["kind"] in ("person", "organisation", "place")]
    if ents:
        out.print()
        table = Table(title="Entities", title_justify="left", title_style="bold", show_edge=False)
        for col in ("name", "kind", "mentions", "also written", "role"):
            table.add_column(col, overflow="fold")
        for e in ents[: limit or len(ents)]:
            others = [a for a in e["aliases"] if a != e["name"]]
            table.add_row(escape(e["name"]), e["kind"], str(e["mentions"]), escape(", ".join(others)),
                          escape(", ".join(e["roles"])))
        out.print(table)

    out.print()
    multi = [q for q in data["quotes"] if q["voices"] >= 2]
    out.print(f"[bold]Quotes[/bold] [dim]{len(data['quotes'])} statement(s), {len(multi)} reported "
              "by more than one outlet; differences against the fullest wording: "
              "[red]\\[-dropped-][/red] [bold green]{+added+}[/bold green][/dim]")
    for q in data["quotes"][: limit or None]:
        out.print(Text("  ") + Text(q["speaker"] or "unknown speaker", style="bold")
                  + Text(f"  ({q['voices']} outlet(s))", style="dim"))
        for w in q["wordings"]:
            head = Text(f"    {w['outlet'] or 'unknown outlet'} [{number.get(w['article'], '?')}]",
                        style="cyan")
            tag = wording_tag(w, len(q["wordings"]))
            direct = w.get("kind", "direct") == "direct"  # marks only around verbatim words
            head.append(f" {tag}: " if tag else ": ", style="dim")
            mark = "\u201c" if direct else ""
            if w["relation"] == "verbatim" or w is q["wordings"][0]:
                head.append(mark + w["text"] + mark.replace("\u201c", "\u201d"))
            else:
                head.append(mark).append_text(diff_text(w["diff"])).append(mark.replace("\u201c", "\u201d"))
            out.print(head)
    _more(out, data["quotes"], limit, "quotes")

    out.print()
    out.print("[bold]Claims[/bold] [dim](outlets count once per publisher; copies count once)[/dim]")
    for status in ("contradicted", "corroborated", "single-source"):
        group = [c for c in data["claims"] if c["status"] == status]
        if not group:
            continue
        out.print(f"  [{_STATUS_STYLE[status]}]{status}[/{_STATUS_STYLE[status]}] ({len(group)})")
        for c in group[: limit or None]:
            line = Text("    • ") + Text(c["claim"], style="bold" if c["kind"] == "figure" else "")
            if c["kind"] == "figure" and c["supports"]:
                line.append(" — " + _short(c["supports"][0]["text"], 110), style="dim")
            if c["kind"] == "figure" and status == "contradicted":
                line.append("  " + "; ".join(f"{k}: {_num(v)}" for k, v in c["values"].items()),
                            style="red")
            backing = [x for x in c["supports"] if x.get("confirms", True)]
            line.append(f"  {refs(backing)} {', '.join(c['outlets'])}", style="cyan")
            vaguer = [x for x in c["supports"] if not x.get("confirms", True)]
            if vaguer:
                line.append(f"  (consistent but vaguer: {refs(vaguer)} "
                            + "; ".join(sorted({x['expression'] or '' for x in vaguer})) + ")", style="dim")
            out.print(line)
        _more(out, group, limit, f"{status} claims", indent="    ")

    _coverage(out, data)
    _timeline(out, data, number)


def _num(v: Any) -> str:
    return f"{v:,.10g}" if isinstance(v, int | float) else "?"


def _more(out: Console, items: Sequence[Any], limit: int | None, what: str, indent: str = "  ") -> None:
    if limit is not None and len(items) > limit:
        out.print(f"{indent}[dim]… {len(items) - limit} more {what} (--all, or export)[/dim]")


def _coverage(out: Console, data: Mapping[str, Any]) -> None:
    """Per outlet: claims and quotes it shares with others, and those only it reports."""
    outlets = list(data["coverage"])
    if not outlets:
        return
    out.print()
    out.print("[bold]Coverage by outlet[/bold] [dim]([green]█[/green] shared with another outlet, "
              "[yellow]█[/yellow] only this outlet)[/dim]")
    shared: Counter[str] = Counter()
    for c in data["claims"]:
        if c["voices"] >= 2:
            for o in c["outlets"]:
                shared[o] += 1
    for q in data["quotes"]:
        if q["voices"] >= 2:
            for o in q["outlets"]:
                shared[o] += 1
    only = {o: len(v["claims"]) + len(v["quotes"]) for o, v in data["coverage"].items()}
    top = max([shared[o] + only[o] for o in outlets] + [1])
    width = max(len(o) for o in outlets)
    claim_text = {c["id"]: claim_line(c) for c in data["claims"]}
    quote_text = {q["id"]: quote_line(q) for q in data["quotes"]}
    for o in outlets:
        a = round(BAR * shared[o] / top)
        b = round(BAR * only[o] / top)
        line = Text(f"  {o:<{width}} ")
        line.append("█" * a, style="green").append("█" * b, style="yellow")
        line.append(f" {shared[o]} shared, {only[o]} only here", style="dim")
        out.print(line)
    for o in outlets:
        items = [claim_text[c] for c in data["coverage"][o]["claims"] if c in claim_text]
        items += [quote_text[q] for q in data["coverage"][o]["quotes"] if q in quote_text]
        if items:
            out.print(f"  [bold]only {escape(o)}[/bold] reports:")
            for it in items[:6]:
                out.print(Text("    – ") + Text(_short(it, 150)))
            if len(items) > 6:
                out.print(f"    [dim]… {len(items) - 6} more (export story)[/dim]")


def _short(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _timeline(out: Console, data: Mapping[str, Any], number: Mapping[str, int]) -> None:
    """The dated events on one axis, and below it the articles' publication days."""
    events = data["timeline"]["events"]
    arts = [a for a in data["timeline"]["articles"] if a["published"]]
    out.print()
    out.print("[bold]Timeline[/bold]")
    if not events and not arts:
        out.print("  [dim]no dates found[/dim]")
        return
    ahead_shown = False
    for e in events:
        m = e["mentions"][0]
        if e.get("ahead") and not ahead_shown:
            # what the articles expect, plan or project, not what happened
            out.print(Text("  after the newest article (◇: scheduled, expected or projected):",
                           style="dim"))
            ahead_shown = True
        mark = "◇" if e.get("ahead") else "◆"
        out.print(Text(f"  {e['date']:>10} {mark} ", style="magenta")
                  + Text(_short(m.get("context") or m["text"], 120))
                  + Text(f" [{number.get(m['article'], '?')}]"
                                                + (f" +{len(e['mentions']) - 1}" if len(e["mentions"]) > 1
                                                   else ""), style="cyan"))
    if arts:
        days = Counter(datetime.fromisoformat(a["published"]).date() for a in arts)
        first, last = min(days), max(days)
        out.print(Text(f"  articles published {first} → {last}:", style="dim"))
        top = max(days.values())
        for d in sorted(days):
            out.print(Text(f"  {d.isoformat():>10} ") + Text("▇" * max(1, round(20 * days[d] / top)),
                                                            style="blue")
                      + Text(f" {days[d]}", style="dim"))
