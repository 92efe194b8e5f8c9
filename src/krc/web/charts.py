"""Server-side SVG charts for the dashboards: pure functions from numbers to markup.

No JavaScript and no external assets, so the charts work offline and print well. Every text
that reaches the SVG is escaped here; callers pass already-translated labels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

# A palette readable by colour-blind users (Okabe–Ito) and in grey print.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
TARGET_COLOUR = "#555555"


@dataclass(frozen=True)
class Series:
    """One line of a line chart: a label, one value per x position (None = no point)."""

    label: str
    values: Sequence[float | None]
    colour: str = PALETTE[0]
    dashed: bool = False


@dataclass(frozen=True)
class QuadrantPoint:
    """One unit on the RED/REC quadrant: PENTA1 coverage (%) and PENTA1→3 dropout (%)."""

    label: str
    coverage: float | None
    dropout: float | None
    category: int | None = None


@dataclass(frozen=True)
class QuadrantLabels:
    """Translated texts of the RED/REC quadrant."""

    x_axis: str = "Abandon PENTA1→PENTA3 (%)"
    y_axis: str = "Couverture PENTA1 (%)"
    categories: tuple[str, str, str, str] = (
        "Cat. 1 : bon accès, bonne utilisation",
        "Cat. 2 : bon accès, faible utilisation",
        "Cat. 3 : faible accès, bonne utilisation",
        "Cat. 4 : faible accès, faible utilisation",
    )
    title: str = "Catégories RED/REC"
    unclassified: str = "Non classés"


def _num(x: float) -> str:
    """Return a compact coordinate (at most one decimal, no trailing zeros)."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_ceiling(value: float, step: float = 20.0, minimum: float = 100.0) -> float:
    """Return the axis maximum: `minimum`, or `value` rounded up to a multiple of `step`."""
    if not math.isfinite(value) or value <= minimum:
        return minimum
    return math.ceil(value / step) * step


def scale(value: float, lo: float, hi: float, out_lo: float, out_hi: float) -> float:
    """Return `value` mapped linearly from [lo, hi] to [out_lo, out_hi] (clamped)."""
    if hi == lo:
        return out_lo
    v = min(max(value, lo), hi)
    return out_lo + (v - lo) / (hi - lo) * (out_hi - out_lo)


