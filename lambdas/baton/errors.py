"""Every error Baton reports, one hierarchy, each class with the HTTP status Conductor gives it.

The API maps an error to its answer in one place (`baton.handlers.api`), as Conductor's
ApplicationExceptionMapper does: a route, the service or a store raises the class that says
what went wrong and never picks a status itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from baton.engine.validation import FieldError


class BatonError(Exception):
    """Base of Baton's errors: `status` is the HTTP status of Conductor's error body."""

    status: int = 500
    retryable: bool = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.validation_errors: list[FieldError] = []


class BadRequest(BatonError):
    """400: the request is malformed or names something Baton cannot do with it."""

    status = 400

    def __init__(self, message: str, validation_errors: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.validation_errors = validation_errors or []


class ItemTooLarge(BadRequest):
    """400: the change would make a workflow or task larger than DynamoDB stores in an item."""


class PayloadTooLarge(BadRequest, ValueError):
    """400: an input or output is larger than Baton keeps, or nests too deep."""


class PayloadOverLimit(PayloadTooLarge):
    """413: an input or output is larger than its documented hard limit; nothing was stored."""

    status = 413


class NotFound(BatonError):
    """404: no such workflow, task, definition or handler."""

    status = 404


class AlreadyExists(BatonError):
    """409: the thing being created exists already."""

    status = 409


class Conflict(BatonError):
    """409: the request contradicts the current state (e.g. terminating a finished workflow)."""

    status = 409


class CommitContention(BatonError):
    """503: a commit kept losing races past its retry budget; the caller may try again."""

    status = 503
    retryable = True


class ApiError(BatonError):
    """An error whose status the API gives directly (a route Baton does not serve, a 404 for a
    token when keys are off); everything else raises one of the classes above."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retryable: bool = False,
        validation_errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.validation_errors = validation_errors or []


def as_baton_error(error: Exception) -> BatonError:
    """The error to answer with for any exception a route let through."""
    from baton.engine.js import ScriptError

    if isinstance(error, BatonError):
        return error
    if isinstance(error, ScriptError):
        return BadRequest(f"Script evaluation failed: {error}")
    return ApiError(500, f"Internal error: {type(error).__name__}", retryable=True)
