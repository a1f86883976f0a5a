"""Citizens' conventions on the in-memory store: opened with a charter kind's rules,
invitations from a registry extract, volunteers (refusals naming their rule, nothing
recorded), the guarantor's committed secret, the pool's commitment with a checked
distribution, the seed revealed only after it and only if it matches, the draw reproduced
from the committed record alone, declines replaced with the same category values, the
sitting, a proposal sent to the council, the end."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date

import pytest

from domain.convention.convention import ConventionStage
from domain.errors import (
    AlreadyVolunteered,
    InvalidConvention,
    NotEligibleToVolunteer,
    NotOnPanel,
    RegistrationNotOpen,
    SeedBeforeCommitment,
    SeedRefused,
    UnknownConventionKind,
    WrongStage,
)
from domain.rules import sortition
from domain.rules.charter import CharterRules
from domain.rules.convention import invited, seed_bytes
from domain.rules.petition import SignerClaims
from tests.unit.helpers import ManualClock, in_memory_app

DAY = 86400
ADULT_A = SignerClaims(commune="A", birthdate=date(1980, 1, 1))
ADULT_B = SignerClaims(commune="B", birthdate=date(1980, 1, 1))
CHILD_A = SignerClaims(commune="A", birthdate=date(2020, 1, 1))
SECRET = "11" * 32
KIND = {"size": 4, "quotas": {"gender": {"f": [2, 2], "m": [2, 2]},
                              "commune": {"A": [1, 3], "B": [1, 3]}},
        "method": "leximin", "randomness": "guarantor_secret",
        "registration_seconds": 10 * DAY, "reveal_seconds": 2 * DAY,
        "acceptance_seconds": 5 * DAY, "term_seconds": 100 * DAY}


def uniform_solver(people, quotas, size, method):
    """Every valid composition equally likely (brute force: small pools only)."""
    types = sortition.types_of(people)
    keys = list(types)
    compositions = []
    for counts in itertools.product(*(range(len(types[k]) + 1) for k in keys)):
        comp = dict(zip(keys, counts))
        if not sortition.violations(comp, people, quotas, size):
            compositions.append(comp)
    if not compositions:
        raise sortition.SortitionError("sortition.infeasible_quotas", "no panel meets them",
                                       relaxation=[{"feature": "gender", "value": "f",
                                                    "bound": "min", "from": 2, "to": 1}])
    return sortition.from_probabilities(compositions, [1.0] * len(compositions))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app(clock: ManualClock):
    return in_memory_app(clock)


def log_size(app) -> int:
    return app.recorder.max_notification_id() or 0


def metropolis(app, kinds=None):
    rules = CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY,
                         quorum_percent=50, convention_kinds=kinds or {"convention": KIND})
    return app.found_metropolis(
        "test", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000},
         {"code": "B", "name": "Ville B", "population": 500}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}], rules)


def opened(app, **overrides):
    mid = metropolis(app)
    cid, _ = app.open_convention(mid, "clerk-1", "convention", "Convention climat",
                                 "Proposer des mesures", overrides=overrides or None)
    return mid, cid


def with_pool(app, clock, n_per_type=2):
    mid, cid = opened(app)
    app.commit_convention_seed(cid, "garant-1", hashlib.sha256(bytes.fromhex(SECRET)).hexdigest())
    i = 0
    for claims in (ADULT_A, ADULT_B):
        for gender in ("f", "m"):
            for _ in range(n_per_type):
                app.register_volunteer(cid, f"v{i}", claims, {"gender": gender}, "tel 06…")
                i += 1
    return mid, cid


def committed(app, clock, n_per_type=2):
    mid, cid = with_pool(app, clock, n_per_type)
    clock.advance(days=10)
    assert app.commit_convention_pool(cid, clock(), uniform_solver)
    return mid, cid


def test_open_fixes_the_kind_rules_when_a_clerk_convenes(app):
    mid, cid = opened(app, size=4)
    c = app.get_convention(cid)
    assert c.stage == ConventionStage.REGISTRATION
    assert c.convention_rules.quotas["gender"] == {"f": [2, 2], "m": [2, 2]}
    assert c.charter_version == 1


def test_open_is_refused_when_the_kind_is_unknown_or_quotas_impossible(app):
    mid = metropolis(app)
    before = log_size(app)
    with pytest.raises(UnknownConventionKind):
        app.open_convention(mid, "clerk-1", "jury", "T", "M")
    with pytest.raises(InvalidConvention) as e:
        app.open_convention(mid, "clerk-1", "convention", "T", "M",
                            overrides={"quotas": {"gender": {"f": [3, 4], "m": [3, 4]}}})
    assert e.value.rule == "convention.rules"
    with pytest.raises(InvalidConvention) as e:
        app.open_convention(mid, "clerk-1", "convention", "T", "M",
                            overrides={"quotas": {"commune": {"Z": [0, 4]}}})
    assert e.value.rule == "convention.quotas"
    assert log_size(app) == before


def test_volunteer_refusals_name_their_rule_and_record_nothing(app, clock):
    mid, cid = opened(app)
    before = log_size(app)
    cases = [
        (CHILD_A, {"gender": "f"}, "convention.min_age"),
        (SignerClaims(commune="Z", birthdate=date(1980, 1, 1)), {"gender": "f"},
         "convention.residence"),
        (ADULT_A, {"gender": "x"}, "convention.category_value"),
        (ADULT_A, {}, "convention.category"),
        (ADULT_A, {"gender": "f", "commune": "B"}, "convention.residence"),
    ]
    for claims, values, rule in cases:
        with pytest.raises(NotEligibleToVolunteer) as e:
            app.register_volunteer(cid, "p", claims, values)
        assert e.value.rule == rule
    assert log_size(app) == before


def test_second_registration_is_refused_when_the_same_person_volunteers_again(app, clock):
    mid, cid = opened(app)
    app.register_volunteer(cid, "p1", ADULT_A, {"gender": "f"})
    before = log_size(app)
    with pytest.raises(AlreadyVolunteered):
        app.register_volunteer(cid, "p1", ADULT_B, {"gender": "m"})
    assert log_size(app) == before


def test_pool_holds_values_with_the_commune_from_the_token_and_no_contact(app, clock):
    mid, cid = with_pool(app, clock, n_per_type=1)
    pool = app.convention_pool(cid)
    assert pool[0] == ("v0", {"commune": "A", "gender": "f"})
    assert len(pool) == 4
    stored = [e for e in app.events.get(app.get_convention(cid).id)]
    assert all("tel" not in str(e.__dict__) for e in stored)


def test_withdrawn_and_erased_volunteers_are_left_out_of_the_pool(app, clock):
    mid, cid = with_pool(app, clock, n_per_type=1)
    app.withdraw_volunteer(cid, "v1")
    app.personal_data.erase(mid, "v2")  # the person's data key destroyed (D10)
    assert [r for r, _ in app.convention_pool(cid)] == ["v0", "v3"]


def test_registration_closes_at_its_deadline(app, clock):
    mid, cid = opened(app)
    clock.advance(days=10)
    with pytest.raises(RegistrationNotOpen):
        app.register_volunteer(cid, "late", ADULT_A, {"gender": "f"})


def test_invitations_are_drawn_reproducibly_when_the_rules_ask_for_them(app, clock):
    mid, cid = opened(app, invitations=3)
    entries = [f"addr-{i}" for i in range(20)]
    chosen = app.draw_convention_invitations(cid, "clerk-1", entries, "tirage-2027")
    assert chosen == invited(entries, "tirage-2027", 3)
    assert app.get_convention(cid).invited == chosen
    before = log_size(app)
    with pytest.raises(InvalidConvention):
        app.draw_convention_invitations(cid, "clerk-1", entries, "autre")
    assert log_size(app) == before


def test_pool_waits_for_the_guarantor_secret_when_none_was_committed(app, clock):
    mid, cid = opened(app)
    clock.advance(days=10)
    with pytest.raises(WrongStage):
        app.commit_convention_pool(cid, clock(), uniform_solver)


def test_commitment_fixes_pool_quotas_and_a_checked_distribution(app, clock):
    mid, cid = committed(app, clock)
    c = app.get_convention(cid)
    assert c.stage == ConventionStage.COMMITTED
    people, quotas, size, dist = app._committed_people(c)
    assert sortition.check_distribution(people, quotas, size, dist) == []
    assert c.committed["randomness"]["secret_sha256"] == hashlib.sha256(
        bytes.fromhex(SECRET)).hexdigest()
    import json
    assert c.commitment == sortition.commitment(
        people, quotas, size, c.committed["method"], c.committed["algorithm_version"], dist,
        json.dumps(c.committed["randomness"], sort_keys=True))
    # idempotent
    assert app.commit_convention_pool(cid, clock(), uniform_solver) == c.commitment


def test_pool_fails_with_its_relaxation_when_no_panel_meets_the_quotas(app, clock):
    mid, cid = opened(app)
    app.commit_convention_seed(cid, "g", hashlib.sha256(bytes.fromhex(SECRET)).hexdigest())
    for i in range(5):
        app.register_volunteer(cid, f"v{i}", ADULT_A, {"gender": "m"})
    clock.advance(days=10)
    assert app.commit_convention_pool(cid, clock(), uniform_solver) is None
    c = app.get_convention(cid)
    assert c.stage == ConventionStage.ENDED and c.outcome == "failed"
    assert c.failure["rule"].startswith("sortition.")


def test_seed_is_refused_before_the_commitment_and_when_it_does_not_match(app, clock):
    mid, cid = with_pool(app, clock)
    before = log_size(app)
    with pytest.raises(SeedBeforeCommitment):
        app.reveal_convention_seed(cid, "garant-1", SECRET)
    assert log_size(app) == before
    clock.advance(days=10)
    app.commit_convention_pool(cid, clock(), uniform_solver)
    before = log_size(app)
    with pytest.raises(SeedRefused):
        app.reveal_convention_seed(cid, "garant-1", "22" * 32)
    with pytest.raises(SeedRefused):
        app.reveal_convention_seed(cid, "garant-1", "not hex")
    assert log_size(app) == before


def test_panel_is_reproduced_from_the_committed_record_and_the_seed(app, clock):
    mid, cid = committed(app, clock)
    app.reveal_convention_seed(cid, "garant-1", SECRET)
    panel = app.draw_convention_panel(cid, clock())
    c = app.get_convention(cid)
    people, quotas, size, dist = app._committed_people(c)
    assert list(sortition.draw(people, dist, bytes.fromhex(SECRET))) == panel
    assert len(panel) == 4
    assert app.draw_convention_panel(cid, clock()) == panel  # idempotent


def test_declined_seat_goes_to_an_alternate_with_the_same_values(app, clock):
    mid, cid = committed(app, clock, n_per_type=3)  # each type keeps one alternate
    app.reveal_convention_seed(cid, "garant-1", SECRET)
    panel = app.draw_convention_panel(cid, clock())
    c = app.get_convention(cid)
    values = dict(c.committed["pool"])
    app.answer_convention_seat(cid, panel[0], accept=False)
    c = app.get_convention(cid)
    newcomer = (set(c.panel) - set(panel)).pop()
    assert values[newcomer] == values[panel[0]]
    with pytest.raises(NotOnPanel):
        app.answer_convention_seat(cid, panel[0], accept=True)
    app.answer_convention_seat(cid, newcomer, accept=True)
    assert app.get_convention(cid).accepted == [newcomer]


def test_sitting_sends_a_proposal_to_the_council_and_ends_at_its_term(app, clock):
    mid, cid = committed(app, clock)
    app.reveal_convention_seed(cid, "garant-1", SECRET)
    app.draw_convention_panel(cid, clock())
    clock.advance(days=5)
    ends = app.open_convention_sitting(cid, clock())
    app.record_convention_session(cid, "clerk-1", 1, "Séance d'ouverture")
    pid, _ = app.send_convention_proposal(cid, "clerk-1", "Tarif social des transports",
                                          "Proposition de la convention")
    assert app.get_proposal(pid).author_ref == f"convention:{cid}"
    assert app.get_convention(cid).proposals == [pid]
    clock.advance(days=100)
    assert clock() >= ends
    assert app.end_convention(cid, clock()) == "completed"
    assert app.get_convention(cid).stage == ConventionStage.ENDED


def test_dice_seed_is_used_whole_when_the_source_is_public_dice():
    assert seed_bytes("dice", "1234561234561234561234") == b"1234561234561234561234"
    with pytest.raises(ValueError):
        seed_bytes("dice", "1237")


def sitting(app, clock, kind: str, bureau_seats: int = 0):
    kinds = {kind: KIND}
    rules = CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY,
                         quorum_percent=50, convention_kinds=kinds,
                         bureau_seats={"citoyens_tires_au_sort": bureau_seats}
                         if bureau_seats else {})
    mid = app.found_metropolis(
        "test", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000},
         {"code": "B", "name": "Ville B", "population": 500}],
        [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)], rules)
    cid, _ = app.open_convention(mid, "clerk-1", kind, "Tirage", "Siéger")
    app.commit_convention_seed(cid, "g", hashlib.sha256(bytes.fromhex(SECRET)).hexdigest())
    i = 0
    for claims in (ADULT_A, ADULT_B):
        for gender in ("f", "m"):
            for _ in range(2):
                app.register_volunteer(cid, f"v{i}", claims, {"gender": gender})
                i += 1
    clock.advance(days=10)
    app.commit_convention_pool(cid, clock(), uniform_solver)
    app.reveal_convention_seed(cid, "g", SECRET)
    app.draw_convention_panel(cid, clock())
    clock.advance(days=5)
    app.open_convention_sitting(cid, clock())
    return mid, cid


def test_bureau_draw_fills_the_citizen_seats_when_its_members_sit(app, clock):
    mid, cid = sitting(app, clock, "bureau", bureau_seats=4)
    app.seat_convention_members(cid, "clerk-1")
    members = app.get_convention(cid).members
    holders = app.get_bureau(mid).holders
    assert sorted(h for h, seat in holders.items()
                  if seat["kind"] == "citoyens_tires_au_sort") == sorted(members)
    before = log_size(app)
    with pytest.raises(InvalidConvention) as e:
        app.seat_convention_members(cid, "clerk-1")
    assert e.value.rule == "convention.seated"
    assert log_size(app) == before


def test_evaluation_draw_becomes_the_panel_when_a_proposal_is_adopted(app, clock):
    mid, cid = sitting(app, clock, "evaluation")
    pid, _ = app.submit_proposal(mid, "auteur", "Titre", "Résumé")
    app.open_consultation(pid, clock())
    clock.advance(days=30)
    opened_vote = app.open_vote(pid, clock())
    for ref in ("m1", "m2"):
        app.cast_vote(pid, ref, "for")
    clock.advance(days=14)
    app.decide(pid, opened_vote.position, app.close_ballot(pid, clock()))
    app.seat_convention_members(cid, "clerk-1", proposal_id=pid)
    proposal = app.get_proposal(pid)
    assert sorted(proposal.evaluation_panel) == sorted(app.get_convention(cid).members)


def test_a_convention_takes_no_seats_when_its_kind_is_neither_bureau_nor_evaluation(app, clock):
    mid, cid = sitting(app, clock, "convention")
    before = log_size(app)
    with pytest.raises(InvalidConvention):
        app.seat_convention_members(cid, "clerk-1")
    assert log_size(app) == before
