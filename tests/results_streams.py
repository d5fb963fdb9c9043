"""Subunit v2 streams written by the tests with python-subunit's own encoder."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import subunit

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=timezone.utc)


def stream(tests: list[tuple]) -> bytes:
    """``tests``: (test_id, status, seconds, traceback-or-reason) each, reported as stestr reports them."""
    out = io.BytesIO()
    encoder = subunit.StreamResultToBytes(out)
    clock = T0
    for test_id, status, seconds, detail in tests:
        encoder.status(test_id=test_id, test_status="inprogress", timestamp=clock, test_tags={"worker-0"})
        clock += timedelta(seconds=seconds)
        if detail:
            name = "reason" if status == "skip" else "traceback"
            encoder.status(test_id=test_id, file_name=name, file_bytes=detail.encode(), eof=True,
                           mime_type="text/plain; charset=UTF8", timestamp=clock)
        if status is not None:
            encoder.status(test_id=test_id, test_status=status, timestamp=clock, test_tags={"worker-0"})
    return out.getvalue()


def write(path, tests: list[tuple]):
    path.write_bytes(stream(tests))
    return path
