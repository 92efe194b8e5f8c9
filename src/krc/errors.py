"""Domain errors: each carries a stable code, the field at fault and a message in fr and en.

Routes map them to RFC 9457 problem+json answers; the CLI prints one line and exits non-zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """A message in French and English, with str.format parameters.

    A parameter named in `PARAM_LABELS` (a role code, say) is shown by its label in the
    message's language: "Votre rôle (Partenaire (lecture seule))", not "(partner)"."""

    fr: str
    en: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "fr") -> str:
        """Return the message in `lang` (fr by default), parameters filled in."""
        en = lang.startswith("en")
        template = self.en if en else self.fr
        params = self.params
        if any(k in PARAM_LABELS for k in params):
            params = {k: _label(k, v, en) for k, v in params.items()}
        return template.format(**params)


# Codes shown to users by their fr/en labels, by parameter name; filled by the modules that
# own the codes (accounts.roles registers "role").
PARAM_LABELS: dict[str, Mapping[str, tuple[str, str]]] = {}


def _label(name: str, value: Any, en: bool) -> Any:
    labels = PARAM_LABELS.get(name)
    if labels is None or not isinstance(value, str) or value not in labels:
        return value
    return labels[value][1 if en else 0]


@dataclass
class FieldError:
    """One fault in one field of an input."""

    field: str
    code: str
    message: Message

    def as_dict(self, lang: str = "fr") -> dict[str, Any]:
        """Return the JSON shape used in problem+json `errors`."""
        return {"field": self.field, "code": self.code, "message": self.message.text(lang)}


class DomainError(Exception):
    """A rule of the domain refused the operation (maps to HTTP 422 by default)."""

    status = 422

    def __init__(self, code: str, message: Message, field: str | None = None,
                 errors: list[FieldError] | None = None) -> None:
        super().__init__(message.text("en"))
        self.code = code
        self.message = message
        self.field = field
        self.errors = errors or ([FieldError(field, code, message)] if field else [])

    def text(self, lang: str = "fr") -> str:
        """Return the message in the given language."""
        return self.message.text(lang)


class NotFound(DomainError):
    """The record does not exist or is outside the caller's scope (HTTP 404)."""

    status = 404


class Forbidden(DomainError):
    """The caller's role does not allow the operation (HTTP 403)."""

    status = 403


class Conflict(DomainError):
    """The operation conflicts with existing data (HTTP 409)."""

    status = 409


def invalid(field: str, code: str, fr: str, en: str, /, **params: Any) -> DomainError:
    """Return a 422 DomainError about one field."""
    return DomainError(code, Message(fr, en, params), field=field)
