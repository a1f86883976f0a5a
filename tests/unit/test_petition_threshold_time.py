"""ThresholdReached records when the threshold was recorded as reached (`at`, the time the
obligation's deadline runs from)."""

from __future__ import annotations

from datetime import timedelta

from domain.petition.petition import Petition
from tests.unit.test_petition import ADULT, collecting
from tests.unit.helpers import ManualClock, in_memory_app


def test_threshold_reached_records_its_time_when_the_obligation_opens() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, pid, opened = collecting(app, clock)
    positions = [app.sign_petition(pid, f"p-{i}", ADULT) for i in range(opened.threshold)]
    clock.advance(hours=1)
    due = app.record_threshold(pid, positions[-1], opened.threshold, clock())
    reached = [e for e in app.events.get(pid) if isinstance(e, Petition.ThresholdReached)]
    assert [(e.position, e.at) for e in reached] == [(positions[-1], clock())]
    assert due == reached[0].at + timedelta(days=10)
