"""Child registry numbers (Verhoeff check digit) and caregiver phone numbers.

Registry numbers
    A registry number is stored as 10 plain ASCII digits: the serial zero-padded to 9 digits
    followed by one Verhoeff check digit ("0000012347" for serial 1234). It is shown to people as
    "NNN-NNN-NNN-C". The Verhoeff scheme (dihedral group D5 with a position permutation) detects
    every single-digit substitution and every transposition of two adjacent digits, which are
    the two commonest errors when a number is copied by hand from a vaccination card.

Phone numbers
    Malian numbers are normalised to E.164, "+223" followed by 8 digits, whatever way they were
    typed ("76 12 34 56", "0022376123456", "+223 76-12-34-56", "223 76123456", "76123456").
    A number written without an international prefix is always read as Malian. A foreign number
    (a caregiver with a Senegalese or Ivorian SIM, say) is accepted only when written with an
    explicit international prefix ("+" or "00") and when `phonenumbers` says it is valid; pass
    `allow_foreign=False` to refuse it.
"""

from __future__ import annotations

import phonenumbers

from krc.errors import DomainError, invalid

SERIAL_DIGITS = 9
REGISTRY_NUMBER_LENGTH = SERIAL_DIGITS + 1
MAX_SERIAL = 10**SERIAL_DIGITS - 1

MALI_COUNTRY_CODE = 223
MALI_NATIONAL_DIGITS = 8

_DIGITS = frozenset("0123456789")
_REGISTRY_SEPARATORS = frozenset(" -\u00a0\u202f\t")
_PHONE_SEPARATORS = frozenset(" -.()/\u00a0\u202f\t")
_MAX_SHOWN = 40


# --- Verhoeff ---------------------------------------------------------------------------------
# The tables are derived, not transcribed: elements 0-4 of D5 are rotations r^k, elements 5-9
# are reflections s.r^k; _PERM_BASE is Verhoeff's position permutation, applied i times to the
# digit at position i (counted from the right, period 8).


def _d5(j: int, k: int) -> int:
    """Return the product j*k in the dihedral group D5 under Verhoeff's numbering."""
    if j < 5:
        return (j + k) % 5 if k < 5 else 5 + (j + k) % 5
    return 5 + (j - k) % 5 if k < 5 else (j - k) % 5


_PERM_BASE = (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)


def _build_perms() -> tuple[tuple[int, ...], ...]:
    """Return the 8 powers of the Verhoeff position permutation."""
    perms: list[tuple[int, ...]] = [tuple(range(10))]
    for _ in range(7):
        previous = perms[-1]
        perms.append(tuple(_PERM_BASE[previous[x]] for x in range(10)))
    return tuple(perms)


MULTIPLY: tuple[tuple[int, ...], ...] = tuple(
    tuple(_d5(j, k) for k in range(10)) for j in range(10)
)
PERMUTE: tuple[tuple[int, ...], ...] = _build_perms()
INVERSE: tuple[int, ...] = tuple(
    next(k for k in range(10) if MULTIPLY[j][k] == 0) for j in range(10)
)


def _verhoeff_state(digits: str, offset: int) -> int:
    """Return the Verhoeff accumulator over `digits`, positions shifted by `offset`."""
    check = 0
    for position, char in enumerate(reversed(digits)):
        check = MULTIPLY[check][PERMUTE[(position + offset) % 8][ord(char) - 48]]
    return check


def verhoeff_check_digit(digits: str) -> str:
    """Return the Verhoeff check digit to append to a string of ASCII digits."""
    if not digits or not set(digits) <= _DIGITS:
        raise ValueError("verhoeff_check_digit needs a non-empty string of ASCII digits")
    return str(INVERSE[_verhoeff_state(digits, 1)])


def verhoeff_is_valid(digits: str) -> bool:
    """Return True when the ASCII digits (check digit last) pass the Verhoeff check."""
    if not digits or not set(digits) <= _DIGITS:
        return False
    return _verhoeff_state(digits, 0) == 0


# --- registry numbers -------------------------------------------------------------------------


def registry_number(serial: int) -> str:
    """Return the stored registry number (9-digit serial + Verhoeff digit) for a serial."""
    if isinstance(serial, bool) or not isinstance(serial, int):
        raise TypeError("serial must be an int")
    if not 0 < serial <= MAX_SERIAL:
        raise ValueError(f"serial must be between 1 and {MAX_SERIAL}")
    body = f"{serial:0{SERIAL_DIGITS}d}"
    return body + verhoeff_check_digit(body)


