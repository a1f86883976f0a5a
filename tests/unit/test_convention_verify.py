"""`registre audit verify` re-draws every citizens' convention from an export alone
(domain/ledger/verify.py), from a log the convention commands wrote on the in-memory store: a
genuine export verifies with its convention redrawn (a declined seat's alternate re-derived);
an export whose panel, distribution weights or seed's place were tampered is refused, naming
the convention, the check and the position."""

from __future__ import annotations

from typing import Any

from domain.ledger.verify import verify_export
from domain.rules import sortition
from tests.unit.helpers import ManualClock, in_memory_app
from tests.unit.test_budget_verify import exported
from tests.unit.test_convention import SECRET, committed, with_pool
from tests.unit.test_convention_compliance import drawn, forged_commitment
from tests.unit.test_export_format import VKEY

_CONVENTION = "domain.convention.convention:Convention."


def position_of(lines: list[dict[str, Any]], name: str) -> int:
    return next(line["notification_id"] for line in lines
                if line.get("topic") == _CONVENTION + name)


def errors_of(report, position: int, cid, rule: str) -> list[str]:
    return [e for e in report.errors
            if e.startswith(f"position #{position}: convention {cid}: {rule}: ")]


def test_verify_redraws_a_convention_when_the_export_is_genuine() -> None:
    app, clock, cid, panel = drawn()
    app.answer_convention_seat(cid, panel[0], accept=False)
    clock.advance(days=5)
    app.open_convention_sitting(cid, clock())
    report = verify_export(exported(app), VKEY)
    assert report.ok, report.errors
    assert report.conventions_redrawn == 1


def test_verify_refuses_an_export_when_the_drawn_panel_was_changed() -> None:
    app, clock, cid, panel = drawn()
    outsider = next(ref for ref, _ in app.get_convention(cid).committed["pool"]
                    if ref not in panel)

    def tamper(topic: str, fields: dict[str, Any]) -> bool:
        if topic != _CONVENTION + "PanelDrawn":
            return False
        fields["panel"] = sorted([outsider, *fields["panel"][1:]])
        return True

    lines = exported(app, tamper)
    report = verify_export(lines, VKEY)
    at = position_of(lines, "PanelDrawn")
    assert not report.ok and report.conventions_redrawn == 0
    assert errors_of(report, at, cid, "convention.draw_mismatch"), report.errors
    assert report.first_bad_position == at


def test_verify_refuses_an_export_when_a_committed_weight_was_changed() -> None:
    app, clock, cid, panel = drawn()

    def tamper(topic: str, fields: dict[str, Any]) -> bool:
        if topic != _CONVENTION + "PoolCommitted":
            return False
        panels = fields["distribution"]["panels"]
        moved = min(panels[0]["weight"] - 1, 10**11)
        panels[0]["weight"] -= moved  # the weights still sum to the denominator
        panels[1]["weight"] += moved
        return True

    lines = exported(app, tamper)
    report = verify_export(lines, VKEY)
    at = position_of(lines, "PoolCommitted")
    assert not report.ok and report.conventions_redrawn == 0
    assert errors_of(report, at, cid, "convention.commitment_mismatch"), report.errors
    assert not errors_of(report, at, cid, "convention.distribution_invalid")


def test_verify_refuses_an_export_when_a_weight_breaks_the_distribution() -> None:
    app, clock, cid, panel = drawn()

    def tamper(topic: str, fields: dict[str, Any]) -> bool:
        if topic != _CONVENTION + "PoolCommitted":
            return False
        fields["distribution"]["panels"][0]["weight"] += 1
        return True

    lines = exported(app, tamper)
    report = verify_export(lines, VKEY)
    at = position_of(lines, "PoolCommitted")
    assert errors_of(report, at, cid, "convention.distribution_invalid"), report.errors


def test_verify_refuses_an_export_when_the_seed_was_revealed_before_the_commitment() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = with_pool(app, clock)
    convention = app.get_convention(cid)
    convention._seed_revealed(seed=SECRET, revealed_by="garant-1", at=clock())
    app.save(convention)  # past the command and the aggregate's check
    clock.advance(days=10)
    forged_commitment(app, clock, cid, lambda f: None)
    convention = app.get_convention(cid)
    people, _, _, dist = app._committed_people(convention)
    convention._panel_drawn(panel=list(sortition.draw(people, dist, bytes.fromhex(SECRET))),
                            at=clock(), acceptance_closes_at=clock())
    app.save(convention)  # the draw itself is right: the seed's place is not
    lines = exported(app)
    report = verify_export(lines, VKEY)
    revealed, committed = position_of(lines, "SeedRevealed"), position_of(lines,
                                                                          "PoolCommitted")
    assert revealed < committed
    assert errors_of(report, revealed, cid, "convention.seed_before_commitment"), report.errors
    assert errors_of(report, committed, cid, "convention.seed_before_commitment")
    assert report.conventions_redrawn == 0 and report.first_bad_position == revealed


def test_verify_refuses_an_export_when_the_revealed_secret_is_not_the_committed_one() -> None:
    clock = ManualClock()
    app = in_memory_app(clock)
    _, cid = committed(app, clock)

    def tamper(topic: str, fields: dict[str, Any]) -> bool:
        if topic != _CONVENTION + "SeedRevealed":
            return False
        fields["seed"] = "22" * 32
        return True

    app.reveal_convention_seed(cid, "garant-1", SECRET)
    lines = exported(app, tamper)
    report = verify_export(lines, VKEY)
    at = position_of(lines, "SeedRevealed")
    assert errors_of(report, at, cid, "convention.seed_before_commitment"), report.errors
