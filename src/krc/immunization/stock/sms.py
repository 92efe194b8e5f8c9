"""The SMS / RapidPro stock report grammar, as pure functions (reference/immunization.md §4).

`KEYWORD CODE QTY [CODE QTY ...]`, case-insensitive (accents ignored), separated by spaces,
commas, `=` or `:`. Keywords: STK/STOCK (physical count), REC/RECU (receipt), UTL/UTIL (doses
used), PRT/PERTE (loss). A loss may name its reason right after the keyword
(`PRT GEL PENTA 10`): EXP/PERIME (expired), CASSE/BRISE (broken), GEL/GELE (frozen),
VVM/PASTILLE (VVM past discard point), AUTRE (other); without a reason word the loss is
recorded as `other`. Vaccines may also be named as health workers say them in French:
VPO (OPV), VPI (IPV), VAR or RR (MCV; reference §1 "VAR"), VAA (YF; §1 "VAA"), PNEUMO or
PCV13 (PCV), PALU (MALARIA); the reply echoes the code. Every error names its fault in
the sender's language (fra, eng; bam falls back to fra), and a message with any error
records nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from krc.errors import DomainError, Message

KEYWORDS = {"STK": "count", "STOCK": "count", "REC": "receipt", "RECU": "receipt",
            "UTL": "consumption", "UTIL": "consumption", "PRT": "loss", "PERTE": "loss"}
REASON_WORDS = {
    "EXP": "expired", "PERIME": "expired", "PERIMES": "expired", "EXPIRED": "expired",
    "CASSE": "broken", "BRISE": "broken", "BROKEN": "broken",
    "GEL": "frozen", "GELE": "frozen", "FROZEN": "frozen",
    "VVM": "vvm", "PASTILLE": "vvm",
    "AUTRE": "other", "OTHER": "other",
}
# French names of the vaccines (reference §1 notes "VAR", "VAA") → the codes of §1.
CODE_ALIASES = {"VPO": "OPV", "VPI": "IPV", "VAR": "MCV", "RR": "MCV", "VAA": "YF",
                "PNEUMO": "PCV", "PCV13": "PCV", "PALU": "MALARIA"}
MAX_QUANTITY = 1_000_000
MAX_LENGTH = 1600  # characters (10 concatenated SMS)
SEPARATORS = re.compile(r"[\s,=:]+")
_QTY = re.compile(r"^[0-9]+$")

KIND_LABELS = {
    "count": ("stock compté", "stock count"), "receipt": ("réception", "receipt"),
    "consumption": ("doses utilisées", "doses used"), "loss": ("pertes", "losses"),
}
REASON_LABELS = {
    "expired": ("périmé", "expired"), "broken": ("cassé", "broken"),
    "frozen": ("gelé", "frozen"), "vvm": ("pastille PCV", "VVM"), "other": ("autre", "other"),
}


@dataclass(frozen=True)
class StockReport:
    """A parsed report: the transaction kind, the loss reason and (code, quantity) lines."""

    kind: str
    reason: str | None
    lines: tuple[tuple[str, int], ...]


class ReportError(DomainError):
    """A message that does not follow the grammar; `token` is the fault when one is."""

    def __init__(self, code: str, message: Message, token: str | None = None) -> None:
        super().__init__(code, message, field="text")
        self.token = token


def fold(text: str) -> str:
    """Return the text upper-cased without accents (REÇU → RECU, PÉRIMÉ → PERIME)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


def tokens(text: str) -> list[str]:
    """Return the words of a message (separators: whitespace, commas, `=`, `:`)."""
    return [t for t in SEPARATORS.split(fold(text).strip()) if t]


def sms_language(language: str | None) -> str:
    """Return the error/reply language of a RapidPro language code: en for eng, else fr."""
    return "en" if (language or "").lower() in ("eng", "en") else "fr"


def _shown(token: str) -> str:
    return token if len(token) <= 20 else token[:20] + "…"


