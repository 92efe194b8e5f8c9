"""Pure rules of messaging: templates, keys, retries, statuses, signatures, reminder picks."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from krc.immunization.schedule import STATUSES, batch_slots, evaluate_batch, to_epoch_day
from krc.messaging import rules
from krc.messaging.defaults import DEFAULT_TEMPLATES

NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)


def test_every_default_template_is_valid_and_complete() -> None:
    keys = {k for k in rules.PLACEHOLDERS if k != "broadcast"}
    have = {(t.key, t.language) for t in DEFAULT_TEMPLATES}
    assert have == {(k, lang) for k in keys for lang in ("fra", "bam", "eng")}
    for t in DEFAULT_TEMPLATES:
        rules.check_template(t.key, t.text)
        assert set(t.wa_params) <= rules.PLACEHOLDERS[t.key]
        assert (t.wa_name is None) == (t.language == "bam")  # no Bambara on WhatsApp


@pytest.mark.parametrize(("key", "text", "ok"), [
    ("dose_reminder", "Bonjour {caregiver}, {child} le {date}", True),
    ("dose_reminder", "Bonjour {nom}", False),
    ("dose_reminder", "Bonjour {", False),
    ("dose_reminder", "Bonjour {0}", False),
    ("stock_report_late", "{name} {period}", True),
    ("nope", "x", False),
])
def test_check_template(key: str, text: str, ok: bool) -> None:
    if ok:
        rules.check_template(key, text)
    else:
        with pytest.raises(rules.TemplateError):
            rules.check_template(key, text)


def test_render_fills_and_blanks() -> None:
    assert rules.render("{a} et {b}", {"a": "x"}) == "x et "


@pytest.mark.parametrize(("slots", "lang", "text"), [
    ([("PENTA", 1), ("PCV", 1)], "fra", "Penta 1, PCV 1"),
    ([("MCV", 1), ("YF", 1)], "fra", "RR 1, VAA 1"),
    ([("MCV", 1), ("OPV", 2)], "eng", "MCV 1, OPV 2"),
])
def test_vaccines_text(slots: list[tuple[str, int]], lang: str, text: str) -> None:
    assert rules.vaccines_text(slots, lang) == text


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 60), (2, 120), (3, 240), (10, 3600)])
def test_backoff_doubles_to_the_cap(attempts: int, seconds: int) -> None:
    assert rules.backoff(attempts, 60, 3600) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("value", "seconds"), [
    ("30", 30), (None, 60), ("garbage", 60), ("Mon, 16 Mar 2026 08:02:00 GMT", 120),
    ("Mon, 16 Mar 2026 07:00:00 GMT", 0),
])
def test_retry_after(value: str | None, seconds: int) -> None:
    assert rules.retry_after(value, NOW) == timedelta(seconds=seconds)


@pytest.mark.parametrize(("current", "incoming", "new"), [
    ("sent", "delivered", "delivered"), ("delivered", "read", "read"),
    ("read", "delivered", None), ("delivered", "delivered", None), ("sent", "failed", "failed"),
    ("delivered", "failed", None), ("failed", "delivered", None), ("sent", "bogus", None),
    ("unknown", "delivered", "delivered"), ("cancelled", "sent", None),
])
def test_next_status_only_moves_forward(current: str, incoming: str, new: str | None) -> None:
    assert rules.next_status(current, incoming) == new


@given(st.lists(st.sampled_from(["sent", "delivered", "read", "failed"]), max_size=8))
def test_status_reports_in_any_order_never_regress(reports: list[str]) -> None:
    rank = {"sent": 2, "delivered": 3, "read": 4}
    status = "sent"
    for r in reports:
        before = status
        status = rules.next_status(status, r) or status
        if before in rank and status in rank:
            assert rank[status] >= rank[before]
        if before == "failed":
            assert status == "failed"


def test_signature() -> None:
    body = b'{"entry": []}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert rules.signature_ok("app-secret", body, good)
    assert not rules.signature_ok("app-secret", body + b" ", good)
    assert not rules.signature_ok("other", body, good)
    assert not rules.signature_ok("app-secret", body, None)
    assert not rules.signature_ok("", body, good)
    assert not rules.signature_ok("app-secret", body, good[7:])


def test_channel_choice() -> None:
    both = frozenset({"log", "rapidpro", "whatsapp"})
    assert rules.choose_channel(True, True, both, "rapidpro") == "whatsapp"
    assert rules.choose_channel(True, False, both, "rapidpro") == "rapidpro"
    assert rules.choose_channel(False, True, both, "rapidpro") == "rapidpro"
    assert rules.choose_channel(True, True, frozenset({"log"}), "log") == "log"


def test_keys_and_addresses() -> None:
    assert rules.due_key("due", 42, date(2026, 3, 19)) == "due:42:2026-03-19"
    assert rules.urn_tel("+22376123456") == "tel:+22376123456"
    assert rules.wa_recipient("+22376123456") == "22376123456"


def _pick(birth: date, given: dict[tuple[str, int], date], on: date
          ) -> tuple[rules.Picked, rules.Picked]:
    slots = batch_slots()
    days = np.full((1, len(slots)), -1, dtype=np.int64)
    for (v, d), day in given.items():
        days[0, slots.index((v, d))] = to_epoch_day(day)
    _, status, due = evaluate_batch(np.array([to_epoch_day(birth)]), days, on)
    return rules.pick_reminders(status, due, to_epoch_day(on), 3, 7, 7)


def _slot_names(p: rules.Picked) -> set[tuple[str, int]]:
    slots = batch_slots()
    return {slots[j] for j in np.nonzero(p.slots[0])[0]}


@pytest.mark.parametrize(("on", "due_day"), [
    # Born 2026-01-01: the 6-week visit is due 2026-02-12 (reference §1).
    (date(2026, 2, 9), date(2026, 2, 12)),   # 3 days before: reminded
    (date(2026, 2, 11), date(2026, 2, 12)),  # 1 day before: still (catch-up of a missed run)
    (date(2026, 2, 8), None),                # 4 days before: not yet
    (date(2026, 2, 12), None),               # on the day: no longer "before"
])
def test_dose_reminder_window(on: date, due_day: date | None) -> None:
    up, _ = _pick(date(2026, 1, 1), {("BCG", 1): date(2026, 1, 1),
                                     ("OPV", 0): date(2026, 1, 1)}, on)
    if due_day is None:
        assert len(up.rows) == 0
    else:
        assert len(up.rows) == 1 and int(up.days[0]) == to_epoch_day(due_day)
        assert _slot_names(up) == {("OPV", 1), ("PENTA", 1), ("PCV", 1), ("ROTA", 1)}


@pytest.mark.parametrize(("on", "reminded"), [
    (date(2026, 2, 18), False),  # 6 days late
    (date(2026, 2, 19), True),   # 7 days late
    (date(2026, 2, 26), True),   # 14 days late: last catch-up day
    (date(2026, 2, 27), False),  # beyond the catch-up window
])
def test_missed_dose_window(on: date, reminded: bool) -> None:
    _, missed = _pick(date(2026, 1, 1), {("BCG", 1): date(2026, 1, 1)}, on)
    assert (len(missed.rows) == 1) is reminded
    if reminded:
        assert int(missed.days[0]) == to_epoch_day(date(2026, 2, 12))


def test_given_doses_are_not_reminded() -> None:
    visit = {("OPV", 1), ("PENTA", 1), ("PCV", 1), ("ROTA", 1)}
    given = {s: date(2026, 2, 12) for s in visit} | {("BCG", 1): date(2026, 1, 1)}
    _, missed = _pick(date(2026, 1, 1), given, date(2026, 2, 19))
    assert len(missed.rows) == 0


@given(st.integers(min_value=0, max_value=1500), st.integers(min_value=0, max_value=1900))
def test_picked_days_respect_windows(age_days: int, on_offset: int) -> None:
    on = date(2024, 1, 1) + timedelta(days=on_offset)
    birth = on - timedelta(days=age_days)
    up, missed = _pick(birth, {}, on)
    today = to_epoch_day(on)
    for d in up.days.tolist():
        assert today < d <= today + 3
    for d in missed.days.tolist():
        assert 7 <= today - d <= 14
    assert STATUSES  # statuses table is shared with the schedule
