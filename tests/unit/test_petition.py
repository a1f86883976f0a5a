"""The petition process' commands on the in-memory store: drafting and sponsors, the clerk's
review, the collection and its count, the threshold and the obligation, breach and closing,
and every refusal naming its rule (nothing recorded)."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from domain.errors import (
    AlreadySponsored,
    CollectionNotOpen,
    NoObligationOpen,
    NotEligibleToSign,
    NotTheAuthor,
    SignatureAlreadyGiven,
    SignerLimitReached,
    ThresholdAlreadyReached,
    UnknownPetitionKind,
    WrongObligation,
)
from domain.petition.petition import PetitionStage
from domain.rules.petition import PetitionKind, SignerClaims
from tests.unit.helpers import T0, ManualClock, found, in_memory_app

ADULT = SignerClaims(commune="A", elector=True, birthdate=date(1990, 1, 1))

KINDS = {
    "interpellation": {"threshold_percent": 1, "sponsors": 2, "signer_limit": 1,
                       "obligation": "answer", "obligation_seconds": 10 * 86400},
    "initiative": {"basis": "absolute", "threshold_absolute": 3, "obligation": "agenda"},
    "electeurs": {"threshold_percent": 5, "basis": "electors", "signers": "elector"},
}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock):
    return in_memory_app(clock)


def log_size(app) -> int:
    return app.recorder.max_notification_id() or 0


def collecting(app, clock, kind: str = "interpellation", mid=None):
    mid = mid or found(app, petition_kinds=KINDS)
    pid, _ = app.draft_petition(mid, "p-author", kind, "Piste cyclable", "Texte")
    if app.get_petition(pid).kind_rules.sponsors > 1:
        app.sponsor_petition(pid, "p-sponsor", ADULT)
    app.open_petition_admissibility(pid, clock())
    app.rule_petition_admissibility(pid, "clerk-1", True)
    opened = app.open_collection(pid, clock())
    return mid, pid, opened


def test_a_petition_runs_from_draft_to_answer(app, clock) -> None:
    mid, pid, opened = collecting(app, clock)
    assert opened.threshold == 10  # 1 % of 1,000 residents
    for i in range(10):
        app.sign_petition(pid, f"p-{i}", ADULT)
    tally = app.count_petition(pid, upto=log_size(app))
    assert tally.count == 10 and tally.crossed_at is not None
    due = app.record_threshold(pid, tally.crossed_at, tally.count, clock())
    assert due == clock() + timedelta(days=10)
    assert app.get_petition(pid).stage == PetitionStage.OBLIGATION
    app.answer_petition(pid, "clerk-1", "Le conseil répond.")
    clock.advance(days=90)
    app.close_collection(pid, clock())
    assert app.close_petition(pid, clock()) == "answered"


def test_refusals_name_their_rule_and_record_nothing(app, clock) -> None:
    mid, pid, _ = collecting(app, clock)
    app.sign_petition(pid, "p-1", ADULT)
    before = log_size(app)
    with pytest.raises(SignatureAlreadyGiven):
        app.sign_petition(pid, "p-1", ADULT)
    with pytest.raises(NotEligibleToSign) as e:
        app.sign_petition(pid, "p-2", SignerClaims(commune="Z", birthdate=date(1990, 1, 1)))
    assert e.value.rule == "petition.residence"
    with pytest.raises(NotEligibleToSign) as e:
        app.sign_petition(pid, "p-3", SignerClaims(commune="A", birthdate=date(2015, 1, 1)))
    assert e.value.rule == "petition.min_age"
    with pytest.raises(NotTheAuthor):
        app.withdraw_petition(pid, "p-1")
    with pytest.raises(NoObligationOpen):
        app.answer_petition(pid, "clerk-1", "trop tôt")
    with pytest.raises(UnknownPetitionKind):
        app.draft_petition(mid, "p-author", "inconnue", "t", "x")
    assert log_size(app) == before


def test_one_petition_of_a_limited_kind_per_signer_and_period(app, clock) -> None:
    mid, first, _ = collecting(app, clock)
    _, second, _ = collecting(app, clock, mid=mid)
    app.sign_petition(first, "p-1", ADULT)
    before = log_size(app)
    with pytest.raises(SignerLimitReached):
        app.sign_petition(second, "p-1", ADULT)
    assert log_size(app) == before
    app.withdraw_signature(first, "p-1")  # the allowance is given back
    app.sign_petition(second, "p-1", ADULT)


def test_withdrawn_then_renewed_counts_once(app, clock) -> None:
    _, pid, _ = collecting(app, clock)
    app.sign_petition(pid, "p-1", ADULT)
    app.withdraw_signature(pid, "p-1")
    assert app.count_petition(pid, upto=log_size(app)).count == 0
    app.sign_petition(pid, "p-1", ADULT)
    tally = app.count_petition(pid, upto=log_size(app))
    assert tally.count == 1 and tally.by_commune == {"A": 1}


def test_signature_after_the_period_is_refused(app, clock) -> None:
    _, pid, _ = collecting(app, clock)
    clock.advance(days=91)
    with pytest.raises(CollectionNotOpen):
        app.sign_petition(pid, "p-1", ADULT)


def test_no_withdrawal_once_the_threshold_is_recorded(app, clock) -> None:
    _, pid, _ = collecting(app, clock, "initiative")
    for i in range(3):
        app.sign_petition(pid, f"p-{i}", ADULT)
    tally = app.count_petition(pid, upto=log_size(app))
    app.record_threshold(pid, tally.crossed_at, tally.count, clock())
    with pytest.raises(ThresholdAlreadyReached):
        app.withdraw_signature(pid, "p-0")
    with pytest.raises(ThresholdAlreadyReached):
        app.withdraw_petition(pid, "p-author")
    with pytest.raises(WrongObligation):
        app.answer_petition(pid, "clerk-1", "non")
    proposal_id = app.put_petition_on_agenda(pid, clock())
    assert app.put_petition_on_agenda(pid, clock()) == proposal_id  # idempotent
    assert app.get_proposal(proposal_id).author_ref == f"petition:{pid}"


def test_close_recounts_and_records_a_threshold_the_relay_missed(app, clock) -> None:
    _, pid, _ = collecting(app, clock, "initiative")
    for i in range(4):
        app.sign_petition(pid, f"p-{i}", ADULT)
    clock.advance(days=91)
    closed = app.close_collection(pid, clock())
    assert closed.count == 4 and closed.crossed_at is not None
    petition = app.get_petition(pid)
    assert petition.threshold_position == closed.crossed_at
    assert petition.stage == PetitionStage.OBLIGATION


def test_breach_when_the_deadline_passes_unanswered(app, clock) -> None:
    _, pid, _ = collecting(app, clock)
    for i in range(10):
        app.sign_petition(pid, f"p-{i}", ADULT)
    tally = app.count_petition(pid, upto=log_size(app))
    app.record_threshold(pid, tally.crossed_at, tally.count, clock())
    clock.advance(days=11)
    assert app.record_breach(pid, clock()) is True
    assert app.record_breach(pid, clock()) is True  # idempotent
    app.answer_petition(pid, "clerk-1", "En retard.")
    events = list(app.events.get(pid))
    assert [type(e).__name__ for e in events].count("ObligationBreached") == 1
    assert events[-1].late is True


def test_electors_threshold_needs_the_recorded_electorate(app, clock) -> None:
    mid = found(app, petition_kinds=KINDS)
    app.record_electorate(mid, "clerk-1", {"A": 800}, "extrait-2026-11")
    pid, _ = app.draft_petition(mid, "p-author", "electeurs", "t", "x")
    app.open_petition_admissibility(pid, clock())
    assert app.conclude_petition_admissibility(pid, clock()) is True  # silence: admissible
    assert app.open_collection(pid, clock()).threshold == 40
    with pytest.raises(NotEligibleToSign) as e:
        app.sign_petition(pid, "p-1", SignerClaims(commune="A", birthdate=date(1990, 1, 1)))
    assert e.value.rule == "petition.signers"


def test_sponsors_are_gathered_once(app, clock) -> None:
    mid = found(app, petition_kinds=KINDS)
    pid, _ = app.draft_petition(mid, "p-author", "interpellation", "t", "x")
    with pytest.raises(AlreadySponsored):
        app.sponsor_petition(pid, "p-author", ADULT)
    app.sponsor_petition(pid, "p-s", ADULT)
    assert app.get_petition(pid).gathered


def test_the_group_commit_fast_path_builds_a_first_signature(app, clock) -> None:
    _, pid, _ = collecting(app, clock)
    act = app.signature_act(pid, "p-9", ADULT)
    made = act.prepare()
    assert [type(a).__name__ for a in made] == ["Signature", "SigningAllowance"]
    app.save(*made)
    with pytest.raises(SignatureAlreadyGiven):
        act.fallback()


def test_threshold_is_exact() -> None:
    assert PetitionKind(threshold_percent=5).threshold(1_000_001) == 50_001
    assert PetitionKind(threshold_percent=1).threshold(100) == 1
    assert PetitionKind(basis="absolute", threshold_absolute=15000).threshold(0) == 15000
    assert PetitionKind(threshold_percent=0.1).threshold(10) == 1


def test_an_author_who_could_not_sign_drafts_nothing_when_claims_are_given(app, clock) -> None:
    mid = found(app, petition_kinds=KINDS)
    before = log_size(app)
    with pytest.raises(NotEligibleToSign) as e:
        app.draft_petition(mid, "p-author", "electeurs", "Titre", "Texte",
                           claims=SignerClaims(commune="A", birthdate=date(1990, 1, 1)))
    assert e.value.rule == "petition.signers"
    with pytest.raises(NotEligibleToSign) as e:
        app.draft_petition(mid, "p-author", "interpellation", "Titre", "Texte",
                           claims=SignerClaims(commune=None))
    assert e.value.rule == "petition.residence"
    assert log_size(app) == before
    pid, _ = app.draft_petition(mid, "p-author", "electeurs", "Titre", "Texte", claims=ADULT)
    assert app.get_petition(pid).author_ref == "p-author"
