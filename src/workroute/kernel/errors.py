"""One exception hierarchy with stable codes.

Every error the engine raises derives from :class:`WorkrouteError`. ``code`` is the
Salesforce ``errorCode`` the REST layer reports and ``http_status`` its status; the
API maps them in exactly one handler. The class docstring is the default message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class WorkrouteError(Exception):
    """Something went wrong in workroute."""

    code: ClassVar[str] = "UNKNOWN_EXCEPTION"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str | None = None, *, fields: Sequence[str] = ()) -> None:
        self.message = message or (type(self).__doc__ or self.code).strip()
        self.fields = list(fields)
        super().__init__(self.message)

    def to_salesforce(self) -> dict[str, object]:
        """The error in Salesforce's REST shape (one element of the error list)."""
        return {"message": self.message, "errorCode": self.code, "fields": self.fields}


class InvalidSessionError(WorkrouteError):
    """Session expired or invalid"""

    code = "INVALID_SESSION_ID"
    http_status = 401


class AuthenticationError(WorkrouteError):
    """authentication failure"""

    code = "invalid_grant"
    http_status = 400


class InsufficientAccessError(WorkrouteError):
    """insufficient access rights on object id"""

    code = "INSUFFICIENT_ACCESS"
    http_status = 403


class NotFoundError(WorkrouteError):
    """The requested resource does not exist"""

    code = "NOT_FOUND"
    http_status = 404


class EntityIsDeletedError(WorkrouteError):
    """entity is deleted"""

    code = "ENTITY_IS_DELETED"
    http_status = 404


class InvalidTypeError(WorkrouteError):
    """sObject type is not supported"""

    code = "INVALID_TYPE"
    http_status = 404


class InvalidFieldError(WorkrouteError):
    """No such column on entity"""

    code = "INVALID_FIELD"
    http_status = 400


class MalformedQueryError(WorkrouteError):
    """The query is not valid SOQL"""

    code = "MALFORMED_QUERY"
    http_status = 400

    def __init__(
        self, message: str | None = None, *, line: int | None = None, column: int | None = None
    ) -> None:
        self.line = line
        self.column = column
        if message is not None and line is not None and column is not None:
            message = f"{message} at Row:{line}:Column:{column}"
        super().__init__(message)


class InvalidQueryFilterOperatorError(WorkrouteError):
    """invalid query filter"""

    code = "INVALID_QUERY_FILTER_OPERATOR"
    http_status = 400


class InvalidQueryLocatorError(WorkrouteError):
    """invalid query locator"""

    code = "INVALID_QUERY_LOCATOR"
    http_status = 400


class MalformedIdError(WorkrouteError):
    """malformed id"""

    code = "MALFORMED_ID"
    http_status = 400


class JsonParserError(WorkrouteError):
    """The request body is not valid JSON"""

    code = "JSON_PARSER_ERROR"
    http_status = 400


class FieldValidationError(WorkrouteError):
    """A field value is not valid."""

    code = "INVALID_FIELD_VALUE"
    http_status = 400


class RequiredFieldMissingError(FieldValidationError):
    """Required fields are missing"""

    code = "REQUIRED_FIELD_MISSING"


class StringTooLongError(FieldValidationError):
    """data value too large"""

    code = "STRING_TOO_LONG"


class RestrictedPicklistError(FieldValidationError):
    """bad value for restricted picklist field"""

    code = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


class InvalidTypeOnFieldError(FieldValidationError):
    """Value of the wrong type for the field"""

    code = "INVALID_TYPE_ON_FIELD_IN_RECORD"


class InvalidFieldForInsertUpdateError(FieldValidationError):
    """Unable to create/update fields"""

    code = "INVALID_FIELD_FOR_INSERT_UPDATE"


class InvalidCrossReferenceKeyError(FieldValidationError):
    """invalid cross reference id"""

    code = "INVALID_CROSS_REFERENCE_KEY"


class InvalidEmailAddressError(FieldValidationError):
    """invalid email address"""

    code = "INVALID_EMAIL_ADDRESS"


class InvalidNewPasswordError(FieldValidationError):
    """The new password does not meet the password policy"""

    code = "INVALID_NEW_PASSWORD"  # Salesforce's code for setPassword and /password


class NumberOutsideValidRangeError(FieldValidationError):
    """number outside valid range"""

    code = "NUMBER_OUTSIDE_VALID_RANGE"


class FieldIntegrityError(FieldValidationError):
    """a field value breaks an integrity rule"""

    code = "FIELD_INTEGRITY_EXCEPTION"


class DuplicateValueError(FieldValidationError):
    """duplicate value found"""

    code = "DUPLICATE_VALUE"


class MultipleRecordsError(WorkrouteError):
    """More than one record matches the external id"""

    code = "MULTIPLE_CHOICES"
    http_status = 300


class DeleteFailedError(WorkrouteError):
    """The record cannot be deleted"""

    code = "DELETE_FAILED"
    http_status = 400


class LimitExceededError(WorkrouteError):
    """A limit was exceeded"""

    code = "LIMIT_EXCEEDED"
    http_status = 400


class RequestTooLargeError(WorkrouteError):
    """The request is too large"""

    code = "REQUEST_TOO_LARGE"
    http_status = 413


class MetadataError(WorkrouteError):
    """Metadata is not valid."""

    code = "INVALID_METADATA"
    http_status = 400


class DeployError(WorkrouteError):
    """The deployment failed; nothing was changed."""

    code = "DEPLOY_FAILED"
    http_status = 400

    def __init__(self, problems: Sequence[DeployProblem], message: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__(
            message or "; ".join(p.describe() for p in self.problems) or "The deployment failed"
        )


class DeployProblem:
    """One located problem in a deployment: file, line, element and message."""

    __slots__ = ("component", "element", "file", "line", "message")

    def __init__(
        self,
        *,
        file: str,
        message: str,
        line: int | None = None,
        element: str | None = None,
        component: str | None = None,
    ) -> None:
        self.file = file
        self.message = message
        self.line = line
        self.element = element
        self.component = component

    def describe(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        what = f" <{self.element}>" if self.element else ""
        return f"{where}{what}: {self.message}"

    def __repr__(self) -> str:
        return f"DeployProblem({self.describe()!r})"


class ConflictError(WorkrouteError):
    """The record was changed by someone else"""

    code = "ENTITY_IS_LOCKED"
    http_status = 409


class ConfigurationError(WorkrouteError):
    """A setting (URL, flag, environment variable) is not valid."""

    code = "INVALID_CONFIGURATION"
    http_status = 400


class DeliveryError(WorkrouteError):
    """An email or outbound message could not be delivered (this attempt)."""

    code = "DELIVERY_FAILED"
    http_status = 502
