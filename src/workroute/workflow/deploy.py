"""Deploying Workflow and EmailTemplate metadata.

Staging validates every Workflow file against the schema as it will be after the
deploy (custom objects of the same package included): the file's own rules, field
paths, action references, criteria, formulas, templates and sender addresses. Applying
compiles against the live schema, and the compiled rules replace the running ones when
the deploy transaction commits (never before, so a failed deploy changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from workroute.kernel.errors import DeployError, DeployProblem
from workroute.metadata.custom_object import objects_from_package
from workroute.metadata.deploy import DeployedComponent, Staged
from workroute.metadata.email_template import EmailTemplateSpec, template_from_component
from workroute.metadata.package import Package
from workroute.metadata.workflow import (
    ActionEmailSenderType,
    Workflow,
    parse_workflow,
    validate_against_schema,
)
from workroute.metadata.xmlio import ProblemLog
from workroute.schema.registry import SchemaRegistry
from workroute.workflow.compiled import CompiledWorkflow, compile_workflow

if TYPE_CHECKING:
    from workroute.org import Org


@dataclass
class _StagedWorkflows:
    workflows: list[Workflow] = field(default_factory=list)
    templates: list[EmailTemplateSpec] = field(default_factory=list)

    def apply(self, org: Org, conn: Connection) -> list[DeployedComponent]:
        done: list[DeployedComponent] = []
        compiled: list[CompiledWorkflow] = []
        for wf in self.workflows:
            cw, problems = compile_workflow(wf, org.schema, org.store.formulas)
            if problems or cw is None:
                raise DeployError(problems)
            compiled.append(cw)
            done.append(DeployedComponent(type="Workflow", full_name=wf.full_name, file=wf.file))
        templates = list(self.templates)
        for t in templates:
            done.append(DeployedComponent(type="EmailTemplate", full_name=t.full_name, file=t.path))

        def install() -> None:
            org.workflow.install(compiled)
            for t in templates:
                org.workflow_actions.templates[t.full_name.lower()] = t

        org.db.on_commit(install)
        return done


class WorkflowHandler:
    types = frozenset({"Workflow", "EmailTemplate"})

    def stage(self, org: Org, pkg: Package, log: ProblemLog) -> Staged | None:
        staged = _StagedWorkflows()
        for c in pkg.components:
            if c.type == "EmailTemplate":
                spec = template_from_component(c, log)
                if spec is not None:
                    staged.templates.append(spec)
        for c in pkg.components:
            if c.type != "Workflow":
                continue
            try:
                staged.workflows.append(parse_workflow(c.content, c.path))
            except DeployError as exc:
                log.extend(list(exc.problems))
        if not staged.workflows and not staged.templates:
            return None
        future = _future_schema(org, pkg)
        known_templates = set(org.workflow_actions.templates) | {
            t.full_name.lower() for t in staged.templates
        }
        addresses = {
            str(r.get("Address", "")).lower() for r in org.store.find("OrgWideEmailAddress")
        }
        for wf in staged.workflows:
            problems = validate_against_schema(wf, future)
            if not problems:
                _, problems = compile_workflow(wf, future, org.store.formulas)
            log.extend(problems)
            for a in wf.alerts:
                if a.template.lower() not in known_templates:
                    log.extend(
                        [
                            _problem(
                                wf,
                                a.lines.get("template"),
                                "template",
                                a.full_name,
                                f"Email template '{a.template}' does not exist; deploy it "
                                "with the workflow (email/Folder/Name.email)",
                            )
                        ]
                    )
                if (
                    a.sender_type is ActionEmailSenderType.ORG_WIDE_EMAIL_ADDRESS
                    and (a.sender_address or "").lower() not in addresses
                ):
                    log.extend(
                        [
                            _problem(
                                wf,
                                a.lines.get("senderAddress"),
                                "senderAddress",
                                a.full_name,
                                f"'{a.sender_address}' is not an organization-wide email "
                                "address of this org",
                            )
                        ]
                    )
        return staged


def _problem(
    wf: Workflow, line: int | None, element: str, component: str, message: str
) -> DeployProblem:
    return DeployProblem(
        file=wf.file,
        line=line,
        element=element,
        component=f"{wf.full_name}.{component}",
        message=message,
    )


def _future_schema(org: Org, pkg: Package) -> SchemaRegistry:
    """The schema with the package's custom objects and fields in it (their own
    problems are reported by the CustomObject handler)."""
    future = SchemaRegistry(list(org.schema))
    taken: set[str] = set()
    for spec in objects_from_package(pkg, log=ProblemLog()):
        existing = future.find(spec.full_name)
        if existing is not None:
            future.put(spec.merge_into(existing))
        elif spec.has_definition and not spec.is_standard:
            prefix = future.next_custom_prefix(frozenset(taken))
            taken.add(prefix)
            future.put(spec.to_object_def(prefix))
    return future
