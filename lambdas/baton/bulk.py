"""Conductor's bulk operations: one action on each of a list of workflows, with a BulkResponse.

As Conductor's WorkflowBulkServiceImpl: each id is handled on its own, an id whose action fails
(unknown, or in a state the action refuses) is reported under `bulkErrorResults` with the
error's message, and the others go ahead. At most MAX_REQUEST_ITEMS ids per request.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from baton.errors import BadRequest, BatonError

# Conductor's WorkflowBulkService.MAX_REQUEST_ITEMS.
MAX_REQUEST_ITEMS = 1000
# Ids handled side by side: each is a few DynamoDB round trips, and 1,000 of them one after
# the other would not fit in API Gateway's 29 seconds.
PARALLEL = 16


def check_ids(ids: Any) -> list[str]:
    """The request body, a JSON array of workflow ids, within Conductor's limit."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadRequest("The request body must be a JSON array of workflow ids")
    if len(ids) > MAX_REQUEST_ITEMS:
        raise BadRequest(
            f"Cannot process more than {MAX_REQUEST_ITEMS} workflows. Please use multiple requests."
        )
    return ids


def run(ids: list[str], action: Callable[[str], Any]) -> dict[str, Any]:
    """Conductor's BulkResponse: the results of `action` on each id (its return value, or the
    id when it returns nothing), and each failure's message by id."""
    unique = list(dict.fromkeys(ids))

    def one(workflow_id: str) -> tuple[str, Any, str | None]:
        try:
            result = action(workflow_id)
        except BatonError as error:
            return workflow_id, None, error.message
        except Exception as error:  # as Conductor: any failure is that id's, not the request's
            return workflow_id, None, f"{type(error).__name__}: {error}"
        return workflow_id, workflow_id if result is None else result, None

    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(unique) or 1)) as pool:
        outcomes = list(pool.map(one, unique))
    return {
        "bulkSuccessfulResults": [result for _, result, error in outcomes if error is None],
        "bulkErrorResults": {wid: error for wid, _, error in outcomes if error is not None},
        "message": "Bulk Request has been processed.",
    }
