"""Draw batch runs' progress traces: speed and memory as the store grows.

    python bench/plot_batch.py bench/out/bench_batch_n100000_ray2_trace.jsonl [more traces...] \
        --out docs/img/batch_scale.svg

Each trace is what ``bench/bench_batch.py`` appends every 30 s of a run (articles
stored, summed RSS of the run's process tree). The left panel is the speed over
each stretch of about five minutes against the articles stored, with the issue's
target; the right panel the memory, with the 4 GB target. A label per trace is
taken from its file name (``..._<executor><workers>_trace.jsonl``) unless given as
``PATH=LABEL``. Prints the points it drew, so the figures can be checked, and, for a
trace with PSS, the straight line through its PSS from ``FIT_FROM`` articles on (least
squares): MB per 1,000 articles and where the line reaches at 1,000,000 (an
extrapolation, not a measurement).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

WINDOW_S = 300.0  # speed is averaged over stretches this long: 30 s points are noisy
FIT_FROM = 20_000  # the memory line starts here: before it the process is still filling up


def pss_line(points: list[dict], key: str = "pss_mb") -> tuple[float, float] | None:
    """(MB per 1,000 articles, MB at 1,000,000) of the least-squares line through the
    trace's PSS (``key``: the tree's, or the driver's) from ``FIT_FROM`` articles on;
    None without enough points."""
    xy = [(p["stored"], p[key]) for p in points if p.get(key) and p["stored"] >= FIT_FROM]
    if len(xy) < 3 or len({x for x, _ in xy}) < 2:
        return None
    import numpy as np

    slope, icept = np.polyfit([x for x, _ in xy], [y for _, y in xy], 1)
    return float(slope) * 1000, float(icept + slope * 1_000_000)


def load(path: Path) -> list[dict]:
    points = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [p for p in points if p.get("stored") is not None]


def speeds(points: list[dict]) -> list[tuple[int, float]]:
    """(articles stored at the end of a stretch, articles per second over the stretch)."""
    out: list[tuple[int, float]] = []
    start = {"t": 0.0, "stored": 0}
    for p in points:
        if p["t"] - start["t"] >= WINDOW_S:
            out.append((p["stored"], (p["stored"] - start["stored"]) / (p["t"] - start["t"])))
            start = p
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("traces", nargs="+", help="trace files, optionally PATH=LABEL")
    ap.add_argument("--out", type=Path, default=Path("docs/img/batch_scale.svg"))
    ap.add_argument("--title", default="newsdesk batch: speed and memory as the store grows")
    ap.add_argument("--memory", choices=("rss", "pss"), default="rss",
                    help="right panel: the peak summed RSS of each 30 s (default), or the PSS sampled then")
    a = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    top_gb = 4.5
    for spec in a.traces:
        path_s, _, label = spec.partition("=")
        path = Path(path_s)
        if not label:
            m = re.search(r"_n(\d+)_(\w+?)(\d+)_trace", path.name)
            label = f"{m.group(2)}, {m.group(3)} worker(s), {int(m.group(1)):,} articles" if m else path.stem
        points = load(path)
        if not points:
            raise SystemExit(f"{path}: no progress points")
        sp = speeds(points)
        print(f"{label}: {len(points)} points, {points[-1]['stored']:,} stored after "
              f"{points[-1]['t'] / 60:.1f} min")
        for stored, rate in sp:
            print(f"  {stored:>9,} stored: {rate:6.1f} articles/s")
        left.plot([s for s, _ in sp], [r for _, r in sp], marker="o", ms=3, label=label)
        key = "peak_mb" if a.memory == "rss" else "pss_mb"
        mem = [p for p in points if p.get(key)]
        right.plot([p["stored"] for p in mem], [p[key] / 1024 for p in mem], label=label)
        peak_gb = max((p[key] for p in mem), default=0) / 1024
        top_gb = max(top_gb, 1.1 * peak_gb)
        print(f"  peak {'summed RSS' if a.memory == 'rss' else 'PSS'} {peak_gb:.2f} GB")
        for key, what in (("pss_mb", "PSS"), ("driver_pss_mb", "the driver's PSS")):
            line = pss_line(points, key)
            if line is not None:
                print(f"  {what} from {FIT_FROM:,} articles on: {line[0]:.2f} MB per 1,000 articles; "
                      f"the line reaches {line[1] / 1024:.2f} GB at 1,000,000 (extrapolated)")
    left.axhline(150, color="grey", ls="--", lw=1)
    left.annotate("target 150/s", (0, 150), xytext=(4, -12), textcoords="offset points", color="grey")
    left.set_ylim(0, 160)
    left.set_xlabel("articles stored")
    left.set_ylabel(f"articles per second (over {WINDOW_S / 60:.0f} min)")
    right.axhline(4, color="grey", ls="--", lw=1)
    right.annotate("target 4 GB", (0, 4), xytext=(4, -12), textcoords="offset points", color="grey")
    right.set_ylim(0, top_gb)
    right.set_xlabel("articles stored")
    right.set_ylabel(f"{'summed RSS' if a.memory == 'rss' else 'PSS'} of the run's processes (GB)")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:,.0f}"))
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(5))  # "100,000" labels need room
    fig.suptitle(a.title)
    fig.tight_layout()
    a.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(a.out)
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
