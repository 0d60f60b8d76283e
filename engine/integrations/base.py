"""What every source's parser shares: the rejection error, times, text bounds."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import msgspec

from bus.wire import Alert, AlertStatus, Severity

MAX_TEXT = 16 * 1024  # one annotation; bodies are bounded at 1 MiB by the gateway
MAX_TITLE = 512
MAX_KEY = 255  # a dedup key: PagerDuty's own limit
MAX_LABELS = 100
MAX_LABEL_VALUE = 1024
# All annotations of one alert together. With labels bounded too, one alert
# encodes well under NATS's 1 MB payload even in 3-byte CJK text, so a huge
# body is shortened rather than refused (or answered 503 forever).
MAX_ANNOTATIONS = 64 * 1024

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$"
)
_EPOCH = re.compile(r"\d+(\.\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[\t\n\r\u2028\u2029]+")
_EPOCH_MS_THRESHOLD = 100_000_000_000  # 1e11: at or above is milliseconds

T = TypeVar("T")


class PayloadRejected(Exception):
    """A body the gateway answers with 4xx; `problems` name each bad field."""

    def __init__(self, problems: list[str], status: int = 400) -> None:
        self.problems = problems
        self.status = status
        super().__init__("; ".join(problems))


def reject(path: str, message: str, status: int = 422) -> PayloadRejected:
    """The rejection of one field, for `raise reject("alerts[2].startsAt", ...)`."""
    return PayloadRejected([f"{path}: {message}"], status)


@dataclass(frozen=True, slots=True)
class ParseContext:
    """What a parser knows besides the body: the integration and the receipt time.

    `notes` is where a parser says why it ignored a body (a test button, a
    subscription confirmation); the gateway logs them and answers with them.
    """

    integration: str
    kind: str
    received_at: datetime
    timezone: str | None = None
    service: str | None = None
    notes: list[str] = field(default_factory=list)

    def ignore(self, reason: str) -> list[Alert]:
        """Record why the body carries nothing to act on; return no alerts."""
        self.notes.append(reason)
        return []


# ---------------------------------------------------------------- decoding


def decode_json(body: bytes) -> Any:
    """Decode JSON, naming the line and column of the first error."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as err:
        raise PayloadRejected([_json_problem(body, str(err))]) from err
    except RecursionError as err:
        raise PayloadRejected(["invalid JSON: nested too deeply"]) from err


def decode_struct(body: bytes, decoder: msgspec.json.Decoder[T]) -> T:
    """Decode into a typed shape; a wrong type is named by its path (422)."""
    try:
        return decoder.decode(body)
    except msgspec.ValidationError as err:
        raise PayloadRejected([validation_problem(err)], status=422) from err
    except msgspec.DecodeError as err:
        decode_json(body)  # raises, naming the line and column
        raise PayloadRejected([f"invalid JSON: {err}"]) from err
    except RecursionError as err:
        raise PayloadRejected(["invalid JSON: nested too deeply"]) from err


def validation_problem(err: msgspec.ValidationError, prefix: str = "") -> str:
    """`Expected `str`, got `int` - at `$.alerts[0].status`` as `path: message`."""
    text = str(err)
    if " - at `$" in text:
        message, where = text.rsplit(" - at `$", 1)
        path = prefix + where.rstrip("`")
        return f"{path.lstrip('.')}: {message[0].lower()}{message[1:]}"
    return f"{prefix.lstrip('.') or 'body'}: {text[0].lower()}{text[1:]}"


def _json_problem(body: bytes, message: str) -> str:
    if not body.strip():
        return "invalid JSON: the body is empty"
    found = re.search(r"\(byte (\d+)\)", message)
    reason = re.sub(r"^JSON is malformed: ", "", message)
    reason = re.sub(r"\s*\(byte \d+\)", "", reason)
    if found:
        offset = int(found.group(1))
    elif "truncated" in message:
        offset, reason = len(body), "the body ends before the JSON does"
    else:
        return f"invalid JSON: {reason}"
    prefix = body[:offset]
    line = prefix.count(b"\n") + 1
    column = offset - (prefix.rfind(b"\n") + 1) + 1
    return f"invalid JSON at line {line}, column {column} (byte {offset}): {reason}"


