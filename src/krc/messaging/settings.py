"""Messaging settings, read from KRC_MESSAGING_*, KRC_RAPIDPRO_* and KRC_WHATSAPP_* variables.

Secrets (RapidPro token, WhatsApp token and app secret, webhook verify token) come only from
the environment; nothing here has a secret default.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class MessagingSettings(BaseSettings):
    """Reminder timing, retries and throttles (KRC_MESSAGING_<NAME>)."""

    model_config = SettingsConfigDict(env_prefix="KRC_MESSAGING_", extra="ignore")

    # Channel for people without WhatsApp: empty = rapidpro when configured, else log.
    channel: str = ""
    days_before: int = 3  # dose reminder N days before the due date
    days_after: int = 7  # missed-dose reminder M days after the due date
    catch_up_days: int = 7  # a late run still sends reminders this many days after their day
    session_days_before: int = 2  # outreach announcement this many days before the session
    caregiver_language: str = "fra"  # language of caregivers with no contact row
    require_consent: bool = False  # True: caregivers receive only after recorded consent
    max_attempts: int = 5
    backoff_seconds: int = 60  # first retry delay, doubled at each attempt
    backoff_cap_seconds: int = 6 * 3600
    stuck_minutes: int = 15  # a claim older than this is reviewed (status unknown)
    rate_log: float = 1000.0  # messages per second per channel
    rate_rapidpro: float = 10.0
    rate_whatsapp: float = 20.0


class RapidProSettings(BaseSettings):
    """RapidPro API v2 client (KRC_RAPIDPRO_URL, KRC_RAPIDPRO_TOKEN)."""

    model_config = SettingsConfigDict(env_prefix="KRC_RAPIDPRO_", extra="ignore")

    url: str = ""  # e.g. https://rapidpro.example.org
    token: str = ""
    timeout: float = 20.0

    @property
    def configured(self) -> bool:
        """Return True when the URL and token are set."""
        return bool(self.url and self.token)


class WhatsAppSettings(BaseSettings):
    """WhatsApp Cloud API client and webhook (KRC_WHATSAPP_*)."""

    model_config = SettingsConfigDict(env_prefix="KRC_WHATSAPP_", extra="ignore")

    url: str = "https://graph.facebook.com"
    version: str = "v21.0"
    phone_number_id: str = ""
    token: str = ""
    app_secret: str = ""  # verifies X-Hub-Signature-256 of webhooks
    verify_token: str = ""  # answers the GET subscription handshake
    timeout: float = 20.0

    @property
    def configured(self) -> bool:
        """Return True when the sender number and token are set."""
        return bool(self.phone_number_id and self.token)
