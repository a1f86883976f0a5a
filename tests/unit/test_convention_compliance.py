"""The citizens' convention's compliance checks (domain/rules/compliance.py), pure: each rule
flags when the log breaks it and stays silent when the log respects it, with the proving
positions; the same flags from the domain events (the view) as from the leaves (an export).
Logs are written by the convention commands on the in-memory store, a breach past them."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, Callable

from domain.convention.commands import randomness_of
from domain.rules import sortition
from domain.rules.compliance import RULE_FR
from tests.unit.test_budget_compliance import found
from tests.unit.test_convention import (
    SECRET,
    committed,
    uniform_solver,
    with_pool,
)
from tests.unit.helpers import ManualClock, in_memory_app

CONVENTION_RULES = ("convention.late_reveal", "convention.commitment_mismatch",
                    "convention.distribution_invalid", "convention.draw_mismatch",
                    "convention.seed_before_commitment")


def positions(app, cid) -> dict[str, list[int]]:
    """The log positions of the convention's events, by event name."""
    out: dict[str, list[int]] = {}
    for e in app.events.get(cid):
        out.setdefault(type(e).__name__, []).append(app.position_of(cid, e.originator_version))
    return out


def forged_commitment(app, clock, cid, change: Callable[[dict[str, Any]], None],
                      recommit: bool = False) -> None:
    """The pool committed past the command, as it would be, with `change` applied to the
    event's fields (and the commitment recomputed over them when `recommit`)."""
    convention = app.get_convention(cid)
    rules = convention.convention_rules
    close = app.recorder.max_notification_id()
    pool = app.convention_pool(cid, upto=close)
    people = [sortition.person(ref, values) for ref, values in pool]
    quotas = [sortition.Quota(c, v, lo, hi) for c, v, lo, hi in rules.quota_list()]
    dist = uniform_solver(people, quotas, rules.size, rules.method)
    randomness = randomness_of(rules, convention.seed_digest, clock())
    fields = {"close_position": close, "pool": [[r, v] for r, v in pool],
              "quotas": [[q.feature, q.value, q.min, q.max] for q in quotas],
              "size": rules.size, "method": rules.method,
              "algorithm_version": sortition.ALGORITHM_VERSION,
              "distribution": dist.to_json(), "randomness": randomness,
              "commitment": sortition.commitment(people, quotas, rules.size, rules.method,
                                                 sortition.ALGORITHM_VERSION, dist,
                                                 json.dumps(randomness, sort_keys=True)),
              "at": clock(), "reveal_by": clock() + timedelta(seconds=rules.reveal_seconds)}
    change(fields)
    if recommit:
        forged = sortition.Distribution.from_json(fields["distribution"])
        fields["commitment"] = sortition.commitment(
            people, quotas, rules.size, rules.method, sortition.ALGORITHM_VERSION, forged,
            json.dumps(fields["randomness"], sort_keys=True))
    convention._pool_committed(**fields)  # whatever the stage
    app.save(convention)


def drawn(n_per_type: int = 3):
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = committed(app, clock, n_per_type)
    app.reveal_convention_seed(cid, "garant-1", SECRET)
    panel = app.draw_convention_panel(cid, clock())
    return app, clock, cid, panel


def other_of_same_type(app, cid, member: str, excluded: list[str]) -> str:
    values = dict(app.get_convention(cid).committed["pool"])
    return next(r for r, v in sorted(values.items())
                if v == values[member] and r != member and r not in excluded)


def test_every_convention_rule_has_its_french_text_when_flagged() -> None:
    assert all(RULE_FR[rule] for rule in CONVENTION_RULES)


def test_no_flag_when_a_convention_ran_by_its_rules() -> None:
    app, clock, cid, panel = drawn()
    app.answer_convention_seat(cid, panel[0], accept=False)
    newcomer = (set(app.get_convention(cid).panel) - set(panel)).pop()
    app.answer_convention_seat(cid, newcomer, accept=False)  # a second decline, excluded
    clock.advance(days=5)
    app.open_convention_sitting(cid, clock())
    app.record_convention_session(cid, "clerk-1", 1, "Séance d'ouverture")
    clock.advance(days=100)
    app.end_convention(cid, clock())
    assert found(app) == []


def test_flags_a_late_reveal_when_the_seed_came_after_its_deadline() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = committed(app, clock)
    clock.advance(days=3)  # reveal_seconds is two days
    app.reveal_convention_seed(cid, "garant-1", SECRET)
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.late_reveal",
                           (at["PoolCommitted"][0], at["SeedRevealed"][0]))]