def require_object(value: Any, path: str) -> dict[str, Any]:
    """`value` if it is a JSON object, else a rejection naming `path`."""
    if not isinstance(value, dict):
        raise reject(path or "body", f"expected an object, got {kind_of(value)}")
    return value


def kind_of(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    match value:
        case bool():
            return "boolean"
        case int():
            return "integer"
        case float():
            return "number"
        case str():
            return "string"
        case list():
            return "array"
        case dict():
            return "object"
        case None:
            return "null"
    return type(value).__name__


def shown(value: Any, limit: int = 60) -> str:
    """`repr(value)` cut to `limit` characters, for quoting a bad value."""
    quoted = repr(value)
    return quoted if len(quoted) <= limit else quoted[: limit - 1] + "…"


def text(value: Any) -> str:
    """A scalar as text: strings as they are, numbers in decimal, else ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return ""


# ---------------------------------------------------------------- time


def parse_time(value: Any, *, tz: str | tzinfo | None = None) -> datetime | None:
    """Parse a source time to an aware UTC datetime; None for Go's zero time.

    Accepts RFC 3339 with any offset (with or without a colon), up to nine
    fractional digits (truncated to microseconds), and epoch numbers: an
    integer at or above 1e11 is milliseconds, below it seconds. A time with no
    offset is read in `tz` (an IANA name or a tzinfo), else UTC. Raises
    ValueError.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError("not a time")
    if isinstance(value, int | float):
        return _from_epoch(value)
    if not isinstance(value, str):
        raise ValueError("not a time")
    text = value.strip()
    if _EPOCH.fullmatch(text):
        return _from_epoch(float(text) if "." in text else int(text))
    found = _RFC3339.match(text)
    if not found:
        raise ValueError("not a time")
    year, month, day, hour, minute, second, fraction, offset = found.groups()
    if year == "0001" and month == "01" and day == "01":
        return None  # Go's zero time: "no end"
    micro = int((fraction or "0").ljust(6, "0")[:6])
    zone = _zone(offset, tz)
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second), micro)  # fmt: skip
        return naive.replace(tzinfo=zone).astimezone(UTC)
    except (OverflowError, ValueError) as err:  # year 1 minus an offset, hour 24
        raise ValueError("not a time") from err


def time_field(value: Any, path: str, tz: str | tzinfo | None = None):
    """`parse_time` for a field that may be absent: "" and None are None."""
    if value is None or value == "":
        return None
    try:
        return parse_time(value, tz=tz)
    except ValueError as err:
        raise reject(path, f"not a time ({shown(value)})") from err


def zone(name: str) -> tzinfo:
    """The IANA zone `name`; ValueError if there is none of that name."""
    return _named_zone(name.strip())


@lru_cache(maxsize=64)
def _named_zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError) as err:
        raise ValueError(f"unknown time zone {name!r}") from err


def context_zone(context: ParseContext) -> tzinfo | None:
    """The integration's configured zone; a rejection naming it if it is unknown."""
    if not context.timezone:
        return None
    try:
        return zone(context.timezone)
    except ValueError as err:
        raise reject(
            "timezone",
            f"integration {context.integration!r} names an unknown time zone "
            f"{shown(context.timezone)}; "
            f"fix integrations.{context.integration}.timezone",
        ) from err


def _zone(offset: str | None, tz: str | tzinfo | None) -> tzinfo:
    if offset in ("Z", "z"):
        return UTC
    if offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError("not a time")
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if isinstance(tz, str):
        return zone(tz)
    return tz or UTC


def _from_epoch(value: float) -> datetime:
    if value < 0 or value != value:
        raise ValueError("not a time")
    seconds = value / 1000 if value >= _EPOCH_MS_THRESHOLD else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as err:
        raise ValueError("not a time") from err


# ---------------------------------------------------------------- text


