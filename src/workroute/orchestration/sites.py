"""Which record page a work item email links to (seed 000, "Who Gets Email
Notifications When Work Is Assigned"; seed 001, the same table).

- Internal users, or any mix that includes one: the internal record page. Salesforce
  links to its Lightning record page (``/lightning/r/{Object}/{id}/view``), which
  workroute does not serve; its internal record page is the web console's,
  ``{public_url}/console#/record/{id}`` (the ``#/record/<id>`` route of
  ``web/static/app.js``; signing in first keeps the route).
- Credentialed Experience Cloud site visitors (users whose UserType is one of the
  external, logged-in types in :data:`SITE_VISITOR_TYPES`): the record page of the
  oldest live site (``Network`` with Status ``Live``, oldest by CreatedDate) that
  every one of them is a member of (``NetworkMember``); with none in common, the
  internal page (the seed says so, though visitors can't open it).

A site's record page is the site's base URL plus ``/s/detail/{id}``, the address of
the standard Record Detail page of Aura sites. The base URL is the org's public URL
plus the site's ``UrlPathPrefix``: workroute serves every site from the org's own
host, where Salesforce gives sites a domain of their own (``*.my.site.com``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workroute.store.store import Store

__all__ = [
    "CONSOLE_RECORD_PATH",
    "LIVE",
    "SITE_VISITOR_TYPES",
    "internal_link",
    "is_site_visitor",
    "oldest_common_site",
    "record_link",
    "site_link",
]

LIVE = "Live"
#: The console page and route of a record: ``web/static/app.js``, ROUTES.
CONSOLE_RECORD_PATH = "/console#/record/"
#: User.UserType values of external users who log in to sites (partner and customer
#: users). Standard, Chatter Free (CsnOnly), Automated Process and Guest users are not
#: credentialed site visitors.
SITE_VISITOR_TYPES = frozenset(
    {"PowerPartner", "PowerCustomerSuccess", "CustomerSuccess", "CspLitePortal"}
)

User = Mapping[str, object]


def is_site_visitor(user: User) -> bool:
    return str(user.get("UserType") or "") in SITE_VISITOR_TYPES


def internal_link(public_url: str, record_id: str | None) -> str:
    """The console's record page (module docstring)."""
    return f"{public_url.rstrip('/')}{CONSOLE_RECORD_PATH}{record_id or ''}"


def site_link(public_url: str, site: Mapping[str, object], record_id: str | None) -> str:
    prefix = str(site.get("UrlPathPrefix") or "").strip("/")
    base = public_url.rstrip("/") + (f"/{prefix}" if prefix else "")
    return f"{base}/s/detail/{record_id or ''}"


def oldest_common_site(store: Store, user_ids: Sequence[str]) -> dict[str, object] | None:
    """The oldest live site every one of ``user_ids`` is a member of, if any."""
    if not user_ids or store.schema.find("Network") is None:
        return None
    sites_of: dict[str, set[str]] = {u: set() for u in user_ids}
    for m in store.find_in("NetworkMember", "MemberId", list(user_ids)):
        sites_of.setdefault(str(m["MemberId"]), set()).add(str(m["NetworkId"]))
    common = set.intersection(*(sites_of[u] for u in user_ids))
    if not common:
        return None
    live = [n for n in store.get_many("Network", sorted(common)) if n.get("Status") == LIVE]
    if not live:
        return None
    return min(live, key=lambda n: (str(n["CreatedDate"]), str(n["Id"])))


def record_link(store: Store, public_url: str, users: Sequence[User], record_id: str | None) -> str:
    """The link for ``users`` (one assignee, or a group's or queue's members)."""
    if not users or not all(is_site_visitor(u) for u in users):
        return internal_link(public_url, record_id)
    site = oldest_common_site(store, [str(u["Id"]) for u in users])
    if site is None:
        return internal_link(public_url, record_id)
    return site_link(public_url, site, record_id)
