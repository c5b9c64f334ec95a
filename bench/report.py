"""The tables and the chart of one ``bench/run.py`` run, from its ``results.json`` dict.

``results.md`` marks its parts with mdBook anchors (``machine``, ``decision``, ``in_process``,
``io``, ``servers``, ``bridges``, ``sides``, ``counter_cost``) so that the Performance chapter
includes each one where it discusses it, and every number on that page comes from one run.
"""

from __future__ import annotations

import math
from typing import Any

TIMES, TO = "\u00d7", "\u2013"  # a multiplication sign; an en dash between two figures


def fmt_seconds(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def fmt_rate(per_second: float) -> str:
    if per_second >= 100:
        return f"{per_second:,.0f}".replace(",", "\u00a0")
    return f"{per_second:.3g}"


def fmt_ratio(ratio: float) -> str:
    """Two decimals, or two significant digits below 0.1 (``0.0041``, not ``0.00``)."""
    return f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.2g}"


def verdict(ratio: float) -> str:
    """``0.02`` reads "50 times faster" (with a multiplication sign), ``4.0`` "4.0 times
    slower"; within 10 %, "about even"."""
    if 1 / 1.1 <= ratio <= 1.1:
        return "about even"
    times = 1 / ratio if ratio < 1 else ratio
    shown = f"{times:.0f}" if times >= 10 else f"{times:.1f}"
    return f"{shown}{TIMES} {'faster' if ratio < 1 else 'slower'}"


def fmt_spread(figures: dict[str, Any]) -> str:
    """A median of seconds and the range of its rounds, ``4.1 ms (3.9 ms to 4.4 ms)`` with
    an en dash for "to"."""
    low, high = figures["range"]
    return f"{fmt_seconds(figures['median'])} ({fmt_seconds(low)}{TO}{fmt_seconds(high)})"


def table(caption: str, headers: list[str], numeric: int) -> list[str]:
    """A caption, then a table head whose last ``numeric`` columns align right."""
    align = ["---"] * (len(headers) - numeric) + ["---:"] * numeric
    return [caption, "", f"| {' | '.join(headers)} |", f"| {' | '.join(align)} |"]


def anchored(name: str, lines: list[str]) -> list[str]:
    return [f"<!-- ANCHOR: {name} -->", *lines, f"<!-- ANCHOR_END: {name} -->", ""]


