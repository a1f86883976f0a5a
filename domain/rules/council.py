"""The council's rules as pure functions: the tally of a ballot, quorum and majorities, and
the decision they give.

Standard library only (no eventsourcing), so an outside verifier recounting ballots from an
export applies exactly the code the ledger applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from domain.rules.charter import ORDINARY, CharterRules


@dataclass
class Tally:
    """Votes counted on a ballot."""

    yes: int = 0
    no: int = 0
    abstain: int = 0
    voters: set[str] = field(default_factory=set)

    def add(self, voter_ref: str, choice: str) -> None:
        if voter_ref in self.voters:  # the store forbids it; a recount must not double-count
            return
        self.voters.add(voter_ref)
        if choice == "for":
            self.yes += 1
        elif choice == "against":
            self.no += 1
        else:
            self.abstain += 1

    @property
    def participants(self) -> int:
        return self.yes + self.no + self.abstain


@dataclass(frozen=True)
class Outcome:
    """What the council decided and why, with the rules cited."""

    adopted: bool
    cause: str
    quorum_met: bool
    rules_cited: tuple[str, ...]


def decide(tally: Tally, members: int, rules: CharterRules) -> Outcome:
    """Apply the pinned charter's quorum and majority to a closed ballot's tally.

    Causes: `quorum_not_met`, `tie` (simple majority, as many for as against),
    `majority_carried`, `majority_not_reached`.
    """
    majority_rule = f"majority.{rules.majority}"
    quorum_met = rules.quorum_met(tally.participants, members)
    if not quorum_met:
        return Outcome(False, "quorum_not_met", False, ("quorum",))
    if rules.majority == "simple":
        if tally.yes == tally.no:
            return Outcome(False, "tie", True, ("quorum", majority_rule))
        carried = tally.yes > tally.no
    elif rules.majority == "absolute":
        carried = tally.yes * 2 > tally.participants
    else:  # two_thirds_of_members
        carried = tally.yes * 3 >= members * 2
    cause = "majority_carried" if carried else "majority_not_reached"
    return Outcome(carried, cause, True, ("quorum", majority_rule))


def carried_irrevocably(tally: Tally, members: int, rules: CharterRules) -> bool:
    """Whether `decide` adopts on this tally whatever the votes still to come: every member
    has voted, or the majority is two thirds of the members (votes for and participation only
    grow, so once reached it stays reached)."""
    if not decide(tally, members, rules).adopted:
        return False
    return tally.participants >= members or rules.majority == "two_thirds_of_members"


def decide_proposal(tally: Tally, members: int, rules: CharterRules,
                    amends_charter: bool, decision_type: str = ORDINARY) -> Outcome:
    """`decide` with the majority the proposal needs: the charter amendment majority when it
    amends the charter (cited as `majority.charter_amendment`), the majority the charter sets
    for its declared decision type otherwise (cited as `decision.<type>` after the majority
    kind). A type the pinned charter does not know falls back to the ordinary majority, so a
    recount never fails on it; submission refuses such a type."""
    if amends_charter:
        outcome = decide(tally, members, rules.for_charter_amendment())
        cited = tuple("majority.charter_amendment" if r.startswith("majority.") else r
                      for r in outcome.rules_cited)
        return Outcome(outcome.adopted, outcome.cause, outcome.quorum_met, cited)
    majority = rules.decision_majorities.get(decision_type)
    if majority is None:
        return decide(tally, members, rules)
    outcome = decide(tally, members, replace(rules, majority=majority))
    cited = (*outcome.rules_cited, f"decision.{decision_type}") if outcome.quorum_met else (
        outcome.rules_cited)
    return Outcome(outcome.adopted, outcome.cause, outcome.quorum_met, cited)
