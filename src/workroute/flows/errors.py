"""The errors of running flows, in the one hierarchy (:mod:`workroute.kernel.errors`)."""

from __future__ import annotations

from collections.abc import Mapping

from workroute.kernel.errors import FieldIntegrityError, WorkrouteError

__all__ = ["FlowRunError", "FormError"]


class FormError(FieldIntegrityError):
    """The form has errors; nothing was changed."""

    def __init__(self, field_errors: Mapping[str, str], message: str | None = None) -> None:
        self.field_errors = dict(field_errors)
        super().__init__(
            message
            or "The form has errors: "
            + "; ".join(f"{name}: {why}" for name, why in self.field_errors.items()),
            fields=list(self.field_errors),
        )


class FlowRunError(WorkrouteError):
    """The flow failed; what it did in this transaction was undone.

    ``flow`` and ``element`` say where (``element`` None: before any element ran).
    The code is the one Salesforce reports when a flow fails inside a save.
    """

    code = "CANNOT_EXECUTE_FLOW_TRIGGER"
    http_status = 400

    def __init__(self, reason: str, *, flow: str, element: str | None = None) -> None:
        self.reason = reason
        self.flow = flow
        self.element = element
        where = f"flow {flow}" + (f", element {element}" if element else "")
        super().__init__(f"{where}: {reason}")
