"""Every rule a refusal can name is explained in French."""

from __future__ import annotations

import re
from pathlib import Path

import domain.errors as errors
from api.messages_fr import RULE_FR, explain

ROOT = Path(__file__).parents[2]


def _domain_rules() -> set[str]:
    found, queue = set(), [errors.DomainError]
    while queue:
        cls = queue.pop()
        found.add(cls.rule)
        queue.extend(cls.__subclasses__())
    return found


def _api_rules() -> set[str]:
    """Rule ids written literally in the API and the projections it serves."""
    rules = set()
    for path in [*(ROOT / "api").rglob("*.py"), ROOT / "projections" / "ledger.py"]:
        text = path.read_text(encoding="utf-8")
        rules |= set(re.findall(r'"rule": "([a-z][a-z_.]*)"', text))
        rules |= set(re.findall(r'_refused\(\d+, "([a-z][a-z_.]*)"', text))
        rules |= set(re.findall(r'CheckpointRefused\(\s*"([a-z][a-z_.]*)"', text))
    return rules


def test_every_domain_rule_is_explained_in_french() -> None:
    assert _domain_rules() - RULE_FR.keys() == set()


def test_every_rule_the_api_names_is_explained_in_french() -> None:
    rules = _api_rules()
    assert {"role_required", "invalid_cosignature", "no_checkpoint"} <= rules  # found them
    assert rules - RULE_FR.keys() == set()


def test_an_unlisted_rule_gets_the_generic_explanation() -> None:
    assert explain("no_such_rule") == RULE_FR["domain"]
    assert explain("vote_after_close") == "Le scrutin est clos."
