"""The metropolises' config file."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.config import MetropolisesConfig

ROOT = Path(__file__).resolve().parents[2]


def test_reads_durations_as_seconds_when_given_in_iso_8601() -> None:
    config = MetropolisesConfig.from_file(ROOT / "deploy" / "metropolises.yaml").as_domain()
    by_slug = {m["slug"]: m for m in config}
    assert by_slug["grand-exemple"]["charter"]["consultation_seconds"] == 30 * 86400
    assert by_slug["demo-metrokawa"]["charter"]["vote_seconds"] == 40
    assert len(by_slug["grand-exemple"]["members"]) == 12


def test_names_the_field_when_quorum_is_out_of_range(tmp_path: Path) -> None:
    bad = tmp_path / "m.yaml"
    bad.write_text(
        "metropolises:\n- slug: x\n  name: X\n  communes: []\n"
        "  council: [{ref: a, name: A}]\n"
        "  charter: {consultation: PT1S, vote: PT1S, quorum_percent: 150}\n"
    )
    with pytest.raises(ValidationError, match="quorum_percent"):
        MetropolisesConfig.from_file(bad)
