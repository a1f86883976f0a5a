"""Amending the charter through the same deliberation, by the charter's qualified majority."""

from __future__ import annotations

from domain.rules.charter import CharterRules
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


def test_the_amendment_names_the_proposal_that_brought_it_into_force() -> None:
    app, mid, pid, _ = voted(for_votes=4)
    amended = list(app.events.get(app.get_charter(mid).id))[-1]
    assert amended.proposal_id == pid


def vetoed_amendment(override_votes: int):
    """A charter amendment concerning commune A, adopted 5–1, then vetoed by A's mayor."""
    clock = ManualClock()
    app = in_memory_app(clock)
    seats = [{"ref": "maire-a", "name": "Maire A", "role": "mayor", "commune": "A"},
             *({"ref": f"c{i}", "name": f"C{i}", "role": "councillor", "commune": "A"}
               for i in range(1, 6))]
    mid = app.found_metropolis(
        "pacte", "Métropole", [{"code": "A", "name": "A", "population": 1}], seats,
        CharterRules(consultation_seconds=30 * 86400, vote_seconds=14 * 86400,
                     quorum_percent=50, veto_window_seconds=15 * 86400,
                     charter_amendment_majority="simple"))
    pid, _ = app.submit_proposal(mid, "auteur", "Consultation de 45 jours", "Résumé", ["A"],
                                 charter_amendment=NEW_RULES)
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for seat in seats:
        app.cast_vote(pid, seat["ref"], "against" if seat["ref"] == "maire-a" else "for")
    clock.advance(days=14)
    assert app.decide(pid, opened.position, app.close_ballot(pid, clock())) == "adopted"
    assert app.get_charter(mid).current_version == 1  # not before the veto window
    app.open_veto_window(pid, clock())
    app.file_veto(pid, "maire-a", "A", "La commune A refuse ce changement de charte.")
    for i in range(1, override_votes + 1):
        app.cast_vote(pid, f"c{i}", "for")
    clock.advance(days=15)
    return app, mid, app.close_veto_window(pid, clock())


def test_a_sustained_veto_leaves_the_charter_as_it_was() -> None:
    app, mid, outcome = vetoed_amendment(override_votes=3)  # 3 of 6 < two thirds
    assert outcome == "rejected"
    assert app.get_charter(mid).current_version == 1


def test_an_overridden_veto_brings_the_amendment_into_force_at_the_window_s_close() -> None:
    app, mid, outcome = vetoed_amendment(override_votes=4)
    assert outcome == "adopted"
    assert app.get_charter(mid).current_version == 2


def test_an_amendment_declaring_a_bureau_constitutes_it_when_it_comes_into_force() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, 3)
    with_bureau = CharterRules(consultation_seconds=30 * 86400, vote_seconds=14 * 86400,
                               quorum_percent=50, bureau_seats={"citoyens_tires_au_sort": 3})
    pid, _ = app.submit_proposal(mid, "auteur", "Un bureau collégial", "Résumé",
                                 charter_amendment=with_bureau)
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for ref in ("m1", "m2", "m3"):
        app.cast_vote(pid, ref, "for")
    clock.advance(days=14)
    app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    bureau = app.get_bureau(mid)
    assert bureau.composition == {"citoyens_tires_au_sort": 3}


def test_an_amendment_changing_the_seats_recomposes_the_bureau_and_keeps_its_mandates() -> None:
    from datetime import timedelta

    clock = ManualClock()
    app = in_memory_app(clock)
    mid = found(app, 3, bureau_seats={"citoyens_tires_au_sort": 1})
    app.fill_bureau_seat(mid, "citoyens_tires_au_sort", "citoyenne-1",
                         clock() + timedelta(days=365))
    app.amend_charter(mid, CharterRules(consultation_seconds=86400, vote_seconds=86400,
                                        quorum_percent=50,
                                        bureau_seats={"citoyens_tires_au_sort": 2}))
    bureau = app.get_bureau(mid)
    assert bureau.composition == {"citoyens_tires_au_sort": 2}
    assert list(bureau.holders) == ["citoyenne-1"]
    app.fill_bureau_seat(mid, "citoyens_tires_au_sort", "citoyen-2", clock() + timedelta(days=9))
    recomposed = [e for e in app.events.get(bureau.id)
                  if isinstance(e, type(bureau).Recomposed)]
    assert [(e.composition, e.charter_version) for e in recomposed] == [
        ({"citoyens_tires_au_sort": 2}, 2)]


def test_an_amendment_already_in_force_is_not_applied_again_at_the_final_adoption() -> None:
    """A proposal adopted before amendments waited for the veto window had its amendment
    applied at the vote; its window's close must not amend the charter a second time."""
    clock = ManualClock()
    app = in_memory_app(clock)
    seats = [{"ref": "maire-a", "name": "Maire A", "role": "mayor", "commune": "A"},
             *({"ref": f"c{i}", "name": f"C{i}", "role": "councillor", "commune": "A"}
               for i in (1, 2))]
    mid = app.found_metropolis(
        "pacte", "Métropole", [{"code": "A", "name": "A", "population": 1}], seats,
        CharterRules(consultation_seconds=30 * 86400, vote_seconds=14 * 86400,
                     quorum_percent=50, veto_window_seconds=15 * 86400,
                     charter_amendment_majority="simple"))
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé", ["A"],
                                 charter_amendment=NEW_RULES)
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened = app.open_vote(pid, clock())
    for seat in seats:
        app.cast_vote(pid, seat["ref"], "for")
    clock.advance(days=14)
    app.decide(pid, opened.position, app.close_ballot(pid, clock()))
    app.amend_charter(mid, NEW_RULES)  # as the code before this change did at the vote
    app.open_veto_window(pid, clock())
    clock.advance(days=15)
    assert app.close_veto_window(pid, clock()) == "adopted"
    assert app.get_charter(mid).current_version == 2
