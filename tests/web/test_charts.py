"""Unit tests of the server-side SVG charts (pure functions)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from krc.web.charts import (
    QuadrantLabels,
    QuadrantPoint,
    Series,
    bar,
    line_chart,
    nice_ceiling,
    quadrant_chart,
    scale,
    segments,
)

NS = {"s": "http://www.w3.org/2000/svg"}
MONTHS = ["J", "F", "M", "A", "M", "J", "J", "A", "S", "O", "N", "D"]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def points(poly: ET.Element) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in
            (p.split(",") for p in poly.attrib["points"].split())]


@pytest.mark.parametrize(("value", "lo", "hi", "a", "b", "expected"), [
    (0, 0, 100, 0, 200, 0), (50, 0, 100, 0, 200, 100), (100, 0, 100, 0, 200, 200),
    (150, 0, 100, 0, 200, 200), (-5, 0, 100, 0, 200, 0),  # clamped
    (25, 0, 100, 300, 100, 250),  # inverted axis (SVG y grows downwards)
    (7, 3, 3, 10, 20, 10),  # empty domain
])
def test_scale(value: float, lo: float, hi: float, a: float, b: float, expected: float) -> None:
    assert scale(value, lo, hi, a, b) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "expected"), [
    (0, 100), (99.9, 100), (100, 100), (100.1, 120), (131, 140), (float("nan"), 100),
])
def test_nice_ceiling(value: float, expected: float) -> None:
    assert nice_ceiling(value) == expected


def test_segments_break_on_missing_values() -> None:
    assert segments([1, 2, None, 4, None, None, 7, 8]) == [
        [(0, 1.0), (1, 2.0)], [(3, 4.0)], [(6, 7.0), (7, 8.0)]]
    assert segments([]) == [] and segments([None]) == []


def test_line_chart_draws_one_polyline_per_series_and_a_legend() -> None:
    series = [Series("PENTA1", [8.0 * m for m in range(1, 13)]),
              Series("Cible", [100 * m / 12 for m in range(1, 13)], "#555", dashed=True)]
    root = parse(line_chart(series, MONTHS, title="Couverture"))
    polys = root.findall(".//s:polyline", NS)
    assert [p.attrib["data-series"] for p in polys] == ["PENTA1", "Cible"]
    assert "stroke-dasharray" in polys[1].attrib and "stroke-dasharray" not in polys[0].attrib
    pts = points(polys[0])
    assert len(pts) == 12
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    assert xs == sorted(xs) and len(set(xs)) == 12  # months left to right
    assert ys == sorted(ys, reverse=True)  # rising coverage goes up the screen
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "PENTA1" in texts and "Cible" in texts and "J" in texts and "100 %" in texts
    assert root.find("s:title", NS).text == "Couverture"  # type: ignore[union-attr]


def test_line_chart_stops_where_data_stop() -> None:
    values = [10.0, 20.0, 30.0] + [None] * 9
    root = parse(line_chart([Series("PENTA3", values)], MONTHS, title="t"))
    (poly,) = root.findall(".//s:polyline", NS)
    assert len(points(poly)) == 3
    single = parse(line_chart([Series("MCV1", [None, 5.0, None])], ["a", "b", "c"], title="t"))
    assert single.findall(".//s:polyline", NS) == []
    assert len(single.findall(".//s:circle", NS)) == 1


def test_line_chart_axis_grows_past_100_percent() -> None:
    root = parse(line_chart([Series("PENTA1", [50.0, 131.0])], ["a", "b"], title="t"))
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "140 %" in texts
    (poly,) = root.findall(".//s:polyline", NS)
    top = min(float(r.attrib["y"]) for r in root.findall("s:rect", NS))
    assert min(y for _, y in points(poly)) >= top  # nothing drawn above the plot


def test_line_chart_without_data_is_still_valid_svg() -> None:
    root = parse(line_chart([], [], title="vide"))
    assert root.findall(".//s:polyline", NS) == []
    parse(line_chart([Series("x", [None] * 12)], MONTHS, title="none"))


def test_texts_are_escaped() -> None:
    svg = line_chart([Series('<b>"x"</b> & y', [1.0, 2.0])], ["<a>", "b"], title="t & <u>")
    root = parse(svg)  # would fail on raw markup
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert root.attrib["aria-label"] == "t & <u>"
    q = quadrant_chart([QuadrantPoint("Kati <1>", 90.0, 5.0, 1)])
    assert "Kati &lt;1&gt;" in q
    parse(q)


def circle_of(root: ET.Element, category: int) -> tuple[float, float]:
    for g in root.findall(".//s:g", NS):
        if g.attrib.get("data-category") == str(category):
            c = g.find("s:circle", NS)
            assert c is not None
            return float(c.attrib["cx"]), float(c.attrib["cy"])
    raise AssertionError(category)


def rect_of(root: ET.Element, name: str) -> tuple[float, float, float, float]:
    for r in root.findall("s:rect", NS):
        if r.attrib.get("class") == name:
            return (float(r.attrib["x"]), float(r.attrib["y"]), float(r.attrib["width"]),
                    float(r.attrib["height"]))
    raise AssertionError(name)


@pytest.mark.parametrize(("coverage", "dropout", "category"), [
    (95.0, 3.0, 1), (85.0, 25.0, 2), (60.0, 5.0, 3), (40.0, 30.0, 4),
    (80.0, 9.9, 1), (79.9, 10.0, 4), (130.0, -20.0, 1), (10.0, 90.0, 4),
])
def test_quadrant_puts_each_unit_in_its_red_rec_box(coverage: float, dropout: float,
                                                   category: int) -> None:
    root = parse(quadrant_chart([QuadrantPoint("u", coverage, dropout, category)]))
    x, y = circle_of(root, category)
    rx, ry, rw, rh = rect_of(root, f"cat{category}")
    assert rx <= x <= rx + rw and ry <= y <= ry + rh


def test_quadrant_skips_unknown_values_and_uses_translated_labels() -> None:
    labels = QuadrantLabels(x_axis="Dropout", y_axis="Coverage",
                            categories=("c1", "c2", "c3", "c4"), title="RED")
    root = parse(quadrant_chart([QuadrantPoint("a", None, 5.0), QuadrantPoint("b", 90, 2, 1)],
                                labels))
    assert len(root.findall(".//s:circle", NS)) == 1
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"Dropout", "Coverage", "b"} <= texts and "a" not in texts
    titles = {t.text for t in root.iter("{http://www.w3.org/2000/svg}title")}
    assert {"RED", "c1", "c4"} <= titles
    parse(quadrant_chart([]))


def test_bar_width_and_threshold_colour() -> None:
    full = parse(bar(150, 100, width=80))
    inner = full.findall("s:rect", NS)[1]
    assert inner.attrib["width"] == "80"
    low = parse(bar(40, 100, width=80, threshold=80))
    assert low.findall("s:rect", NS)[1].attrib["width"] == "32"
    assert low.findall("s:rect", NS)[1].attrib["fill"] != \
        parse(bar(90, 100, threshold=80)).findall("s:rect", NS)[1].attrib["fill"]
    assert parse(bar(None)).findall("s:rect", NS)[1].attrib["width"] == "0"
