"""Who receives a workflow email, and who is assigned a workflow task.

Everything is resolved against the org's records at the time the action runs:
users by username, roles and public groups by developer name (or name), queues'
email or members, role hierarchies by ParentRoleId.
"""

from __future__ import annotations

from collections.abc import Mapping

from workroute.kernel.errors import WorkrouteError
from workroute.metadata.workflow import (
    ActionEmailRecipientTypes,
    ActionTaskAssignedToTypes,
    WorkflowEmailRecipient,
)
from workroute.store.store import Store

R = ActionEmailRecipientTypes
A = ActionTaskAssignedToTypes


class WorkflowActionError(WorkrouteError):
    """A workflow action could not run (the save that triggered it fails)."""

    code = "CANNOT_EXECUTE_FLOW_TRIGGER"
    http_status = 400


class Directory:
    """Lookups of users, roles, groups and their emails, cached for one run."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._users: dict[str, Mapping[str, object] | None] = {}

    def user(self, user_id: object) -> Mapping[str, object] | None:
        if not user_id:
            return None
        key = str(user_id)
        if key not in self._users:
            rows = self.store.get_many("User", [key]) if key.startswith("005") else []
            self._users[key] = rows[0] if rows else None
        return self._users[key]

    def user_by_username(self, username: str) -> Mapping[str, object] | None:
        rows = self.store.find("User", Username=username.strip().lower())
        return rows[0] if rows else None

    def email_of_user(self, user_id: object) -> list[str]:
        u = self.user(user_id)
        return [str(u["Email"])] if u and u.get("Email") and u.get("IsActive", True) else []

    def role_id(self, name: str) -> str | None:
        for field in ("DeveloperName", "Name"):
            rows = self.store.find("UserRole", **{field: name})
            if rows:
                return str(rows[0]["Id"])
        return None

    def users_in_roles(self, role_ids: set[str]) -> list[Mapping[str, object]]:
        out: list[Mapping[str, object]] = []
        for rid in sorted(role_ids):
            out.extend(u for u in self.store.find("User", UserRoleId=rid) if u.get("IsActive"))
        return out

    def subordinate_roles(self, role_id: str) -> set[str]:
        """``role_id`` and every role below it."""
        roles = self.store.find("UserRole")
        children: dict[str, list[str]] = {}
        for r in roles:
            if r.get("ParentRoleId"):
                children.setdefault(str(r["ParentRoleId"]), []).append(str(r["Id"]))
        out, frontier = {role_id}, [role_id]
        while frontier:
            nxt = [c for r in frontier for c in children.get(r, ()) if c not in out]
            out.update(nxt)
            frontier = nxt
        return out

    def group_id(self, name: str) -> str | None:
        for field in ("DeveloperName", "Name"):
            rows = self.store.find("Group", **{field: name})
            if rows:
                return str(rows[0]["Id"])
        return None

    def group_user_ids(self, group_id: str) -> set[str]:
        """Users in a group or queue, through nested groups and roles."""
        users: set[str] = set()
        seen: set[str] = set()
        frontier = [group_id]
        while frontier:
            gid = frontier.pop()
            if gid in seen:
                continue
            seen.add(gid)
            for m in self.store.find("GroupMember", GroupId=gid):
                member = str(m["UserOrGroupId"])
                if member.startswith("005"):
                    users.add(member)
                elif member.startswith("00G"):
                    frontier.append(member)
                else:
                    users.update(str(u["Id"]) for u in self.users_in_roles({member}))
        return users

    def owner_emails(self, owner_id: object) -> list[str]:
        """A user owner's email; a queue's email, or its members' when it has none."""
        if not owner_id:
            return []
        oid = str(owner_id)
        if oid.startswith("005"):
            return self.email_of_user(oid)
        groups = self.store.get_many("Group", [oid])
        if not groups:
            return []
        if groups[0].get("Email"):
            return [str(groups[0]["Email"])]
        return [e for uid in sorted(self.group_user_ids(oid)) for e in self.email_of_user(uid)]


