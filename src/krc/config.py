"""Settings read from KRC_* environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All configuration of a krc instance; every field maps to KRC_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="KRC_", extra="ignore")

    database_url: str = "sqlite:///krc.db"
    # Secret used to derive CSRF tokens; set KRC_SECRET_KEY in production.
    secret_key: str = "dev-only-change-me"
    default_language: str = "fr"
    session_hours: int = 12
    secure_cookies: bool = False
    # Login throttling: failures per username+address before a lock, and lock length.
    login_max_failures: int = 5
    login_lock_minutes: int = 15
    # Immunization parameters (reference/immunization.md; configurable values).
    grace_days: int = 28
    zero_dose_min_weeks: int = 10
    priority_districts: int = 11


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings (cached)."""
    return Settings()