def _registry_error(field: str, value: str, *, check_digit: bool) -> DomainError:
    """Return the DomainError for an unreadable or mistyped registry number."""
    shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"
    if check_digit:
        return invalid(
            field, "registry_number_invalid",
            "Numéro de registre invalide : le chiffre de contrôle ne correspond pas",
            "Invalid registry number: the check digit does not match",
            value=shown,
        )
    return invalid(
        field, "registry_number_invalid",
        "Numéro de registre invalide : « {value} » (10 chiffres attendus, ex. 000-001-234-7)",
        'Invalid registry number: "{value}" (10 digits expected, e.g. 000-001-234-7)',
        value=shown,
    )


def parse_registry_number(text: str, field: str = "registry_number") -> str:
    """Return the stored 10-digit form of a typed registry number (spaces/hyphens allowed)."""
    raw = text if isinstance(text, str) else str(text)
    digits = "".join(c for c in raw.strip() if c not in _REGISTRY_SEPARATORS)
    if len(digits) != REGISTRY_NUMBER_LENGTH or not set(digits) <= _DIGITS:
        raise _registry_error(field, raw.strip(), check_digit=False)
    if not verhoeff_is_valid(digits):
        raise _registry_error(field, raw.strip(), check_digit=True)
    return digits


def is_valid_registry_number(text: str) -> bool:
    """Return True when `text` parses as a registry number with a correct check digit."""
    try:
        parse_registry_number(text)
    except DomainError:
        return False
    return True


def format_registry_number(number: str) -> str:
    """Return a registry number in display form "NNN-NNN-NNN-C" (validating it first)."""
    digits = parse_registry_number(number)
    return f"{digits[0:3]}-{digits[3:6]}-{digits[6:9]}-{digits[9]}"


# --- phone numbers ----------------------------------------------------------------------------


def _phone_error(field: str, value: str) -> DomainError:
    """Return the DomainError for a phone number that is not a valid Malian number."""
    shown = value if len(value) <= _MAX_SHOWN else value[:_MAX_SHOWN] + "…"
    return invalid(
        field, "phone_invalid",
        "Numéro de téléphone invalide : « {value} » (attendu : +223 suivi de 8 chiffres)",
        'Invalid phone number: "{value}" (expected +223 followed by 8 digits)',
        value=shown,
    )


def _e164(number: phonenumbers.PhoneNumber) -> str:
    """Return a parsed number in E.164 form."""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(text: str, field: str = "caregiver_phone", *,
                    allow_foreign: bool = True) -> str:
    """Return the E.164 form (+223 and 8 digits) of a phone number, or raise phone_invalid."""
    raw = (text if isinstance(text, str) else str(text)).strip()
    compact = "".join(c for c in raw if c not in _PHONE_SEPARATORS)
    international = False
    if compact.startswith("+"):
        international, compact = True, compact[1:]
    elif compact.startswith("00"):
        international, compact = True, compact[2:]
    if not compact or len(compact) > 15 or not set(compact) <= _DIGITS:
        raise _phone_error(field, raw)
    if international:
        candidate = "+" + compact
    elif len(compact) == MALI_NATIONAL_DIGITS:
        candidate = f"+{MALI_COUNTRY_CODE}{compact}"
    elif len(compact) == MALI_NATIONAL_DIGITS + 3 and compact.startswith(str(MALI_COUNTRY_CODE)):
        candidate = "+" + compact
    else:
        raise _phone_error(field, raw)
    try:
        number = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        raise _phone_error(field, raw) from None
    if not phonenumbers.is_valid_number(number):
        raise _phone_error(field, raw)
    if number.country_code == MALI_COUNTRY_CODE:
        if len(str(number.national_number)) != MALI_NATIONAL_DIGITS or number.italian_leading_zero:
            raise _phone_error(field, raw)
    elif not allow_foreign:
        raise _phone_error(field, raw)
    return _e164(number)


def is_valid_phone(text: str, *, allow_foreign: bool = True) -> bool:
    """Return True when `text` normalises to a valid phone number."""
    try:
        normalise_phone(text, allow_foreign=allow_foreign)
    except DomainError:
        return False
    return True
