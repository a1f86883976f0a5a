"""The `drafted` stage: a citizen drafts, revises, then submits or abandons a proposal."""

from __future__ import annotations

import pytest

from domain.deliberation.draft import Draft
from domain.errors import DraftClosed, NotTheAuthor, UnknownCommune, UnknownDecisionType
from domain.deliberation.proposal import Proposal
from tests.unit.helpers import ManualClock, found, in_memory_app


@pytest.fixture
def app():
    return in_memory_app(ManualClock())


def test_submitting_a_revised_draft_creates_the_proposal_with_its_last_text(app) -> None:
    mid = found(app, 3)
    draft_id, _ = app.start_draft(mid, "autrice", "Jardins", "Première version")
    app.revise_draft(draft_id, "autrice", summary="Un jardin partagé par quartier.")
    app.revise_draft(draft_id, "autrice", title="Jardins partagés", communes=["A"])
    pid, position = app.submit_draft(draft_id, "autrice")
    proposal = app.get_proposal(pid)
    opened = app.personal_data.open
    assert (opened(proposal.title_sealed), opened(proposal.summary_sealed), proposal.communes,
            proposal.stage) == (
        "Jardins partagés", "Un jardin partagé par quartier.", ["A"], "submitted")
    assert proposal.charter_version == 1
    draft = app.get_draft(draft_id)
    assert (draft.stage, draft.proposal_id) == ("submitted", pid)
    submitted = list(app.events.get(draft_id))[-1]
    assert isinstance(submitted, Draft.Submitted) and submitted.revisions == 2
    assert app.position_of(pid, 1) == position


def test_refuses_a_revision_by_anyone_but_the_author(app) -> None:
    draft_id, _ = app.start_draft(found(app, 3), "autrice", "Jardins", "Texte")
    size = app.recorder.max_notification_id()
    with pytest.raises(NotTheAuthor):
        app.revise_draft(draft_id, "voisin", title="Autre titre")
    with pytest.raises(NotTheAuthor):
        app.submit_draft(draft_id, "voisin")
    assert app.recorder.max_notification_id() == size


@pytest.mark.parametrize("closing", ["submit_draft", "abandon_draft"])
def test_a_submitted_or_abandoned_draft_no_longer_changes(app, closing: str) -> None:
    draft_id, _ = app.start_draft(found(app, 3), "autrice", "Jardins", "Texte")
    getattr(app, closing)(draft_id, "autrice")
    size = app.recorder.max_notification_id()
    for act in (lambda: app.revise_draft(draft_id, "autrice", title="Encore"),
                lambda: app.submit_draft(draft_id, "autrice"),
                lambda: app.abandon_draft(draft_id, "autrice")):
        with pytest.raises(DraftClosed):
            act()
    assert app.recorder.max_notification_id() == size


def test_submission_applies_the_charter_s_checks_and_records_nothing_when_they_fail(app) -> None:
    draft_id, _ = app.start_draft(found(app, 3), "autrice", "Budget", "Texte",
                                  decision_type="budget")  # the charter declares no such type
    size = app.recorder.max_notification_id()
    with pytest.raises(UnknownDecisionType):
        app.submit_draft(draft_id, "autrice")
    assert app.recorder.max_notification_id() == size
    assert app.get_draft(draft_id).stage == "drafted"


def test_refuses_a_draft_naming_a_commune_outside_the_metropolis(app) -> None:
    with pytest.raises(UnknownCommune):
        app.start_draft(found(app, 3), "autrice", "Jardins", "Texte", communes=["Z"])


def test_the_proposal_is_not_created_before_the_draft_is_submitted(app) -> None:
    app.start_draft(found(app, 3), "autrice", "Jardins", "Texte")
    topics = {n.topic for n in app.recorder.select_notifications(start=1, limit=100)}
    assert not any(t.endswith(Proposal.Submitted.__qualname__) for t in topics)


def test_refuses_a_revision_naming_a_commune_outside_the_metropolis(app) -> None:
    draft_id, _ = app.start_draft(found(app, 3), "autrice", "Jardins", "Texte")
    size = app.recorder.max_notification_id()
    with pytest.raises(UnknownCommune):
        app.revise_draft(draft_id, "autrice", communes=["Z"])
    assert app.recorder.max_notification_id() == size
