"""How the CLI shows Prefect's console logs: rdoflow's own diagnosed errors without a Python traceback.

Prefect logs a failed run's exception with its traceback. For an ``RdoflowError``
the traceback adds nothing to the diagnosis the CLI prints (reference, message,
evidence, hint), so the console shows the log line alone; the Prefect API and UI
still receive the full record.
"""

from __future__ import annotations

import logging

from rdoflow.errors import RdoflowError


class _WithoutDiagnosedTracebacks(logging.Formatter):
    def __init__(self, inner: logging.Formatter):
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        if not (record.exc_info and isinstance(record.exc_info[1], RdoflowError)):
            return self.inner.format(record)
        saved = record.exc_info, record.exc_text
        record.exc_info, record.exc_text = None, None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text = saved


def quiet_diagnosed_tracebacks() -> None:
    """Wrap the formatter of each Prefect console handler (after making sure Prefect set them up)."""
    from prefect.logging.configuration import ensure_logging_setup
    from prefect.logging.handlers import PrefectConsoleHandler

    ensure_logging_setup()
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in list(logging.root.manager.loggerDict))]
    handlers = {id(h): h for lg in loggers for h in lg.handlers if isinstance(h, PrefectConsoleHandler)}
    for handler in handlers.values():
        if not isinstance(handler.formatter, _WithoutDiagnosedTracebacks):
            handler.setFormatter(_WithoutDiagnosedTracebacks(handler.formatter or logging.Formatter()))
