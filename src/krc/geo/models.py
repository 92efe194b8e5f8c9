"""Org-unit tables: the hierarchy (DHIS2-style materialised path) and target populations."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base

# Health hierarchy levels (reference/geography.md "Health hierarchy").
COUNTRY, REGION, DISTRICT, FACILITY, VILLAGE = 1, 2, 3, 4, 5
LEVEL_NAMES = {
    COUNTRY: ("pays", "country"),
    REGION: ("région", "region"),
    DISTRICT: ("district sanitaire", "health district"),
    FACILITY: ("aire de santé (CSCom)", "health area (CSCom)"),
    VILLAGE: ("village", "village"),
}


class OrgUnit(Base):
    """One org unit; `path` lists the uids from the root, DHIS2-style (`/uid1/uid2`)."""

    __tablename__ = "org_unit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(11), unique=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[int] = mapped_column(Integer)
    hierarchy: Mapped[str] = mapped_column(String(10), default="health")  # health | admin
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"), index=True)
    path: Mapped[str] = mapped_column(String(400), index=True)
    # Mapping between hierarchies: a health district's cercle/region in the admin tree.
    admin_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))

    __table_args__ = (Index("ix_org_unit_level_hierarchy", "hierarchy", "level"),)


class TargetPopulation(Base):
    """Target populations of one org unit for one year (official, or derived from rates)."""

    __tablename__ = "target_population"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id", ondelete="CASCADE"))
    year: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    live_births: Mapped[int] = mapped_column(Integer)
    surviving_infants: Mapped[int] = mapped_column(Integer)
    cohort_12_23: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), default="derived")  # official | derived

    __table_args__ = (UniqueConstraint("org_unit_id", "year", name="uq_target_population_ou_year"),)
