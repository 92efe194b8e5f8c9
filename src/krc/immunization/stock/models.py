"""Tables of stock (migration 0006): the ledger, its running aggregates, SMS reporters, the
raw inbound message log and the stock settings (reference/immunization.md §4)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base


class StockTransaction(Base):
    """One ledger line of a facility and product; `id` is the client UUID (idempotency)."""

    __tablename__ = "stock_transaction"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)  # recording order
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    product: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))  # receipt|issue|consumption|loss|count
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(10))  # losses: expired|broken|…
    occurred_on: Mapped[date] = mapped_column(Date)
    # Counts: the book balance just before and physical − book, as recorded.
    book_balance: Mapped[int | None] = mapped_column(Integer)
    discrepancy: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8))  # web|api|sms
    message_pk: Mapped[int | None] = mapped_column(ForeignKey("stock_message.pk"))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_stock_transaction_line", "facility_id", "product", "occurred_on"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("kind IN ('receipt', 'issue', 'consumption', 'loss', 'count')",
                        name="kind_known"),
    )


class StockBalance(Base):
    """Current balance of a facility and product, kept by every transaction (derived)."""

    __tablename__ = "stock_balance"

    facility_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no FK: derived
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    balance: Mapped[int] = mapped_column(Integer)
    last_count_on: Mapped[date | None] = mapped_column(Date)
    last_on: Mapped[date] = mapped_column(Date)


class StockMonth(Base):
    """Movements of a facility and product in one month (derived; AMC reads it)."""

    __tablename__ = "stock_month"

    facility_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no FK: derived
    product: Mapped[str] = mapped_column(String(12), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)  # YYYYMM
    received: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    used: Mapped[int] = mapped_column(Integer, default=0)
    lost: Mapped[int] = mapped_column(Integer, default=0)
    used_reports: Mapped[int] = mapped_column(Integer, default=0)  # consumption lines


class StockReport(Base):
    """A facility's stock report for a month: when first received and whether on time."""

    __tablename__ = "stock_report"

    facility_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no FK: derived
    period: Mapped[int] = mapped_column(Integer, primary_key=True)  # YYYYMM
    first_received_on: Mapped[date] = mapped_column(Date)
    on_time: Mapped[bool] = mapped_column(Boolean)
    submissions: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (Index("ix_stock_report_period", "period"),)


class StockReporter(Base):
    """A phone allowed to send stock SMS for one facility, with the reply language."""

    __tablename__ = "stock_reporter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(16), unique=True)  # E.164
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(3))  # fra|bam|eng
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StockMessage(Base):
    """Every inbound stock webhook call, kept raw whatever happened (idempotency `key`)."""

    __tablename__ = "stock_message"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(String(1600))
    phone: Mapped[str | None] = mapped_column(String(40))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("stock_reporter.id"))
    facility_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(8))  # ok|error|failed
    error_code: Mapped[str | None] = mapped_column(String(40))
    reply: Mapped[str] = mapped_column(String(1000))
    lines: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (Index("ix_stock_message_received", "received_at"),)


class StockSetting(Base):
    """An administrator-set stock parameter (as data): per-level supply period and lead
    time, the report due day, extra product codes."""

    __tablename__ = "stock_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))
