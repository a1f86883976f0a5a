"""The collegial bureau declared by the charter, and its mandates."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import NoBureau, NoFreeSeat, NotPermitted, UnknownSeatKind
from tests.unit.helpers import ManualClock, in_memory_app
from domain.rules.charter import CharterRules

SEATS = [{"ref": "maire-a", "name": "Maire A", "role": "mayor", "commune": "A"},
         {"ref": "maire-b", "name": "Maire B", "role": "mayor", "commune": "B"},
         {"ref": "c1", "name": "C1", "role": "councillor", "commune": "A"}]


def metropolis(bureau: dict[str, int]):
    clock = ManualClock()
    app = in_memory_app(clock)
    mid = app.found_metropolis("bureau", "Métropole", [{"code": "A", "name": "A",
                                                        "population": 1}], SEATS,
                               CharterRules(1, 1, 50, bureau_seats=bureau))
    return app, clock, mid


def test_constitutes_the_bureau_from_the_charter_when_the_metropolis_is_founded() -> None:
    app, clock, mid = metropolis({"maires_majoritaires": 1, "citoyens_tires_au_sort": 2})
    assert app.get_bureau(mid).composition == {"maires_majoritaires": 1,
                                               "citoyens_tires_au_sort": 2}


def test_has_no_bureau_when_the_charter_declares_none() -> None:
    app, clock, mid = metropolis({})
    with pytest.raises(NoBureau):
        app.get_bureau(mid)


def test_fills_seats_up_to_the_composition_and_frees_them_on_vacancy() -> None:
    app, clock, mid = metropolis({"maires_majoritaires": 1})
    until = clock() + timedelta(days=365 * 6)
    app.fill_bureau_seat(mid, "maires_majoritaires", "maire-a", until)
    with pytest.raises(NoFreeSeat):
        app.fill_bureau_seat(mid, "maires_majoritaires", "maire-b", until)
    app.vacate_bureau_seat(mid, "maire-a", "démission")
    app.fill_bureau_seat(mid, "maires_majoritaires", "maire-b", until)
    assert set(app.get_bureau(mid).holders) == {"maire-b"}


def test_refuses_a_mayor_s_seat_when_the_holder_is_not_a_seated_mayor() -> None:
    app, clock, mid = metropolis({"maires_majoritaires": 2, "vice_presidents_minoritaires": 1})
    with pytest.raises(NotPermitted):
        app.fill_bureau_seat(mid, "maires_majoritaires", "c1", clock())
    with pytest.raises(NotPermitted):
        app.fill_bureau_seat(mid, "vice_presidents_minoritaires", "inconnu", clock())


def test_refuses_a_seat_of_a_kind_the_charter_does_not_declare() -> None:
    app, clock, mid = metropolis({"maires_majoritaires": 1})
    with pytest.raises(UnknownSeatKind):
        app.fill_bureau_seat(mid, "citoyens_tires_au_sort", "tire-1", clock())
