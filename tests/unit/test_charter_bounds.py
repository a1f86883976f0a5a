"""Every number and name a charter holds is bounded, in the domain (InvalidCharter) and at
the edge (the API's amendment payload and the metropolises' config file)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from api.config import CharterChanges, CharterConfig
from api.schemas import CharterRulesPayload
from domain.errors import InvalidCharter
from domain.rules.charter import MAX_DURATION_SECONDS, CharterRules

BASE: dict[str, Any] = {"consultation_seconds": 3600, "vote_seconds": 3600,
                        "quorum_percent": 50}


@pytest.mark.parametrize("change", [
    {"consultation_seconds": 10**12}, {"vote_seconds": MAX_DURATION_SECONDS + 1},
    {"veto_window_seconds": 10**12}, {"deliberation_seconds": -1},
    {"admissibility_seconds": float("nan")}, {"evaluation_window_seconds": float("inf")},
    {"evaluation_after_seconds": (3600, 10**12)},
    {"evaluation_after_seconds": tuple(range(1, 30))},
    {"quorum_percent": float("nan")}, {"quorum_percent": True},
    {"petition_threshold_percent": float("nan")},
    {"bureau_seats": {"maires_majoritaires": 10**9}},
    {"competences": ["Transports\x00"]}, {"competences": ["x" * 201]},
    {"competences": [f"c{i}" for i in range(501)]},
    {"veto_territories": ["\u202eA"]}, {"decision_majorities": {"budget\x1b[2J": "simple"}},
    {"veto_role": "citizen"},
])
def test_domain_refuses_charter_when_a_number_or_name_is_out_of_bounds(
    change: dict[str, Any],
) -> None:
    with pytest.raises(InvalidCharter):
        CharterRules(**{**BASE, **change})


def test_domain_accepts_charter_when_every_rule_is_within_bounds() -> None:
    rules = CharterRules(**{**BASE, "consultation_seconds": MAX_DURATION_SECONDS,
                            "competences": ["Mobilités", "Déchets"],
                            "evaluation_after_seconds": (86400, 2 * 86400)})
    assert rules.consultation_seconds == MAX_DURATION_SECONDS


@pytest.mark.parametrize("payload", [
    {"consultation_seconds": 10**12}, {"evaluation_after_seconds": [10**12]},
    {"quorum_percent": 101}, {"bureau_seats": {"maires_majoritaires": 10**6}},
    {"bureau_seats": {"inconnu": 1}}, {"competences": ["a\x00"]},
    {"decision_majorities": {"\u202e": "simple"}}, {"veto_territories": ["A\x1b"]},
    {"petition_threshold_percent": float("inf")},
])
def test_amendment_payload_is_refused_when_a_rule_is_out_of_bounds(
    payload: dict[str, Any],
) -> None:
    with pytest.raises(ValidationError):
        CharterRulesPayload(**payload)


@pytest.mark.parametrize("written", [
    {"consultation": "P5000D"}, {"veto_window": "P4000D"}, {"evaluations": ["P4000D"]},
    {"competences": ["a\x00"]}, {"bureau": {"maires_majoritaires": 10**6}},
])
def test_config_charter_is_refused_when_a_rule_is_out_of_bounds(written: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        CharterConfig(**{"consultation": "P30D", "vote": "P7D", "quorum_percent": 50,
                         **written})
    with pytest.raises(ValidationError):
        CharterChanges(**written)