def test_flags_a_late_reveal_when_the_convention_ended_without_its_seed() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = committed(app, clock)
    clock.advance(days=3)
    app.end_convention(cid, clock(), "cancelled", "le garant n'a pas révélé son secret")
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.late_reveal",
                           (at["PoolCommitted"][0], at["Ended"][0]))]


def test_no_late_reveal_when_cancelled_before_the_deadline() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = committed(app, clock)
    app.end_convention(cid, clock(), "cancelled", "mandat retiré")
    assert found(app) == []


def test_flags_a_commitment_mismatch_when_the_recorded_hash_is_not_the_recomputed_one() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = with_pool(app, clock)
    clock.advance(days=10)
    forged_commitment(app, clock, cid, lambda f: f.update(commitment="0" * 64))
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.commitment_mismatch",
                           (at["PoolCommitted"][0],))]


def test_flags_a_commitment_mismatch_when_it_cites_another_secret_than_the_guarantors(
) -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = with_pool(app, clock)
    clock.advance(days=10)
    forged_commitment(app, clock, cid, lambda f: f["randomness"].update(
        secret_sha256="f" * 64), recommit=True)
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.commitment_mismatch",
                           (at["SeedCommitted"][0], at["PoolCommitted"][0]))]


def test_flags_an_invalid_distribution_when_its_weights_do_not_sum_to_the_denominator(
) -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = with_pool(app, clock)
    clock.advance(days=10)

    def heavier(f: dict[str, Any]) -> None:
        f["distribution"]["panels"][0]["weight"] += 1

    forged_commitment(app, clock, cid, heavier, recommit=True)
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.distribution_invalid",
                           (at["PoolCommitted"][0],))]


def test_flags_a_draw_mismatch_when_the_recorded_panel_is_not_the_redrawn_one() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = committed(app, clock, n_per_type=3)
    app.reveal_convention_seed(cid, "garant-1", SECRET)
    honest = sortition.draw(*app._committed_people(app.get_convention(cid))[::3],
                            bytes.fromhex(SECRET))
    swapped = other_of_same_type(app, cid, honest[0], list(honest))
    convention = app.get_convention(cid)
    convention.draw_panel(panel=sorted([swapped, *honest[1:]]), at=clock(),
                          acceptance_closes_at=clock() + timedelta(days=5))
    app.save(convention)  # past the command, which draws with the seed
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.draw_mismatch",
                           (at["PoolCommitted"][0], at["SeedRevealed"][0],
                            at["PanelDrawn"][0]))]


def test_flags_a_draw_mismatch_when_a_declined_seat_went_to_another_alternate() -> None:
    app, clock, cid, panel = drawn(n_per_type=5)  # a type keeps two alternates after a decline
    app.answer_convention_seat(cid, panel[0], accept=False)  # honest
    honest = (set(app.get_convention(cid).panel) - set(panel)).pop()
    convention = app.get_convention(cid)
    people, quotas, size, _ = app._committed_people(convention)
    due = sortition.replacement(people, quotas, size, convention.panel, honest,
                                bytes.fromhex(SECRET), 1, excluded=convention.declined)
    chosen = other_of_same_type(app, cid, honest, [*convention.panel, panel[0], due])
    convention.decline_seat(member=honest, index=1, replacement=chosen, at=clock())
    app.save(convention)
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.draw_mismatch",
                           (at["SeedRevealed"][0], at["PanelDrawn"][0],
                            at["SeatDeclined"][1]))]


def test_flags_a_seed_before_commitment_when_revealed_before_the_pool_was_committed(
) -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = with_pool(app, clock)
    convention = app.get_convention(cid)
    convention._seed_revealed(seed=SECRET, revealed_by="garant-1", at=clock())
    app.save(convention)  # past the command and the aggregate's check
    clock.advance(days=10)
    forged_commitment(app, clock, cid, lambda f: None)
    at = positions(app, cid)
    assert found(app) == [
        (str(cid), "convention.seed_before_commitment", (at["SeedRevealed"][0],)),
        (str(cid), "convention.seed_before_commitment",
         (at["SeedRevealed"][0], at["PoolCommitted"][0]))]


def test_flags_a_seed_before_commitment_when_the_secret_is_not_the_committed_one() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = committed(app, clock)
    convention = app.get_convention(cid)
    convention.reveal_seed(seed="22" * 32, revealed_by="garant-1", at=clock())
    app.save(convention)  # past the command, which checks the secret's hash
    at = positions(app, cid)
    assert found(app) == [(str(cid), "convention.seed_before_commitment",
                           (at["SeedCommitted"][0], at["SeedRevealed"][0]))]
