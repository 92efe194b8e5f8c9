"""Tests for krc.identifiers: Verhoeff registry numbers and Malian phone numbers."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krc.errors import DomainError
from krc.identifiers import (
    INVERSE,
    MAX_SERIAL,
    MULTIPLY,
    PERMUTE,
    format_registry_number,
    is_valid_phone,
    is_valid_registry_number,
    normalise_phone,
    parse_registry_number,
    registry_number,
    verhoeff_check_digit,
    verhoeff_is_valid,
)

serials = st.integers(min_value=1, max_value=MAX_SERIAL)

# --- Verhoeff tables and known values ---------------------------------------------------------


def test_tables_form_the_dihedral_group() -> None:
    elements = range(10)
    for a, b, c in itertools.product(elements, repeat=3):
        assert MULTIPLY[MULTIPLY[a][b]][c] == MULTIPLY[a][MULTIPLY[b][c]]
    for a in elements:
        assert MULTIPLY[0][a] == MULTIPLY[a][0] == a
        assert MULTIPLY[a][INVERSE[a]] == 0
        assert sorted(MULTIPLY[a]) == list(elements)  # each row is a permutation
    assert MULTIPLY[1][5] != MULTIPLY[5][1]  # not commutative: D5, not Z10
    assert len(PERMUTE) == 8
    assert all(sorted(p) == list(elements) for p in PERMUTE)
    assert tuple(PERMUTE[7][PERMUTE[1][x]] for x in elements) == tuple(elements)  # period 8


@pytest.mark.parametrize(
    ("digits", "check"),
    [("236", "3"), ("12345", "1"), ("142857", "0"), ("1", "5")],
)
def test_known_check_digits(digits: str, check: str) -> None:
    assert verhoeff_check_digit(digits) == check
    assert verhoeff_is_valid(digits + check)


def test_check_digit_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        verhoeff_check_digit("12a")
    with pytest.raises(ValueError):
        verhoeff_check_digit("")
    assert not verhoeff_is_valid("")
    assert not verhoeff_is_valid("٢٣٦٣")  # Arabic-Indic digits are not ASCII digits


def test_adjacent_transpositions_detected_at_every_position_exhaustively() -> None:
    """Exhaustive lemma: for every position class (mod 8) and every pair of distinct digits a, b,
    swapping a and b at positions i, i+1 changes their product. Since D5 is a group, the whole
    accumulator then changes too (left and right cancellation), so the check fails."""
    for i in range(8):
        p_here, p_next = PERMUTE[i], PERMUTE[(i + 1) % 8]
        for a, b in itertools.permutations(range(10), 2):
            # reading right to left, position i is folded in before position i + 1
            original = MULTIPLY[p_here[a]][p_next[b]]
            swapped = MULTIPLY[p_here[b]][p_next[a]]
            assert original != swapped, (i, a, b)


def test_single_substitutions_detected_exhaustively_on_one_number() -> None:
    number = registry_number(123_456_789)
    for position, replacement in itertools.product(range(10), "0123456789"):
        if number[position] == replacement:
            continue
        mutated = number[:position] + replacement + number[position + 1:]
        assert not verhoeff_is_valid(mutated)


@settings(max_examples=150, deadline=None)
@given(serials)
def test_every_single_substitution_is_detected(serial: int) -> None:
    number = registry_number(serial)
    assert verhoeff_is_valid(number)
    for position, replacement in itertools.product(range(10), "0123456789"):
        if number[position] != replacement:
            mutated = number[:position] + replacement + number[position + 1:]
            assert not verhoeff_is_valid(mutated), (number, mutated)
            assert not is_valid_registry_number(mutated)


@settings(max_examples=150, deadline=None)
@given(serials)
def test_every_adjacent_transposition_is_detected(serial: int) -> None:
    number = registry_number(serial)
    for position in range(9):
        a, b = number[position], number[position + 1]
        if a != b:
            swapped = number[:position] + b + a + number[position + 2:]
            assert not verhoeff_is_valid(swapped), (number, swapped)


# --- registry numbers -------------------------------------------------------------------------


def test_registry_number_shape() -> None:
    number = registry_number(1234)
    assert number == "0000012347"
    assert len(number) == 10 and number.isdigit()
    assert format_registry_number(number) == "000-001-234-7"
    assert registry_number(MAX_SERIAL)[:9] == "999999999"


@pytest.mark.parametrize("serial", [0, -1, MAX_SERIAL + 1])
def test_registry_number_rejects_out_of_range_serials(serial: int) -> None:
    with pytest.raises(ValueError):
        registry_number(serial)


def test_registry_number_rejects_non_int() -> None:
    with pytest.raises(TypeError):
        registry_number(True)
    with pytest.raises(TypeError):
        registry_number("12")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    ["0000012347", "000-001-234-7", "000 001 234 7", " 000-001 234-7 ", "000\u00a0001\u00a02347"],
)
def test_parse_accepts_spaces_and_hyphens(text: str) -> None:
    assert parse_registry_number(text) == "0000012347"
    assert is_valid_registry_number(text)


@pytest.mark.parametrize(
    "text",
    ["", "000001234", "00000123470", "000-001-234-X", "0000O12347", "000.001.234.7", "٠٠٠٠٠١٢٣٤٧"],
)
def test_parse_rejects_wrong_length_or_characters(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse_registry_number(text)
    error = caught.value
    assert error.code == "registry_number_invalid"
    assert error.field == "registry_number"
    assert "10" in error.text("fr") and "10" in error.text("en")
    assert not is_valid_registry_number(text)


def test_parse_rejects_wrong_check_digit_with_bilingual_message() -> None:
    with pytest.raises(DomainError) as caught:
        parse_registry_number("000-001-234-8", field="child_number")
    error = caught.value
    assert error.code == "registry_number_invalid"
    assert error.field == "child_number"
    assert error.text("fr") == (
        "Numéro de registre invalide : le chiffre de contrôle ne correspond pas"
    )
    assert error.text("en") == "Invalid registry number: the check digit does not match"
    assert error.errors[0].as_dict("en")["code"] == "registry_number_invalid"


def test_format_validates() -> None:
    with pytest.raises(DomainError):
        format_registry_number("0000012348")


def test_message_with_braces_in_input_is_safe() -> None:
    with pytest.raises(DomainError) as caught:
        parse_registry_number("{0}{value}")
    assert "{0}{value}" in caught.value.text("en")


@settings(max_examples=100, deadline=None)
@given(serials)
def test_parse_format_round_trip(serial: int) -> None:
    number = registry_number(serial)
    shown = format_registry_number(number)
    assert parse_registry_number(shown) == number
    assert int(number[:9]) == serial


# --- phone numbers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "76 12 34 56",
        "0022376123456",
        "+223 76-12-34-56",
        "223 76123456",
        "76123456",
        "+22376123456",
        "(+223) 76.12.34.56",
        "00 223 76 12 34 56",
        " 76-12-34-56 ",
    ],
)
def test_normalise_malian_numbers(text: str) -> None:
    assert normalise_phone(text) == "+22376123456"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("66 12 34 56", "+22366123456"), ("20 22 12 34", "+22320221234"),
     ("90 12 34 56", "+22390123456")],
)
def test_normalise_other_malian_ranges(text: str, expected: str) -> None:
    assert normalise_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "7612345",  # 7 digits
        "761234567",  # 9 digits
        "+223 7612345",  # too short after +223
        "+223 761234567",  # too long after +223
        "12 34 56 78",  # not an allocated Malian range
        "076123456",  # Mali has no trunk prefix
        "76 12 34 5a",
        "+223 76 12 34 56 ext 1",
        "+",
        "00",
        "221 77 123 45 67",  # foreign without international prefix
        "+999 12345678",
        "+22376123456+",
    ],
)
def test_normalise_rejects_invalid_numbers(text: str) -> None:
    with pytest.raises(DomainError) as caught:
        normalise_phone(text)
    error = caught.value
    assert error.code == "phone_invalid"
    assert error.field == "caregiver_phone"
    assert text.strip() in error.text("fr")
    assert text.strip() in error.text("en")
    assert "+223" in error.text("fr") and "8" in error.text("en")
    assert not is_valid_phone(text)


def test_error_names_the_field() -> None:
    with pytest.raises(DomainError) as caught:
        normalise_phone("123", field="phone")
    assert caught.value.field == "phone"
    assert caught.value.errors[0].field == "phone"


def test_long_input_is_truncated_in_message() -> None:
    with pytest.raises(DomainError) as caught:
        normalise_phone("7" * 500)
    assert len(caught.value.text("en")) < 150


def test_foreign_numbers_need_a_prefix_and_can_be_refused() -> None:
    assert normalise_phone("+221 77 123 45 67") == "+221771234567"
    assert normalise_phone("00225 07 07 12 34 56") == "+2250707123456"
    with pytest.raises(DomainError):
        normalise_phone("+221 77 123 45 67", allow_foreign=False)
    assert normalise_phone("+223 76 12 34 56", allow_foreign=False) == "+22376123456"
    assert not is_valid_phone("+221 77 123 45 67", allow_foreign=False)


phone_inputs = st.one_of(
    st.text(alphabet="0123456789 +-.()", max_size=20),
    st.builds(
        lambda digits, style: style.format(digits),
        st.text(alphabet="0123456789", min_size=8, max_size=8),
        st.sampled_from(["{}", "+223{}", "00223 {}", "223{}", "+221 {}"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(phone_inputs)
def test_normalise_phone_is_idempotent(text: str) -> None:
    try:
        once = normalise_phone(text)
    except DomainError:
        return
    assert normalise_phone(once) == once
    assert once.startswith("+")
    if once.startswith("+223"):
        assert len(once) == 12 and once[1:].isdigit()