def recipient_emails(
    d: Directory,
    rc: WorkflowEmailRecipient,
    record: Mapping[str, object],
    parents: Mapping[str, object],
) -> list[str]:
    """The addresses one WorkflowEmailRecipient stands for, for ``record``."""
    t = rc.type
    if t is R.OWNER:
        return d.owner_emails(record.get("OwnerId"))
    if t is R.CREATOR:
        return d.email_of_user(record.get("CreatedById"))
    if t is R.USER:
        u = d.user_by_username(rc.recipient or "")
        if u is None:
            raise WorkflowActionError(f"Email recipient user '{rc.recipient}' does not exist")
        return d.email_of_user(u["Id"])
    if t is R.USER_LOOKUP:
        return d.email_of_user(record.get(_field(rc.field)))
    if t is R.EMAIL:
        value = record.get(_field(rc.field))
        return [str(value)] if value else []
    if t is R.CONTACT_LOOKUP:
        cid = record.get(_field(rc.field))
        rows = d.store.get_many("Contact", [str(cid)]) if cid else []
        return [str(rows[0]["Email"])] if rows and rows[0].get("Email") else []
    if t is R.GROUP:
        gid = d.group_id(rc.recipient or "")
        if gid is None:
            raise WorkflowActionError(f"Email recipient group '{rc.recipient}' does not exist")
        return [e for uid in sorted(d.group_user_ids(gid)) for e in d.email_of_user(uid)]
    if t in (R.ROLE, R.ROLE_SUBORDINATES, R.ROLE_SUBORDINATES_INTERNAL):
        rid = d.role_id(rc.recipient or "")
        if rid is None:
            raise WorkflowActionError(f"Email recipient role '{rc.recipient}' does not exist")
        roles = {rid} if t is R.ROLE else d.subordinate_roles(rid)
        return [str(u["Email"]) for u in d.users_in_roles(roles) if u.get("Email")]
    if t is R.ACCOUNT_OWNER:
        return d.owner_emails(_account_owner(record, parents))
    raise WorkflowActionError(f"Recipient type '{t.value}' is not supported in this org")


def task_assignee(
    d: Directory,
    kind: ActionTaskAssignedToTypes | None,
    assigned_to: str | None,
    record: Mapping[str, object],
    parents: Mapping[str, object],
    running_user: str,
) -> str:
    """The user a workflow task is assigned to."""
    if kind is None or kind is A.OWNER:
        owner = record.get("OwnerId")
        # A task cannot be owned by a queue: Salesforce gives it to the running user.
        return str(owner) if owner and str(owner).startswith("005") else running_user
    if kind is A.CREATOR:
        return str(record.get("CreatedById") or running_user)
    if kind is A.USER:
        u = d.user_by_username(assigned_to or "")
        if u is None:
            raise WorkflowActionError(f"Task assignee user '{assigned_to}' does not exist")
        return str(u["Id"])
    if kind is A.ROLE:
        rid = d.role_id(assigned_to or "")
        users = d.users_in_roles({rid}) if rid else []
        if not users:
            raise WorkflowActionError(f"Task assignee role '{assigned_to}' has no active user")
        return str(min(users, key=lambda u: str(u["CreatedDate"]))["Id"])
    if kind is A.ACCOUNT_OWNER:
        owner = _account_owner(record, parents)
        return str(owner) if owner and str(owner).startswith("005") else running_user
    if kind is A.ACCOUNT_CREATOR:
        creator = parents.get("Account.CreatedById") or record.get("CreatedById")
        return str(creator or running_user)
    raise WorkflowActionError(f"Task assignee type '{kind.value}' is not supported in this org")


def _account_owner(record: Mapping[str, object], parents: Mapping[str, object]) -> object:
    """The owner of the record's account (or of the record, when it is an account)."""
    if "Account.OwnerId" in parents:
        return parents["Account.OwnerId"]
    return record.get("OwnerId") if str(record.get("Id", "")).startswith("001") else None


def _field(path: str | None) -> str:
    return (path or "").split(".")[-1]
