"""Tests for krc.matching: folding, phonetic keys, similarity and duplicate detection."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krc.matching import (
    DUPLICATE_THRESHOLD,
    NAME_THRESHOLD,
    PHONETIC_MATCH_SCORE,
    PersonFacts,
    duplicate_score,
    fold,
    is_probable_duplicate,
    jaro_winkler,
    name_key,
    name_keys,
    name_similarity,
    reasons,
    similarity,
)

# --- fold -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Traoré", "traore"),
        ("KEÏTA", "keita"),
        ("Maïga", "maiga"),
        ("François", "francois"),
        ("Dembélé", "dembele"),
        ("N'Diaye", "n diaye"),
        ("Ag-Mohamed", "ag mohamed"),
        ("  Awa   Coulibaly  ", "awa coulibaly"),
        ("Sidibé, Fatoumata.", "sidibe fatoumata"),
        ("Aïssata (dite «Tata»)", "aissata dite tata"),
        ("Ould\u00a0Cheikh", "ould cheikh"),
        ("Kɔnɛ", "kone"),  # Bambara orthography
        ("Ɲɛlɛni", "nyeleni"),
        ("Œuvre", "oeuvre"),
        ("Straße", "strasse"),
        ("Kadi_atou", "kadi atou"),
        ("Awa 2", "awa 2"),
        ("", ""),
        ("'-.", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=30))
def test_fold_is_idempotent(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert once == once.strip()
    assert "  " not in once


# --- name_key ---------------------------------------------------------------------------------

SAME_NAME_GROUPS: list[tuple[str, ...]] = [
    ("Traoré", "Traore", "Trawore", "TRAORE"),
    ("Coulibaly", "Kulibali", "Koulibaly", "Coulibali"),
    ("Keïta", "Keita", "Keyta"),
    ("Maïga", "Maiga"),
    ("Diarra", "Djarra", "Diara"),
    ("Touré", "Toure"),
    ("Sissoko", "Sisoko"),
    ("Cissé", "Cisse", "Sisse"),
    ("Dembélé", "Dembele"),
    ("Sangaré", "Sangare"),
    ("Konaté", "Konate"),
    ("Koné", "Kone"),
    ("Sidibé", "Sidibe"),
    ("Camara", "Kamara"),
    ("Dicko", "Diko"),
    ("Diallo", "Djallo", "Jallo"),
    ("Ouattara", "Wattara"),
    ("Fatoumata", "Fatumata", "Fatoumatta"),
    ("Aminata", "Aminatta"),
    ("Mariam", "Mariame", "Maryam"),
    ("Oumar", "Umar"),
    ("Moussa", "Musa"),
    ("Mamadou", "Mamadu"),
    ("Seydou", "Seidou", "Saidu"),
    ("Ousmane", "Usman", "Ousman"),
    ("Hawa", "Awa"),
    ("Kadiatou", "Khadiatou", "Kadiatu"),
    ("Boubacar", "Boubakar", "Bubakar"),
    ("Cheick", "Cheik", "Sheik"),
    ("Mohamed", "Mohammed"),
]


@pytest.mark.parametrize(
    ("a", "b"),
    [pair for group in SAME_NAME_GROUPS for pair in itertools.combinations(group, 2)],
)
def test_variant_spellings_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)
    assert name_key(a) != ""
    assert similarity(a, b) >= PHONETIC_MATCH_SCORE


DIFFERENT_NAMES: list[tuple[str, str]] = [
    ("Traoré", "Touré"),
    ("Koné", "Konaté"),
    ("Diarra", "Diallo"),
    ("Keïta", "Kanté"),
    ("Cissé", "Sissoko"),
    ("Coulibaly", "Camara"),
    ("Sidibé", "Sissoko"),
    ("Doumbia", "Dembélé"),
    ("Togola", "Touré"),
    ("Sangaré", "Konaté"),
    ("Fatoumata", "Aminata"),
    ("Moussa", "Mamadou"),
    ("Oumar", "Ousmane"),
    ("Awa", "Adama"),
    ("Hassane", "Housseini"),
    ("Seydou", "Sékou"),
]


@pytest.mark.parametrize(("a", "b"), DIFFERENT_NAMES)
def test_different_names_have_different_keys(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_every_group_key_is_distinct_from_every_other_group() -> None:
    keys = [name_key(group[0]) for group in SAME_NAME_GROUPS]
    # no two groups of different names may collide
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize(
    ("token", "key"),
    [
        ("Traoré", "trawor"),
        ("Coulibaly", "kulibali"),
        ("Keïta", "keta"),
        ("Diarra", "jara"),
        ("Touré", "tur"),
        ("Cissé", "sis"),
        ("Sissoko", "sisoko"),
        ("Philippe", "filip"),
        ("Koné", "kon"),
        ("", ""),
        ("-", ""),
    ],
)
def test_documented_keys(token: str, key: str) -> None:
    assert name_key(token) == key


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_name_key_ignores_folding(text: str) -> None:
    assert name_key(fold(text)) == name_key(text)


latin_names = st.text(alphabet="abcdeéèëfghiïjklmnoôpqrstuüvwxyzçAÉÏKOU'- ", max_size=15)


@settings(max_examples=300, deadline=None)
@given(latin_names)
def test_name_key_is_lowercase_ascii_letters_for_latin_input(text: str) -> None:
    key = name_key(text)
    assert key == "" or (key.isascii() and key.isalpha() and key.islower())


# --- name_keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full_name", "keys"),
    [
        ("Fatoumata Traoré", ["fatumata", "trawor"]),
        ("Mamadou  Coulibaly-Diarra", ["mamadu", "kulibali", "jara"]),
        ("Ag Ahmed", ["agamed"]),
        ("Agahmed", ["agamed"]),
        ("Ag-Ahmed", ["agamed"]),
        ("Mohamed Ould Cheikh", ["moamed", "uldxek"]),
        ("Ould", ["uld"]),
        ("", []),
        ("- '", []),
    ],
)
def test_name_keys(full_name: str, keys: list[str]) -> None:
    assert name_keys(full_name) == keys


def test_particle_spellings_meet() -> None:
    assert name_keys("Ag Mohamed") == name_keys("AG MOHAMMED") == name_keys("Agmohamed")
    assert name_keys("Ould Sidi") == name_keys("Ould-Sidi")


# --- similarity -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("martha", "marhta", 0.961),
        ("dwayne", "duane", 0.84),
        ("dixon", "dicksonx", 0.813),
        ("abc", "xyz", 0.0),
        ("", "", 1.0),
        ("", "a", 0.0),
    ],
)
def test_jaro_winkler_reference_values(a: str, b: str, expected: float) -> None:
    assert jaro_winkler(a, b) == pytest.approx(expected, abs=0.001)


@pytest.mark.parametrize(
    ("a", "b", "low", "high"),
    [
        ("Traoré", "TRAORE", 1.0, 1.0),
        ("Fatoumata", "Fatimata", NAME_THRESHOLD, 1.0),
        ("Coulibaly", "Kulibali", PHONETIC_MATCH_SCORE, 1.0),
        ("Awa Traoré", "Traore Awa", PHONETIC_MATCH_SCORE, 1.0),
        ("Diarra", "Diallo", 0.0, NAME_THRESHOLD - 0.01),
        ("Keïta", "Kanté", 0.0, NAME_THRESHOLD - 0.01),
        ("Traoré", "Touré", 0.0, NAME_THRESHOLD - 0.01),
        ("Fatoumata", "Aminata", 0.0, NAME_THRESHOLD - 0.01),
        ("", "Awa", 0.0, 0.0),
    ],
)
def test_similarity_ranges(a: str, b: str, low: float, high: float) -> None:
    assert low <= similarity(a, b) <= high


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_similarity_is_bounded_and_symmetric(a: str, b: str) -> None:
    score = similarity(a, b)
    assert 0.0 <= score <= 1.0
    assert score == similarity(b, a)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=20))
def test_similarity_is_one_on_identical(a: str) -> None:
    assert similarity(a, a) == 1.0
    assert similarity(a, fold(a)) == 1.0


@settings(max_examples=200, deadline=None)
@given(latin_names, latin_names)
def test_equal_keys_score_at_least_phonetic_floor(a: str, b: str) -> None:
    if name_keys(a) and sorted(name_keys(a)) == sorted(name_keys(b)):
        assert similarity(a, b) >= PHONETIC_MATCH_SCORE


# --- duplicates -------------------------------------------------------------------------------

BIRTH = date(2024, 3, 15)

FATOUMATA = PersonFacts(
    given_name="Fatoumata",
    family_name="Coulibaly",
    birth_date=BIRTH,
    sex="F",
    caregiver_name="Awa Diarra",
    caregiver_phone="+22376123456",
    village="Kati",
)


def test_same_child_registered_twice_with_misspellings_is_duplicate() -> None:
    again = PersonFacts(
        given_name="Fatumata",
        family_name="Kulibali",
        birth_date=BIRTH + timedelta(days=10),
        sex="F",
        caregiver_name="Diarra Awa",
        caregiver_phone="76 12 34 56",
        village="KATI",
    )
    assert is_probable_duplicate(again, FATOUMATA)
    assert duplicate_score(again, FATOUMATA) >= DUPLICATE_THRESHOLD
    assert reasons(again, FATOUMATA) == [
        "name", "birth_date", "caregiver_phone", "caregiver_name", "village",
    ]


def test_twins_are_not_duplicates() -> None:
    twin = replace(FATOUMATA, given_name="Aminata")
    assert not is_probable_duplicate(twin, FATOUMATA)
    assert duplicate_score(twin, FATOUMATA) < DUPLICATE_THRESHOLD
    assert "name" not in reasons(twin, FATOUMATA)
    assert "caregiver_phone" in reasons(twin, FATOUMATA)


@pytest.mark.parametrize(
    ("first", "second"),
    [("Awa", "Adama"), ("Hassane", "Housseini"), ("Fousseyni", "Lassina"),
     ("Awa", "Adam")],
)
def test_traditional_twin_names_are_not_duplicates(first: str, second: str) -> None:
    one = replace(FATOUMATA, given_name=first)
    two = replace(FATOUMATA, given_name=second)
    assert not is_probable_duplicate(one, two)


def test_same_name_two_years_apart_is_not_duplicate() -> None:
    sibling = replace(FATOUMATA, birth_date=BIRTH - timedelta(days=730))
    assert not is_probable_duplicate(sibling, FATOUMATA)
    assert duplicate_score(sibling, FATOUMATA) < DUPLICATE_THRESHOLD
    assert "birth_date" not in reasons(sibling, FATOUMATA)


def test_swapped_given_and_family_names_still_match() -> None:
    swapped = replace(FATOUMATA, given_name="Coulibaly", family_name="Fatoumata")
    assert name_similarity(swapped, FATOUMATA) == 1.0
    assert is_probable_duplicate(swapped, FATOUMATA)


def test_a_caregiver_fact_is_required() -> None:
    stranger = replace(FATOUMATA, caregiver_name="Mariam Sangaré",
                       caregiver_phone="+22366999999", village="Ségou")
    assert not is_probable_duplicate(stranger, FATOUMATA)
    assert reasons(stranger, FATOUMATA) == ["name", "birth_date"]
    assert duplicate_score(stranger, FATOUMATA) < DUPLICATE_THRESHOLD


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"caregiver_name": None, "village": None}, "caregiver_phone"),
        ({"caregiver_phone": None, "village": None}, "caregiver_name"),
        ({"caregiver_phone": None, "caregiver_name": None}, "village"),
    ],
)
def test_any_one_caregiver_fact_is_enough(changes: dict[str, str | None], code: str) -> None:
    partial = replace(FATOUMATA, **changes)  # type: ignore[arg-type]
    assert is_probable_duplicate(partial, FATOUMATA)
    assert code in reasons(partial, FATOUMATA)


def test_missing_caregiver_facts_on_both_sides_never_match() -> None:
    bare = replace(FATOUMATA, caregiver_name=None, caregiver_phone=None, village=None)
    assert not is_probable_duplicate(bare, bare)
    assert reasons(bare, bare) == ["name", "birth_date"]
    blank = replace(bare, caregiver_name=" ", caregiver_phone="", village="-")
    assert not is_probable_duplicate(blank, blank)


def test_unparseable_phones_compare_on_their_digits() -> None:
    a = replace(FATOUMATA, caregiver_name=None, village=None, caregiver_phone="tel 12345678")
    b = replace(a, caregiver_phone="12-34-56-78")
    assert "caregiver_phone" in reasons(a, b)


def test_birth_tolerance_is_inclusive_and_configurable() -> None:
    edge = replace(FATOUMATA, birth_date=BIRTH + timedelta(days=31))
    beyond = replace(FATOUMATA, birth_date=BIRTH + timedelta(days=32))
    assert is_probable_duplicate(edge, FATOUMATA)
    assert not is_probable_duplicate(beyond, FATOUMATA)
    assert is_probable_duplicate(beyond, FATOUMATA, birth_tolerance_days=60)
    assert not is_probable_duplicate(edge, FATOUMATA, birth_tolerance_days=0)
    assert is_probable_duplicate(FATOUMATA, FATOUMATA, birth_tolerance_days=0)
    with pytest.raises(ValueError):
        duplicate_score(FATOUMATA, FATOUMATA, birth_tolerance_days=-1)


def test_scores_rank_closer_candidates_higher() -> None:
    exact = duplicate_score(FATOUMATA, FATOUMATA)
    near = duplicate_score(replace(FATOUMATA, birth_date=BIRTH + timedelta(days=10)), FATOUMATA)
    far = duplicate_score(replace(FATOUMATA, birth_date=BIRTH + timedelta(days=30)), FATOUMATA)
    assert exact == pytest.approx(1.0)
    assert exact > near > far >= DUPLICATE_THRESHOLD


def test_different_sex_lowers_score_without_veto() -> None:
    boy = replace(FATOUMATA, sex="M")
    assert is_probable_duplicate(boy, FATOUMATA)
    assert DUPLICATE_THRESHOLD <= duplicate_score(boy, FATOUMATA) < duplicate_score(
        FATOUMATA, FATOUMATA)


names = st.sampled_from(
    ["Fatoumata", "Fatumata", "Aminata", "Awa", "Moussa", "Traoré", "Coulibaly", "Kulibali",
     "Diarra", "Diallo", "Keïta", "Kanté", ""]
)
people = st.builds(
    PersonFacts,
    given_name=names,
    family_name=names,
    birth_date=st.dates(min_value=date(2018, 1, 1), max_value=date(2026, 12, 31)),
    sex=st.sampled_from(["F", "M", ""]),
    caregiver_name=st.one_of(st.none(), names),
    caregiver_phone=st.one_of(st.none(), st.sampled_from(["76123456", "+22366123456", "x"])),
    village=st.one_of(st.none(), st.sampled_from(["Kati", "Ségou", "Segou", "Sikasso"])),
)


@settings(max_examples=300, deadline=None)
@given(people, people, st.integers(min_value=0, max_value=90))
def test_score_agrees_with_rule_and_is_symmetric(
    a: PersonFacts, b: PersonFacts, tolerance: int
) -> None:
    score = duplicate_score(a, b, tolerance)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(duplicate_score(b, a, tolerance))
    assert is_probable_duplicate(a, b, tolerance) == (score >= DUPLICATE_THRESHOLD)
    assert is_probable_duplicate(a, b, tolerance) == is_probable_duplicate(b, a, tolerance)
    found = reasons(a, b, tolerance)
    assert found == reasons(b, a, tolerance)
    if is_probable_duplicate(a, b, tolerance):
        assert "name" in found and "birth_date" in found
        assert {"caregiver_phone", "caregiver_name", "village"} & set(found)
