"""Shipped default message templates in fra, bam and eng (pure data).

Texts are short enough for one or two SMS. Bambara texts are written in the standard
orthography and must be reviewed by the programme before national use (administrators
change them as data: `PUT /api/v1/messaging/templates/{key}/{language}`). WhatsApp names
are the approved template names expected in the Meta business account; WhatsApp has no
Bambara template language, so Bambara contacts get SMS (reference/interop.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultTemplate:
    """One shipped template: key, language, text, WhatsApp name/language/parameter order."""

    key: str
    language: str
    text: str
    wa_name: str | None = None
    wa_language: str | None = None
    wa_params: tuple[str, ...] = ()


_REMINDER = ("caregiver", "child", "vaccines", "date", "facility")
_SESSION = ("date", "place", "facility")
_STOCK = ("name", "facility", "period")
_ALARM = ("facility", "device", "type", "temperature", "start")

DEFAULT_TEMPLATES: tuple[DefaultTemplate, ...] = (
    DefaultTemplate(
        "dose_reminder", "fra",
        "Bonjour {caregiver}. {child} doit recevoir ses vaccins ({vaccines}) le {date} au "
        "{facility}. Venez avec son carnet.",
        "rappel_vaccin", "fr", _REMINDER),
    DefaultTemplate(
        "dose_reminder", "bam",
        "I ni ce {caregiver}. {child} ka pikiri ({vaccines}) don ye {date} ye {facility} la. "
        "Aw ye na ni a ka karti ye."),
    DefaultTemplate(
        "dose_reminder", "eng",
        "Hello {caregiver}. {child} is due for vaccines ({vaccines}) on {date} at {facility}. "
        "Please bring the health card.",
        "vaccine_reminder", "en", _REMINDER),
    DefaultTemplate(
        "missed_dose", "fra",
        "Bonjour {caregiver}. {child} n'a pas encore reçu ses vaccins ({vaccines}) prévus le "
        "{date}. Venez au {facility} dès que possible.",
        "vaccin_manque", "fr", _REMINDER),
    DefaultTemplate(
        "missed_dose", "bam",
        "I ni ce {caregiver}. {child} ka pikiri ({vaccines}) tun ka kan ka kɛ {date}. "
        "A ma kɛ fɔlɔ. Aw ye na {facility} la joona."),
    DefaultTemplate(
        "missed_dose", "eng",
        "Hello {caregiver}. {child} has not yet received the vaccines ({vaccines}) due on "
        "{date}. Please come to {facility} as soon as possible.",
        "missed_vaccine", "en", _REMINDER),
    DefaultTemplate(
        "session_announcement", "fra",
        "Séance de vaccination le {date} à {place} ({facility}). Merci d'informer les mères "
        "et les familles.",
        "seance_vaccination", "fr", _SESSION),
    DefaultTemplate(
        "session_announcement", "bam",
        "Pikiri kɛ don: {date}, {place} ({facility}). Aw ye kunnafoni di musow ni "
        "denbaw ma."),
    DefaultTemplate(
        "session_announcement", "eng",
        "Vaccination session on {date} at {place} ({facility}). Please tell mothers and "
        "families.",
        "vaccination_session", "en", _SESSION),
    DefaultTemplate(
        "stock_report_late", "fra",
        "{name}, le rapport de stock de vaccins de {facility} pour {period} n'est pas encore "
        "arrivé. Merci de l'envoyer aujourd'hui.",
        "rapport_stock_retard", "fr", _STOCK),
    DefaultTemplate(
        "stock_report_late", "bam",
        "{name}, {facility} ka pikiri furaw jatebɔ ({period}) ma se fɔlɔ. Aw ye a ci bi."),
    DefaultTemplate(
        "stock_report_late", "eng",
        "{name}, the vaccine stock report of {facility} for {period} has not arrived yet. "
        "Please send it today.",
        "stock_report_late", "en", _STOCK),
    DefaultTemplate(
        "coldchain_alarm", "fra",
        "ALERTE chaîne du froid {facility} : {device}, alarme {type} ({temperature}) depuis "
        "{start}, {duration} min. Vérifiez les vaccins.",
        "alerte_chaine_froid", "fr", _ALARM),
    DefaultTemplate(
        "coldchain_alarm", "bam",
        "KUNNAFONI {facility}: {device} ka nɛnɛ tiɲɛna ({type}, {temperature}) kabini "
        "{start}, {duration} min. Aw ye pikiri furaw lajɛ."),
    DefaultTemplate(
        "coldchain_alarm", "eng",
        "COLD CHAIN ALARM {facility}: {device}, {type} alarm ({temperature}) since {start}, "
        "{duration} min. Check the vaccines.",
        "cold_chain_alarm", "en", _ALARM),
)
