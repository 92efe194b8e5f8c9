"""Server-side SVG of a temperature trace: the 2–8 °C band, the readings, the alarms.

Pure: arrays and translated labels in, markup out (no JavaScript, works offline, prints).
Long traces are reduced to the minimum and maximum of each time bucket, so excursions stay
visible while the page stays light (at most ~2 × `buckets` points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

import numpy as np
import numpy.typing as npt

W, H = 760, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 12, 28


@dataclass(frozen=True)
class Span:
    """A shaded period on the chart (an alarm): kind heat/freeze/data_gap, epoch seconds."""

    kind: str
    start: int
    end: int


def _f(x: float) -> str:
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def reduce(times: npt.NDArray[np.int64], temps: npt.NDArray[np.float64], buckets: int = 400
           ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return the trace reduced to each bucket's min and max readings, in time order."""
    n = times.size
    if n <= 2 * buckets:
        return times, temps
    edges = np.linspace(0, n, buckets + 1).astype(np.int64)
    idx_lo = np.empty(buckets, dtype=np.int64)
    idx_hi = np.empty(buckets, dtype=np.int64)
    for k in range(buckets):  # per bucket, not per reading
        seg = temps[edges[k]:edges[k + 1]]
        idx_lo[k] = edges[k] + int(np.argmin(seg))
        idx_hi[k] = edges[k] + int(np.argmax(seg))
    keep = np.unique(np.concatenate([idx_lo, idx_hi]))
    return times[keep], temps[keep]


def trace_svg(times: npt.NDArray[np.int64], temps: npt.NDArray[np.float64], start: int,
              end: int, spans: Sequence[Span], title: str, no_readings: str,
              max_gap_s: int = 3600, band: tuple[float, float] = (2.0, 8.0)) -> str:
    """Return the SVG of a temperature trace between `start` and `end` (epoch seconds)."""
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart trace" viewBox="0 0 {W} {H}"'
           f' role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    lo = min(-2.0, float(temps.min()) - 1 if temps.size else 0.0)
    hi = max(12.0, float(temps.max()) + 1 if temps.size else 0.0)
    span_t = max(1, end - start)

    def x(t: float) -> float:
        return LEFT + (t - start) / span_t * (W - LEFT - RIGHT)

    def y(c: float) -> float:
        return TOP + (hi - c) / (hi - lo) * (H - TOP - BOTTOM)

    out.append(f'<rect class="band" x="{LEFT}" y="{_f(y(band[1]))}" width="{W - LEFT - RIGHT}"'
               f' height="{_f(y(band[0]) - y(band[1]))}" fill="#e3f4ea"/>')
    colours = {"heat": "#D55E00", "freeze": "#0072B2", "data_gap": "#999999"}
    for s in spans:
        a, b = max(s.start, start), min(s.end, end)
        if b < a:
            continue
        out.append(f'<rect class="span {escape(s.kind)}" x="{_f(x(a))}" y="{TOP}" '
                   f'width="{_f(max(1.0, x(b) - x(a)))}" height="{H - TOP - BOTTOM}" '
                   f'fill="{colours.get(s.kind, "#999")}" fill-opacity="0.18"/>')
    step = 2 if hi - lo <= 20 else 5
    for tick in range(int(np.ceil(lo / step) * step), int(hi) + 1, step):
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{_f(y(tick))}" '
                   f'y2="{_f(y(tick))}" stroke="#ddd"/><text x="{LEFT - 4}" '
                   f'y="{_f(y(tick) + 4)}" text-anchor="end" font-size="10">{tick}</text>')
    for limit in band:
        out.append(f'<line class="limit" x1="{LEFT}" x2="{W - RIGHT}" y1="{_f(y(limit))}" '
                   f'y2="{_f(y(limit))}" stroke="#009E73" stroke-dasharray="4 3"/>')
    days = range(start - start % 86400 + 86400, end + 1, 86400)
    every = max(1, len(days) // 10)
    for i, d in enumerate(days):
        if i % every:
            continue
        label = datetime.fromtimestamp(d, UTC).strftime("%d/%m")
        out.append(f'<text x="{_f(x(d))}" y="{H - 10}" text-anchor="middle" '
                   f'font-size="10">{label}</text>')
    if times.size == 0:
        out.append(f'<text x="{W // 2}" y="{H // 2}" text-anchor="middle">'
                   f'{escape(no_readings)}</text>')
    else:
        # Break the line at data gaps first, then thin each piece (gaps stay visible).
        breaks = np.flatnonzero(np.diff(times) > max_gap_s) + 1
        for piece_t, piece_c in zip(np.split(times, breaks), np.split(temps, breaks),
                                    strict=True):
            share = max(1, round(400 * piece_t.size / times.size))
            seg_t, seg_c = reduce(piece_t, piece_c, share)
            pts = " ".join(f"{_f(x(a))},{_f(y(b))}" for a, b in
                           zip(seg_t.tolist(), seg_c.tolist(), strict=True))
            out.append(f'<polyline class="line" points="{pts}" fill="none" '
                       f'stroke="#333" stroke-width="1.2"/>')
    out.append("</svg>")
    return "".join(out)
