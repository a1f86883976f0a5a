"""The governance pact's veto and the author's withdrawal, on the in-memory recorder."""

from __future__ import annotations

from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from domain.application import Registre
from domain.errors import (
    CommuneNotConcerned,
    NotMayorOfCommune,
    NotTheAuthor,
    ProposalWithdrawn,
    UnknownCommune,
    VetoAlreadyFiled,
    VetoOutsideWindow,
    VoteAfterClose,
    WithdrawalTooLate,
    WrongStage,
)
from domain.deliberation.proposal import Proposal
from domain.rules.charter import CharterRules
from tests.unit.helpers import ManualClock, in_memory_app

DAY = 86400
COMMUNES = [{"code": c, "name": f"Ville {c}", "population": 1000} for c in ("A", "B", "C")]
# Five seats: the mayors of A and B, three councillors.
SEATS = [{"ref": "maire-a", "name": "Maire A", "role": "mayor", "commune": "A"},
         {"ref": "maire-b", "name": "Maire B", "role": "mayor", "commune": "B"},
         *({"ref": f"c{i}", "name": f"C{i}", "role": "councillor", "commune": "C"}
           for i in (1, 2, 3))]


def pact(app: Registre, veto_days: int = 15) -> UUID:
    return app.found_metropolis("pacte", "Métropole du pacte", COMMUNES, SEATS, CharterRules(
        consultation_seconds=30 * DAY, vote_seconds=14 * DAY, quorum_percent=50,
        veto_window_seconds=veto_days * DAY, veto_override_majority="two_thirds_of_members"))


def adopted(app: Registre, clock: ManualClock, communes: tuple[str, ...] = ("A",),
            veto_days: int = 15) -> UUID:
    """A proposal adopted 4–1 by the council, its veto window open (if any)."""
    pid, _ = app.submit_proposal(pact(app, veto_days), "auteur", "Titre", "Résumé", communes)
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for ref, choice in (("maire-a", "against"), ("maire-b", "for"), ("c1", "for"),
                        ("c2", "for"), ("c3", "for")):
        app.cast_vote(pid, ref, choice)
    clock.advance(days=14)
    cutoff = app.close_ballot(pid, clock())
    assert app.decide(pid, opened.position, cutoff) == "adopted"
    app.open_veto_window(pid, clock())
    return pid


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock) -> Registre:
    return in_memory_app(clock)


def test_adoption_stands_with_no_veto_when_the_window_closes_quietly(app, clock) -> None:
    pid = adopted(app, clock)
    assert app.get_proposal(pid).stage == "veto_window"
    clock.advance(days=15)
    assert app.close_veto_window(pid, clock()) == "adopted"
    closed = list(app.events.get(pid))[-1]
    assert (closed.cause, closed.rules_cited) == ("no_veto", ["veto.window"])


def test_veto_is_sustained_when_the_override_misses_two_thirds(app, clock) -> None:
    pid = adopted(app, clock)
    app.file_veto(pid, "maire-a", "A", "Le projet ampute le marché couvert de la commune.")
    for ref, choice in (("c1", "for"), ("c2", "for"), ("c3", "for"), ("maire-a", "against")):
        app.cast_vote(pid, ref, choice)  # 3 of 5 members < two thirds
    clock.advance(days=15)
    assert app.close_veto_window(pid, clock()) == "rejected"
    closed = list(app.events.get(pid))[-1]
    assert (closed.cause, closed.yes, closed.no) == ("veto_sustained", 3, 1)
    assert "veto.override" in closed.rules_cited


def test_veto_is_overridden_when_two_thirds_of_members_vote_to_lift_it(app, clock) -> None:
    pid = adopted(app, clock)
    app.file_veto(pid, "maire-a", "A", "Le projet ampute le marché couvert de la commune.")
    for ref in ("c1", "c2", "c3", "maire-b"):
        app.cast_vote(pid, ref, "for")  # 4 of 5 members
    clock.advance(days=15)
    assert app.close_veto_window(pid, clock()) == "adopted"
    assert list(app.events.get(pid))[-1].cause == "override_carried"


