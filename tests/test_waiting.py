"""The one way rdoflow waits: Deadline's budget and its wake event."""

from __future__ import annotations

import threading

import pytest

from rdoflow.errors import StageTimeout
from rdoflow.waiting import Deadline


def test_a_wake_event_ends_the_pause_before_the_budget_is_spent():
    wake = threading.Event()
    wait = Deadline(3, "command", first_delay=60, wake=wake)
    threading.Timer(0.1, wake.set).start()
    for attempt in wait:
        if attempt == 2:
            break
    assert wait.remaining > 0  # without the event, the one pause would have used the whole budget


def test_without_a_wake_the_budget_runs_out_and_names_what_was_seen():
    wait = Deadline(0.2, "stack overcloud", target="CREATE_COMPLETE", first_delay=0.05)
    with pytest.raises(StageTimeout, match="stack overcloud did not become CREATE_COMPLETE within 0.2 s; "
                                           "last seen: CREATE_IN_PROGRESS"):
        for _ in wait:
            wait.last_seen = "CREATE_IN_PROGRESS"
