"""Large inputs, outputs and variables kept in S3, out of the DynamoDB items that refer to them.

A stored body (a task's or a workflow's JSON) that would not leave room in its 400 KB item is
split: its largest payload fields (a task's `inputData` and `outputData`; a workflow's `input`,
`output` and `variables`) move, one by one and largest first, to S3 objects until the rest
fits in `INLINE_BODY_BYTES`. The body then lists them under `PAYLOAD_REFERENCES`, a key of the
body itself (never inside a user's value, so no user data can be mistaken for a reference),
and loading puts the values back before the engine sees the body: the engine and the API only
ever see plain values. A body that fits (every seeded workflow) touches no S3 at all.

Objects are content-addressed under their workflow: `workflows/<workflowId>/<sha256>`. A
commit retried after a lost race (or a crash) writes the very same object again, so a commit
never refers to an object another attempt might overwrite, and the workflow prefix keeps
workflows from sharing objects (each workflow's objects expire with it, see `mark_ended`).
Objects are written before the commit that refers to them: an object no commit refers to is
garbage (storage until it expires), while a reference without its object would be corruption.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from threading import Lock
from typing import Any, Final

from baton import settings
from baton.errors import ItemTooLarge

# A body up to this size stays whole in its item; DynamoDB holds 400 KB per item, and the
# rest (keys, index attributes, the workflow's list of staged attempts) needs the headroom.
INLINE_BODY_BYTES: Final = 256 * 1024
# What one offloaded value may be at most, however it was made (a JOIN of large outputs, an
# expression): Conductor's own maximum payload threshold. API requests have lower limits.
MAX_PAYLOAD_OBJECT_BYTES: Final = 10 * 1024 * 1024
# The key of a stored body listing its fields kept in S3: field name -> object key.
PAYLOAD_REFERENCES: Final = "payloadReferences"
TASK_PAYLOAD_FIELDS: Final = ("inputData", "outputData")
WORKFLOW_PAYLOAD_FIELDS: Final = ("input", "output", "variables")
# Tag set on a finished workflow's objects; the bucket's lifecycle rule expires tagged objects
# after the same retention as DynamoDB's TTL gives the workflow's items.
ENDED_TAG: Final = "baton-workflow-ended"
DEFAULT_BUCKET: Final = "baton-payloads"
# Every object's key starts with this (the grants and the lifecycle rule name it).
OBJECT_PREFIX: Final = "workflows/"
# Immutable content read or written by this process, kept for the next load of the workflow.
CACHE_BYTES: Final = 64 * 1024 * 1024
# Workflows whose object keys this process remembers, to tag them when the workflow ends.
TRACKED_WORKFLOWS: Final = 1024
_PARALLEL: Final = 8

_log = logging.getLogger(__name__)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def object_key(workflow_id: str, data: bytes) -> str:
    """Where a payload is kept: the same for the same content in the same workflow."""
    return f"{OBJECT_PREFIX}{workflow_id}/{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class Split:
    """A body as it is stored, and the objects to write before the commit that stores it."""

    body: dict[str, Any]
    objects: dict[str, bytes]


def split(
    body: dict[str, Any],
    fields: Iterable[str],
    workflow_id: str,
    *,
    inline_limit: int = INLINE_BODY_BYTES,
) -> Split:
    """The stored form of `body`: whole if it fits `inline_limit`, else with its largest
    payload fields moved out until it fits (or none is left to move)."""
    if _size(_dumps(body)) <= inline_limit:
        return Split(body, {})
    encoded = {
        name: _dumps(body[name]).encode("utf-8", "surrogatepass")
        for name in fields
        if body.get(name)
    }
    stored = dict(body)
    references: dict[str, str] = {}
    objects: dict[str, bytes] = {}
    for name in sorted(encoded, key=lambda n: len(encoded[n]), reverse=True):
        data = encoded[name]
        if len(data) > MAX_PAYLOAD_OBJECT_BYTES:
            raise ItemTooLarge(
                f"The {name} of workflow {workflow_id} would be {len(data)} bytes, more than "
                f"the {MAX_PAYLOAD_OBJECT_BYTES} bytes Baton keeps for one value; keep large "
                "data elsewhere (for example in S3) and pass a reference to it"
            )
        key = object_key(workflow_id, data)
        objects[key] = data
        references[name] = key
        del stored[name]
        stored[PAYLOAD_REFERENCES] = dict(references)
        if _size(_dumps(stored)) <= inline_limit:
            break
    return Split(stored, objects)


def references(body: dict[str, Any]) -> dict[str, str]:
    """The fields of a stored body kept in S3: field name -> object key."""
    found = body.get(PAYLOAD_REFERENCES)
    return dict(found) if isinstance(found, dict) else {}


def join(body: dict[str, Any], contents: dict[str, bytes]) -> dict[str, Any]:
    """The body with its offloaded fields put back from `contents` (object key -> bytes)."""
    refs = references(body)
    if not refs:
        return body
    joined = {name: value for name, value in body.items() if name != PAYLOAD_REFERENCES}
    for name, key in refs.items():
        joined[name] = json.loads(contents[key])
    return joined


class PayloadMissing(Exception):
    """A stored body refers to an object that is not in the bucket."""


@dataclass
class PayloadStore:
    """Reads and writes the payload objects of one bucket."""

    bucket: str = field(
        default_factory=lambda: os.environ.get(settings.PAYLOAD_BUCKET) or DEFAULT_BUCKET
    )
    cache_bytes: int = CACHE_BYTES
    # Counters a benchmark or a test may read: S3 requests this store made.
    puts: int = 0
    gets: int = 0
    _cache: OrderedDict[str, bytes] = field(default_factory=OrderedDict, repr=False)
    _cached: int = field(default=0, repr=False)
    _lock: Lock = field(default_factory=Lock, repr=False)
    # Object keys of each workflow this process has read or written (the most recent
    # TRACKED_WORKFLOWS); only workflows with offloaded payloads are listed.
    _keys_of: OrderedDict[str, set[str]] = field(default_factory=OrderedDict, repr=False)

    @cached_property
    def s3(self) -> Any:
        # botocore directly, as baton.messaging does: boto3 adds import time for nothing.
        import botocore.session
        from botocore.config import Config

        endpoint = os.environ.get(settings.ENDPOINT_URL) or None
        # A local endpoint (moto) has no per-bucket host names.
        config = Config(s3={"addressing_style": "path"}) if endpoint else None
        return botocore.session.get_session().create_client(
            "s3", endpoint_url=endpoint, config=config
        )

    def write(self, objects: dict[str, bytes], workflow_id: str) -> None:
        """Write every object not already known to be in the bucket (before the commit that
        refers to them); a failure raises, and nothing refers to what was written."""
        self._note(workflow_id, objects)
        missing = {key: data for key, data in objects.items() if not self._known(key)}
        if not missing:
            return

        def put(item: tuple[str, bytes]) -> None:
            key, data = item
            self.s3.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType="application/json"
            )
            self._remember(key, data)

        self.puts += len(missing)
        self._each(put, missing.items())

    def read(self, keys: Iterable[str]) -> dict[str, bytes]:
        """The content of each key, from this process's cache or from S3, side by side."""
        wanted = sorted(set(keys))
        found: dict[str, bytes] = {}
        with self._lock:
            for key in wanted:
                if key in self._cache:
                    self._cache.move_to_end(key)
                    found[key] = self._cache[key]
        missing = [key for key in wanted if key not in found]

        def get(key: str) -> None:
            try:
                response = self.s3.get_object(Bucket=self.bucket, Key=key)
            except self.s3.exceptions.NoSuchKey as error:
                raise PayloadMissing(f"Payload object {key} is missing") from error
            data: bytes = response["Body"].read()
            found[key] = data
            self._remember(key, data)

        self.gets += len(missing)
        self._each(get, missing)
        return found

    def join_all(self, bodies: list[dict[str, Any]], workflow_id: str) -> list[dict[str, Any]]:
        """Every body with its offloaded fields put back, their objects read side by side."""
        keys = [key for body in bodies for key in references(body).values()]
        if not keys:
            return bodies
        self._note(workflow_id, keys)
        contents = self.read(keys)
        return [join(body, contents) for body in bodies]

    def ended(self, workflow_id: str) -> None:
        """The workflow has ended: tag the objects its bodies refer to, so the bucket's
        lifecycle rule expires them with the workflow's items (best effort: an object left
        untagged costs storage, nothing else)."""
        with self._lock:
            keys = self._keys_of.pop(workflow_id, set())
        if not keys:
            return
        try:
            self.mark_ended(keys)
        except Exception:
            _log.warning("Could not tag the payloads of workflow %s as ended", workflow_id)

    def mark_ended(self, keys: Iterable[str]) -> None:
        """Tag objects with ENDED_TAG, which the bucket's lifecycle rule expires.

        Each object is copied onto itself with the tag (S3 copies within the bucket, nothing
        passes through here): a lifecycle rule counts days from an object's creation, so the
        copy starts the retention when the workflow ends, as DynamoDB's TTL does, and a
        long-running workflow's early objects do not expire at once.
        """

        def tag(key: str) -> None:
            self.s3.copy_object(
                Bucket=self.bucket,
                Key=key,
                CopySource={"Bucket": self.bucket, "Key": key},
                MetadataDirective="REPLACE",
                ContentType="application/json",
                TaggingDirective="REPLACE",
                Tagging=f"{ENDED_TAG}=true",
            )

        self._each(tag, sorted(set(keys)))

    def _note(self, workflow_id: str, keys: Iterable[str]) -> None:
        # Every key seen, including those a later commit stopped referring to: tagging them
        # when the workflow ends lets the lifecycle rule remove that garbage too.
        listed = set(keys)
        if not listed:
            return
        with self._lock:
            self._keys_of[workflow_id] = self._keys_of.get(workflow_id, set()) | listed
            self._keys_of.move_to_end(workflow_id)
            while len(self._keys_of) > TRACKED_WORKFLOWS:
                self._keys_of.popitem(last=False)

    def _known(self, key: str) -> bool:
        with self._lock:
            return key in self._cache

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > self.cache_bytes:
            return
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return
            self._cache[key] = data
            self._cached += len(data)
            while self._cached > self.cache_bytes:
                _, dropped = self._cache.popitem(last=False)
                self._cached -= len(dropped)

    @staticmethod
    def _each(call: Any, items: Iterable[Any]) -> None:
        listed = list(items)
        if not listed:
            return
        if len(listed) == 1:
            call(listed[0])
            return
        with ThreadPoolExecutor(max_workers=min(_PARALLEL, len(listed))) as pool:
            list(pool.map(call, listed))