def test_council_ballot_votes_do_not_count_towards_the_override_when_a_veto_follows(
    app, clock,
) -> None:
    pid = adopted(app, clock)  # the council's own ballot had 4 votes for
    app.file_veto(pid, "maire-a", "A", "Le projet ampute le marché couvert de la commune.")
    clock.advance(days=15)
    assert app.close_veto_window(pid, clock()) == "rejected"
    assert list(app.events.get(pid))[-1].yes == 0


def test_refuses_veto_when_the_window_has_passed(app, clock) -> None:
    pid = adopted(app, clock)
    clock.advance(days=15)
    with pytest.raises(VetoOutsideWindow):
        app.file_veto(pid, "maire-a", "A", "Trop tard, mais tout de même.")


def test_refuses_veto_when_no_window_is_open_yet(app, clock) -> None:
    pid, _ = app.submit_proposal(pact(app), "auteur", "Titre", "Résumé", ["A"])
    with pytest.raises(VetoOutsideWindow):
        app.file_veto(pid, "maire-a", "A", "Avant même le vote du conseil.")


def test_refuses_veto_when_the_commune_is_not_concerned(app, clock) -> None:
    pid = adopted(app, clock, communes=("A",))
    with pytest.raises(CommuneNotConcerned):
        app.file_veto(pid, "maire-b", "B", "Ma commune n'est pas concernée mais je m'oppose.")


def test_refuses_veto_when_the_caller_is_not_that_commune_s_mayor(app, clock) -> None:
    pid = adopted(app, clock)
    with pytest.raises(NotMayorOfCommune):
        app.file_veto(pid, "maire-b", "A", "Je ne suis pas maire de A.")
    with pytest.raises(NotMayorOfCommune):
        app.file_veto(pid, "c1", "A", "Je ne suis pas maire du tout.")


def test_refuses_a_second_veto_when_one_is_filed(app, clock) -> None:
    pid = adopted(app, clock, communes=("A", "B"))
    app.file_veto(pid, "maire-a", "A", "Premier veto, motivé.")
    with pytest.raises(VetoAlreadyFiled):
        app.file_veto(pid, "maire-b", "B", "Second veto, motivé aussi.")


def test_refuses_override_votes_when_the_window_has_passed(app, clock) -> None:
    pid = adopted(app, clock)
    app.file_veto(pid, "maire-a", "A", "Le projet ampute le marché couvert.")
    clock.advance(days=15)
    with pytest.raises(VoteAfterClose):
        app.cast_vote(pid, "c1", "for")


def test_opens_no_window_when_the_charter_grants_no_veto(app, clock) -> None:
    pid = adopted(app, clock, veto_days=0)
    assert app.get_proposal(pid).stage == "decided"
    assert app.open_veto_window(pid, clock()) is None


def test_opens_no_window_when_the_proposal_concerns_no_commune(app, clock) -> None:
    pid = adopted(app, clock, communes=())
    assert app.get_proposal(pid).stage == "decided"


def test_refuses_submission_when_a_concerned_commune_is_unknown(app) -> None:
    with pytest.raises(UnknownCommune):
        app.submit_proposal(pact(app), "auteur", "Titre", "Résumé", ["Z"])


