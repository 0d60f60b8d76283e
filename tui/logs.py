"""Stdlib logging into Textual's log while a console owns the terminal.

A handler that writes to the terminal would tear the screen, so while the
console runs those handlers step aside and every record goes to the app's log
(`textual console` shows it); a person sees toasts, never a traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from textual.app import App

FORMAT = "%(levelname)s %(name)s %(message)s"


class AppLogHandler(logging.Handler):
    """Sends log records to one app's Textual log.

    It holds the app itself rather than looking up the active app, so records
    from tasks that the app did not start (an engine in the same loop) arrive.
    """

    def __init__(self, app: App) -> None:
        super().__init__()
        self.app = app
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.app.log.logging(self.format(record))
        except Exception:
            self.handleError(record)


def _writes_to_terminal(handler: logging.Handler) -> bool:
    terminal = (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    return type(handler) is logging.StreamHandler and handler.stream in terminal


@contextmanager
def logging_into(app: App) -> Iterator[AppLogHandler]:
    """Route the root logger into `app`'s log for the duration of the block."""
    root = logging.getLogger()
    terminal = [h for h in root.handlers if _writes_to_terminal(h)]
    for handler in terminal:
        root.removeHandler(handler)
    ours = AppLogHandler(app)
    root.addHandler(ours)
    try:
        yield ours
    finally:
        root.removeHandler(ours)
        for handler in terminal:
            root.addHandler(handler)
