"""What the store reports, mapped to Conductor's HTTP statuses by the API."""

from __future__ import annotations


class StoreError(Exception):
    """Base of the store's errors."""


class NotFound(StoreError):
    """404: no such workflow, task, definition or handler."""


class AlreadyExists(StoreError):
    """409: the thing being created exists already."""


class Conflict(StoreError):
    """409: the request contradicts the current state (e.g. terminating a finished workflow)."""


class CommitContention(StoreError):
    """A commit kept losing races past its retry budget; the caller may try again later."""


class ItemTooLarge(StoreError):
    """400: the change would make a workflow or task larger than DynamoDB stores in an item."""