def segments(values: Sequence[float | None]) -> list[list[tuple[int, float]]]:
    """Return the runs of consecutive known values as (index, value) lists; None breaks a run."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, float(v)))
    if current:
        runs.append(current)
    return runs


def line_chart(series: Sequence[Series], x_labels: Sequence[str], *, title: str,
               y_label: str = "%", width: int = 640, height: int = 300,
               y_max: float | None = None, percent: bool = True) -> str:
    """Return an inline SVG line chart (e.g. cumulative coverage vs target, by month)."""
    left, right, top, bottom = 48, 150, 28, 36
    pw, ph = width - left - right, height - top - bottom
    n = max(len(x_labels), max((len(s.values) for s in series), default=0), 1)
    known = [v for s in series for v in s.values if v is not None and math.isfinite(v)]
    top_value = y_max if y_max is not None else nice_ceiling(max(known, default=0.0))

    def x_at(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y_at(v: float) -> float:
        return scale(v, 0.0, top_value, top + ph, top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart line-chart" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-label="{escape(title)}">',
           f"<title>{escape(title)}</title>",
           f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" '
           f'stroke="#ccc"/>']
    ticks = 5
    for k in range(ticks + 1):
        v = top_value * k / ticks
        y = y_at(v)
        out.append(f'<line class="grid" x1="{left}" y1="{_num(y)}" x2="{left + pw}" '
                   f'y2="{_num(y)}" stroke="#eee"/>')
        tick = f"{_num(v)}{' %' if percent else ''}"
        out.append(f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" '
                   f'font-size="11">{escape(tick)}</text>')
    for i, lab in enumerate(x_labels):
        out.append(f'<text x="{_num(x_at(i))}" y="{top + ph + 16}" text-anchor="middle" '
                   f'font-size="11">{escape(lab)}</text>')
    out.append(f'<text x="12" y="{top - 10}" font-size="11">{escape(y_label)}</text>')
    for s in series:
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        for run in segments(s.values):
            if len(run) == 1:
                i, v = run[0]
                out.append(f'<circle cx="{_num(x_at(i))}" cy="{_num(y_at(v))}" r="3" '
                           f'fill="{escape(s.colour)}" data-series="{escape(s.label)}"/>')
                continue
            pts = " ".join(f"{_num(x_at(i))},{_num(y_at(v))}" for i, v in run)
            out.append(f'<polyline fill="none" stroke="{escape(s.colour)}" stroke-width="2.5"'
                       f'{dash} points="{pts}" data-series="{escape(s.label)}"/>')
    for k, s in enumerate(series):  # legend
        y = top + 8 + 20 * k
        x = left + pw + 14
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 22}" y2="{y}" '
                   f'stroke="{escape(s.colour)}" stroke-width="2.5"{dash}/>')
        out.append(f'<text x="{x + 28}" y="{y + 4}" font-size="12">{escape(s.label)}</text>')
    out.append("</svg>")
    return "".join(out)


def quadrant_chart(points: Sequence[QuadrantPoint], labels: QuadrantLabels = QuadrantLabels(),
                   *, access_threshold: float = 80.0, dropout_threshold: float = 10.0,
                   width: int = 520, height: int = 380) -> str:
    """Return an inline SVG RED/REC quadrant: dropout on x, PENTA1 coverage on y.

    The quadrants follow the RED/REC categories (reference/immunization.md §2): top-left 1
    (good access, good utilisation), top-right 2, bottom-left 3, bottom-right 4. Values past
    the axes are drawn on the edge; units with an unknown value are listed, not drawn.
    """
    left, right, top, bottom = 52, 16, 30, 44
    pw, ph = width - left - right, height - top - bottom
    placed = [p for p in points if p.coverage is not None and p.dropout is not None]
    cov_max = nice_ceiling(max((p.coverage or 0.0 for p in placed), default=0.0), 20, 120)
    d_lo = min(-10.0, math.floor(min((p.dropout or 0.0 for p in placed), default=0.0) / 10) * 10)
    d_hi = max(40.0, math.ceil(max((p.dropout or 0.0 for p in placed), default=0.0) / 10) * 10)
    d_lo, d_hi = max(d_lo, -50.0), min(d_hi, 100.0)

    def x_at(d: float) -> float:
        return scale(d, d_lo, d_hi, left, left + pw)

    def y_at(c: float) -> float:
        return scale(c, 0.0, cov_max, top + ph, top)

    tx, ty = x_at(dropout_threshold), y_at(access_threshold)
    fills = ("#e3f2e1", "#fff4d6", "#fff4d6", "#fbe0dc")
    boxes = ((left, top, tx - left, ty - top), (tx, top, left + pw - tx, ty - top),
             (left, ty, tx - left, top + ph - ty), (tx, ty, left + pw - tx, top + ph - ty))
    title = escape(labels.title)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart quadrant" role="img" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
           f'aria-label="{title}">', f"<title>{title}</title>"]
    for k, ((x, y, w, h), fill) in enumerate(zip(boxes, fills, strict=True)):
        out.append(f'<rect class="cat{k + 1}" x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" '
                   f'height="{_num(h)}" fill="{fill}"><title>{escape(labels.categories[k])}'
                   f"</title></rect>")
        out.append(f'<text x="{_num(x + 4)}" y="{_num(y + 14)}" font-size="11" '
                   f'fill="#444">{k + 1}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" '
               f'stroke="#999"/>')
    out.append(f'<line x1="{_num(tx)}" y1="{top}" x2="{_num(tx)}" y2="{top + ph}" '
               f'stroke="#777" stroke-dasharray="4 3"/>')
    out.append(f'<line x1="{left}" y1="{_num(ty)}" x2="{left + pw}" y2="{_num(ty)}" '
               f'stroke="#777" stroke-dasharray="4 3"/>')
    for v in (0.0, access_threshold, cov_max):
        out.append(f'<text x="{left - 6}" y="{_num(y_at(v) + 4)}" text-anchor="end" '
                   f'font-size="11">{_num(v)}</text>')
    for v in (d_lo, 0.0, dropout_threshold, d_hi):
        out.append(f'<text x="{_num(x_at(v))}" y="{top + ph + 14}" text-anchor="middle" '
                   f'font-size="11">{_num(v)}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{height - 8}" text-anchor="middle" '
               f'font-size="12">{escape(labels.x_axis)}</text>')
    out.append(f'<text x="{left}" y="{top - 12}" font-size="12">{escape(labels.y_axis)}</text>')
    for p in placed:
        assert p.coverage is not None and p.dropout is not None
        cx, cy = x_at(p.dropout), y_at(p.coverage)
        name = escape(p.label)
        anchor = "end" if cx > left + pw * 0.7 else "start"
        dx = -6 if anchor == "end" else 6
        out.append(f'<g class="point" data-category="{p.category or ""}">'
                   f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="5" fill="#0072B2" '
                   f'stroke="#fff"><title>{name}: {_num(p.coverage)} % / '
                   f'{_num(p.dropout)} %</title></circle>'
                   f'<text x="{_num(cx + dx)}" y="{_num(cy - 6)}" text-anchor="{anchor}" '
                   f'font-size="11">{name}</text></g>')
    out.append("</svg>")
    return "".join(out)


def bar(value: float | None, maximum: float = 100.0, width: int = 80, height: int = 10,
        threshold: float | None = None) -> str:
    """Return a tiny inline SVG bar for a table cell (value clamped to `maximum`)."""
    w = 0.0 if value is None else scale(value, 0.0, maximum, 0.0, float(width))
    colour = "#009E73" if threshold is None or (value or 0) >= threshold else "#D55E00"
    mark = ""
    if threshold is not None:
        t = scale(threshold, 0.0, maximum, 0.0, float(width))
        mark = f'<line x1="{_num(t)}" y1="0" x2="{_num(t)}" y2="{height}" stroke="#333"/>'
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="bar" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" aria-hidden="true">'
            f'<rect width="{width}" height="{height}" fill="#eee"/>'
            f'<rect width="{_num(w)}" height="{height}" fill="{colour}"/>{mark}</svg>')
