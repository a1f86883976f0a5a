"""The decision rule: quorum and majority from the pinned charter (domain/rules/)."""

import pytest

from domain.rules.charter import CharterRules
from domain.rules.council import Tally, decide


def rules(quorum: int = 50, majority: str = "simple") -> CharterRules:
    return CharterRules(consultation_seconds=1, vote_seconds=1, quorum_percent=quorum,
                        majority=majority)


def tally(yes: int, no: int, abstain: int = 0) -> Tally:
    t = Tally()
    for i, choice in enumerate(["for"] * yes + ["against"] * no + ["abstain"] * abstain):
        t.add(f"m{i}", choice)
    return t


def test_rejects_with_quorum_not_met_when_too_few_members_take_part() -> None:
    outcome = decide(tally(4, 0), members=10, rules=rules(quorum=50))
    assert (outcome.adopted, outcome.cause, outcome.quorum_met) == (False, "quorum_not_met", False)
    assert outcome.rules_cited == ("quorum",)


def test_counts_abstentions_towards_quorum_when_members_abstain() -> None:
    outcome = decide(tally(3, 0, abstain=2), members=10, rules=rules(quorum=50))
    assert outcome.quorum_met and outcome.adopted


def test_rejects_on_tie_when_simple_majority_is_split() -> None:
    outcome = decide(tally(3, 3), members=6, rules=rules())
    assert (outcome.adopted, outcome.cause) == (False, "tie")


def test_adopts_when_simple_majority_carries() -> None:
    outcome = decide(tally(3, 2), members=6, rules=rules())
    assert (outcome.adopted, outcome.cause) == (True, "majority_carried")
    assert outcome.rules_cited == ("quorum", "majority.simple")


@pytest.mark.parametrize(("yes", "no", "abstain", "adopted"), [
    (3, 1, 2, False),  # 3 of 6 taking part is not more than half
    (4, 1, 1, True),
])
def test_absolute_majority_needs_more_than_half_of_participants_when_abstentions_exist(
    yes: int, no: int, abstain: int, adopted: bool
) -> None:
    outcome = decide(tally(yes, no, abstain), members=6, rules=rules(majority="absolute"))
    assert outcome.adopted is adopted


@pytest.mark.parametrize(("yes", "adopted"), [(5, False), (6, True)])
def test_two_thirds_of_members_counts_seated_members_when_some_are_absent(
    yes: int, adopted: bool
) -> None:
    outcome = decide(tally(yes, 0), members=9, rules=rules(majority="two_thirds_of_members"))
    assert outcome.adopted is adopted


def test_counts_a_voter_once_when_a_recount_sees_the_same_vote_twice() -> None:
    t = Tally()
    t.add("m1", "for")
    t.add("m1", "against")
    assert (t.yes, t.no, t.participants) == (1, 0, 1)


@pytest.mark.parametrize(("majority", "votes", "members", "carried"), [
    ("two_thirds_of_members", (4, 0, 0), 6, True),     # 4 of 6 reached: stays reached
    ("two_thirds_of_members", (3, 0, 0), 6, False),
    ("simple", (3, 0, 0), 6, False),                   # the other three could outvote them
    ("simple", (4, 2, 0), 6, True),                    # every member has voted
    ("absolute", (4, 1, 0), 6, False),
    ("absolute", (4, 1, 1), 6, True),
])
def test_carried_irrevocably_only_when_no_vote_to_come_can_undo_it(
    majority: str, votes: tuple[int, int, int], members: int, carried: bool,
) -> None:
    from domain.rules.council import carried_irrevocably

    rules = CharterRules(consultation_seconds=1, vote_seconds=1, quorum_percent=50,
                         majority=majority)
    assert carried_irrevocably(Tally(*votes), members, rules) is carried
