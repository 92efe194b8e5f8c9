"""Tables of the cold chain (migration 0007): equipment and its status history, temperature
devices, readings, alarms, raw uploads, solar targets by region and alarm settings.

Reference: reference/immunization.md §5.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base


class Equipment(Base):
    """A cold-chain equipment at a facility (CSCom or a store) with its current status."""

    __tablename__ = "cc_equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    type: Mapped[str] = mapped_column(String(20))
    pqs_code: Mapped[str | None] = mapped_column(String(30))
    model: Mapped[str | None] = mapped_column(String(100))
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    installed_on: Mapped[date | None] = mapped_column(Date)
    energy_source: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EquipmentStatusChange(Base):
    """One change of an equipment's status: who, when, from → to and a note."""

    __tablename__ = "cc_status_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("cc_equipment.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str] = mapped_column(String(80))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(500), default="")


class TemperatureDevice(Base):
    """A temperature recorder (30-DTR) or remote monitor attached to one equipment."""

    __tablename__ = "cc_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # 30dtr | rtm
    equipment_id: Mapped[int] = mapped_column(ForeignKey("cc_equipment.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reading(Base):
    """One temperature reading; the key (device, at) makes re-uploads idempotent."""

    __tablename__ = "cc_reading"

    device_id: Mapped[int] = mapped_column(ForeignKey("cc_device.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    celsius: Mapped[float] = mapped_column(Float)


class ColdChainAlarm(Base):
    """A heat/freeze alarm (an excursion that reached its limit) or a data_gap/no_data
    notice. Re-detection updates the row with the same (device, type, start)."""

    __tablename__ = "cc_alarm"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("cc_device.id"))
    type: Mapped[str] = mapped_column(String(10))
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    min_celsius: Mapped[float | None] = mapped_column(Float)
    max_celsius: Mapped[float | None] = mapped_column(Float)
    # Set when later readings (a late upload filling a gap) showed the event did not happen.
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("device_id", "type", "start", name="uq_cc_alarm_device_type_start"),
        Index("ix_cc_alarm_updated_at", "updated_at"),
    )


class ReadingUpload(Base):
    """A raw inbound upload of readings (JSON or CSV), kept whether accepted or refused."""

    __tablename__ = "cc_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_serial: Mapped[str] = mapped_column(String(60))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("cc_device.id"))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    format: Mapped[str] = mapped_column(String(10))  # json | csv
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # accepted | refused
    received: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(1000))


class SolarTarget(Base):
    """Solar direct-drive refrigerators to install in a region (target of ~2,000, §5)."""

    __tablename__ = "cc_solar_target"

    region_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)
    target: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(10), default="default")  # default | official


class ColdChainSetting(Base):
    """An administrator-set value of an alarm threshold (as data, like schedule_setting)."""

    __tablename__ = "cc_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
