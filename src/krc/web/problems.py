"""RFC 9457 problem+json answers for domain and validation errors, in fr or en."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from krc.errors import DomainError, Message

# OpenAPI descriptions of the refusals every JSON route may answer (problem+json).
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not authenticated", **PROBLEM},
    403: {"description": "Role or scope forbids it", **PROBLEM},
    404: {"description": "Not found or outside the caller's scope", **PROBLEM},
    422: {"description": "Invalid input, field-level messages", **PROBLEM},
}

# Pydantic error types → (fr, en) messages; {ctx} fields come from the error's ctx.
PYDANTIC_MESSAGES = {
    "missing": ("Champ obligatoire", "Field required"),
    "string_too_short": ("Ne peut pas être vide", "Must not be empty"),
    "string_too_long": ("Trop long (au plus {max_length} caractères)",
                        "Too long (at most {max_length} characters)"),
    "string_pattern_mismatch": ("Valeur non acceptée", "Value not accepted"),
    "date_from_datetime_parsing": ("Date invalide (format AAAA-MM-JJ)",
                                   "Invalid date (format YYYY-MM-DD)"),
    "date_parsing": ("Date invalide (format AAAA-MM-JJ)", "Invalid date (format YYYY-MM-DD)"),
    "date_type": ("Date invalide (format AAAA-MM-JJ)", "Invalid date (format YYYY-MM-DD)"),
    "uuid_parsing": ("Identifiant UUID invalide", "Invalid UUID"),
    "uuid_type": ("Identifiant UUID invalide", "Invalid UUID"),
    "int_parsing": ("Nombre entier attendu", "Integer expected"),
    "int_type": ("Nombre entier attendu", "Integer expected"),
    "int_from_float": ("Nombre entier attendu", "Integer expected"),
    "float_parsing": ("Nombre attendu (par exemple 12,5)", "Number expected (for example 12.5)"),
    "float_type": ("Nombre attendu (par exemple 12,5)", "Number expected (for example 12.5)"),
    "finite_number": ("Nombre fini attendu", "Finite number expected"),
    "greater_than": ("Doit être supérieur à {gt}", "Must be greater than {gt}"),
    "less_than": ("Doit être inférieur à {lt}", "Must be less than {lt}"),
    "list_type": ("Liste attendue", "List expected"),
    "enum": ("Valeur invalide ; valeurs possibles : {expected}",
             "Invalid value; expected: {expected}"),
    "literal_error": ("Valeur invalide ; valeurs possibles : {expected}",
                      "Invalid value; expected: {expected}"),
    "bool_parsing": ("Valeur vrai/faux attendue", "true/false expected"),
    "bool_type": ("Valeur vrai/faux attendue", "true/false expected"),
    "string_type": ("Texte attendu", "Text expected"),
    "extra_forbidden": ("Champ inconnu", "Unknown field"),
    "greater_than_equal": ("Doit être au moins {ge}", "Must be at least {ge}"),
    "less_than_equal": ("Doit être au plus {le}", "Must be at most {le}"),
    "json_invalid": ("JSON invalide", "Invalid JSON"),
    "model_attributes_type": ("Objet JSON attendu", "JSON object expected"),
    "dict_type": ("Objet JSON attendu", "JSON object expected"),
}


def language_of(request: Request) -> str:
    """Return the language chosen for this request (set by the middleware)."""
    return str(getattr(request.state, "lang", "fr"))


def problem(status: int, code: str, title: str, detail: str | None = None,
            errors: list[dict[str, Any]] | None = None, **extra: Any) -> JSONResponse:
    """Return an RFC 9457 problem+json response."""
    body: dict[str, Any] = {"type": f"urn:krc:problem:{code}", "title": title, "status": status,
                            "code": code}
    if detail:
        body["detail"] = detail
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JSONResponse(jsonable_encoder(body), status_code=status,
                        media_type="application/problem+json")


def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render a DomainError in the caller's language."""
    assert isinstance(exc, DomainError)
    lang = language_of(request)
    extra: dict[str, Any] = {}
    candidates = getattr(exc, "candidates", None)
    if candidates is not None:
        extra["candidates"] = candidates
    return problem(exc.status, exc.code, exc.text(lang),
                   errors=[e.as_dict(lang) for e in exc.errors], **extra)


def pydantic_message(err: Mapping[str, Any]) -> Message:
    """Return the fr/en Message for one pydantic error (by its type, with its context)."""
    fr, en = PYDANTIC_MESSAGES.get(str(err.get("type", "")), ("Valeur invalide : {msg}",
                                                              "Invalid value: {msg}"))
    params = {"msg": err.get("msg", ""), **(err.get("ctx") or {})}
    try:
        fr.format(**params), en.format(**params)
    except (KeyError, IndexError):
        return Message(fr.replace("{", "(").replace("}", ")"),
                       en.replace("{", "(").replace("}", ")"))
    return Message(fr, en, params)


def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Render pydantic validation errors as field-level messages in fr or en (HTTP 422)."""
    assert isinstance(exc, RequestValidationError)
    lang = language_of(request)
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        errors.append({"field": ".".join(loc) or "body", "code": err.get("type", "invalid"),
                       "message": pydantic_message(err).text(lang)})
    title = "Invalid input" if lang == "en" else "Saisie invalide"
    return problem(422, "validation_error", title, errors=errors)
