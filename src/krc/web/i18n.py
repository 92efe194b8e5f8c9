"""Translations for pages: French by default, English switchable (Babel .po catalogs).

Messages in templates and code are written in French (the users' language) and translated
to English through `locale/en/LC_MESSAGES/*.po` (messages.po, then one catalog per
capability), read at start-up (no build step).
"""

from __future__ import annotations

import gettext
import io
from functools import lru_cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("fr", "en")


def N_(text: str) -> str:  # noqa: N802 - the gettext marker name Babel looks for
    """Mark a French message for extraction; it is translated when rendered."""
    return text


@lru_cache
def translations(lang: str) -> gettext.NullTranslations:
    """Return the gettext translations for a language (French is the source language)."""
    if lang not in LANGUAGES or lang == "fr":
        return gettext.NullTranslations()
    folder = resources.files("krc.web").joinpath(f"locale/{lang}/LC_MESSAGES")
    merged: gettext.NullTranslations | None = None
    # messages.po first, then one catalog per capability (stock.po, coldchain.po, ...).
    for po in sorted(folder.iterdir(), key=lambda f: (f.name != "messages.po", f.name)):
        if not po.name.endswith(".po"):
            continue
        catalog = read_po(io.StringIO(po.read_text("utf-8")), locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        part = gettext.GNUTranslations(buf)
        if merged is None:
            merged = part
        else:
            merged.add_fallback(part)
    return merged or gettext.NullTranslations()


def pick_language(query: str | None, cookie: str | None, accept: str | None,
                  default: str = "fr") -> str:
    """Return the language from ?lang=, the lang cookie, Accept-Language, else the default."""
    for value in (query, cookie):
        if value in LANGUAGES:
            return value
    if accept:
        for part in accept.split(","):
            tag = part.split(";")[0].strip().lower()[:2]
            if tag in LANGUAGES:
                return tag
    return default
