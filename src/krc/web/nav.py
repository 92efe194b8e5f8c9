"""The pages' navigation: four sections in the top bar, the open section's pages below it.

A flat bar of every page (nine or ten links for a vaccinator) wrapped onto two lines on a
laptop and filled a phone's first screen. The sections follow the programme's results as the
users meet them: vaccination (the register, the defaulters, the figures, the outreach
sessions), supply (vaccine stock, cold chain), nutrition, messages. A link a role may not
open (personal records for a partner, messaging for a vaccinator) is not shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from krc.web.i18n import N_


@dataclass(frozen=True)
class Link:
    """A page of a section: its label, address, the paths it owns and the role flag
    (`render`'s user dict) it needs, if any."""

    label: str
    href: str
    owns: tuple[str, ...]
    needs: str | None = None

    def owns_path(self, path: str) -> bool:
        """Return True when this link's page (or a page under it) is at `path`."""
        return any(path == p or (p != "/" and path.startswith(p.rstrip("/") + "/"))
                   for p in self.owns)


@dataclass(frozen=True)
class Section:
    """A section of the top bar and its pages; it opens on the first page the user may
    see."""

    label: str
    links: tuple[Link, ...]


SECTIONS = (
    Section(N_("Vaccination"), (
        Link(N_("Rechercher"), "/", ("/", "/children/"), "personal"),
        Link(N_("Enregistrer un enfant"), "/children/new", ("/children/new",), "write"),
        Link(N_("Enfants en retard"), "/immunization/defaulters",
             ("/immunization/defaulters",), "personal"),
        Link(N_("Tableau de bord"), "/immunization/dashboard", ("/immunization/dashboard",)),
        Link(N_("Districts"), "/immunization/national", ("/immunization/national",), "wide"),
        Link(N_("Séances"), "/outreach", ("/outreach",)),
    )),
    Section(N_("Stocks et froid"), (
        Link(N_("Stocks"), "/stock", ("/stock",)),
        Link(N_("Chaîne du froid"), "/coldchain", ("/coldchain",)),
    )),
    Section(N_("Nutrition"), (
        Link(N_("Tableau de bord"), "/nutrition", ("/nutrition",)),
        Link(N_("Femmes"), "/nutrition/women", ("/nutrition/women",), "personal"),
        Link(N_("Suivi de croissance"), "/nutrition/children", ("/nutrition/children",),
             "personal"),
        Link(N_("Références"), "/nutrition/referrals", ("/nutrition/referrals",), "personal"),
        Link(N_("GASPA"), "/nutrition/groups", ("/nutrition/groups",)),
        Link(N_("Micronutriments"), "/nutrition/mnp", ("/nutrition/mnp",)),
        Link(N_("ANJE"), "/nutrition/iycf", ("/nutrition/iycf",)),
    )),
    Section(N_("Messages"), (
        Link(N_("Messages"), "/messaging", ("/messaging",), "messaging"),
    )),
)


def navigation(path: str, user: dict[str, Any] | None, org_unit: str | None = None
               ) -> list[dict[str, Any]]:
    """Return the sections this user may open, each {label, href, current, links}, where
    links (shown for the current section only, when it has more than one page) are
    {label, href, current}. Labels are French msgids, translated by the template.

    The pages of the current section keep the org unit being looked at (`org_unit` of
    the page's query): a district officer reading Kati's GASPA goes on to Kati's MNP."""
    if user is None:
        return []
    keep = f"?{urlencode({'org_unit': org_unit})}" if org_unit else ""
    out: list[dict[str, Any]] = []
    for section in SECTIONS:
        links = [link for link in section.links if link.needs is None or user.get(link.needs)]
        if not links:
            continue
        # The most specific page owning the path is the current one (/nutrition/women
        # before /nutrition).
        owners = sorted((link for link in section.links if link.owns_path(path)),
                        key=lambda link: -max(len(p) for p in link.owns))
        current = owners[0] if owners else None
        out.append({"label": section.label, "href": links[0].href, "current": bool(owners),
                    "links": [{"label": link.label,
                               "href": link.href + (keep if link.href != "/" else ""),
                               "current": link is current} for link in links]
                    if owners and len(links) > 1 else []})
    return out
