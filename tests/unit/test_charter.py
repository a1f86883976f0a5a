"""The charter as versioned data."""

import pytest

from domain.governance.charter import Charter
from domain.rules.charter import CharterRules
from domain.errors import InvalidCharter
from tests.unit.helpers import found, in_memory_app


def test_refuses_rules_when_a_stage_has_no_duration() -> None:
    with pytest.raises(InvalidCharter):
        CharterRules(consultation_seconds=0, vote_seconds=10, quorum_percent=50)


@pytest.mark.parametrize("quorum", [-1, 101])
def test_refuses_rules_when_quorum_is_not_a_percentage(quorum: int) -> None:
    with pytest.raises(InvalidCharter):
        CharterRules(consultation_seconds=1, vote_seconds=1, quorum_percent=quorum)


def test_refuses_rules_when_majority_kind_is_unknown() -> None:
    with pytest.raises(InvalidCharter):
        CharterRules(consultation_seconds=1, vote_seconds=1, quorum_percent=1, majority="loud")


def test_keeps_every_version_when_amended() -> None:
    app = in_memory_app()
    mid = found(app, quorum_percent=50)
    new = CharterRules(consultation_seconds=5, vote_seconds=5, quorum_percent=60)
    assert app.amend_charter(mid, new) == 2
    charter: Charter = app.get_charter(mid)
    assert charter.rules(1).quorum_percent == 50
    assert charter.rules() == new


def test_proposal_keeps_its_pinned_version_when_charter_is_amended_mid_process() -> None:
    app = in_memory_app()
    mid = found(app, quorum_percent=50)
    pid, _ = app.submit_proposal(mid, "c1", "Titre", "Résumé")
    app.amend_charter(mid, CharterRules(consultation_seconds=5, vote_seconds=5, quorum_percent=90))
    proposal = app.get_proposal(pid)
    assert proposal.charter_version == 1
    assert app.pinned_rules(proposal).quorum_percent == 50