def test_author_withdraws_during_consultation_and_no_stage_follows(app, clock) -> None:
    pid, _ = app.submit_proposal(pact(app), "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    app.withdraw(pid, "auteur")
    assert app.get_proposal(pid).stage == "withdrawn"
    with pytest.raises(ProposalWithdrawn):
        app.open_vote(pid, clock())


def test_refuses_withdrawal_when_someone_else_asks(app, clock) -> None:
    pid, _ = app.submit_proposal(pact(app), "auteur", "Titre", "Résumé")
    with pytest.raises(NotTheAuthor):
        app.withdraw(pid, "quelqu-un")


def test_refuses_withdrawal_when_the_vote_has_opened(app, clock) -> None:
    pid, _ = app.submit_proposal(pact(app), "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    app.open_vote(pid, clock())
    with pytest.raises(WithdrawalTooLate):
        app.withdraw(pid, "auteur")


def test_reads_a_version_1_submission_as_concerning_no_commune(app) -> None:
    mid = pact(app)
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé", ["A"])
    stored = app.mapper.to_stored_event(list(app.events.get(pid))[0])
    state = app.mapper.transcoder.decode(stored.state)
    del state["communes"]
    del state["class_version"]  # as written before communes existed (and before sealing)
    state["title"], state["summary"] = state.pop("title_sealed"), state.pop("summary_sealed")
    v1 = StoredEvent(stored.originator_id, stored.originator_version, stored.topic,
                     app.mapper.transcoder.encode(state))
    event = app.mapper.to_domain_event(v1)
    assert isinstance(event, Proposal.Submitted) and event.communes == []


def test_the_charter_s_veto_role_holds_the_veto_when_it_is_not_the_mayor(clock) -> None:
    app = in_memory_app(clock)
    mid = app.found_metropolis("pacte-c", "Métropole", COMMUNES, SEATS, CharterRules(
        consultation_seconds=DAY, vote_seconds=DAY, quorum_percent=50,
        veto_window_seconds=DAY, veto_role="councillor"))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé", ["C"])
    app.open_consultation(pid, clock())
    opened = app.open_vote(pid, clock())
    for ref in ("maire-b", "c1", "c2"):
        app.cast_vote(pid, ref, "for")
    app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    app.open_veto_window(pid, clock())
    with pytest.raises(NotMayorOfCommune):
        app.file_veto(pid, "maire-a", "C", "Le maire n'a pas le veto dans cette charte.")
    app.file_veto(pid, "c1", "C", "Le conseiller de la commune C exerce le veto.")


def test_window_closes_early_when_two_thirds_of_members_have_lifted_the_veto(app, clock) -> None:
    pid = adopted(app, clock)
    app.file_veto(pid, "maire-a", "A", "Le projet ampute le marché couvert de la commune.")
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")  # 3 of 5 members: not yet two thirds
        assert not app.override_carried(pid)
    app.cast_vote(pid, "maire-b", "for")  # 4 of 5: carried whatever the last vote
    assert app.override_carried(pid)
    clock.advance(days=1)  # 14 days before the window's term
    assert app.close_veto_window(pid, clock()) == "adopted"
    events = list(app.events.get(pid))
    assert (events[-2].cause, events[-1].cause, events[-1].yes) == (
        "override_carried", "override_carried", 4)


def test_refuses_to_close_the_window_early_when_the_override_is_not_carried(app, clock) -> None:
    pid = adopted(app, clock)
    app.file_veto(pid, "maire-a", "A", "Le projet ampute le marché couvert de la commune.")
    for ref in ("c1", "c2", "c3"):
        app.cast_vote(pid, ref, "for")
    size = app.recorder.max_notification_id()
    clock.advance(days=1)
    with pytest.raises(WrongStage):
        app.close_veto_window(pid, clock())
    assert app.recorder.max_notification_id() == size


def test_a_simple_override_majority_is_carried_early_only_when_every_member_voted(clock) -> None:
    app = in_memory_app(clock)
    mid = app.found_metropolis("pacte", "Métropole du pacte", COMMUNES, SEATS, CharterRules(
        consultation_seconds=30 * DAY, vote_seconds=14 * DAY, quorum_percent=50,
        veto_window_seconds=15 * DAY, veto_override_majority="simple"))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé", ["A"])
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for ref in ("maire-b", "c1", "c2"):
        app.cast_vote(pid, ref, "for")
    clock.advance(days=14)
    app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    app.open_veto_window(pid, clock())
    app.file_veto(pid, "maire-a", "A", "Le projet ampute le marché couvert de la commune.")
    for ref, choice in (("c1", "for"), ("c2", "for"), ("c3", "for"), ("maire-b", "against")):
        app.cast_vote(pid, ref, choice)
        assert not app.override_carried(pid)  # the last member could still tie it
    app.cast_vote(pid, "maire-a", "against")
    assert app.override_carried(pid)  # 3 to 2, every member has voted
