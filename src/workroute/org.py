"""The org: workroute's one public entry object.

``Org.open(database_url=...)`` loads the schema (standard objects plus the custom
objects deployed to this database), brings the tables up to date and wires the
store, the save hooks and authentication together. Everything below the API layer
is reached from here.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from workroute.auth.principal import Permission
from workroute.auth.service import AuthService
from workroute.delivery.channels import email_channel, outbound_channel
from workroute.delivery.dispatcher import Dispatcher
from workroute.delivery.outbox import Outbox
from workroute.delivery.smtp import SmtpSettings
from workroute.kernel.clock import Clock, SystemClock
from workroute.kernel.errors import RestrictedPicklistError, WorkrouteError
from workroute.metadata.deploy import DeployHandler, default_handlers, deployed_components
from workroute.metadata.email_template import template_from_component
from workroute.metadata.retrieve import RetrieveResults
from workroute.metadata.xmlio import ProblemLog
from workroute.orchestration.deploy import FlowHandler
from workroute.orchestration.effects import WEBHOOK_KIND, FlowEffects, webhook_channel
from workroute.orchestration.runs import Orchestrator
from workroute.orchestration.versions import FlowRegistry
from workroute.orchestration.work_items import WorkItems
from workroute.routing.engine import OmniEngine
from workroute.routing.entry import install as install_routing
from workroute.schema.codec import object_from_json, object_to_json
from workroute.schema.model import ObjectDef
from workroute.schema.registry import SchemaRegistry
from workroute.schema.standard import load_standard_objects
from workroute.store.events import EventLog
from workroute.store.hooks import Hook, Hooks, Operation, SaveContext
from workroute.store.sql.database import Database
from workroute.store.store import Store
from workroute.store.timers import Timers
from workroute.streaming.pushtopic import PushTopics
from workroute.workflow.actions import EMAIL_KIND, OUTBOUND_KIND, WorkflowActions
from workroute.workflow.deploy import WorkflowHandler
from workroute.workflow.engine import WorkflowEngine

log = logging.getLogger(__name__)

ADMIN_PROFILE = "System Administrator"
STANDARD_PROFILE = "Standard User"

# Profiles every org starts with: name -> permissions.
BASE_PROFILES: dict[str, frozenset[Permission]] = {
    ADMIN_PROFILE: frozenset(Permission),
    STANDARD_PROFILE: frozenset({Permission.API_ENABLED, Permission.RUN_FLOWS}),
    "Minimum Access": frozenset(),
}


@dataclass(frozen=True, slots=True)
class NewUser:
    username: str
    last_name: str
    email: str
    profile: str = STANDARD_PROFILE
    first_name: str | None = None
    alias: str | None = None
    role_id: str | None = None
    time_zone: str = "GMT"


class Org:
    """One org in one database."""

    def __init__(self, *, db: Database, schema: SchemaRegistry, store: Store) -> None:
        self.db = db
        self.schema = schema
        self.store = store
        self.clock = store.clock
        self.hooks = store.hooks
        self.auth = AuthService(store)
        #: Deployed Flow and orchestration versions (runs keep the version they start with).
        self.flows = FlowRegistry.from_database(db)
        self.deploy_handlers: list[DeployHandler] = [
            *default_handlers(),
            WorkflowHandler(),
            FlowHandler(self.flows),
        ]
        _install_builtin_hooks(store.hooks)
        #: Where clients reach this org (outbound messages name it in their URLs).
        self.public_url = os.environ.get("WORKROUTE_PUBLIC_URL", "https://localhost:8443")
        self.smtp: SmtpSettings | None = None
        smtp_url = os.environ.get("WORKROUTE_SMTP_URL")
        if smtp_url:
            self.smtp = SmtpSettings.from_url(smtp_url)
        self.outbound_timeout = 60.0
        self.timers = Timers(db)
        self.outbox = Outbox(db)
        self.retrievals = RetrieveResults()
        self.events = EventLog(db)
        self.pushtopics = PushTopics(store, self.events)
        self.pushtopics.install(store.hooks)
        self.pushtopics.load()
        self.omni = OmniEngine(store, self.timers, self.events)
        install_routing(self.omni, store.hooks)
        self.workflow = WorkflowEngine(store, self.timers)
        self.workflow_actions = WorkflowActions(self)
        self.workflow_actions.install()
        self.outbox.channels[EMAIL_KIND] = email_channel(self)
        self.outbox.channels[OUTBOUND_KIND] = outbound_channel(self)
        self.outbox.channels[WEBHOOK_KIND] = webhook_channel(self)
        #: Python callables flows may call (register them before serving).
        self.flow_callables = _flow_callables()
        self.flow_effects = FlowEffects(self)
        self.orchestrator = Orchestrator(self)
        self.orchestrator.install()
        self.work_items = WorkItems(self.orchestrator)
        self.dispatcher = Dispatcher(clock=store.clock, timers=self.timers, outbox=self.outbox)
        db.commit_listeners.append(self.dispatcher.wake)
        self._load_automation()

    @classmethod
    def open(cls, *, database_url: str, clock: Clock | None = None) -> Org:
        db = Database(database_url)
        db.create_system_tables()
        schema = SchemaRegistry(load_standard_objects())
        custom = db.system["custom_object"]
        with db.read() as conn:
            for row in conn.execute(select(custom.c.definition)):
                stored = object_from_json(json.loads(row[0]))
                base = schema.find(stored.name)
                if base is not None and not stored.custom:
                    # Standard objects keep only their custom fields in the database, so
                    # a newer workroute's standard fields are not shadowed.
                    stored = _with_custom_fields(base, stored)
                schema.put(stored)
        db.sync_objects(list(schema))
        store = Store(db=db, schema=schema, clock=clock or SystemClock(), hooks=Hooks())
        return cls(db=db, schema=schema, store=store)

    def close(self) -> None:
        self.dispatcher.stop()
        self.db.dispose()

    def _load_automation(self) -> None:
        """Compile the deployed workflows and templates (a rule that no longer compiles
        against the schema is left out and logged)."""
        with self.db.read() as conn:
            for problem in self.workflow.load(conn, self.db.system["metadata_file"]):
                log.warning("workflow not loaded: %s", problem)
            for c in deployed_components(self, conn, "EmailTemplate"):
                spec = template_from_component(c, ProblemLog())
                if spec is not None:
                    self.workflow_actions.templates[spec.full_name.lower()] = spec

    # -- schema -----------------------------------------------------------------

    def save_object(self, obj: ObjectDef) -> ObjectDef:
        """Add or change an object definition on the live database, keeping its rows."""
        from sqlalchemy import delete

        table = self.db.system["custom_object"]
        with self.db.write() as conn:
            done = self.store.apply_object(conn, obj)
            conn.execute(delete(table).where(table.c.name == done.name))
            kept = (
                done if done.custom else done.with_fields(tuple(f for f in done.fields if f.custom))
            )
            conn.execute(
                insert(table).values(
                    name=done.name,
                    key_prefix=done.key_prefix,
                    definition=json.dumps(object_to_json(kept)),
                    deployed_at=self.clock.now(),
                )
            )
        return done

    # -- bootstrap --------------------------------------------------------------

    def is_initialized(self) -> bool:
        return self.store.count("Organization") > 0

    def organization_id(self) -> str:
        rows = self.store.find("Organization")
        if not rows:
            raise WorkrouteError("the org is not initialized; run 'workroute init'")
        return str(rows[0]["Id"])

    def initialize(
        self, *, admin_username: str, admin_password: str, org_name: str = "workroute"
    ) -> str:
        """Create the organization, its base profiles and the first admin; returns its id."""
        if self.is_initialized():
            raise WorkrouteError("this database already holds an org")
        admin_id = self.store.ids.allocate(self.schema.get("User").key_prefix, 1)[0]
        with self.db.write():
            self.store.insert(
                "Organization",
                [
                    {
                        "Name": org_name,
                        "Country": "US",
                        "TimeZoneSidKey": "GMT",
                        "DefaultLocaleSidKey": "en_US",
                        "LanguageLocaleKey": "en_US",
                    }
                ],
                user_id=admin_id,
            )
            self.store.insert(
                "Profile",
                [_profile_row(name, perms) for name, perms in BASE_PROFILES.items()],
                user_id=admin_id,
            )
            self.add_user(
                NewUser(
                    username=admin_username,
                    last_name="Admin",
                    first_name="Org",
                    email=_email_for(admin_username),
                    profile=ADMIN_PROFILE,
                ),
                password=admin_password,
                user_id=admin_id,
                acting_user_id=admin_id,
            )
        return admin_id

    def add_user(
        self,
        new: NewUser,
        *,
        password: str | None = None,
        acting_user_id: str | None = None,
        user_id: str | None = None,
    ) -> str:
        """Create a user (and set their password) in one transaction."""
        with self.db.write():
            profiles = self.store.find("Profile", Name=new.profile)
            if not profiles:
                raise WorkrouteError(f"no profile named {new.profile!r}")
            actor = acting_user_id or self.admin_user_id()
            row: dict[str, object] = {
                "Username": new.username,
                "LastName": new.last_name,
                "FirstName": new.first_name,
                "Email": new.email,
                "Alias": (new.alias or new.username.split("@")[0])[:8],
                "ProfileId": profiles[0]["Id"],
                "UserRoleId": new.role_id,
                "TimeZoneSidKey": new.time_zone,
                "LocaleSidKey": "en_US",
                "EmailEncodingKey": "UTF-8",
                "LanguageLocaleKey": "en_US",
            }
            if user_id:
                row["Id"] = user_id
            new_id = self.store.insert("User", [row], user_id=actor)[0]
            if password is not None:
                self.auth.set_password(new_id, password)
        return new_id

    def admin_user_id(self) -> str:
        profiles = self.store.find("Profile", Name=ADMIN_PROFILE)
        users = self.store.find("User", ProfileId=profiles[0]["Id"]) if profiles else []
        if not users:
            raise WorkrouteError("the org has no administrator; run 'workroute init'")
        return str(min(users, key=lambda u: str(u["CreatedDate"]))["Id"])

    def user_id_by_username(self, username: str) -> str | None:
        rows = self.store.find("User", Username=username.strip().lower())
        return str(rows[0]["Id"]) if rows else None


def _flow_callables() -> Any:
    try:
        from workroute.flows import FlowCallables
    except ImportError:  # the flow runtime is being written: no callables yet
        return None
    return FlowCallables()


def _with_custom_fields(base: ObjectDef, stored: ObjectDef) -> ObjectDef:
    fields = {f.key: f for f in base.fields}
    for f in stored.fields:
        fields[f.key] = f
    return base.with_fields(tuple(fields.values()))


def _profile_row(name: str, perms: frozenset[Permission]) -> dict[str, Any]:
    row: dict[str, Any] = {"Name": name}
    for p in Permission:
        row[p.value] = p in perms
    return row


def _email_for(username: str) -> str:
    return username if "@" in username else f"{username}@example.invalid"


def _normalize_user(ctx: SaveContext) -> None:
    """Usernames are case-insensitive: store them lower-case; keep Name in step."""
    if ctx.operation not in (Operation.INSERT, Operation.UPDATE):
        return
    for rec in ctx.new:
        username = rec.get("Username")
        if isinstance(username, str):
            rec["Username"] = username.strip().lower()
        parts = [str(rec[k]) for k in ("FirstName", "LastName") if rec.get(k)]
        rec["Name"] = " ".join(parts) or None
        if rec.get("IsActive") is None:
            rec["IsActive"] = True


def _closed_from_status(ctx: SaveContext) -> None:
    """IsClosed follows Status, as Salesforce derives it from the status's "closed"
    flag; a Case also gets ClosedDate when it closes and loses it when it reopens."""
    if ctx.operation not in (Operation.INSERT, Operation.UPDATE):
        return
    status = ctx.obj.field("Status")
    if status is None or ctx.obj.field("IsClosed") is None:
        return
    closed = {p.value.lower() for p in status.picklist if p.closed}
    has_date = ctx.obj.field("ClosedDate") is not None
    for rec, old in zip(ctx.new, ctx.old, strict=True):
        is_closed = str(rec.get("Status") or "").lower() in closed
        rec["IsClosed"] = is_closed
        if has_date:
            if not is_closed:
                rec["ClosedDate"] = None
            elif old is None or not old.get("IsClosed") or rec.get("ClosedDate") is None:
                rec["ClosedDate"] = ctx.now


def _owned_object(ctx: SaveContext, rec: dict[str, object], field: str) -> ObjectDef:
    """The object ``rec[field]`` names, which must have owners (custom objects too):
    queues and channels take any such object, so the value is checked against the
    schema rather than a fixed picklist, and stored as the schema spells it."""
    value = rec.get(field)
    obj = ctx.store.schema.find(str(value)) if isinstance(value, str) else None
    if obj is None or not obj.has_owner:
        raise RestrictedPicklistError(
            f"bad value for restricted picklist field: {value} (it must name an object "
            "that has owners)",
            fields=[field],
        )
    rec[field] = obj.name
    return obj


def _object_type_field(field: str) -> Hook:
    """QueueSobject.SobjectType, and QueueSubject.SubjectType (seed 003's name for it)."""

    def hook(ctx: SaveContext) -> None:
        if ctx.operation in (Operation.INSERT, Operation.UPDATE):
            for rec in ctx.new:
                _owned_object(ctx, rec, field)

    return hook


def _service_channel_fields(ctx: SaveContext) -> None:
    """A channel's status and secondary-priority fields are fields of its object."""
    if ctx.operation not in (Operation.INSERT, Operation.UPDATE):
        return
    for rec in ctx.new:
        obj = _owned_object(ctx, rec, "RelatedEntity")
        for name in ("StatusField", "SecRoutingPriorityField"):
            field_name = rec.get(name)
            if field_name in (None, ""):
                continue
            f = obj.field(str(field_name))
            if f is None:
                raise RestrictedPicklistError(
                    f"bad value for restricted picklist field: {field_name} (no such field "
                    f"on {obj.name})",
                    fields=[name],
                )
            rec[name] = f.name


def _install_builtin_hooks(hooks: Hooks) -> None:
    hooks.before_save("User", _normalize_user)
    hooks.before_save("QueueSobject", _object_type_field("SobjectType"))
    hooks.before_save("QueueSubject", _object_type_field("SubjectType"))
    hooks.before_save("ServiceChannel", _service_channel_fields)
    hooks.before_save("Case", _closed_from_status)
    hooks.before_save("Task", _closed_from_status)
