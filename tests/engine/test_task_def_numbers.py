"""A TaskDef's numbers given as text, with what str.strip() removes and int() does not."""

from baton.engine.definitions import TaskDef


def test_a_number_as_text_with_a_control_character_around_it_is_read_not_raised() -> None:
    task_def = TaskDef.from_json({"name": "t", "retryCount": "2\x1f", "timeoutSeconds": " 7 "})
    assert task_def.retry_count == 2
    assert task_def.timeout_seconds == 7
