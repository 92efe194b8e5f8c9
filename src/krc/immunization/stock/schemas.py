"""Pydantic models of the stock API, in families (Create / Update / Read)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class TransactionCreate(BaseModel):
    """A stock transaction to record; `id` (client UUID) makes retries idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    facility: str = Field(min_length=1, description="org unit code of the health facility")
    product: str = Field(min_length=1, max_length=12, description="vaccine or product code")
    kind: str = Field(description="receipt, issue, consumption, loss or count")
    quantity: int = Field(ge=0, le=1_000_000, description="doses (a count: doses counted)")
    date: date
    reason: str | None = Field(default=None, description="losses: expired, broken, frozen, "
                                                         "vvm or other (default other)")
    note: str | None = Field(default=None, max_length=200)


class TransactionRead(BaseModel):
    """A recorded transaction."""

    id: uuid.UUID
    facility: str
    product: str
    kind: str
    quantity: int
    reason: str | None
    date: date
    book_balance: int | None
    discrepancy: int | None
    source: str
    note: str | None


class StockLine(BaseModel):
    """One product's stock at a facility (`GET /stock?facility=`)."""

    vaccine: str
    balance: int | None
    amc: float | None
    months_of_stock: float | None
    status: str
    min: float | None = None
    max: float | None = None
    reorder: float | None = None
    last_count_on: date | None = None


class ReporterCreate(BaseModel):
    """A phone allowed to send stock SMS for a facility."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    phone: str = Field(min_length=1, max_length=30)
    facility: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    language: str = Field(default="fra", pattern="^(fra|bam|eng)$")


class ReporterUpdate(BaseModel):
    """Changes to a reporter (absent fields unchanged)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    facility: str | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    language: str | None = Field(default=None, pattern="^(fra|bam|eng)$")
    active: bool | None = None


class ReporterRead(BaseModel):
    """A reporter as the API returns it."""

    id: int
    phone: str
    facility: str
    facility_name: str
    name: str
    language: str
    active: bool


class WebhookAnswer(BaseModel):
    """The answer to RapidPro (becomes `@webhook` in the flow)."""

    status: str = Field(description="ok or error")
    reply: str = Field(description="the SMS reply to send back, in the sender's language")
