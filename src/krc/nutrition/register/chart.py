"""The growth chart of a child's card: the child's measurements against the WHO −3…+3 SD
curves, as server-side SVG (offline, light, prints well).

Curves come from the shipped WHO tables (krc.nutrition.tables) with
SD(k) = M·(1 + L·S·k)^(1/L) (reference/nutrition.md §1, "Restricted tails"). Drawing is a
pure function of numbers; every text reaching the SVG is escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np

from krc.nutrition import tables

DAYS_PER_MONTH = 30.4375
SD_LINES = (-3, -2, 0, 2, 3)
SD_COLOURS = {-3: "#b2182b", -2: "#e08214", 0: "#1a9850", 2: "#e08214", 3: "#b2182b"}
KINDS = {  # kind → (table, x is age?, unit of y)
    "wfa": ("weianthro", True, "kg"),
    "lhfa": ("lenanthro", True, "cm"),
    "wfl": ("wflanthro", False, "kg"),  # below 731 days (reference §1)
    "wfh": ("wfhanthro", False, "kg"),  # from 731 days
}


@dataclass(frozen=True)
class Point:
    """One measurement: x (age in days, or length in cm for wfl), y, flagged by WHO."""

    x: float
    y: float
    flagged: bool = False


@dataclass(frozen=True)
class ChartLabels:
    """Already-translated texts of one chart."""

    title: str
    x_axis: str
    y_axis: str
    flagged: str = "flagged"


def sd_value(l: np.ndarray, m: np.ndarray, s: np.ndarray, k: float  # noqa: E741
             ) -> np.ndarray:
    """Return the measurement at k SD of the LMS curves: M·(1 + L·S·k)^(1/L)."""
    return np.asarray(m * np.power(1 + l * s * k, 1 / l))


def curves(kind: str, sex: int, x_min: float, x_max: float, steps: int = 60
           ) -> dict[int, list[tuple[float, float]]]:
    """Return the −3…+3 SD curves of a WHO table between two x values (age in days or
    length in cm), sampled on at most `steps` + 1 points: {k: [(x, y), ...]}."""
    table = tables.load(KINDS[kind][0])
    scale = 1 if KINDS[kind][1] else 10  # wfl keys are tenths of a cm
    lo = max(table.first, math.floor(x_min * scale))
    hi = min(table.last, math.ceil(x_max * scale))
    if hi <= lo:
        return {k: [] for k in SD_LINES}
    keys = np.unique(np.linspace(lo, hi, steps + 1).round().astype(int))
    idx = keys - table.first
    row = sex - 1
    l, m, s = table.l[row, idx], table.m[row, idx], table.s[row, idx]  # noqa: E741
    out: dict[int, list[tuple[float, float]]] = {}
    for k in SD_LINES:
        ys = sd_value(l, m, s, k)
        out[k] = [(float(x) / scale, float(y)) for x, y in zip(keys, ys, strict=True)
                  if math.isfinite(y)]
    return out


def _nice_step(span: float, target: int = 6) -> float:
    raw = span / max(target, 1)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for mult in (1, 2, 5, 10):
        if raw <= mult * mag:
            return float(mult * mag)
    return float(10 * mag)


def growth_chart(kind: str, sex: int, points: Sequence[Point], labels: ChartLabels,
                 width: int = 640, height: int = 340) -> str:
    """Return the SVG of one growth chart (wfa, lhfa, wfl or wfh) for a child of `sex` (1 male,
    2 female): the WHO −3, −2, 0, +2, +3 SD curves and the child's points joined in order;
    flagged points are drawn hollow. Age-based charts show months on the x axis."""
    is_age = KINDS[kind][1]
    if is_age:
        last = max([p.x for p in points] + [365.0])
        x_min, x_max = 0.0, min(1856.0, (math.ceil(last / DAYS_PER_MONTH / 3) * 3 + 3)
                                * DAYS_PER_MONTH)
    else:
        table = tables.load(KINDS[kind][0])
        first, last = table.first / 10, table.last / 10  # 45–110 cm (wfl), 65–120 (wfh)
        xs = [p.x for p in points] or [first + 15]
        x_min = max(first, math.floor(min(xs) / 5) * 5 - 5)
        x_max = min(last, math.ceil(max(xs) / 5) * 5 + 5)
        if x_max <= x_min:
            x_min, x_max = first, last
    sd = curves(kind, sex, x_min, x_max)
    ys = [y for line in sd.values() for _, y in line] + [p.y for p in points]
    y_min = math.floor(min(ys)) if ys else 0.0
    y_max = math.ceil(max(ys)) if ys else 1.0
    left, right, top, bottom = 48, 44, 30, 40
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x_min) / (x_max - x_min) * pw

    def sy(y: float) -> float:
        return top + ph - (y - y_min) / ((y_max - y_min) or 1) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'class="growth-chart" role="img" aria-label="{escape(labels.title)}" '
           f'data-kind="{kind}">',
           f'<title>{escape(labels.title)}</title>',
           f'<text x="{left}" y="18" class="chart-title" font-size="14" '
           f'font-weight="bold">{escape(labels.title)}</text>']
    # Grid and axes.
    ystep = _nice_step(y_max - y_min)
    y = math.ceil(y_min / ystep) * ystep
    while y <= y_max + 1e-9:
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" '
                   f'stroke="#e5e5e5"/><text x="{left - 6}" y="{sy(y) + 4:.1f}" '
                   f'font-size="11" text-anchor="end">{y:g}</text>')
        y += ystep
    if is_age:
        months_max = x_max / DAYS_PER_MONTH
        mstep = 3 if months_max <= 30 else 6
        mo = 0
        while mo <= months_max + 1e-9:
            x = sx(mo * DAYS_PER_MONTH)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" '
                       f'stroke="#f0f0f0"/><text x="{x:.1f}" y="{top + ph + 15}" '
                       f'font-size="11" text-anchor="middle">{mo}</text>')
            mo += mstep
    else:
        cm = math.ceil(x_min / 5) * 5
        while cm <= x_max + 1e-9:
            x = sx(cm)
            out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" '
                       f'stroke="#f0f0f0"/><text x="{x:.1f}" y="{top + ph + 15}" '
                       f'font-size="11" text-anchor="middle">{cm:g}</text>')
            cm += 5
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" font-size="12" '
               f'text-anchor="middle">{escape(labels.x_axis)}</text>')
    out.append(f'<text x="12" y="{top + ph / 2:.1f}" font-size="12" text-anchor="middle" '
               f'transform="rotate(-90 12 {top + ph / 2:.1f})">{escape(labels.y_axis)}</text>')
    # WHO curves, labelled at their right end.
    for k, line in sd.items():
        if not line:
            continue
        d = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}"
                     for i, (x, y) in enumerate(line))
        width_k = 2 if k == 0 else 1.2
        out.append(f'<path d="{d}" fill="none" stroke="{SD_COLOURS[k]}" '
                   f'stroke-width="{width_k}" class="sd sd{k:+d}"/>')
        lx, ly = line[-1]
        out.append(f'<text x="{sx(lx) + 4:.1f}" y="{sy(ly) + 4:.1f}" font-size="10" '
                   f'fill="{SD_COLOURS[k]}">{k:+d}</text>' if k else
                   f'<text x="{sx(lx) + 4:.1f}" y="{sy(ly) + 4:.1f}" font-size="10" '
                   f'fill="{SD_COLOURS[k]}">0</text>')
    # The child's measurements.
    shown = [p for p in points if x_min <= p.x <= x_max]
    if len(shown) > 1:
        d = " ".join(f"{'M' if i == 0 else 'L'}{sx(p.x):.1f},{sy(p.y):.1f}"
                     for i, p in enumerate(shown))
        out.append(f'<path d="{d}" fill="none" stroke="#0072B2" stroke-width="2"/>')
    for p in shown:
        fill = "#fff" if p.flagged else "#0072B2"
        tip = f"{p.y:g} ({escape(labels.flagged)})" if p.flagged else f"{p.y:g}"
        css = "point flagged" if p.flagged else "point"
        out.append(f'<circle cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" r="4" fill="{fill}" '
                   f'stroke="#0072B2" stroke-width="2" class="{css}"><title>{tip}</title>'
                   f'</circle>')
    out.append("</svg>")
    return "".join(out)
