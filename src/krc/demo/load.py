"""Loading generated chunks: SQLAlchemy Core on SQLite, COPY (psycopg 3) on PostgreSQL."""

from __future__ import annotations

import struct
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from krc.demo.generate import REASONS, STRATEGIES, Chunk
from krc.identifiers import INVERSE, MULTIPLY, PERMUTE
from krc.immunization.models import Child, Vaccination
from krc.immunization.schedule import from_epoch_day
from krc.matching import name_key

U8 = npt.NDArray[np.uint8]
_PG_EPOCH_DAYS = 10_957  # 2000-01-01 in days since 1970-01-01
_PG_EPOCH_SECONDS = _PG_EPOCH_DAYS * 86_400
NULL = "\\N"
_HEX = np.frombuffer(b"0123456789abcdef", np.uint8)
_M, _P, _INV = np.array(MULTIPLY), np.array(PERMUTE), np.array(INVERSE)

CHILD_COLUMNS = (
    "pk", "id", "registry_number", "given_name", "family_name", "sex", "birth_date",
    "caregiver_name", "caregiver_phone", "facility_id", "village_id", "family_key", "given_key",
    "first_dose_on", "penta1_on", "penta3_on", "mcv1_on", "created_at", "updated_at",
    "dose_days",
)
DOSE_COLUMNS = (
    "pk", "id", "child_pk", "vaccine", "dose", "given_on", "facility_id", "strategy", "valid",
    "invalid_reason", "delay_days", "deleted", "created_at", "updated_at", "residence_id",
)


@lru_cache(maxsize=4096)
def key(name: str) -> str:
    """Return the phonetic key of a name (cached: names repeat)."""
    return name_key(name)


