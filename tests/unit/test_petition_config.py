"""The metropolises' file declares petition kinds, checked at the boundary by the domain's
own rules (a misspelt field or an impossible rule names itself)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.config import CharterChanges, CharterConfig, MetropolisesConfig
from domain.rules.charter import CharterRules

ROOT = Path(__file__).parents[2]


def test_the_demo_metropolis_offers_an_interpellation_of_some_two_thousand_signatures() -> None:
    config = MetropolisesConfig.from_file(ROOT / "deploy" / "metropolises.yaml").as_domain()
    demo = next(m for m in config if m["slug"] == "demo-metrokawa")
    kind = CharterRules(**demo["charter"]).offered_petition_kinds()["interpellation"]
    residents = sum(c["population"] for c in demo["communes"])
    assert 2_000 <= kind.threshold(residents) <= 3_000
    assert (kind.sponsors, kind.admissibility_seconds, kind.obligation) == (3, 5, "answer")


@pytest.mark.parametrize(("kind", "named"), [
    ({"threshold_percent": 1, "sponsor": 3}, "sponsor"),
    ({"threshold_percent": 0}, "threshold_percent"),
    ({"basis": "absolute"}, "absolute threshold"),
    ({"obligation": "referendum"}, "obligation"),
])
def test_refuses_a_petition_kind_the_domain_would_refuse_naming_why(kind: dict,
                                                                    named: str) -> None:
    with pytest.raises(ValidationError) as e:
        CharterConfig(consultation="PT40S", vote="PT40S", quorum_percent=50,
                      petition_kinds={"interpellation": kind})
    assert named in str(e.value)


def test_an_amendment_file_changes_the_petition_kinds_only_when_it_names_them() -> None:
    assert "petition_kinds" not in CharterChanges(vote="PT10S").as_changes()
    changed = CharterChanges(petition_kinds={"initiative": {
        "basis": "absolute", "threshold_absolute": 15000, "sponsors": 25}}).as_changes()
    assert changed["petition_kinds"]["initiative"]["threshold_absolute"] == 15000


def test_a_kind_may_write_its_durations_in_iso_8601_like_the_rest_of_the_file() -> None:
    charter = CharterConfig(consultation="P30D", vote="P14D", quorum_percent=50,
                            petition_kinds={"initiative": {
                                "basis": "absolute", "threshold_absolute": 15000,
                                "signature_seconds": "P90D", "sponsor_seconds": 3600}})
    kind = charter.as_rules()["petition_kinds"]["initiative"]
    assert (kind["signature_seconds"], kind["sponsor_seconds"]) == (90 * 86400, 3600)


def test_the_real_pace_metropolis_offers_the_reference_kinds() -> None:
    config = MetropolisesConfig.from_file(ROOT / "deploy" / "metropolises.yaml").as_domain()
    example = next(m for m in config if m["slug"] == "grand-exemple")
    kinds = CharterRules(**example["charter"]).offered_petition_kinds()
    assert (kinds["consultation-locale"].basis, kinds["consultation-locale"].signer_limit,
            kinds["consultation-locale"].obligation) == ("electors", 1, "agenda")
    assert kinds["initiative"].threshold(0) == 15000
    assert kinds["interpellation"].signature_seconds == 90 * 86400
