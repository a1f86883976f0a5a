"""Amending the charter through the same deliberation, by the charter's qualified majority."""

from __future__ import annotations

from domain.rules import CharterRules
from tests.unit.helpers import ManualClock, found, in_memory_app

NEW_RULES = CharterRules(consultation_seconds=45 * 86400, vote_seconds=14 * 86400,
                         quorum_percent=60)


def voted(for_votes: int, members: int = 6):
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, members, charter_amendment_majority="two_thirds_of_members")
    pid, _ = app.submit_proposal(mid, "auteur", "Consultation de 45 jours", "Résumé",
                                 charter_amendment=NEW_RULES)
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for i in range(1, members + 1):
        app.cast_vote(pid, f"m{i}", "for" if i <= for_votes else "against")
    clock.advance(days=14)
    outcome = app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    return app, mid, pid, outcome


def test_amends_the_charter_when_adopted_by_two_thirds_of_members() -> None:
    app, mid, pid, outcome = voted(for_votes=4)
    assert outcome == "adopted"
    charter = app.get_charter(mid)
    assert charter.current_version == 2 and charter.rules() == NEW_RULES
    decided = list(app.events.get(pid))[-1]
    assert decided.rules_cited == ["quorum", "majority.charter_amendment"]


def test_keeps_the_charter_when_a_simple_majority_is_not_enough() -> None:
    app, mid, pid, outcome = voted(for_votes=4, members=7)  # 4–3: simple yes, 2/3 no
    assert outcome == "rejected"
    assert app.get_charter(mid).current_version == 1


def test_new_proposals_pin_the_amended_version_when_it_took_effect() -> None:
    app, mid, _, _ = voted(for_votes=5)
    pid, _ = app.submit_proposal(mid, "auteur", "Après l'amendement", "Résumé")
    proposal = app.get_proposal(pid)
    assert proposal.charter_version == 2
    assert app.pinned_rules(proposal).consultation_seconds == 45 * 86400