def check_digits(serials: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Return the Verhoeff check digit of each 9-digit serial (vectorised registry_number)."""
    state = np.zeros(serials.shape, np.int64)
    rest = serials.copy()
    for position in range(9):  # digits from the right, positions shifted by one
        digit = rest % 10
        rest //= 10
        state = _M[state, _P[(position + 1) % 8, digit]]
    return np.asarray(_INV[state], np.int64)


def _uuid_text(raw: U8) -> list[str]:
    n = raw.shape[0]
    h = np.empty((n, 32), np.uint8)
    h[:, 0::2] = _HEX[raw >> 4]
    h[:, 1::2] = _HEX[raw & 15]
    s = np.full((n, 36), ord("-"), np.uint8)
    s[:, 0:8], s[:, 9:13], s[:, 14:18] = h[:, 0:8], h[:, 8:12], h[:, 12:16]
    s[:, 19:23], s[:, 24:36] = h[:, 16:20], h[:, 20:32]
    return [b.decode() for b in s.view("S36").ravel().tolist()]


def _date_text(days: npt.NDArray[np.int64]) -> list[str]:
    txt = days.astype("datetime64[D]").astype(str)
    return np.where(days >= 0, txt, NULL).tolist()


def _ts_text(seconds: npt.NDArray[np.int64]) -> list[str]:
    return [t + "+00" for t in seconds.astype("datetime64[s]").astype(str).tolist()]


def registry_numbers(pk: npt.NDArray[np.int64]) -> list[str]:
    """Return the registry number of each pk (same as krc.identifiers.registry_number)."""
    return [f"{p:09d}{c}" for p, c in zip(pk.tolist(), check_digits(pk).tolist(), strict=True)]


def _date_or_none(day: int) -> Any:
    return from_epoch_day(day) if day >= 0 else None


def _ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --------------------------------------------------------------------------- SQLite (Core)


def insert_core(session: Session, chunk: Chunk, dose_pk0: int,
                slots: tuple[tuple[str, int], ...]) -> None:
    """Insert a chunk with SQLAlchemy Core executemany (any database; used on SQLite)."""
    rn = registry_numbers(chunk.pk)
    children: list[dict[str, Any]] = []
    for i in range(chunk.children):
        created = _ts(int(chunk.created[i]))
        children.append({
            "pk": int(chunk.pk[i]), "id": uuid.UUID(bytes=chunk.uuid[i].tobytes()),
            "registry_number": rn[i], "given_name": chunk.given_name[i],
            "family_name": chunk.family_name[i], "sex": chunk.sex[i],
            "birth_date": from_epoch_day(int(chunk.birth[i])),
            "caregiver_name": chunk.caregiver[i], "caregiver_phone": chunk.phone[i],
            "national_id": None, "facility_id": int(chunk.facility_id[i]),
            "village_id": int(chunk.village_id[i]), "family_key": key(chunk.family_name[i]),
            "given_key": key(chunk.given_name[i]),
            "first_dose_on": _date_or_none(int(chunk.first_dose[i])),
            "penta1_on": _date_or_none(int(chunk.penta1[i])),
            "penta3_on": _date_or_none(int(chunk.penta3[i])),
            "mcv1_on": _date_or_none(int(chunk.mcv1[i])), "merged_into_pk": None,
            "dose_days": chunk.dose_days[i],
            "created_at": created, "updated_at": created, "created_by": None,
        })
    session.execute(insert(cast(Table, Child.__table__)), children)
    doses: list[dict[str, Any]] = []
    for i in range(chunk.doses):
        vaccine, dose = slots[int(chunk.d_slot[i])]
        r = int(chunk.d_reason[i])
        at = _ts(int(chunk.d_day[i]) * 86_400 + 9 * 3600 + (i * 137) % 28_800)
        doses.append({
            "pk": dose_pk0 + i, "id": uuid.UUID(bytes=chunk.d_uuid[i].tobytes()),
            "child_pk": int(chunk.d_child[i]), "vaccine": vaccine, "dose": dose,
            "given_on": from_epoch_day(int(chunk.d_day[i])),
            "facility_id": int(chunk.d_facility[i]),
            "residence_id": int(chunk.facility_id[int(chunk.d_child[i]) - int(chunk.pk[0])]),
            "strategy": STRATEGIES[int(chunk.d_strategy[i])], "session": None, "lot": None,
            "valid": r == 0, "invalid_reason": REASONS[r] or None,
            "delay_days": int(chunk.d_delay[i]) if r == 0 else None, "deleted": False,
            "created_at": at, "updated_at": at, "created_by": None,
        })
    if doses:
        session.execute(insert(cast(Table, Vaccination.__table__)), doses)


# --------------------------------------------------------------------------- PostgreSQL (COPY)


def child_copy_text(chunk: Chunk) -> bytes:
    """Return the children of a chunk as COPY text rows (columns CHILD_COLUMNS)."""
    ids = _uuid_text(chunk.uuid)
    rn = registry_numbers(chunk.pk)
    birth = _date_text(chunk.birth)
    first, p1 = _date_text(chunk.first_dose), _date_text(chunk.penta1)
    p3, m1 = _date_text(chunk.penta3), _date_text(chunk.mcv1)
    created = _ts_text(chunk.created)
    pk, fac, vil = chunk.pk.tolist(), chunk.facility_id.tolist(), chunk.village_id.tolist()
    phone = [p or NULL for p in chunk.phone]
    lines = [
        f"{pk[i]}\t{ids[i]}\t{rn[i]}\t{chunk.given_name[i]}\t{chunk.family_name[i]}\t"
        f"{chunk.sex[i]}\t{birth[i]}\t{chunk.caregiver[i]}\t{phone[i]}\t"
        f"{fac[i]}\t{vil[i]}\t{key(chunk.family_name[i])}\t{key(chunk.given_name[i])}\t"
        f"{first[i]}\t{p1[i]}\t{p3[i]}\t{m1[i]}\t{created[i]}\t{created[i]}\t"
        f"{chunk.dose_days[i]}\n"
        for i in range(chunk.children)
    ]
    return "".join(lines).encode()


def _text_field(values: list[bytes | None], index: npt.NDArray[np.int64]) -> tuple[U8, Any]:
    """Return (bytes, mask) of a binary COPY text field chosen per row from a small table."""
    width = 4 + max((len(v) for v in values if v is not None), default=0)
    table = np.zeros((len(values), width), np.uint8)
    lengths = np.zeros(len(values), np.int64)
    for i, v in enumerate(values):
        if v is None:
            table[i, :4] = 0xFF
            lengths[i] = 4
        else:
            table[i, :4] = np.frombuffer(struct.pack(">i", len(v)), np.uint8)
            table[i, 4 : 4 + len(v)] = np.frombuffer(v, np.uint8)
            lengths[i] = 4 + len(v)
    return table[index], np.arange(width)[None, :] < lengths[index][:, None]


def dose_copy_binary(chunk: Chunk, dose_pk0: int, slots: tuple[tuple[str, int], ...]) -> bytes:
    """Return the doses of a chunk as binary COPY rows (columns DOSE_COLUMNS), no header."""
    n = chunk.doses
    if n == 0:
        return b""
    valid = chunk.d_reason == 0
    head = np.zeros(n, np.dtype([
        ("nf", ">i2"), ("l_pk", ">i4"), ("pk", ">i4"), ("l_id", ">i4"), ("id", "u1", (16,)),
        ("l_child", ">i4"), ("child", ">i4")]))
    head["nf"], head["l_pk"], head["pk"] = len(DOSE_COLUMNS), 4, dose_pk0 + np.arange(n)
    head["l_id"], head["id"] = 16, chunk.d_uuid
    head["l_child"], head["child"] = 4, chunk.d_child
    vac_names = sorted({v for v, _ in slots})
    vac_index = np.array([vac_names.index(v) for v, _ in slots])[chunk.d_slot]
    vac, vac_mask = _text_field([v.encode() for v in vac_names], vac_index)
    mid = np.zeros(n, np.dtype([("l_dose", ">i4"), ("dose", ">i2"), ("l_day", ">i4"),
                                ("day", ">i4"), ("l_fac", ">i4"), ("fac", ">i4")]))
    mid["l_dose"], mid["dose"] = 2, np.array([d for _, d in slots])[chunk.d_slot]
    mid["l_day"], mid["day"] = 4, chunk.d_day - _PG_EPOCH_DAYS
    mid["l_fac"], mid["fac"] = 4, chunk.d_facility
    strat, strat_mask = _text_field([s.encode() for s in STRATEGIES], chunk.d_strategy)
    flag = np.zeros(n, np.dtype([("l_valid", ">i4"), ("valid", "u1")]))
    flag["l_valid"], flag["valid"] = 1, valid
    reason, reason_mask = _text_field([r.encode() if r else None for r in REASONS],
                                      chunk.d_reason)
    delay = np.zeros(n, np.dtype([("l", ">i4"), ("v", ">i4")]))
    delay["l"], delay["v"] = np.where(valid, 4, -1), chunk.d_delay
    delay_mask = np.ones((n, 8), bool)
    delay_mask[:, 4:] = valid[:, None]
    at = (chunk.d_day * 86_400 + 9 * 3600 + (np.arange(n) * 137) % 28_800
          - _PG_EPOCH_SECONDS) * 1_000_000
    tail = np.zeros(n, np.dtype([("l_del", ">i4"), ("deleted", "u1"), ("l_c", ">i4"),
                                 ("c", ">i8"), ("l_u", ">i4"), ("u", ">i8"),
                                 ("l_res", ">i4"), ("res", ">i4")]))
    tail["l_del"], tail["l_c"], tail["c"], tail["l_u"], tail["u"] = 1, 8, at, 8, at
    tail["l_res"], tail["res"] = 4, chunk.facility_id[chunk.d_child - int(chunk.pk[0])]

    def raw(a: Any) -> U8:
        return np.asarray(a).view(np.uint8).reshape(n, -1)

    parts = [raw(head), vac, raw(mid), strat, raw(flag), reason, raw(delay), raw(tail)]
    masks = [np.ones((n, raw(head).shape[1]), bool), vac_mask,
             np.ones((n, raw(mid).shape[1]), bool), strat_mask,
             np.ones((n, raw(flag).shape[1]), bool), reason_mask, delay_mask,
             np.ones((n, raw(tail).shape[1]), bool)]
    return np.concatenate(parts, axis=1)[np.concatenate(masks, axis=1)].tobytes()


BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
BINARY_TRAILER = struct.pack(">h", -1)


# --------------------------------------------------------------------------- bulk-load helpers


def drop_constraints(session: Session, tables: tuple[str, ...]) -> list[str]:
    """Drop the indexes and non-primary-key constraints of tables; return SQL to restore them.

    Bulk loading into bare tables then building each index once is several times faster
    than maintaining them row by row (PostgreSQL manual, "Populating a Database").
    """
    restore_first: list[str] = []
    restore_last: list[str] = []
    drops: list[str] = []
    for table in tables:
        cons = session.execute(text(
            "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
            "WHERE conrelid = CAST(:t AS regclass) AND contype <> 'p' ORDER BY conname"),
            {"t": table}).all()
        for name, definition, kind in cons:
            drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            sql = f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
            (restore_last if kind == "f" else restore_first).append(sql)
        names = {c[0] for c in cons}
        idx = session.execute(text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = :t "
            "AND i.schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conindid = CAST(quote_ident(i.indexname) AS regclass)) ORDER BY 1"),
            {"t": table}).all()
        for name, definition in idx:
            if name in names:
                continue
            drops.append(f'DROP INDEX "{name}"')
            restore_first.append(definition)
    # foreign keys between the tables go first, so drop in reverse order of discovery
    fks = [d for d in drops if "DROP CONSTRAINT" in d and any(
        f'"{n}"' in d for n in _fk_names(restore_last))]
    for sql in fks + [d for d in drops if d not in fks]:
        session.execute(text(sql))
    return restore_first + restore_last


def _fk_names(statements: list[str]) -> list[str]:
    return [s.split('"')[1] for s in statements]
