"""Roles and what each may do (pure rules; see README "Accounts and access")."""

from __future__ import annotations

from dataclasses import dataclass

from krc.errors import PARAM_LABELS, Forbidden, Message

ROLES = ("admin", "national", "regional", "district", "facility", "vaccinator", "partner",
         "integration")

ROLE_LABELS = {
    "admin": ("Administrateur", "Administrator"),
    "national": ("Programme national", "National programme"),
    "regional": ("Direction régionale", "Regional office"),
    "district": ("Équipe cadre de district", "District health team"),
    "facility": ("Personnel de CSCom", "Health facility staff"),
    "vaccinator": ("Vaccinateur", "Vaccinator"),
    "partner": ("Partenaire (lecture seule)", "Read-only partner"),
    "integration": ("Intégration (RapidPro, WhatsApp)", "Integration (RapidPro, WhatsApp)"),
}

# Refusals name the role by its label, without the label's own brackets: "Votre rôle
# (Partenaire, lecture seule) ne permet pas…".
PARAM_LABELS["role"] = {
    code: (labels[0].replace(" (", ", ").rstrip(")"), labels[1].replace(" (", ", ").rstrip(")"))
    for code, labels in ROLE_LABELS.items()}

# Who may read personal records (children) within their org-unit subtree.
PERSONAL_READ = frozenset({"admin", "national", "regional", "district", "facility", "vaccinator"})
# Who may register children and record, correct or delete doses within their subtree.
PERSONAL_WRITE = frozenset({"admin", "district", "facility", "vaccinator"})
# Who may merge duplicate records (a correction with wide effect).
MERGE = frozenset({"admin", "district", "facility"})
# Who may record programme operations that are not personal records (stock transactions,
# cold-chain equipment and readings, outreach sessions) within their subtree.
OPERATIONS_WRITE = frozenset({"admin", "district", "facility", "vaccinator"})
# Machine accounts of RapidPro / WhatsApp webhooks: they submit field reports (stock SMS,
# device readings, delivery statuses) for units in their subtree; no personal reads.
INTEGRATION = frozenset({"integration"})
# Who may manage messaging: contacts, groups, templates, broadcasts.
MESSAGING_MANAGE = frozenset({"admin", "national", "regional", "district"})
# Who may manage users and tokens.
MANAGE_USERS = frozenset({"admin"})


@dataclass(frozen=True)
class Actor:
    """The caller of a service: who they are and the org-unit subtree they may reach."""

    user_id: int | None
    username: str
    role: str
    org_unit_id: int
    path: str  # materialised path of the user's org unit, e.g. "/a1/b2"
    language: str = "fr"

    def covers(self, path: str) -> bool:
        """Return True when an org unit with this path lies in the actor's subtree."""
        return path == self.path or path.startswith(self.path + "/")

    @property
    def can_read_personal(self) -> bool:
        """Return True when the role may read children's records."""
        return self.role in PERSONAL_READ

    @property
    def can_write_personal(self) -> bool:
        """Return True when the role may register children and record doses."""
        return self.role in PERSONAL_WRITE


def require_personal_write(actor: Actor) -> None:
    """Refuse (403) a role that may not change the register of personal records."""
    if not actor.can_write_personal:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas de modifier le registre",
            "Your role ({role}) may not change the register", {"role": actor.role}))


def require_in_scope(actor: Actor, path: str, name: str, field: str | None = None) -> None:
    """Refuse (403) an org unit (its path and name) outside the actor's subtree."""
    if not actor.covers(path):
        raise Forbidden("out_of_scope", Message(
            "{name} est hors de votre zone", "{name} is outside your area", {"name": name}),
            field=field)
