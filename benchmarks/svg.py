"""A log-log line chart as a standalone SVG string: no plotting dependency, deterministic output."""

from __future__ import annotations

import math
from html import escape

COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]


def _ticks(lo: float, hi: float) -> list[float]:
    return [10.0**e for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)]


def _label(v: float, unit: str) -> str:
    if unit == "n":
        return f"{v / 1e6:g}M" if v >= 1e6 else f"{v / 1e3:g}k" if v >= 1e3 else f"{v:g}"
    return f"{v:g} ms" if v >= 1 else f"{v * 1e3:g} µs"


def loglog_chart(
    series: dict[str, list[tuple[float, float]]],
    title: str,
    x_label: str,
    y_label: str,
    dashed: frozenset[str] = frozenset(),
    width: int = 860,
    height: int = 520,
) -> str:
    """series name -> [(x, y), ...] drawn as lines with points on log axes; returns SVG text."""
    pts = [p for s in series.values() for p in s if p[0] > 0 and p[1] > 0]
    x_lo, x_hi = min(p[0] for p in pts), max(p[0] for p in pts)
    y_lo, y_hi = min(p[1] for p in pts), max(p[1] for p in pts)
    xt, yt = _ticks(x_lo, x_hi), _ticks(y_lo, y_hi)
    left, right, top, bottom = 80, 270, 50, 60
    pw, ph = width - left - right, height - top - bottom
    lx0, lx1, ly0, ly1 = math.log10(xt[0]), math.log10(xt[-1]), math.log10(yt[0]), math.log10(yt[-1])

    def px(v: float) -> float:
        return left + (math.log10(v) - lx0) / max(1e-9, lx1 - lx0) * pw

    def py(v: float) -> float:
        return top + ph - (math.log10(v) - ly0) / max(1e-9, ly1 - ly0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="13">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="28" font-size="16" font-weight="bold">{escape(title)}</text>',
    ]
    for v in yt:
        y = py(v)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(_label(v, "ms"))}</text>')
    for v in xt:
        x = px(v)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 20}" text-anchor="middle">{escape(_label(v, "n"))}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 15}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(
        f'<text transform="translate(20 {top + ph / 2}) rotate(-90)" text-anchor="middle">{escape(y_label)}</text>'
    )
    for i, (name, s) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        dash = ' stroke-dasharray="6 4"' if name in dashed else ""
        s = sorted(p for p in s if p[0] > 0 and p[1] > 0)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in s)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"{dash}/>')
        for x, y in s:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{colour}"/>')
        ly = top + 10 + i * 24
        out.append(
            f'<line x1="{left + pw + 15}" y1="{ly}" x2="{left + pw + 45}" y2="{ly}" stroke="{colour}" stroke-width="2.5"{dash}/>'
        )
        out.append(f'<text x="{left + pw + 52}" y="{ly + 4}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
