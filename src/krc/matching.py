"""Child name search and duplicate detection, tuned for Malian names.

Names in the register are written by hand in French orthography, in Bambara orthography or
the English way (Traoré/Traore, Coulibaly/Kulibali/Koulibaly, Keïta/Keita, Maïga/Maiga,
Ousmane/Usman). Search and duplicate detection compare *folded* text (no case, no accents, no
punctuation) and *phonetic keys* (`name_key`) so these spellings meet.

Phonetic key rules (`name_key`), applied in order to one folded token, letters only:

 1. ``x`` -> ``ks``; ``ph`` -> ``f``; ``ch``/``sh``/``sch`` -> ``x`` (one "sh" sound);
    ``kh``/``gh`` -> ``k``/``g``; ``ck``/``cq``/``qu``/``q`` -> ``k``.
 2. ``c`` before ``e i y`` -> ``s``; any other ``c`` -> ``k`` (Coulibaly = Kulibali);
    ``gu`` before ``e i`` -> ``g``.
 3. ``dj`` -> ``j``; ``h`` is silent and dropped (Hawa = Awa, Mohamed = Moamed);
    ``y`` -> ``i`` (Keyta = Keita, Maryam = Mariam, Seydou = Seidou).
 4. ``di`` before a vowel -> ``j`` (Diarra = Djarra = Jara; Diakité = Djakité).
 5. ``ou`` before a vowel -> ``w`` (Ouattara = Wattara); other ``ou`` -> ``u``
    (Oumar = Umar, Moussa = Musa); ``oo`` -> ``u``.
 6. Glide: ``ao`` -> ``awo`` so that Traoré = Trawore.
 7. ``eau``/``au`` -> ``o``; ``ai``/``ei`` -> ``e`` (Seidou = Saidu, Keïta = Keita = Keta).
 8. Doubled letters collapse (Sissoko = Sisoko, Fatoumatta = Fatoumata, Diarra = Diara).
 9. A final ``e`` after a consonant is dropped when the key keeps at least 3 letters
    (Touré = Toure = Tur, Mariame = Mariam, Ousmane = Usman, Konaté = Konat).

Different names stay apart: Traoré ``trawor`` / Touré ``tur``; Koné ``kon`` / Konaté ``konat``;
Diarra ``jara`` / Diallo ``jalo``; Keïta ``keta`` / Kanté ``kant``; Cissé ``sis`` /
Sissoko ``sisok``.

Duplicate rule (`is_probable_duplicate`): the names are similar (given and family names both
similar, in either order, since the two are often swapped on forms), the birth dates are at
most `birth_tolerance_days` apart, and at least one caregiver fact agrees: same caregiver phone
number, similar caregiver name, or same village. `duplicate_score` puts every probable
duplicate in [DUPLICATE_THRESHOLD, 1] and everything else below it, graded so that candidates
can be ranked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from krc.errors import DomainError
from krc.identifiers import normalise_phone

__all__ = [
    "CAREGIVER_NAME_THRESHOLD",
    "DUPLICATE_THRESHOLD",
    "NAME_THRESHOLD",
    "PARTICLES",
    "PHONETIC_MATCH_SCORE",
    "PersonFacts",
    "duplicate_score",
    "fold",
    "is_probable_duplicate",
    "jaro_winkler",
    "name_key",
    "name_keys",
    "name_similarity",
    "reasons",
    "similarity",
]

PHONETIC_MATCH_SCORE = 0.92
"""Lowest similarity given to two names whose phonetic keys are equal."""

NAME_THRESHOLD = 0.88
"""Lowest similarity at which a given (or family) name counts as the same name."""

CAREGIVER_NAME_THRESHOLD = 0.88
"""Lowest similarity at which two caregiver names count as the same person."""

VILLAGE_THRESHOLD = PHONETIC_MATCH_SCORE
"""Lowest similarity at which two village names count as the same village."""

DUPLICATE_THRESHOLD = 0.7
"""Scores at or above this mark a probable duplicate."""

PARTICLES = frozenset({"ag", "ould", "ben", "bin", "ibn", "el", "al"})
"""Name particles joined to the following token before keying ("Ag Ahmed" = "Agahmed")."""

# Letters that Unicode does not decompose into a base letter plus marks; Bambara ɛ ɔ ɲ ŋ
# included so that names typed in Bambara orthography fold to their French spelling.
_SPECIAL_LETTERS = str.maketrans({
    "ɛ": "e", "Ɛ": "e", "ɔ": "o", "Ɔ": "o", "ɲ": "ny", "Ɲ": "ny", "ŋ": "ng", "Ŋ": "ng",
    "œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l",
    "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th", "ı": "i", "ß": "ss",
})
_NOT_WORD = re.compile(r"[\W_]+")
_VOWELS = "aeiou"


def _fold_once(text: str) -> str:
    """Return one pass of accent stripping, lowercasing and punctuation removal."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL_LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", text).split())


