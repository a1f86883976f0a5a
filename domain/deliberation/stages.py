"""The stages of a proposal and the one table of which stage may follow which.

`Stage` is a `StrEnum`: each member is the very string stored and shown before it existed
(`Stage.VETO_WINDOW == "veto_window"`), so the stored events, the read models and the values
crossing the Temporal boundary keep the same strings. `TRANSITIONS` is the only place the
lifecycle is written down; the `Proposal` aggregate refuses any move it does not list.
"""

from __future__ import annotations

from enum import StrEnum

from domain.errors import WrongStage


class Stage(StrEnum):
    """Where a proposal stands in its deliberation."""

    SUBMITTED = "submitted"
    ADMISSIBILITY = "admissibility"  # the clerk's review against the metropolis' competences
    ADMISSIBLE = "admissible"
    INADMISSIBLE = "inadmissible"  # final; the author may refer it to the guarantor
    CONSULTATION = "consultation"  # the public consultation (again when the guarantor requires)
    DELIBERATION = "deliberation"  # councillors table amendments and vote on each
    DELIBERATED = "deliberated"
    VOTE = "vote"  # the council's roll-call ballot
    COUNTING = "counting"  # the ballot closed, awaiting the count
    DECIDED = "decided"  # adopted or rejected (the outcome says which)
    VETO_WINDOW = "veto_window"  # mayors of concerned communes may veto an adoption
    WITHDRAWN = "withdrawn"
    IMPLEMENTATION = "implementation"
    EVALUATION = "evaluation"  # one of the charter's evaluation steps
    CLOSED = "closed"


# Which stage may follow which. A withdrawal is possible from every stage before the vote; the
# guarantor's required consultation may follow a consultation already held or the deliberation.
TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.SUBMITTED: frozenset({Stage.ADMISSIBILITY, Stage.CONSULTATION, Stage.WITHDRAWN}),
    Stage.ADMISSIBILITY: frozenset({Stage.ADMISSIBLE, Stage.INADMISSIBLE, Stage.WITHDRAWN}),
    Stage.ADMISSIBLE: frozenset({Stage.CONSULTATION, Stage.WITHDRAWN}),
    Stage.INADMISSIBLE: frozenset(),
    Stage.CONSULTATION: frozenset({Stage.CONSULTATION, Stage.DELIBERATION, Stage.VOTE,
                                   Stage.WITHDRAWN}),
    Stage.DELIBERATION: frozenset({Stage.DELIBERATED, Stage.WITHDRAWN}),
    Stage.DELIBERATED: frozenset({Stage.CONSULTATION, Stage.VOTE, Stage.WITHDRAWN}),
    Stage.VOTE: frozenset({Stage.COUNTING}),
    Stage.COUNTING: frozenset({Stage.DECIDED}),
    # After a rejection nothing follows; after an adoption, the veto window or implementation.
    Stage.DECIDED: frozenset({Stage.VETO_WINDOW, Stage.IMPLEMENTATION}),
    Stage.VETO_WINDOW: frozenset({Stage.DECIDED}),
    Stage.WITHDRAWN: frozenset(),
    Stage.IMPLEMENTATION: frozenset({Stage.EVALUATION, Stage.CLOSED}),
    Stage.EVALUATION: frozenset({Stage.EVALUATION, Stage.CLOSED}),
    Stage.CLOSED: frozenset(),
}

# Stages no transition leaves.
TERMINAL: frozenset[Stage] = frozenset(s for s, following in TRANSITIONS.items() if not following)

# The stages before the council's vote opens (withdrawal, the guarantor's requirement,
# requalification of the decision type).
BEFORE_THE_VOTE: frozenset[Stage] = frozenset(
    s for s, following in TRANSITIONS.items() if Stage.WITHDRAWN in following)


def preceding(stage: Stage) -> tuple[Stage, ...]:
    """The stages `stage` may follow, in lifecycle order."""
    return tuple(s for s in Stage if stage in TRANSITIONS[s])


def check_transition(current: str, following: Stage) -> None:
    """Refuse (`WrongStage`) a move from `current` to `following` that the table does not list."""
    if following not in TRANSITIONS[Stage(current)]:
        raise WrongStage(f"a proposal in stage '{current}' cannot move to '{following}'")
