"""The public views on a real PostgreSQL: applied exactly once, across restarts (D5)."""

from __future__ import annotations

import pytest

from api.settings import Settings
from api.wiring import make_registre, make_views, projection_runner
from tests.integration.helpers import found, to_vote

pytestmark = pytest.mark.integration


def test_applies_each_event_once_when_the_runner_restarts(settings: Settings) -> None:
    app = make_registre(settings)
    pid = to_vote(app, found(app, members=5))
    app.cast_vote(pid, "m1", "for")

    with projection_runner(settings) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=10)
    # Written while no runner is up: picked up from the tracked position on restart.
    app.cast_vote(pid, "m2", "against")
    app.cast_vote(pid, "m3", "abstain")
    with projection_runner(settings) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=10)
    with projection_runner(settings) as runner:  # a third start has nothing to redo
        runner.wait(app.recorder.max_notification_id(), timeout=10)

    views = make_views(settings)
    row = views.get_proposal(pid)
    assert (row["stage"], row["yes"], row["no"], row["abstain"]) == ("vote", 1, 1, 1)
    timeline = views.timeline(pid)
    assert [t["event"] for t in timeline] == [
        "ProposalSubmitted", "ConsultationOpened", "VoteOpened", "VoteCast", "VoteCast",
        "VoteCast"]
    assert [t["stage"] for t in timeline] == [
        "submitted", "consultation", "vote", "vote", "vote", "vote"]
    assert [t["actor_role"] for t in timeline][:4] == [
        "citizen", "registre", "registre", "councillor"]
    assert "Vote nominatif de m1 : pour" in timeline[3]["label"]
    assert views.max_tracking_id(app.name) == app.recorder.max_notification_id()
    app.close()


def test_official_tally_replaces_running_count_when_decided(settings: Settings) -> None:
    app = make_registre(settings)
    pid = to_vote(app, found(app, members=3))
    opened = app.open_vote(pid, app.clock())
    app.cast_vote(pid, "m1", "for")
    app.cast_vote(pid, "m2", "for")
    cutoff = app.close_ballot(pid, app.clock())
    app.decide(pid, opened.position, cutoff)
    with projection_runner(settings) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=10)
    row = make_views(settings).get_proposal(pid)
    assert (row["stage"], row["outcome"], row["cause"], row["yes"]) == (
        "decided", "adopted", "majority_carried", 2)
    last = make_views(settings).timeline(pid)[-1]
    assert last["label"].startswith("Proposition adoptée : majorité atteinte")
    app.close()
