"""The flows an orchestration's steps call: screen, evaluation and autolaunched flows.

A deployed flow (:class:`~workroute.orchestration.definition.FlowSummary`) carries its
body (:class:`~workroute.flows.model.FlowBody`, read at deploy). The orchestration
runtime calls:

* :func:`screen_form` — an interactive step's screen flow as a form: every screen's
  fields (name, label, type, required, options, default), defaults resolved;
* :func:`submit_form` — the values an assignee submits: checked (required, types,
  options, decimal places, validation rules, unknown names; :class:`FormError` with
  every field's error and nothing changed), assigned to the screens' fields as the
  flow reaches them, the flow's other elements run; returns the outputs;
* :func:`evaluate` — an evaluation flow's ``isOrchestrationConditionMet``;
* :func:`run_autolaunched` — a background step's flow; returns its outputs, or raises
  :class:`FlowRunError` naming the failing element (its writes undone).

A callable registered in :class:`FlowCallables` under a flow's name runs instead of
that flow's body. A flow without a body (built by hand) runs no elements: its outputs
are its input and default values, and its form has no fields. Formulas run on the
formula engine (:mod:`workroute.lang.formula`); nothing is ever passed to ``eval``.
"""

from __future__ import annotations

from collections.abc import Mapping

from workroute.flows.context import (
    EmailRequest,
    FlowCallable,
    FlowCallables,
    FlowContext,
    Webhook,
    WebhookRequest,
)
from workroute.flows.errors import FlowRunError, FormError
from workroute.flows.forms import Form, FormField, FormOption, FormScreen, build_form, check_values
from workroute.flows.interview import Interview
from workroute.flows.model import FlowBody, Screen
from workroute.flows.vocabulary import CONDITION_MET
from workroute.kernel.errors import WorkrouteError
from workroute.orchestration.definition import FlowSummary
from workroute.orchestration.vocabulary import FlowDataType

__all__ = [
    "CONDITION_MET",
    "EmailRequest",
    "FlowBody",
    "FlowCallable",
    "FlowCallables",
    "FlowContext",
    "FlowRunError",
    "Form",
    "FormError",
    "FormField",
    "FormOption",
    "FormScreen",
    "Webhook",
    "WebhookRequest",
    "evaluate",
    "run_autolaunched",
    "screen_form",
    "submit_form",
]


def _callable_result(flow: FlowSummary, inputs: Mapping[str, object], ctx: FlowContext) -> object:
    fn = ctx.callables.function(flow.name) if ctx.callables is not None else None
    if fn is None:
        return _NOT_REGISTERED
    try:
        return fn(dict(inputs), ctx)
    except WorkrouteError:
        raise
    except Exception as exc:  # the callable's own failure, whatever it is
        raise FlowRunError(f"{type(exc).__name__}: {exc}", flow=flow.name) from exc


_NOT_REGISTERED = object()


def screen_form(flow: FlowSummary, inputs: Mapping[str, object], ctx: FlowContext) -> Form:
    """The form of screen flow ``flow`` started with ``inputs`` (see the module docstring
    of :mod:`workroute.flows.forms` for what it holds)."""
    return build_form(Interview(flow, ctx, inputs))


def submit_form(
    flow: FlowSummary,
    inputs: Mapping[str, object],
    values: Mapping[str, object],
    ctx: FlowContext,
) -> dict[str, object]:
    """Run screen flow ``flow`` with the submitted ``values`` (field name -> value; a
    field left out gets its default). Returns the output variables, and each input
    field's value under its name where no output variable has that name (Salesforce
    passes only output variables on; the field values let a form without assignments
    still give its step outputs). Raises :class:`FormError` before anything runs when
    a value is not valid; :class:`FlowRunError` when an element fails (nothing the
    flow did stays)."""
    iv = Interview(flow, ctx, inputs)
    form = build_form(iv)
    checked, errors = check_values(form, values)
    if not errors:
        errors = _validation_rules(iv, checked)
    if errors:
        raise FormError(errors)

    def on_screen(screen: Screen) -> None:
        for f in screen.fields:
            key = f.name.lower()
            if f.is_input:
                iv.values[key] = checked.get(key)
                _note_selected(iv, form.field(f.name), checked.get(key))
            else:
                iv.values[key] = iv.merge(f.label or "")

    with ctx.store.db.write():  # a savepoint of the caller's transaction
        iv.run(on_screen)
        outputs = iv.outputs()
        iv.send()
    for f in form.fields:
        if f.is_input and not any(k.lower() == f.name.lower() for k in outputs):
            outputs[f.name] = checked.get(f.name.lower())
    return outputs


def _note_selected(iv: Interview, f: FormField | None, value: object) -> None:
    if f is None or value is None:
        return
    chosen = str(value).split(";") if f.field_type.is_multi else [value]
    for o in f.options:
        if o.choice is not None and (o.value in chosen or str(o.value) in chosen):
            iv.selected.add(o.choice.lower())


def _validation_rules(iv: Interview, checked: Mapping[str, object]) -> dict[str, str]:
    """The screen fields whose validation rule is false for the submitted values."""
    errors: dict[str, str] = {}
    saved = dict(iv.values)
    iv.values.update(checked)
    try:
        for screen, f in iv.body.fields():
            if f.validation is None or checked.get(f.name.lower()) is None:
                continue
            iv.element = screen.name
            what = f"the validation rule of {f.name}"
            compiled = iv.compile(f.validation, FlowDataType.BOOLEAN, None, what)
            if iv.run_formula(compiled, what) is not True:
                errors[f.name] = iv.merge(f.error_message or "") or "The value is not valid."
    finally:
        iv.values = saved
        iv.element = None
    return errors


def evaluate(flow: FlowSummary, inputs: Mapping[str, object], ctx: FlowContext) -> bool:
    """Whether the condition of evaluation flow ``flow`` is met: its
    ``isOrchestrationConditionMet`` output after it ran (false unless it set it), or
    what the callable registered under its name returns (a bool, or outputs holding
    ``isOrchestrationConditionMet``). An evaluation flow cannot save records, send
    email or call webhooks."""
    result = _callable_result(flow, inputs, ctx)
    if result is not _NOT_REGISTERED:
        if isinstance(result, Mapping):
            result = next(
                (v for k, v in result.items() if k.lower() == CONDITION_MET.lower()), None
            )
        if not isinstance(result, bool) and result is not None:
            raise FlowRunError(
                f"the callable returned {type(result).__name__}; an evaluation returns a bool",
                flow=flow.name,
            )
        return bool(result)
    iv = Interview(flow, ctx, inputs, evaluation=True)
    iv.run()
    return iv.values.get(CONDITION_MET.lower()) is True


def run_autolaunched(
    flow: FlowSummary, inputs: Mapping[str, object], ctx: FlowContext
) -> dict[str, object]:
    """Run autolaunched flow ``flow`` with ``inputs``; returns its output variables (or
    what the callable registered under its name returns). Raises
    :class:`FlowRunError` when an element fails without a fault connector; what the
    flow saved is then undone (it runs in a savepoint of the caller's transaction)."""
    with ctx.store.db.write():
        result = _callable_result(flow, inputs, ctx)
        if result is not _NOT_REGISTERED:
            if result is None:
                return {}
            if not isinstance(result, Mapping):
                raise FlowRunError(
                    f"the callable returned {type(result).__name__}; a flow returns a "
                    "mapping of its outputs",
                    flow=flow.name,
                )
            return dict(result)
        iv = Interview(flow, ctx, inputs)
        iv.run()
        outputs = iv.outputs()
        iv.send()
        return outputs
