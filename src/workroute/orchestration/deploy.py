"""Deploying Flow metadata: orchestrations, and the flows their steps call.

Staging reads every Flow file of the package (:func:`workroute.metadata.flow.parse_flow`)
and validates it; applying stores a version per changed Flow (see
:mod:`workroute.orchestration.versions`) and swaps the engine's registry when the deploy
transaction commits. Any problem fails the whole deploy and changes nothing.

What a deploy does with each Flow:

* ``processType`` Orchestrator: validated in full against the schema as it will be
  after the deploy (:func:`~workroute.orchestration.validate.validate_orchestration`),
  except an ``InvalidDraft`` version, which Salesforce keeps although it is not valid:
  it is checked only as far as its XML can be read, and never runs. An ``Active``
  version must also have its assignees in the org (users that exist and are active,
  groups and queues by developer name; Salesforce checks them on activation) and must
  call flows that are active, when this org knows them.
* A step whose flow is known (deployed before, or in the same package) must call the
  right kind: a screen flow (``Flow``) for an interactive step, an autolaunched flow
  for a background step, an evaluation or autolaunched flow for an evaluation. A flow
  this org does not know is accepted: it may be deployed later or be a registered
  Python callable, and a run resolves it when the step starts.
* Any other flow (screen, autolaunched, evaluation...): kept as a version with its name,
  type, status and variables, so steps resolve to it; workroute does not run it here.
* A flow of another ``processType`` with ``<orchestratedStages>`` (CMS
  ``ManagedContentAuthoringWorkflow``) is refused by the reader.

The org registers one with its own registry (``org.flows``), which the runtime reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.metadata.deploy import DeployedComponent, Staged
from workroute.metadata.flow import parse_flow
from workroute.metadata.package import Component, Package
from workroute.metadata.xmlio import ProblemLog
from workroute.orchestration.definition import FlowVersion, Orchestration, Step
from workroute.orchestration.types import Lines
from workroute.orchestration.validate import name_problem, validate_orchestration
from workroute.orchestration.values import EvaluationFlow
from workroute.orchestration.versions import (
    FlowRegistry,
    StoredVersion,
    VersionStore,
    move_status,
    read_version,
    status_after_deploy,
)
from workroute.orchestration.vocabulary import AssigneeType, FlowProcessType, FlowStatus
from workroute.workflow.deploy import _future_schema as future_schema

if TYPE_CHECKING:
    from workroute.org import Org

__all__ = ["FlowHandler"]


@dataclass(frozen=True, slots=True)
class _Item:
    model: FlowVersion
    component: Component


@dataclass(frozen=True, slots=True)
class _Known:
    """What the deploy knows of a flow a step calls."""

    process_type: str
    has_active: bool


@dataclass
class _StagedFlows:
    registry: FlowRegistry
    items: list[_Item] = field(default_factory=list)

    def apply(self, org: Org, conn: Connection) -> list[DeployedComponent]:
        store = VersionStore(org.db.system["metadata_file"])
        now = org.clock.now()
        done: list[DeployedComponent] = []
        installed: dict[str, list[FlowVersion]] = {}
        for item in self.items:
            name, c = item.model.name, item.component
            existing = store.load(conn, name)
            latest = existing[-1] if existing else None
            requested = item.model.status
            if latest is not None and _same(latest, item):
                status = status_after_deploy(latest.status, requested)
                if status is not latest.status:
                    store.set_status(conn, latest, status)
                target = replace(latest, status=status)
            else:
                target = StoredVersion(
                    name=name,
                    version=(latest.version if latest else 0) + 1,
                    status=requested,
                    path=c.path,
                    content=c.content,
                    deployed_at=now,
                )
                store.add(conn, target)
            if target.status is FlowStatus.ACTIVE:
                for v in existing:
                    if v.version != target.version and v.status is FlowStatus.ACTIVE:
                        store.set_status(conn, v, move_status(v.status, FlowStatus.OBSOLETE))
            installed[name] = [read_version(v) for v in store.load(conn, name)]
            done.append(
                DeployedComponent(type="Flow", full_name=name, file=c.path, created=not existing)
            )
        registry = self.registry

        def install() -> None:
            for flow_name, versions in installed.items():
                registry.install(flow_name, versions)

        org.db.on_commit(install)
        return done


_STATUS_RE = re.compile(rb"<status>[^<]*</status>")


def _same(latest: StoredVersion, item: _Item) -> bool:
    """Whether ``item`` deploys the definition of ``latest`` again (its status aside)."""
    new = item.model
    if isinstance(new, Orchestration):
        old = read_version(latest)
        if not isinstance(old, Orchestration):
            return False
        plain = FlowStatus.DRAFT
        return replace(old, status=plain, version=None) == replace(new, status=plain)
    # A summary keeps little of its flow: compare the files, status aside.
    before = _STATUS_RE.sub(b"", latest.content).strip()
    return before == _STATUS_RE.sub(b"", item.component.content).strip()


class FlowHandler:
    """The deploy handler of metadata type Flow (see the module docstring)."""

    types = frozenset({"Flow"})

    def __init__(self, registry: FlowRegistry | None = None) -> None:
        self.registry = registry if registry is not None else FlowRegistry()

    def registry_for(self, org: Org) -> FlowRegistry:
        """The registry, read from ``org``'s database the first time."""
        if not self.registry.loaded:
            self.registry.load(org.db)
        return self.registry

    def stage(self, org: Org, pkg: Package, log: ProblemLog) -> Staged | None:
        components = pkg.of_type("Flow")
        if not components:
            return None
        registry = self.registry_for(org)
        staged = _StagedFlows(registry)
        for c in components:
            try:
                model = parse_flow(c.content, c.path, full_name=c.full_name)
            except DeployError as exc:
                log.extend(list(exc.problems))
                continue
            staged.items.append(_Item(model, c))
        known = _known_flows(registry, staged.items)
        schema = future_schema(org, pkg)
        checks = _OrgChecks(org)
        for item in staged.items:
            model = item.model
            if (why := name_problem(model.name, "The flow name")) is not None:
                log.add(model.file, why, element="fullName", component=model.name)
                continue
            if not isinstance(model, Orchestration) or model.status is FlowStatus.INVALID_DRAFT:
                continue
            problems = validate_orchestration(model, schema=schema)
            problems += _CalledFlows(model, known).run()
            if model.status is FlowStatus.ACTIVE:
                problems += checks.assignees(model)
            log.extend(problems)
        return staged


