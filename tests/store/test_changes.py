"""The workflow item's log of changes and what a reader that kept an older revision reads."""

from __future__ import annotations

from baton.engine.state import task_id_for, workflow_task_prefix
from baton.store import changes
from baton.store.changes import ItemHead, LoadedWorkflow, LogEntry, StoredTask

WORKFLOW = "wf-1"
PREFIX = workflow_task_prefix(WORKFLOW)


def task_id(reference: str) -> str:
    return task_id_for(WORKFLOW, reference, 0)


def stored(reference: str, attempt: str = "a1", *, pending: bool = False) -> StoredTask:
    tid = task_id(reference)
    return StoredTask(tid, f"{tid}#{attempt}", "{}", 1, 1, pending, None)


def kept(*tasks: StoredTask, revision: int = 1) -> LoadedWorkflow:
    return LoadedWorkflow(revision, 0, frozenset({"a1"}), (), {t.store_key: t for t in tasks})


def head(
    revision: int, *log: LogEntry, staged: frozenset[str] = frozenset({"a1", "a2"})
) -> ItemHead:
    return ItemHead(revision, 0, staged, tuple(log))


def test_the_log_round_trips_with_ids_of_the_workflows_form_shortened() -> None:
    log = (
        LogEntry(3, "a2", (task_id("x"),), (task_id("y"), "some-other-id")),
        LogEntry(4, known=False),
    )
    text = changes.encode(log, PREFIX)
    assert changes.decode(text, PREFIX) == log
    assert task_id("x") not in text and task_id("x")[14:] in text
    assert changes.decode("not json", PREFIX) == ()
    assert changes.decode(None, PREFIX) == ()


def test_the_log_keeps_its_latest_entries_within_its_limits() -> None:
    log: changes.Log = ()
    for revision in range(1, changes.LOG_REVISIONS + 5):
        log = changes.next_log(
            log, LogEntry(revision, None, (), (task_id("a"),)), changes.LOG_TASK_IDS
        )
    assert [e.revision for e in log][-1] == changes.LOG_REVISIONS + 4
    assert len(log) == changes.LOG_REVISIONS
    wide = tuple(task_id(f"t{i}") for i in range(changes.LOG_TASK_IDS + 1))
    (entry,) = changes.next_log((), LogEntry(1, "a1", wide), changes.LOG_TASK_IDS)
    assert not entry.known
    # Many ids in the latest entries push the older ones out.
    log = changes.next_log(
        log, LogEntry(99, "a1", wide[: changes.LOG_TASK_IDS]), changes.LOG_TASK_IDS
    )
    assert [e.revision for e in log] == [99]


def test_a_small_workflow_logs_no_task_ids_and_a_wide_one_at_most_the_limit() -> None:
    assert changes.log_capacity(9) == 0
    assert changes.log_capacity(250) == 25
    assert changes.log_capacity(100_000) == changes.LOG_TASK_IDS
    (entry,) = changes.next_log((), LogEntry(3, None, (), (task_id("a"),)), 0)
    assert not entry.known
    (entry,) = changes.next_log((), LogEntry(3), 0)
    assert entry.known  # a commit of the workflow item alone reads nothing


def test_a_reader_reads_what_the_log_names_since_its_revision_and_what_it_is_asked() -> None:
    a, b = stored("a"), stored("b")
    log = (LogEntry(2, "a2", (task_id("c"),), (task_id("a"),)),)
    keys = changes.keys_to_read(kept(a, b), head(2, *log), [task_id("b")])
    assert keys == {a.store_key, b.store_key, f"{task_id('c')}#a2"}
    # Up to date: only what it is asked, and any task still owing a message.
    owing = stored("d", pending=True)
    assert changes.keys_to_read(kept(a, owing), head(1), []) == {owing.store_key}


def test_a_reader_reads_every_task_when_the_log_does_not_tell() -> None:
    a = stored("a")
    assert changes.keys_to_read(kept(a), head(3, LogEntry(3, None, (), ())), []) is None
    assert changes.keys_to_read(kept(a), head(2, LogEntry(2, known=False)), []) is None
    # A changed task it never knew, a new task of an attempt that did not land, an unknown id.
    assert changes.keys_to_read(kept(a), head(2, LogEntry(2, None, (), ("x",))), []) is None
    unlanded = head(2, LogEntry(2, "a9", (task_id("c"),)), staged=frozenset({"a1"}))
    assert changes.keys_to_read(kept(a), unlanded, []) is None
    assert changes.keys_to_read(kept(a), head(1), ["unknown"]) is None
    # A new task set, a revision older than what is kept.
    restarted = ItemHead(2, 2, frozenset({"a1"}), (LogEntry(2, known=False),))
    assert changes.keys_to_read(kept(a), restarted, []) is None
    assert changes.keys_to_read(kept(a, revision=5), head(4), []) is None


def test_what_is_kept_is_bounded_and_follows_a_task_written_alone() -> None:
    loaded = changes.LoadedWorkflows(kept=2)
    for workflow_id in ("w1", "w2", "w3"):
        loaded.put(workflow_id, kept(stored("a")))
    assert loaded.get("w1") is None and loaded.get("w3") is not None
    a = stored("a")
    newer = StoredTask(a.task_id, a.store_key, '{"x":1}', 2, 1, False, None)
    loaded.written("w3", newer, previous_version=1)
    entry = loaded.get("w3")
    assert entry is not None and entry.tasks[a.store_key].version == 2
    # A write conditioned on a version that is not what is kept changes nothing kept.
    loaded.written("w3", StoredTask(a.task_id, a.store_key, "{}", 9, 1, False, None), 5)
    entry = loaded.get("w3")
    assert entry is not None and entry.tasks[a.store_key].version == 2