def clean_text(value: Any, limit: int = MAX_TEXT) -> str:
    """Text safe to store and show: no control characters, at most `limit` chars."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    if not text.isprintable():  # the C check first: 4x faster on common text
        text = _CONTROL.sub("", text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def clean_line(value: Any, limit: int = MAX_TITLE) -> str:
    """`clean_text` on one line: tabs and line breaks become single spaces."""
    line = text(value)
    if not line.isprintable():
        line = _LINE_BREAKS.sub(" ", line)
    return clean_text(line.strip(), limit)


def clean_labels(labels: Mapping[str, Any], limit: int = 1024) -> dict[str, str]:
    """Labels as short clean strings."""
    return {clean_text(k, 128): clean_text(v, limit) for k, v in labels.items()}


def bounded_labels(labels: Mapping[str, Any]) -> dict[str, str]:
    """At most MAX_LABELS clean labels; empty keys and values are left out."""
    kept: dict[str, str] = {}
    for key, value in labels.items():
        if _plain(key, 128) and _plain(value, MAX_LABEL_VALUE):
            name, shown = key.strip(), value.strip()  # most labels: 2x faster
        else:
            name, shown = clean_line(key, 128), clean_line(value, MAX_LABEL_VALUE)
        if name and shown and name not in kept:
            kept[name] = shown
            if len(kept) == MAX_LABELS:
                break
    return kept


def _plain(value: Any, limit: int) -> bool:
    """A short string with nothing to clean: no control or line-break characters."""
    return type(value) is str and len(value) <= limit and value.isprintable()


def bounded_annotations(annotations: Mapping[str, Any]) -> dict[str, str]:
    """Clean annotations whose text together stays within MAX_ANNOTATIONS."""
    kept: dict[str, str] = {}
    budget = MAX_ANNOTATIONS
    for key, value in annotations.items():
        if budget < 64:
            break
        shown = clean_text(text(value), min(MAX_TEXT, budget))
        name = clean_line(key, 128)
        if name and shown:
            kept[name] = shown
            budget -= len(shown)
    return kept


def label_digest(labels: Mapping[str, str]) -> str:
    """A stable key from a label set: the same labels always give the same key."""
    canonical = "\x00".join(f"{k}\x01{v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def strip_port(instance: str) -> str:
    """`db-7:9187` -> `db-7`; `[::1]:80` -> `::1`; a bare host is kept."""
    if instance.startswith("["):
        return instance[1:].split("]", 1)[0]
    if instance.count(":") == 1:
        return instance.rsplit(":", 1)[0]
    return instance


def host_of_url(url: Any) -> str:
    """`https://shop.example.internal:8443/health` -> `shop.example.internal`."""
    if not isinstance(url, str) or "//" not in url:
        return ""
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:  # a malformed IPv6 literal
        return ""


# ---------------------------------------------------------------- alerts


def new_alert(
    context: ParseContext,
    source: str,
    dedup_key: str,
    status: AlertStatus,
    *,
    severity: Severity | None = None,
    title: Any = None,
    labels: Mapping[str, Any] | None = None,
    annotations: Mapping[str, Any] | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    group_key: str | None = None,
    group_title: Any = None,
) -> Alert:
    """An alert of this integration with every text field cleaned and bounded.

    Args:
        context: the integration and receipt time the alert is stamped with.
        source: the parser's kind, e.g. `zabbix`.
        dedup_key: what the source uses to mean "the same problem".
        status: `firing` or `resolved`.
        severity: one of the four, or None to keep the stored one.
        title: one line of at most MAX_TITLE characters once cleaned.
        labels: at most MAX_LABELS; empty keys and values are dropped.
        annotations: MAX_TEXT each, MAX_ANNOTATIONS together.
        starts_at: None when the body does not carry it.
        ends_at: None while firing.
        group_key: the source's own group, if it has one.
        group_title: the title of an incident opened for that group.

    Raises:
        PayloadRejected: the dedup key is empty once cleaned; an alert that
            nothing identifies must not share a constant key with others.
    """
    key = clean_text(dedup_key, MAX_KEY)
    if not key.strip():
        raise reject("body", "nothing identifies this alert (empty dedup key)")
    return Alert(
        integration=context.integration,
        source=source,
        dedup_key=key,
        status=status,
        severity=severity,
        title=clean_line(title) or None,
        labels=bounded_labels(labels or {}),
        annotations=bounded_annotations(annotations or {}),
        starts_at=starts_at,
        ends_at=ends_at,
        group_key=clean_text(group_key, 4 * MAX_KEY) or None,
        group_title=clean_line(group_title) or None,
        received_at=context.received_at,
    )