# Names repeat a great deal (a few thousand given and family names cover the register), and
# a search scores up to 160 candidates in both name orders: folding and keying each name
# once per process took a district search's Python time from most of it to little
# (bench_figures, district scope). Both functions are pure; the caches are bounded.
_NAME_CACHE = 1 << 16


@lru_cache(maxsize=_NAME_CACHE)
def fold(text: str) -> str:
    """Return `text` lowercased, without diacritics, punctuation turned to single spaces."""
    folded = _fold_once(text)
    # Exotic characters (compatibility forms, titlecase digraphs) may need a second pass;
    # iterate to a fixed point so that fold(fold(x)) == fold(x) always holds.
    for _ in range(4):
        again = _fold_once(folded)
        if again == folded:
            break
        folded = again
    return folded


# Ordered rewrite rules (pattern, replacement); see the module docstring for the rationale.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"x", "ks"),
        (r"ph", "f"),
        (r"sch|sh|ch", "x"),
        (r"kh", "k"),
        (r"gh", "g"),
        (r"ck|cq|qu|q", "k"),
        (r"c(?=[eiy])", "s"),
        (r"c", "k"),
        (r"gu(?=[eiy])", "g"),
        (r"dj", "j"),
        (r"h", ""),
        (r"y", "i"),
        (r"di(?=[aeiou])", "j"),
        (r"ou(?=[aeio])", "w"),
        (r"ou|oo", "u"),
        (r"ao", "awo"),
        (r"eau|au", "o"),
        (r"ai|ei", "e"),
        (r"(.)\1+", r"\1"),
    )
)


@lru_cache(maxsize=_NAME_CACHE)
def name_key(token: str) -> str:
    """Return the phonetic key of one name token (see the module docstring for the rules)."""
    key = "".join(c for c in fold(token) if c.isalpha())
    for pattern, replacement in _RULES:
        key = pattern.sub(replacement, key)
    if len(key) > 3 and key.endswith("e") and key[-2] not in _VOWELS:
        key = key[:-1]
    return key


def name_keys(full_name: str) -> list[str]:
    """Return the phonetic keys of each token of a name, particles joined to the next token."""
    keys: list[str] = []
    pending = ""
    for token in fold(full_name).split():
        if token in PARTICLES:
            pending += token
            continue
        key = name_key(pending + token)
        pending = ""
        if key:
            keys.append(key)
    if pending:
        key = name_key(pending)
        if key:
            keys.append(key)
    return keys


@lru_cache(maxsize=_NAME_CACHE)
def _sorted_keys(full_name: str) -> tuple[str, ...]:
    return tuple(sorted(name_keys(full_name)))


def jaro_winkler(a: str, b: str, prefix_scale: float = 0.1) -> float:
    """Return the Jaro–Winkler similarity of two strings as they are, in [0, 1]."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    if (len(a), a) > (len(b), b):  # fixed argument order makes the measure exactly symmetric
        a, b = b, a
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    used = [False] * len(b)
    matched_a: list[str] = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not used[j] and b[j] == char:
                used[j] = True
                matched_a.append(char)
                break
    matches = len(matched_a)
    if matches == 0:
        return 0.0
    matched_b = [b[j] for j in range(len(b)) if used[j]]
    transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) / 2
    jaro = (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return min(1.0, jaro + prefix * prefix_scale * (1.0 - jaro))


def similarity(a: str, b: str) -> float:
    """Return the similarity in [0, 1] of two names: Jaro–Winkler on folded text, raised to
    at least PHONETIC_MATCH_SCORE when their phonetic keys are equal (in any token order)."""
    fa, fb = fold(a), fold(b)
    score = jaro_winkler(fa, fb)
    if score < PHONETIC_MATCH_SCORE:
        keys_a, keys_b = _sorted_keys(fa), _sorted_keys(fb)
        if keys_a and keys_a == keys_b:
            score = PHONETIC_MATCH_SCORE
    return score


def _token_set_similarity(a: str, b: str) -> float:
    """Return the similarity of two multi-word names, ignoring word order."""
    direct = similarity(a, b)
    sorted_a = " ".join(sorted(fold(a).split()))
    sorted_b = " ".join(sorted(fold(b).split()))
    return max(direct, similarity(sorted_a, sorted_b))


@dataclass(frozen=True)
class PersonFacts:
    """What is known about a child when checking for duplicates."""

    given_name: str
    family_name: str
    birth_date: date
    sex: str
    caregiver_name: str | None = None
    caregiver_phone: str | None = None
    village: str | None = None


def name_similarity(new: PersonFacts, existing: PersonFacts) -> float:
    """Return how similar two children's names are, allowing given/family names swapped."""
    straight = min(similarity(new.given_name, existing.given_name),
                   similarity(new.family_name, existing.family_name))
    swapped = min(similarity(new.given_name, existing.family_name),
                  similarity(new.family_name, existing.given_name))
    return max(straight, swapped)


