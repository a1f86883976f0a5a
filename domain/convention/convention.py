"""A citizens' convention drawn by lot, from its mandate to the end of its term.

`ConventionStage` is the one table of which stage may follow which. The convention's rules
(size, quotas, algorithm, randomness source, periods; `domain/rules/convention.py`
ConventionRules) are fixed in its first event, citing the charter version they come from.

What each event records:
- `Opened`: the metropolis, the charter version, the kind (`convention`, `bureau`,
  `evaluation`…), the title and the mandate (an official's text, in clear), the rules, the
  clerk, when, and when volunteers' registration closes.
- `InvitationsDrawn`: invitations drawn uniformly from a registry extract: its size and
  digest (SHA-256 of its sorted entries, which are pseudonyms), the public seed used whole,
  and the entries invited (`domain/rules/convention.py` invited).
- `SeedCommitted`: for a `guarantor_secret` source, SHA-256 of the guarantor's secret,
  recorded before the pool closes.
- `PoolCommitted`: registration is over. Its log position `close_position` is the cut-off of
  registrations; the pool published as pseudonym + category values only; the quotas, the
  size, the method and the algorithm's version; the panel distribution (compositions by
  category values with integer weights, `domain/rules/sortition.py` Distribution); the
  randomness source fixed in advance (its kind and what it commits to: the secret's hash,
  the dice protocol, the beacon round after which the value counts); the commitment
  (SHA-256 over all of it, `sortition.commitment`), and when the seed is due.
- `PoolFailed`: the pool could not be committed (too small, or quotas no panel of it meets:
  the rule, the message, the smallest relaxation that would make them feasible).
- `SeedRevealed`: the seed, as given (hex, or dice digits), by whom, when; always after
  `PoolCommitted` in the log.
- `PanelDrawn`: the members drawn from the committed distribution by the seed
  (`sortition.draw`), and when acceptance ends.
- `SeatAccepted` / `SeatDeclined`: a member's answer; a declined seat's alternate, drawn by
  `sortition.replacement` with the same seed and the decline's index (None: nobody fits).
- `SittingOpened`: the panel sits (its members), the mandate's end.
- `SessionHeld`: a session's number and its summary (the clerk's, in clear).
- `MembersSeated`: the sitting members took the seats the draw was for: the collegial
  bureau's `citoyens_tires_au_sort` seats (kind `bureau`) or an adopted proposal's citizens'
  evaluation panel (kind `evaluation`); `target` names the bureau's metropolis or the proposal.
- `ProposalSent`: a proposal of the convention entered the deliberation lifecycle, which
  obliges the council to answer it.
- `Ended`: the convention's course is run: `completed` (end of term), `failed` (the pool
  could not be committed) or `cancelled` (reasoned).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import SeedAlreadyCommitted, SeedBeforeCommitment, WrongStage
from domain.rules.convention import ConventionRules


class ConventionStage(StrEnum):
    REGISTRATION = "registration"  # volunteers register (after invitations, if any)
    COMMITTED = "committed"  # the pool and its distribution are committed; the seed is due
    REVEALED = "revealed"  # the seed is known; the panel is drawn from it
    ACCEPTANCE = "acceptance"  # drawn members accept or decline; alternates replace them
    SITTING = "sitting"  # sessions, proposals to the council
    ENDED = "ended"


TRANSITIONS: dict[ConventionStage, frozenset[ConventionStage]] = {
    ConventionStage.REGISTRATION: frozenset({ConventionStage.COMMITTED, ConventionStage.ENDED}),
    ConventionStage.COMMITTED: frozenset({ConventionStage.REVEALED, ConventionStage.ENDED}),
    ConventionStage.REVEALED: frozenset({ConventionStage.ACCEPTANCE, ConventionStage.ENDED}),
    ConventionStage.ACCEPTANCE: frozenset({ConventionStage.SITTING, ConventionStage.ENDED}),
    ConventionStage.SITTING: frozenset({ConventionStage.ENDED}),
    ConventionStage.ENDED: frozenset(),
}


class Convention(Aggregate):
    """One citizens' convention (or bureau draw, or evaluation panel) of a metropolis."""

    class Opened(Aggregate.Created):
        metropolis_id: UUID
        charter_version: int
        kind: str
        title: str
        mandate: str
        rules: dict[str, Any]
        clerk_ref: str
        at: datetime
        registration_closes_at: datetime

    class InvitationsDrawn(Aggregate.Event):
        registry_size: int
        registry_digest: str
        seed: str
        invited: list[str]
        clerk_ref: str
        at: datetime

    class SeedCommitted(Aggregate.Event):
        digest: str
        guarantor_ref: str
        at: datetime

    class PoolCommitted(Aggregate.Event):
        close_position: int
        pool: list[list[Any]]
        quotas: list[list[Any]]
        size: int
        method: str
        algorithm_version: str
        distribution: dict[str, Any]
        randomness: dict[str, Any]
        commitment: str
        at: datetime
        reveal_by: datetime

    class PoolFailed(Aggregate.Event):
        close_position: int
        pool_size: int
        rule: str
        message: str
        relaxation: list[dict[str, Any]]
        at: datetime

    class SeedRevealed(Aggregate.Event):
        seed: str
        revealed_by: str
        at: datetime

    class PanelDrawn(Aggregate.Event):
        panel: list[str]
        at: datetime
        acceptance_closes_at: datetime

    class SeatAccepted(Aggregate.Event):
        member: str
        at: datetime

    class SeatDeclined(Aggregate.Event):
        member: str
        index: int
        replacement: str | None
        at: datetime

    class SittingOpened(Aggregate.Event):
        members: list[str]
        at: datetime
        term_ends_at: datetime

    class SessionHeld(Aggregate.Event):
        number: int
        summary: str
        clerk_ref: str
        at: datetime

    class MembersSeated(Aggregate.Event):
        body: str
        target: str
        clerk_ref: str
        at: datetime

    class ProposalSent(Aggregate.Event):
        proposal_id: UUID
        clerk_ref: str
        at: datetime

    class Ended(Aggregate.Event):
        outcome: str
        reason: str
        at: datetime

    @event(Opened)
    def __init__(self, metropolis_id: UUID, charter_version: int, kind: str, title: str,
                 mandate: str, rules: dict[str, Any], clerk_ref: str, at: datetime,
                 registration_closes_at: datetime) -> None:
        self.metropolis_id = metropolis_id
        self.charter_version = charter_version
        self.kind = kind
        self.title = title
        self.mandate = mandate
        self.rules = rules
        self.clerk_ref = clerk_ref
        self.opened_at = at
        self.registration_closes_at = registration_closes_at
        self.stage = ConventionStage.REGISTRATION
        self.invited: list[str] = []
        self.seed_digest: str | None = None
        self.commitment: str | None = None
        self.committed: dict[str, Any] | None = None
        self.reveal_by: datetime | None = None
        self.seed: str | None = None
        self.panel: list[str] = []
        self.acceptance_closes_at: datetime | None = None
        self.accepted: list[str] = []
        self.declined: list[str] = []
        self.members: list[str] = []
        self.term_ends_at: datetime | None = None
        self.sessions: list[int] = []
        self.proposals: list[UUID] = []
        self.seated_in: str | None = None
        self.outcome: str | None = None
        self.failure: dict[str, Any] | None = None

    @property
    def convention_rules(self) -> ConventionRules:
        return ConventionRules.from_dict(self.rules)

    def _move(self, stage: ConventionStage) -> None:
        if stage not in TRANSITIONS[self.stage]:
            raise WrongStage(f"convention {self.id} cannot go from '{self.stage}' to '{stage}'")
        self.stage = stage

    def require(self, *stages: ConventionStage) -> None:
        if self.stage not in stages:
            raise WrongStage(f"convention {self.id} is in stage '{self.stage}'")

    def is_registering(self, now: datetime) -> bool:
        return self.stage == ConventionStage.REGISTRATION and now < self.registration_closes_at

    # -- before the pool closes ---------------------------------------------------------

    def draw_invitations(self, registry_size: int, registry_digest: str, seed: str,
                         invited: list[str], clerk_ref: str, at: datetime) -> None:
        self.require(ConventionStage.REGISTRATION)
        self._invitations_drawn(registry_size=registry_size, registry_digest=registry_digest,
                                seed=seed, invited=invited, clerk_ref=clerk_ref, at=at)

    @event(InvitationsDrawn)
    def _invitations_drawn(self, registry_size: int, registry_digest: str, seed: str,
                           invited: list[str], clerk_ref: str, at: datetime) -> None:
        self.invited = list(invited)

    def commit_seed(self, digest: str, guarantor_ref: str, at: datetime) -> None:
        self.require(ConventionStage.REGISTRATION)
        if self.seed_digest is not None:
            raise SeedAlreadyCommitted(f"convention {self.id} already has a committed secret")
        self._seed_committed(digest=digest, guarantor_ref=guarantor_ref, at=at)

    @event(SeedCommitted)
    def _seed_committed(self, digest: str, guarantor_ref: str, at: datetime) -> None:
        self.seed_digest = digest

    # -- the commitment, the seed, the draw ---------------------------------------------

    def commit_pool(self, **fields: Any) -> None:
        self._move(ConventionStage.COMMITTED)
        self._pool_committed(**fields)

    @event(PoolCommitted)
    def _pool_committed(self, close_position: int, pool: list[list[Any]],
                        quotas: list[list[Any]], size: int, method: str,
                        algorithm_version: str, distribution: dict[str, Any],
                        randomness: dict[str, Any], commitment: str, at: datetime,
                        reveal_by: datetime) -> None:
        self.stage = ConventionStage.COMMITTED
        self.commitment = commitment
        self.committed = {"close_position": close_position, "pool": pool, "quotas": quotas,
                          "size": size, "method": method,
                          "algorithm_version": algorithm_version,
                          "distribution": distribution, "randomness": randomness}
        self.reveal_by = reveal_by

    def fail_pool(self, close_position: int, pool_size: int, rule: str, message: str,
                  relaxation: list[dict[str, Any]], at: datetime) -> None:
        self.require(ConventionStage.REGISTRATION)
        self._pool_failed(close_position=close_position, pool_size=pool_size, rule=rule,
                          message=message, relaxation=relaxation, at=at)
        self.end(outcome="failed", reason=message, at=at)

    @event(PoolFailed)
    def _pool_failed(self, close_position: int, pool_size: int, rule: str, message: str,
                     relaxation: list[dict[str, Any]], at: datetime) -> None:
        self.failure = {"rule": rule, "message": message, "relaxation": relaxation,
                        "pool_size": pool_size}

    def reveal_seed(self, seed: str, revealed_by: str, at: datetime) -> None:
        if self.stage == ConventionStage.REGISTRATION:
            raise SeedBeforeCommitment(
                f"convention {self.id} has not committed its pool: no seed may be revealed "
                "before the commitment")
        self.require(ConventionStage.COMMITTED)
        self._seed_revealed(seed=seed, revealed_by=revealed_by, at=at)

    @event(SeedRevealed)
    def _seed_revealed(self, seed: str, revealed_by: str, at: datetime) -> None:
        self.stage = ConventionStage.REVEALED
        self.seed = seed

    def draw_panel(self, panel: list[str], at: datetime, acceptance_closes_at: datetime) -> None:
        self._move(ConventionStage.ACCEPTANCE)
        self._panel_drawn(panel=panel, at=at, acceptance_closes_at=acceptance_closes_at)

    @event(PanelDrawn)
    def _panel_drawn(self, panel: list[str], at: datetime,
                     acceptance_closes_at: datetime) -> None:
        self.stage = ConventionStage.ACCEPTANCE
        self.panel = list(panel)
        self.acceptance_closes_at = acceptance_closes_at

    @property
    def seated(self) -> list[str]:
        """The panel as it stands: the drawn members, each declined seat given to its
        alternate (when one fits)."""
        return list(self.panel)

    @event(SeatAccepted)
    def accept_seat(self, member: str, at: datetime) -> None:
        self.accepted.append(member)

    @event(SeatDeclined)
    def decline_seat(self, member: str, index: int, replacement: str | None,
                     at: datetime) -> None:
        self.declined.append(member)
        self.panel = [m for m in self.panel if m != member]
        if replacement is not None:
            self.panel.append(replacement)

    # -- the sitting and the end --------------------------------------------------------

    def open_sitting(self, members: list[str], at: datetime, term_ends_at: datetime) -> None:
        self._move(ConventionStage.SITTING)
        self._sitting_opened(members=members, at=at, term_ends_at=term_ends_at)

    @event(SittingOpened)
    def _sitting_opened(self, members: list[str], at: datetime,
                        term_ends_at: datetime) -> None:
        self.stage = ConventionStage.SITTING
        self.members = list(members)
        self.term_ends_at = term_ends_at

    @event(SessionHeld)
    def hold_session(self, number: int, summary: str, clerk_ref: str, at: datetime) -> None:
        self.sessions.append(number)

    @event(MembersSeated)
    def seat_members(self, body: str, target: str, clerk_ref: str, at: datetime) -> None:
        self.seated_in = f"{body}:{target}"

    @event(ProposalSent)
    def send_proposal(self, proposal_id: UUID, clerk_ref: str, at: datetime) -> None:
        self.proposals.append(proposal_id)

    def end(self, outcome: str, reason: str, at: datetime) -> None:
        self._move(ConventionStage.ENDED)
        self._ended(outcome=outcome, reason=reason, at=at)

    @event(Ended)
    def _ended(self, outcome: str, reason: str, at: datetime) -> None:
        self.stage = ConventionStage.ENDED
        self.outcome = outcome
