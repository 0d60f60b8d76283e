"""JetStream key-value buckets of delivery: opened once, read and written as JSON.

Every write compares the revision it read (`None`: the key must be new), so
two workers racing on one key see `KeyWrongLastSequenceError` and decide
again instead of overwriting each other.
"""

from __future__ import annotations

import json

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import KeyNotFoundError, NotFoundError


async def bucket(js: JetStreamContext, name: str, ttl: float):
    """The bucket `name`, created with one value per key kept `ttl` seconds."""
    try:
        return await js.key_value(name)
    except NotFoundError:
        return await js.create_key_value(
            KeyValueConfig(bucket=name, history=1, ttl=ttl, storage=StorageType.FILE)
        )


async def read(kv, key: str):
    """(value, revision) of `key`, or (None, None) when it has none."""
    try:
        entry = await kv.get(key)
    except KeyNotFoundError:
        return None, None
    return json.loads(entry.value), entry.revision


async def write(kv, key: str, value, revision: int | None) -> int:
    """Write `value` if `key` is still at `revision`; the new revision."""
    data = json.dumps(value).encode()
    if revision is None:
        return await kv.create(key, data)
    return await kv.update(key, data, last=revision)