# -- checks that need more than the file -------------------------------------------------


def _known_flows(registry: FlowRegistry, items: list[_Item]) -> dict[str, _Known]:
    known: dict[str, _Known] = {}
    for name in registry.names():
        latest = registry.latest(name)
        if latest is not None:
            known[name.lower()] = _Known(latest.process_type, registry.active(name) is not None)
    for item in items:
        m = item.model
        before = known.get(m.name.lower())
        active = m.status is FlowStatus.ACTIVE or (before is not None and before.has_active)
        known[m.name.lower()] = _Known(m.process_type, active)
    return known


def _problem(
    o: Orchestration, message: str, lines: Lines, element: str, component: str
) -> DeployProblem:
    return DeployProblem(
        file=o.file,
        line=lines.get(element) or lines.get(""),
        element=element,
        message=message,
        component=f"{o.name}.{component}",
    )


_SCREEN = FlowProcessType.FLOW.value
_AUTOLAUNCHED = FlowProcessType.AUTOLAUNCHED_FLOW.value
_EVALUATION = FlowProcessType.EVALUATION_FLOW.value


class _CalledFlows:
    """Steps and evaluations must call flows of the right kind, active ones when the
    orchestration is active (only flows this deploy knows are checked)."""

    def __init__(self, o: Orchestration, known: dict[str, _Known]) -> None:
        self.o = o
        self.known = known
        self.out: list[DeployProblem] = []

    def run(self) -> list[DeployProblem]:
        for stage in self.o.stages:
            what = f"The exit condition of stage '{stage.name}'"
            self.evaluation(stage.exit_flow, what, stage.lines, stage.name, "exit")
            for step in stage.steps:
                self.step(step)
        return self.out

    def step(self, step: Step) -> None:
        if step.is_interactive:
            what, wanted = f"Interactive step '{step.name}'", (_SCREEN,)
        else:
            what, wanted = f"Background step '{step.name}'", (_AUTOLAUNCHED,)
        self.check(step.action_name, wanted, what, step.lines, "actionName", step.name)
        for flow, prefix, when in (
            (step.entry_flow, "entry", "entry"),
            (step.exit_flow, "exit", "completion"),
        ):
            what = f"The {when} condition of step '{step.name}'"
            self.evaluation(flow, what, step.lines, step.name, prefix)

    def evaluation(
        self, flow: EvaluationFlow | None, what: str, lines: Lines, component: str, prefix: str
    ) -> None:
        if flow is not None:
            wanted = (_EVALUATION, _AUTOLAUNCHED)
            element = f"{prefix}ActionName"
            self.check(flow.name, wanted, what, flow.lines or lines, element, component)

    def check(
        self,
        name: str,
        wanted: tuple[str, ...],
        what: str,
        lines: Lines,
        element: str,
        component: str,
    ) -> None:
        k = self.known.get(name.lower())
        if k is None:
            return
        if k.process_type not in wanted:
            message = (
                f"{what} calls '{name}', which is a flow of processType {k.process_type}; "
                f"it must call a flow of processType {' or '.join(wanted)}"
            )
        elif self.o.status is FlowStatus.ACTIVE and not k.has_active:
            message = (
                f"{what} calls '{name}', which has no active version; activate it before "
                "this orchestration"
            )
        else:
            return
        self.out.append(_problem(self.o, message, lines, element, component))


class _OrgChecks:
    """Assignees of an active orchestration must exist in the org (cached per deploy)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self._users: dict[str, bool] = {}
        self._groups: dict[tuple[str, str], bool] = {}

    def _user_ok(self, username: str) -> bool:
        key = username.strip().lower()
        if key not in self._users:
            rows = self.org.store.find("User", Username=key)
            self._users[key] = bool(rows) and bool(rows[0].get("IsActive", True))
        return self._users[key]

    def _group_ok(self, name: str, kind: str) -> bool:
        key = (name.strip(), kind)
        if key not in self._groups:
            self._groups[key] = bool(self.org.store.find("Group", DeveloperName=key[0], Type=kind))
        return self._groups[key]

    def assignees(self, o: Orchestration) -> list[DeployProblem]:
        out: list[DeployProblem] = []
        for _stage, step in o.steps():
            a = step.assignee
            if not step.is_interactive or a is None or a.value is None or a.value.is_reference:
                continue
            lines = a.value.lines or a.lines or step.lines
            value = a.value.text.strip()
            if a.type is AssigneeType.USER and not self._user_ok(value):
                message = (
                    f"The assignee of step '{step.name}', user '{value}', does not exist or "
                    "is inactive"
                )
            elif a.type is AssigneeType.GROUP and not self._group_ok(value, "Regular"):
                message = f"The assignee of step '{step.name}', group '{value}', does not exist"
            elif a.type is AssigneeType.QUEUE and not self._group_ok(value, "Queue"):
                message = f"The assignee of step '{step.name}', queue '{value}', does not exist"
            else:
                continue
            out.append(_problem(o, message, lines, "assignee", step.name))
        return out
