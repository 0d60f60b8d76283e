"""One parser per monitoring source: bytes and integration config in, alerts out.

Every parser is a pure function `parse(body, context) -> list[Alert]` that
raises `PayloadRejected` naming each bad field. An empty list means the body
was understood and carries nothing to act on (a test button, a state that is
neither firing nor resolved).
"""

from __future__ import annotations

from collections.abc import Callable

from bus.wire import Alert
from engine.integrations import alertmanager, generic
from engine.integrations.base import ParseContext, PayloadRejected

Parser = Callable[[bytes, ParseContext], list[Alert]]

PARSERS: dict[str, Parser] = {
    "alertmanager": alertmanager.parse,
    "generic": generic.parse,
}

__all__ = ["PARSERS", "ParseContext", "Parser", "PayloadRejected"]
