"""Formula errors, each with the ``errorType`` name formulon and the CLI report."""

from __future__ import annotations

from typing import ClassVar

from workroute.kernel.errors import WorkrouteError


class FormulaError(WorkrouteError):
    """The formula is not valid."""

    code = "INVALID_FORMULA"
    http_status = 400
    error_type: ClassVar[str] = "FormulaError"

    def __init__(
        self,
        message: str | None = None,
        *,
        line: int | None = None,
        column: int | None = None,
        offset: int | None = None,
    ) -> None:
        self.line = line
        self.column = column
        self.offset = offset
        super().__init__(message)

    @property
    def located(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line}, column {self.column})"


class FormulaSyntaxError(FormulaError):
    """Syntax error."""

    error_type = "SyntaxError"


class ArgumentError(FormulaError):
    """Incorrect number of parameters for a function."""

    error_type = "ArgumentError"


class WrongTypeError(FormulaError):
    """Incorrect parameter type."""

    error_type = "WrongTypeError"


class FormulaReferenceError(FormulaError):
    """Field does not exist."""

    error_type = "ReferenceError"


class NoFunctionError(FormulaError):
    """Unknown function."""

    error_type = "NoFunctionError"
