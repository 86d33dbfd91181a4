"""The fan-in benchmark's decider harness reads a batch's outcome as Lambda does."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from bench.fan_in import failed_records

RECORDS = [{"messageId": "a"}, {"messageId": "b"}]


def test_a_batch_whose_every_record_failed_is_left_on_the_queue_whole() -> None:
    def every_record_fails(_event: dict[str, Any], _context: Any) -> Any:
        raise BatchProcessingError("All records failed processing.", [])

    assert failed_records(every_record_fails, RECORDS, None) == {"a", "b"}


def test_a_partial_batch_response_leaves_only_its_failures() -> None:
    def second_fails(_event: dict[str, Any], _context: Any) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": "b"}]}

    assert failed_records(second_fails, RECORDS, None) == {"b"}
