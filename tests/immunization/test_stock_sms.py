"""The SMS stock report grammar (reference/immunization.md §4): tables and fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krc.immunization.stock import sms
from krc.immunization.stock.ledger import VACCINES

CODES = VACCINES + ("SAB", "DILBCG")


@pytest.mark.parametrize(("text", "kind", "reason", "lines"), [
    ("STK BCG 20 PENTA 30", "count", None, (("BCG", 20), ("PENTA", 30))),
    ("stock bcg=20, penta:30", "count", None, (("BCG", 20), ("PENTA", 30))),
    ("  STK,BCG,20  ", "count", None, (("BCG", 20),)),
    ("Stk\nBCG 20\nMCV 0", "count", None, (("BCG", 20), ("MCV", 0))),
    ("REÇU OPV 100", "receipt", None, (("OPV", 100),)),
    ("rec opv = 100 , ipv : 5", "receipt", None, (("OPV", 100), ("IPV", 5))),
    ("util mcv 15", "consumption", None, (("MCV", 15),)),
    ("UTL MALARIA 4 YF 10 MENA 10", "consumption", None,
     (("MALARIA", 4), ("YF", 10), ("MENA", 10))),
    ("PRT GEL PENTA 10", "loss", "frozen", (("PENTA", 10),)),
    ("PERTE PENTA 10", "loss", "other", (("PENTA", 10),)),
    ("prt périmé bcg 20", "loss", "expired", (("BCG", 20),)),
    ("PRT CASSE ROTA 1", "loss", "broken", (("ROTA", 1),)),
    ("PRT VVM OPV 20", "loss", "vvm", (("OPV", 20),)),
    ("PRT AUTRE PCV 4", "loss", "other", (("PCV", 4),)),
    ("STK SAB 100 DILBCG 40", "count", None, (("SAB", 100), ("DILBCG", 40))),
    ("STK BCG 007", "count", None, (("BCG", 7),)),
    # French names of the vaccines give the codes of reference §1
    ("STK VPO 300 VAR 40 VAA 20 VPI 10", "count", None,
     (("OPV", 300), ("MCV", 40), ("YF", 20), ("IPV", 10))),
    ("recu rr 50, pneumo 8, palu 4", "receipt", None,
     (("MCV", 50), ("PCV", 8), ("MALARIA", 4))),
])
def test_valid_reports(text: str, kind: str, reason: str | None,
                       lines: tuple[tuple[str, int], ...]) -> None:
    assert sms.parse(text, CODES) == sms.StockReport(kind, reason, lines)


@pytest.mark.parametrize(("text", "code", "fr", "en"), [
    ("", "sms_empty", "message vide", "empty message"),
    (" ,, ", "sms_empty", "message vide", "empty message"),
    ("XYZ BCG 20", "sms_keyword_unknown", "mot-clé inconnu : XYZ",
     "unknown keyword: XYZ"),
    ("STK", "sms_no_lines", "aucun produit après STK", "no product after STK"),
    ("PRT GEL", "sms_no_lines", "aucun produit après PRT", "no product after PRT"),
    ("STK PENTO 10", "sms_code_unknown", "code inconnu : PENTO ; codes valides : BCG, OPV, ",
     "unknown code: PENTO; valid codes: BCG, OPV, "),
    ("STK BCG", "sms_quantity_missing", "quantité manquante pour BCG",
     "missing quantity for BCG"),
    ("STK BCG PENTA 20", "sms_quantity_missing", "quantité manquante pour BCG",
     "missing quantity for BCG"),
    ("STK BCG -5", "sms_quantity_invalid", "quantité invalide pour BCG : -5",
     "invalid quantity for BCG: -5"),
    ("STK BCG 2.5", "sms_quantity_invalid", "quantité invalide pour BCG : 2.5",
     "invalid quantity for BCG: 2.5"),
    ("STK BCG dix", "sms_quantity_invalid", "quantité invalide pour BCG : DIX",
     "invalid quantity for BCG: DIX"),
    ("STK BCG 10 BCG 20", "sms_code_duplicate", "code en double : BCG",
     "duplicate code: BCG"),
    ("STK 20 BCG", "sms_quantity_without_code", "quantité sans code produit : 20",
     "quantity without a product code: 20"),
    ("STK BCG 2000000", "sms_quantity_too_large", "quantité trop grande pour BCG : 2000000",
     "quantity too large for BCG: 2000000"),
    ("STK GEL 10", "sms_code_unknown", "code inconnu : GEL", "unknown code: GEL"),
    ("STK " + "BCG 1 " * 400, "sms_too_long", "message trop long", "message too long"),
])
def test_errors_name_the_fault(text: str, code: str, fr: str, en: str) -> None:
    with pytest.raises(sms.ReportError) as info:
        sms.parse(text, CODES)
    assert info.value.code == code
    assert fr in info.value.text("fr"), info.value.text("fr")
    assert en in info.value.text("en"), info.value.text("en")


def test_an_alias_and_its_code_are_one_product() -> None:
    with pytest.raises(sms.ReportError) as info:
        sms.parse("STK OPV 10 VPO 5", VACCINES)
    assert info.value.text("fr") == "code en double : OPV (une seule quantité par code)"
    with pytest.raises(sms.ReportError) as info:  # an alias of an unconfigured code
        sms.parse("STK PALU 4", [c for c in VACCINES if c != "MALARIA"])
    assert "code inconnu : PALU" in info.value.text("fr")


def test_configured_codes_only() -> None:
    with pytest.raises(sms.ReportError) as info:
        sms.parse("STK SAB 100", VACCINES)
    assert "code inconnu : SAB" in info.value.text("fr")
    assert "MALARIA" in info.value.text("fr")


@pytest.mark.parametrize(("language", "lang"), [
    ("fra", "fr"), ("bam", "fr"), ("eng", "en"), ("ENG", "en"), (None, "fr"), ("", "fr"),
])
def test_sms_language(language: str | None, lang: str) -> None:
    assert sms.sms_language(language) == lang


def test_confirmation_echoes_what_was_recorded() -> None:
    rep = sms.parse("stk bcg 20 penta 30", CODES)
    assert sms.confirmation(rep, "CSCom Kati Central") == (
        "Enregistré pour CSCom Kati Central : stock compté : BCG 20, PENTA 30. Merci.")
    assert sms.confirmation(rep, "CSCom Kati Central", "en") == (
        "Recorded for CSCom Kati Central: stock count: BCG 20, PENTA 30. Thank you.")
    loss = sms.parse("PRT GEL PENTA 10", CODES)
    assert "pertes (gelé) : PENTA 10" in sms.confirmation(loss, "X")
    assert "losses (frozen): PENTA 10" in sms.confirmation(loss, "X", "en")


@settings(max_examples=400)
@given(st.text(max_size=200))
def test_no_input_crashes_and_errors_name_their_fault(text: str) -> None:
    try:
        rep = sms.parse(text, CODES)
    except sms.ReportError as exc:
        assert exc.code.startswith("sms_")
        for lang in ("fr", "en"):
            message = exc.text(lang)
            assert message
            if exc.token is not None:
                assert exc.token[:20] in message
                assert exc.token in sms.tokens(text)
    else:
        assert rep.kind in ("count", "receipt", "consumption", "loss")
        assert rep.lines and all(c in CODES and 0 <= q <= sms.MAX_QUANTITY
                                 for c, q in rep.lines)


words = st.sampled_from([*sms.KEYWORDS, *CODES, "GEL", "PENTO", "-3", "1.5", "x"]) | \
    st.integers(0, 3_000_000).map(str)
seps = st.sampled_from([" ", ",", "=", ":", " , ", "\n", "  "])


@settings(max_examples=400)
@given(st.lists(st.tuples(words, seps), min_size=0, max_size=12))
def test_structured_fuzz(parts: list[tuple[str, str]]) -> None:
    text = "".join(w + s for w, s in parts)
    try:
        rep = sms.parse(text, CODES)
    except sms.ReportError as exc:
        assert exc.text("fr") and exc.text("en")
        if exc.token is not None:
            assert exc.token[:20] in exc.text("fr")
    else:
        # a valid report re-serialises to itself
        again = " ".join([next(k for k, v in sms.KEYWORDS.items() if v == rep.kind)]
                         + [f"{c} {q}" for c, q in rep.lines])
        assert sms.parse(again, CODES).lines == rep.lines


@given(st.lists(st.tuples(st.sampled_from(CODES), st.integers(0, sms.MAX_QUANTITY)),
                min_size=1, max_size=10, unique_by=lambda x: x[0]),
       st.sampled_from(sorted(sms.KEYWORDS)), seps)
def test_well_formed_reports_parse(lines: list[tuple[str, int]], keyword: str,
                                   sep: str) -> None:
    text = keyword.lower() + sep + sep.join(f"{c}{sep}{q}" for c, q in lines)
    rep = sms.parse(text, CODES)
    assert rep.kind == sms.KEYWORDS[keyword]
    assert rep.lines == tuple(lines)
    assert rep.reason == ("other" if rep.kind == "loss" else None)