def decision_rows(results: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """Each kind of endpoint work with its ratios per column (pure Python on asyncio = 1)."""
    rows = [(row["title"], row["ratios"]) for row in results["rows"]]
    by_key = {(s["server"], s["endpoint"]): s for s in results["servers"]}
    for (server, endpoint), entry in by_key.items():
        if server != "uvicorn":
            continue
        ratios = dict(entry["ratios"])
        on_uvloop = by_key.get(("uvicorn-uvloop", endpoint))
        if on_uvloop is not None:  # the twin on uvloop, over the twin on asyncio
            twin = entry["apps"]["twin"]["requests_per_s"]
            ratios["uvloop"] = twin / on_uvloop["apps"]["twin"]["requests_per_s"]
        rows.append((f"served by uvicorn, {entry['title']}", ratios))
    return rows


def markdown(results: dict[str, Any]) -> str:
    m, settings = results["machine"], results["settings"]
    columns: dict[str, str] = settings["columns"]
    others = [c for c in columns if c != "asyncio"]
    rust = [c for c in others if c != "uvloop"]
    quick = " — QUICK run, tiny sizes: do not quote" if settings["quick"] else ""
    machine_line = [
        f"Machine: {m['cpu_count']}-core {m['machine']} Linux ({m['cpu_model']}), "
        f"{m['python']}, pyo3 {m['pyo3']}, pyo3-async-runtimes {m['pyo3_async_runtimes']}, "
        f"tokio {m['tokio']}, "
        + ", ".join(f"{p} {v}" for p, v in m["packages"].items())
        + f", release builds; {m['date']}; load average {m['load_average_at_start']} at the "
        f"start, {m['load_average_at_end']} at the end; the whole run took "
        f"{m['wall_time_s'] / 60:.0f} min{quick}.",
    ]
    lines = anchored("machine", machine_line)
    decision = table(
        "Time for the same work, over pure Python on asyncio's loop (below 1: faster).",
        ["Endpoint work", *(columns[c] for c in others)],
        len(others),
    )
    for title, ratios in decision_rows(results):
        cells = [
            f"{fmt_ratio(ratios[c])} ({verdict(ratios[c])})" if c in ratios else "" for c in others
        ]
        decision.append(f"| {title} | {' | '.join(cells)} |")
    lines += anchored("decision", decision)

    in_process = table(
        f"Medians over {settings['rounds']} rounds, each a fresh process, the columns' order "
        "alternating; in brackets the range of the rounds.",
        ["Work", "Measured", *columns.values()],
        len(columns),
    )
    io = table(
        f"Throughput, median over {settings['rounds']} rounds (range), and the median p99 of "
        "one operation's latency.",
        ["Work", *columns.values()],
        len(columns),
    )
    for row in results["rows"]:
        figures = row["columns"]
        if row["io"]:
            cells = [
                f"{fmt_rate(f['median'])}/s "
                f"({fmt_rate(f['range'][0])}{TO}{fmt_rate(f['range'][1])}), "
                f"p99 {fmt_seconds(f['p99']['median'])}"
                for f in (figures[c] for c in columns)
            ]
            io.append(f"| {row['title']} | {' | '.join(cells)} |")
        else:
            cells = [fmt_spread(figures[c]) for c in columns]
            in_process.append(f"| {row['title']} | {row['measured']} | {' | '.join(cells)} |")
    lines += anchored("in_process", in_process)
    if any(row["io"] for row in results["rows"]):
        lines += anchored("io", io)

    if results["servers"]:
        first = results["servers"][0]
        apps = ["twin", *rust]
        served = table(
            f"One worker process each, `wrk -t2 -c{settings['connections']}` on the same cores, "
            f"{settings['rounds']} rounds alternating between the apps; requests per second "
            "(range of the rounds), p99, and in brackets time per request over the twin's.",
            ["Server", "Endpoint", *(first["apps"][a]["label"] for a in apps)],
            len(apps),
        )
        for entry in results["servers"]:
            cells = []
            for app in apps:
                a = entry["apps"][app]
                low, high = a["rps_range"]
                cell = (
                    f"{fmt_rate(a['requests_per_s'])} ({fmt_rate(low)}{TO}{fmt_rate(high)}), "
                    f"p99 {fmt_seconds(a['p99_ms'] / 1000)}"
                )
                if app != "twin":
                    cell += f" ({fmt_ratio(entry['ratios'][app])})"
                cells.append(cell)
            served.append(f"| {entry['server_label']} | `{entry['title']}` | {' | '.join(cells)} |")
        lines += anchored("servers", served)

    bridges = results.get("bridges")
    if bridges:
        library, own = bridges["columns"]
        cells = [fmt_spread(f) for f in bridges["columns"].values()]
        lines += anchored(
            "bridges",
            [
                f"| Work | `{bridges['labels'][library]}` | `{bridges['labels'][own]}` "
                f"| step {bridges['stage']}'s bridge / pyo3-async-runtimes |",
                "| --- | ---: | ---: | ---: |",
                f"| {bridges['title']} | {' | '.join(cells)} | {fmt_ratio(bridges['ratio'])} |",
            ],
        )

    sides = table("", ["Work", "Pure Python", "Rust"], 0)[2:]
    for row in results["rows"]:
        labels = row["labels"]
        sides.append(f"| {row['title']} | `{labels['python']}` | `{labels['rust']}` |")
    sides += ["", *(f"- {row['title']}: {row['note']}." for row in results["rows"] if row["note"])]
    lines += anchored("sides", sides)

    if results["rust_only"]:
        cost = results["rust_only"]["counter_cost"]
        # `Mutex<u64>` would read as an HTML tag in Markdown.
        table_md = cost["table_md"].replace("<", "&lt;").replace(">", "&gt;")
        lines += anchored(
            "counter_cost", [f"Rust only, `{cost['command']}`: {cost['heading']}", "", table_md]
        )
    return "\n".join(lines).rstrip() + "\n"


COLOURS = ["#9e9e9e", "#1565c0", "#ef6c00", "#2e7d32"]


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def chart(results: dict[str, Any]) -> str:
    """The decision table as bars: each column's ratio per row, on a log scale, 1.0 marked."""
    columns: dict[str, str] = results["settings"]["columns"]
    others = [c for c in columns if c != "asyncio"]
    rows = decision_rows(results)
    ratios = [r[c] for _, r in rows for c in others if c in r]
    low = 10 ** math.floor(math.log10(min(ratios) / 1.2))
    high = 10 ** math.ceil(math.log10(max(ratios) * 1.2))
    bar_h, gap, label_w, plot_w, top = 12, 10, 400, 440, 70
    row_h = bar_h * len(others) + gap
    width, height = label_w + plot_w + 60, top + row_h * len(rows) + 40
    span = math.log10(high) - math.log10(low)

    def x(ratio: float) -> float:
        return label_w + plot_w * (math.log10(ratio) - math.log10(low)) / span

    m = results["machine"]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="max-width: 100%; height: auto" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">'
        "Time over pure Python on asyncio (log scale; left of 1.0: faster)</text>",
        f'<text x="{width / 2}" y="34" text-anchor="middle" fill="#555">'
        f"{esc(m['python'])}, {m['cpu_count']}-core {esc(m['machine'])}, release builds, "
        f"{esc(m['date'][:10])}{' (QUICK run)' if results['settings']['quick'] else ''}</text>",
    ]
    for index, column in enumerate(others):
        lx = label_w - 300 + index * 230
        out.append(f'<rect x="{lx}" y="46" width="12" height="12" fill="{COLOURS[index]}"/>')
        out.append(f'<text x="{lx + 16}" y="56">{esc(columns[column])}</text>')
    bottom = top + row_h * len(rows)
    decade = low
    while decade <= high * 1.0001:
        for step in (1, 2, 5):
            tick = decade * step
            if tick > high * 1.0001:
                break
            major = step == 1
            out.append(
                f'<line x1="{x(tick):.1f}" y1="{top - 4}" x2="{x(tick):.1f}" y2="{bottom}" '
                f'stroke="{"#bbb" if major else "#e4e4e4"}"/>'
            )
            if major or plot_w / span >= 150:  # minor labels only where they fit
                out.append(
                    f'<text x="{x(tick):.1f}" y="{bottom + 16}" text-anchor="middle" '
                    f'fill="{"#333" if major else "#888"}">{tick:g}</text>'
                )
        decade *= 10
    for row_index, (title, row_ratios) in enumerate(rows):
        y = top + row_index * row_h
        out.append(
            f'<text x="{label_w - 8}" y="{y + row_h / 2}" text-anchor="end">{esc(title)}</text>'
        )
        for index, column in enumerate(others):
            if column not in row_ratios:
                continue
            ratio = row_ratios[column]
            start, end = sorted((x(1.0), x(ratio)))
            bar_y = y + index * bar_h
            out.append(
                f'<rect x="{start:.1f}" y="{bar_y}" width="{max(end - start, 1):.1f}" '
                f'height="{bar_h - 2}" fill="{COLOURS[index]}"/>'
            )
            anchor, text_x = ("end", start - 3) if ratio < 1 else ("start", end + 3)
            out.append(
                f'<text x="{text_x:.1f}" y="{bar_y + bar_h - 3}" text-anchor="{anchor}" '
                f'font-size="10">{ratio:.2g}</text>'
            )
    out.append(
        f'<line x1="{x(1.0):.1f}" y1="{top - 8}" x2="{x(1.0):.1f}" y2="{bottom + 4}" '
        'stroke="black" stroke-width="2"/>'
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"