def _phone_key(text: str | None) -> str | None:
    """Return a comparable form of a phone number, or None when there is none."""
    if text is None or not text.strip():
        return None
    try:
        return normalise_phone(text)
    except DomainError:
        digits = "".join(c for c in text if c.isdigit())
        return digits[-8:] or None


def _present(text: str | None) -> bool:
    """Return True when an optional text field holds something after folding."""
    return text is not None and bool(fold(text))


@dataclass(frozen=True)
class _Facts:
    """The per-fact comparison of two children."""

    name: float
    birth_days: int
    birth_ok: bool
    phone: bool
    caregiver_name: float
    village: float
    same_sex: bool

    @property
    def name_ok(self) -> bool:
        return self.name >= NAME_THRESHOLD

    @property
    def caregiver_name_ok(self) -> bool:
        return self.caregiver_name >= CAREGIVER_NAME_THRESHOLD

    @property
    def village_ok(self) -> bool:
        return self.village >= VILLAGE_THRESHOLD

    @property
    def duplicate(self) -> bool:
        contact = self.phone or self.caregiver_name_ok or self.village_ok
        return self.name_ok and self.birth_ok and contact


def _compare(new: PersonFacts, existing: PersonFacts, birth_tolerance_days: int) -> _Facts:
    """Return the comparison of every fact used by the duplicate rule."""
    if birth_tolerance_days < 0:
        raise ValueError("birth_tolerance_days must not be negative")
    days = abs((new.birth_date - existing.birth_date).days)
    phone_new, phone_old = _phone_key(new.caregiver_phone), _phone_key(existing.caregiver_phone)
    caregiver = 0.0
    if _present(new.caregiver_name) and _present(existing.caregiver_name):
        assert new.caregiver_name is not None and existing.caregiver_name is not None
        caregiver = _token_set_similarity(new.caregiver_name, existing.caregiver_name)
    village = 0.0
    if _present(new.village) and _present(existing.village):
        assert new.village is not None and existing.village is not None
        village = similarity(new.village, existing.village)
    sex_new, sex_old = fold(new.sex), fold(existing.sex)
    return _Facts(
        name=name_similarity(new, existing),
        birth_days=days,
        birth_ok=days <= birth_tolerance_days,
        phone=phone_new is not None and phone_new == phone_old,
        caregiver_name=caregiver,
        village=village,
        same_sex=not sex_new or not sex_old or sex_new == sex_old,
    )


def duplicate_score(new: PersonFacts, existing: PersonFacts,
                    birth_tolerance_days: int = 31) -> float:
    """Return a score in [0, 1]; at or above DUPLICATE_THRESHOLD means a probable duplicate."""
    facts = _compare(new, existing, birth_tolerance_days)
    horizon = max(2 * birth_tolerance_days, 1)
    birth = 1.0 - min(facts.birth_days, horizon) / horizon
    contact = max(1.0 if facts.phone else 0.0, facts.caregiver_name,
                  1.0 if facts.village_ok else 0.5 * facts.village)
    raw = 0.5 * facts.name + 0.25 * birth + 0.25 * contact
    if not facts.same_sex:
        raw *= 0.9  # sex is often mis-ticked: it lowers the rank but does not veto
    if facts.duplicate:
        return DUPLICATE_THRESHOLD + (1.0 - DUPLICATE_THRESHOLD) * raw
    return (DUPLICATE_THRESHOLD - 0.01) * raw


def is_probable_duplicate(new: PersonFacts, existing: PersonFacts,
                          birth_tolerance_days: int = 31) -> bool:
    """Return True when `new` is probably the same child as `existing` (see module rule)."""
    return _compare(new, existing, birth_tolerance_days).duplicate


def reasons(new: PersonFacts, existing: PersonFacts, birth_tolerance_days: int = 31) -> list[str]:
    """Return the codes of the facts that match: name, birth_date, caregiver_phone,
    caregiver_name, village (in that order)."""
    facts = _compare(new, existing, birth_tolerance_days)
    found: list[str] = []
    if facts.name_ok:
        found.append("name")
    if facts.birth_ok:
        found.append("birth_date")
    if facts.phone:
        found.append("caregiver_phone")
    if facts.caregiver_name_ok:
        found.append("caregiver_name")
    if facts.village_ok:
        found.append("village")
    return found