def parse(text: str, codes: Sequence[str]) -> StockReport:
    """Return the stock report of an SMS, or raise ReportError naming the fault
    (reference §4 "SMS / RapidPro stock report grammar")."""
    valid = ", ".join(codes)
    fmt = "STK BCG 20 PENTA 30"
    if len(text) > MAX_LENGTH:
        raise ReportError("sms_too_long", Message(
            "message trop long ({n} caractères ; au plus {m})",
            "message too long ({n} characters; at most {m})", {"n": len(text), "m": MAX_LENGTH}))
    words = tokens(text)
    if not words:
        raise ReportError("sms_empty", Message(
            "message vide ; format : {f}", "empty message; format: {f}", {"f": fmt}))
    keyword = words[0]
    kind = KEYWORDS.get(keyword)
    if kind is None:
        raise ReportError("sms_keyword_unknown", Message(
            "mot-clé inconnu : {k} ; mots-clés valides : STK, REC, UTL, PRT (ex. {f})",
            "unknown keyword: {k}; valid keywords: STK, REC, UTL, PRT (e.g. {f})",
            {"k": _shown(keyword), "f": fmt}), token=keyword)
    rest = words[1:]
    reason: str | None = None
    if kind == "loss":
        reason = "other"
        if rest and rest[0] in REASON_WORDS:
            reason = REASON_WORDS[rest[0]]
            rest = rest[1:]
    if not rest:
        raise ReportError("sms_no_lines", Message(
            "aucun produit après {k} ; format : {f}", "no product after {k}; format: {f}",
            {"k": keyword, "f": fmt}), token=keyword)
    known = set(codes)
    rest = [CODE_ALIASES[w] if CODE_ALIASES.get(w) in known else w for w in rest]
    lines: list[tuple[str, int]] = []
    seen: set[str] = set()
    i = 0
    while i < len(rest):
        code = rest[i]
        if code not in known:
            if _QTY.match(code) or code.startswith("-"):
                raise ReportError("sms_quantity_without_code", Message(
                    "quantité sans code produit : {q} ; codes valides : {v}",
                    "quantity without a product code: {q}; valid codes: {v}",
                    {"q": _shown(code), "v": valid}), token=code)
            raise ReportError("sms_code_unknown", Message(
                "code inconnu : {c} ; codes valides : {v}", "unknown code: {c}; valid codes: {v}",
                {"c": _shown(code), "v": valid}), token=code)
        if code in seen:
            raise ReportError("sms_code_duplicate", Message(
                "code en double : {c} (une seule quantité par code)",
                "duplicate code: {c} (one quantity per code)", {"c": code}), token=code)
        seen.add(code)
        if i + 1 >= len(rest) or rest[i + 1] in known:
            raise ReportError("sms_quantity_missing", Message(
                "quantité manquante pour {c}", "missing quantity for {c}", {"c": code}),
                token=code)
        qty = rest[i + 1]
        if not _QTY.match(qty):
            raise ReportError("sms_quantity_invalid", Message(
                "quantité invalide pour {c} : {q} (nombre entier positif ou nul attendu)",
                "invalid quantity for {c}: {q} (a whole number ≥ 0 expected)",
                {"c": code, "q": _shown(qty)}), token=qty)
        value = int(qty)
        if value > MAX_QUANTITY:
            raise ReportError("sms_quantity_too_large", Message(
                "quantité trop grande pour {c} : {q} (au plus {m})",
                "quantity too large for {c}: {q} (at most {m})",
                {"c": code, "q": _shown(qty), "m": MAX_QUANTITY}), token=qty)
        lines.append((code, value))
        i += 2
    return StockReport(kind, reason, tuple(lines))


def confirmation(report: StockReport, facility: str, lang: str = "fr") -> str:
    """Return the reply echoing what was recorded, in `lang` (fr or en)."""
    fr, en = KIND_LABELS[report.kind]
    if report.reason:
        rfr, ren = REASON_LABELS[report.reason]
        fr, en = f"{fr} ({rfr})", f"{en} ({ren})"
    items = ", ".join(f"{c} {q}" for c, q in report.lines)
    if lang == "en":
        return f"Recorded for {facility}: {en}: {items}. Thank you."
    return f"Enregistré pour {facility} : {fr} : {items}. Merci."
