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


def test_marks_a_vote_stored_after_its_ballot_closed_as_late_and_uncounted(
    settings: Settings,
) -> None:
    from domain.deliberation.ballot import Vote

    app = make_registre(settings)
    pid = to_vote(app, found(app, members=3))
    app.cast_vote(pid, "m1", "for")
    cutoff = app.close_ballot(pid, app.clock())
    # A vote that passed the open check before the close but was stored after it.
    ballot_id = app.get_proposal(pid).ballot_id
    late = app.save(Vote(ballot_id=ballot_id, proposal_id=pid, voter_ref="m2",
                         choice="for"))[-1].notification.id
    with projection_runner(settings) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=10)
    views = make_views(settings)
    entries = {t["position"]: t for t in views.timeline(pid)}
    assert entries[late]["details"]["late"] is True
    assert f"après la clôture du scrutin (#{cutoff}), non compté" in entries[late]["label"]
    assert not any(t["details"].get("late") for p, t in entries.items() if p != late)
    assert views.get_proposal(pid)["yes"] == 1  # the running count left it out
    app.close()


def test_the_timeline_shows_the_charter_version_its_adoption_brought_into_force(
    settings: Settings,
) -> None:
    from domain.rules.charter import CharterRules

    app = make_registre(settings)
    mid = found(app, members=3)
    pid, _ = app.submit_proposal(mid, "c1", "Charte v2", "Résumé", charter_amendment=CharterRules(
        consultation_seconds=7200, vote_seconds=3600, quorum_percent=50))
    now = app.clock()
    app.open_consultation(pid, now)
    opened = app.open_vote(pid, now)
    for ref in ("m1", "m2", "m3"):
        app.cast_vote(pid, ref, "for")
    app.decide(pid, opened.position, app.close_ballot(pid, now))
    with projection_runner(settings) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=10)
    last = make_views(settings).timeline(pid)[-1]
    assert (last["event"], last["details"]) == ("CharterAmended", {"charter_version": 2})
    assert last["label"].startswith("La charte v2 entre en vigueur")
    app.close()
