"""Synthetic demo data: a realistic Mali (org units, targets, users, children and doses).

`build_demo(db, scale)` fills an upgraded, empty database. Scales: ``small`` (all 73 districts,
two CSComs each, ~4,800 children; seconds on SQLite), ``district`` (Kati in full, ~55,000
children under five) and ``national`` (every district, ~4.6 million children and their doses;
PostgreSQL only, loaded with COPY). Same seed, same data.
"""

from krc.demo.build import DEMO_PASSWORD, SCALES, DemoLogin, DemoSummary, build_demo

__all__ = ["DEMO_PASSWORD", "SCALES", "DemoLogin", "DemoSummary", "build_demo"]
