"""Participatory budget commands: opening a cycle with its rules, project submission, the
clerks' eligibility review and the guarantor's appeals, voting, the tally at the close
position, the winners' implementation, closing.

A mixin of `Registre` (domain/application.py), which provides the event store and the clock.
Commands run by `BudgetCycleWorkflow`'s activities are idempotent: run twice, they return what
was recorded the first time. Ballots come through `ballot_act`, an act for the group-commit
writer (D11): its fast path assumes a first ballot and reads the cycle from a cache of at
most `CYCLE_CACHE_SECONDS` (the period's end is still checked against the clock; the tally
never counts a ballot stored after the close); its fallback is the full command, alone in its
transaction (it replaces the voter's ballot where the rules allow it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.budget.ballot import BudgetBallot, ballot_id
from domain.budget.cycle import BudgetCycle, CycleStage
from domain.budget.project import MILESTONE_STATUSES, BudgetProject
from domain.errors import (
    BallotAlreadyCast,
    InvalidBallot,
    InvalidBudgetCycle,
    InvalidCharter,
    NoAppealPending,
    NotEligibleToTakePart,
    NotSelected,
    NotTheAuthor,
    ProjectLimitReached,
    ProjectNotAdmissible,
    ReasonRequired,
    SubmissionNotOpen,
    UnknownBudgetCycle,
    UnknownBudgetProject,
    VotingNotOpen,
    WrongStage,
)
from domain.rules.budget_cycle import (
    BudgetRules,
    ballot_refusal,
    checked_districts,
    cycle_results,
    last_ballots,
    refusal_to_take_part,
)
from domain.rules.petition import SignerClaims
from domain.topics import stored_topics

CYCLE_CACHE_SECONDS = 1.0
BALLOT_TOPICS = list(stored_topics(BudgetBallot.Cast, BudgetBallot.Replaced))
REGISTRE_SOURCE = "registre"


@dataclass(frozen=True)
class BallotAct:
    """A ballot for the group-commit writer (`domain.ports.Act`)."""

    prepare: Callable[[], list[Aggregate]]
    fallback: Callable[[], int]


class BudgetCommands:
    """The commands of the participatory budget."""

    # -- reading -----------------------------------------------------------------------

    def get_budget_cycle(self, cycle_id: UUID) -> BudgetCycle:
        try:
            cycle = self.repository.get(cycle_id)
        except AggregateNotFoundError:
            cycle = None
        if not isinstance(cycle, BudgetCycle):
            raise UnknownBudgetCycle(f"no budget cycle {cycle_id}")
        return cycle

    def get_budget_project(self, project_id: UUID) -> BudgetProject:
        try:
            project = self.repository.get(project_id)
        except AggregateNotFoundError:
            project = None
        if not isinstance(project, BudgetProject):
            raise UnknownBudgetProject(f"no budget project {project_id}")
        return project

    def budget_projects(self, cycle_id: UUID) -> list[BudgetProject]:
        """The cycle's projects, in the order they were submitted."""
        cycle = self.get_budget_cycle(cycle_id)
        return [self.get_budget_project(p) for p in cycle.projects]

    def _cached_cycle(self, cycle_id: UUID) -> BudgetCycle:
        cache: dict[UUID, tuple[datetime, BudgetCycle]] = self.__dict__.setdefault(
            "_cycle_cache", {})
        now = self.clock()
        hit = cache.get(cycle_id)
        if hit is not None and now - hit[0] < timedelta(seconds=CYCLE_CACHE_SECONDS):
            return hit[1]
        cycle = self.get_budget_cycle(cycle_id)
        if len(cache) > 1000:
            cache.clear()
        cache[cycle_id] = (now, cycle)
        return cycle

    # -- opening and submission --------------------------------------------------------

    def open_budget_cycle(self, metropolis_id: UUID, clerk_ref: str, title: str,
                          districts: Mapping[str, int],
                          overrides: Mapping[str, Any] | None = None,
                          source: str = REGISTRE_SOURCE) -> tuple[UUID, int]:
        """A clerk opens a cycle: its rules (the charter's budget rules in force, with the
        overrides given) and its districts' budgets are fixed and published before anything
        else, and project submission opens. Returns its id and log position."""
        charter = self.get_charter(metropolis_id)
        try:
            rules = charter.rules().budget_rules().with_overrides(overrides or {})
            districts = checked_districts(districts, self._member_communes(metropolis_id))
        except InvalidCharter as e:
            raise InvalidBudgetCycle(e.message) from None
        now = self.clock()
        cycle = BudgetCycle(
            metropolis_id=metropolis_id, charter_version=charter.current_version, title=title,
            rules=rules.as_dict(), districts=districts, clerk_ref=clerk_ref, at=now,
            submission_closes_at=now + timedelta(seconds=rules.submission_seconds),
            source=source)
        return cycle.id, self.save(cycle)[-1].notification.id

    def submit_budget_project(self, cycle_id: UUID, author_ref: str, claims: SignerClaims,
                              district: str, title: str, summary: str, cost: int,
                              competence: str | None = None) -> tuple[UUID, int]:
        """A resident submits a project during submission: in a district where they take
        part, within a competence of the metropolis (when the charter lists them), costing
        at most the district's budget; title and summary sealed under the author's key."""
        cycle = self.get_budget_cycle(cycle_id)
        if not cycle.is_submitting(self.clock()):
            raise SubmissionNotOpen(f"budget cycle {cycle_id} is not taking projects")
        rules = cycle.cycle_rules
        if district not in cycle.districts:
            raise ProjectNotAdmissible(f"district {district} has no budget in this cycle",
                                       rule="budget.project.district")
        self._check_takes_part(cycle, rules, claims, district)
        competences = self.get_charter(cycle.metropolis_id).rules(
            cycle.charter_version).competences
        if competences and competence not in competences:
            raise ProjectNotAdmissible(
                f"'{competence}' is not a competence of the metropolis: "
                f"{', '.join(competences)}", rule="budget.project.competence")
        if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
            raise ProjectNotAdmissible("a project costs a positive whole number of units",
                                       rule="budget.project.cost")
        if cost > cycle.districts[district]:
            raise ProjectNotAdmissible(
                f"a project of district {district} costs at most its budget, "
                f"{cycle.districts[district]}", rule="budget.project.cost")
        limit = rules.max_projects_per_author
        if limit and cycle.authors.count(author_ref) >= limit:
            raise ProjectLimitReached(f"an author submits at most {limit} project(s)")
        project = BudgetProject(
            cycle_id=cycle_id, district=district, author_ref=author_ref,
            title_sealed=self._seal(cycle.metropolis_id, author_ref, "title", title),
            summary_sealed=self._seal(cycle.metropolis_id, author_ref, "summary", summary),
            cost=cost, competence=competence, at=self.clock())
        cycle.add_project(project_id=project.id, district=district, author_ref=author_ref)
        return project.id, self.save(project, cycle)[0].notification.id

    def _check_takes_part(self, cycle: BudgetCycle, rules: BudgetRules, claims: SignerClaims,
                          district: str) -> None:
        refused = refusal_to_take_part(rules, claims,
                                       self._member_communes(cycle.metropolis_id), district,
                                       self.clock().date())
        if refused is not None:
            raise NotEligibleToTakePart(refused[1], rule=refused[0])

    # -- the eligibility review and appeals --------------------------------------------

    def open_budget_review(self, cycle_id: UUID, at: datetime) -> datetime:
        """At the end of submission: open the clerks' review (idempotent); its deadline."""
        cycle = self.get_budget_cycle(cycle_id)
        if cycle.stage == CycleStage.SUBMISSION:
            cycle.open_review(at=at, closes_at=at + timedelta(
                seconds=cycle.cycle_rules.review_seconds))
            self.save(cycle)
        if cycle.review_closes_at is None:
            raise WrongStage(f"budget cycle {cycle_id} is in stage '{cycle.stage}'")
        return cycle.review_closes_at

    def rule_budget_project(self, project_id: UUID, clerk_ref: str, eligible: bool,
                            reason: str = "") -> int:
        """A clerk rules a project eligible or not during the review (ineligible: reasoned);
        a ruling may be revised until the review ends."""
        project = self.get_budget_project(project_id)
        cycle = self.get_budget_cycle(project.cycle_id)
        cycle.require(CycleStage.REVIEW)
        if not eligible and not reason.strip():
            raise ReasonRequired("an ineligibility ruling gives its reasons")
        project.rule(eligible=eligible, clerk_ref=clerk_ref, reason=reason,
                     cause="clerk_ruling")
        return self.save(project)[-1].notification.id

    def appeal_budget_project(self, project_id: UUID, author_ref: str, text: str) -> int:
        """The author appeals an ineligibility ruling to the guarantor, before voting opens
        (the text sealed under the author's key)."""
        project = self.get_budget_project(project_id)
        if project.author_ref != author_ref:
            raise NotTheAuthor(f"only the author may appeal for project {project_id}")
        cycle = self.get_budget_cycle(project.cycle_id)
        cycle.require(CycleStage.REVIEW)
        if project.eligible is not False or project.appeal_pending:
            raise NoAppealPending(f"project {project_id} was not ruled ineligible, or its "
                                  "appeal is pending")
        project.appeal(author_ref=author_ref, text_sealed=self._seal(
            cycle.metropolis_id, author_ref, "appeal", text), at=self.clock())
        return self.save(project)[-1].notification.id

    def decide_budget_appeal(self, project_id: UUID, guarantor_ref: str, upheld: bool,
                             reason: str) -> int:
        """The guarantor decides an appeal before voting opens, with reasons; upheld, the
        project is eligible."""
        project = self.get_budget_project(project_id)
        cycle = self.get_budget_cycle(project.cycle_id)
        cycle.require(CycleStage.REVIEW)
        if not project.appeal_pending:
            raise NoAppealPending(f"project {project_id} has no appeal pending")
        if not reason.strip():
            raise ReasonRequired("the guarantor's decision gives its reasons")
        project.decide_appeal(guarantor_ref=guarantor_ref, upheld=upheld, reason=reason,
                              at=self.clock())
        return self.save(project)[-1].notification.id

    # -- voting ------------------------------------------------------------------------

    def open_budget_voting(self, cycle_id: UUID, at: datetime) -> datetime:
        """At the review's end: the projects no clerk ruled on are eligible by silence, and
        voting opens on each district's eligible projects (idempotent); its end."""
        cycle = self.get_budget_cycle(cycle_id)
        if cycle.stage == CycleStage.REVIEW:
            projects = self.budget_projects(cycle_id)
            silent = [p for p in projects if p.eligible is None]
            for project in silent:
                project.rule(eligible=True, clerk_ref=None, reason="", cause="deadline")
            ballots: dict[str, dict[str, int]] = {d: {} for d in cycle.districts}
            for project in projects:
                if project.eligible:
                    ballots[project.district][str(project.id)] = project.cost
            cycle.open_voting(at=at, closes_at=at + timedelta(
                seconds=cycle.cycle_rules.voting_seconds), ballots=ballots)
            self.save(*silent, cycle)
        if cycle.voting_closes_at is None:
            raise WrongStage(f"budget cycle {cycle_id} is in stage '{cycle.stage}'")
        return cycle.voting_closes_at

    def _checked_choices(self, cycle: BudgetCycle, district: str,
                         choices: Sequence[tuple[str, int]]) -> list[list]:
        if district not in cycle.districts:
            raise InvalidBallot(f"district {district} has no budget in this cycle",
                                rule="budget.district")
        refused = ballot_refusal(cycle.cycle_rules, cycle.districts[district],
                                 cycle.ballots.get(district, {}), choices)
        if refused is not None:
            raise InvalidBallot(refused[1], rule=refused[0])
        return [[str(p), int(n)] for p, n in choices]

    def _check_votable(self, cycle: BudgetCycle) -> None:
        if not cycle.is_voting(self.clock()):
            raise VotingNotOpen(f"budget cycle {cycle.id} is not taking ballots")

    def ballot_act(self, cycle_id: UUID, voter_ref: str, claims: SignerClaims, district: str,
                   choices: Sequence[tuple[str, int]]) -> BallotAct:
        """The act of voting for the group-commit writer: the fast path builds a first
        ballot; the fallback finds a prior one (replaced where allowed, else refused)."""

        def prepare() -> list[Aggregate]:
            cycle = self._cached_cycle(cycle_id)
            self._check_votable(cycle)
            self._check_takes_part(cycle, cycle.cycle_rules, claims, district)
            checked = self._checked_choices(cycle, district, choices)
            return [BudgetBallot(cycle_id=cycle_id, district=district, voter_ref=voter_ref,
                                 choices=checked)]

        return BallotAct(prepare, lambda: self.cast_budget_ballot(
            cycle_id, voter_ref, claims, district, choices))

    def cast_budget_ballot(self, cycle_id: UUID, voter_ref: str, claims: SignerClaims,
                           district: str, choices: Sequence[tuple[str, int]]) -> int:
        """A resident casts a valid ballot in a district where they take part, while voting
        is open: once, or again replacing the first where the rules allow it (the last one
        stored before the close counts). Returns the ballot event's log position."""
        cycle = self.get_budget_cycle(cycle_id)
        self._check_votable(cycle)
        self._check_takes_part(cycle, cycle.cycle_rules, claims, district)
        checked = self._checked_choices(cycle, district, choices)
        try:
            ballot = self.repository.get(ballot_id(cycle_id, district, voter_ref))
        except AggregateNotFoundError:
            ballot = None
        if ballot is None:
            ballot = BudgetBallot(cycle_id=cycle_id, district=district, voter_ref=voter_ref,
                                  choices=checked)
        elif cycle.cycle_rules.replace_ballot:
            ballot.replace(checked)
        else:
            raise BallotAlreadyCast(f"this person has already voted in district {district}")
        try:
            return self.save(ballot)[0].notification.id
        except IntegrityError:
            if not cycle.cycle_rules.replace_ballot:
                raise BallotAlreadyCast(
                    f"this person has already voted in district {district}") from None
            raise

    def close_budget_voting(self, cycle_id: UUID, at: datetime) -> int:
        """At the voting period's end: close it (idempotent); its log position, the cut-off
        of the tally."""
        cycle = self.get_budget_cycle(cycle_id)
        if cycle.stage != CycleStage.VOTING and not cycle.voting_closed:
            raise WrongStage(f"budget cycle {cycle_id} is in stage '{cycle.stage}'")
        if not cycle.voting_closed:
            cycle.close_voting(at=at)
            self.save(cycle)
        return self._position_of_event(cycle, BudgetCycle.VotingClosed)

    # -- the tally ---------------------------------------------------------------------

    def budget_ballots(self, cycle_id: UUID, upto: int | None = None
                       ) -> tuple[dict[str, dict[str, list[list]]], int | None]:
        """The ballots counted (the last of each voter), per district and voter, read from
        the log between voting's opening and `upto` (default: the close), and that last
        position (None while voting is open and `upto` is not given)."""
        cycle = self.get_budget_cycle(cycle_id)
        opened = self._position_of_event(cycle, BudgetCycle.VotingOpened)
        last = upto if upto is not None else (
            self._position_of_event(cycle, BudgetCycle.VotingClosed)
            if cycle.voting_closed else None)
        events = []
        start = opened + 1
        while True:
            page = self.recorder.select_notifications(
                start=start, limit=1000, stop=last, topics=BALLOT_TOPICS)
            if not page:
                break
            for notification in page:
                if last is not None and notification.id > last:
                    break
                events.append(self.mapper.to_domain_event(notification))
            start = page[-1].id + 1
        return last_ballots(str(cycle_id), (
            (str(e.cycle_id), e.district, e.voter_ref, e.choices) for e in events)), last

    def tally_budget_cycle(self, cycle_id: UUID, at: datetime) -> dict[str, dict[str, Any]]:
        """After the close: compute each district's outcome with the rule and tie-break fixed
        at the opening, from the ballots in the log up to the close position, and publish
        the results (idempotent: returns the results published)."""
        cycle = self.get_budget_cycle(cycle_id)
        if cycle.results is not None:
            return cycle.results
        cycle.require(CycleStage.VOTING)
        if not cycle.voting_closed:
            raise WrongStage(f"budget cycle {cycle_id} has not closed its voting")
        ballots, close_position = self.budget_ballots(cycle_id)
        assert close_position is not None
        results = cycle_results(cycle.cycle_rules, cycle.districts, cycle.ballots,
                                ballots, lot_seed=str(cycle_id))
        cycle.publish_results(close_position=close_position, results=results, at=at)
        self.save(cycle)
        return results

    # -- implementation and closing ----------------------------------------------------

    def record_budget_milestone(self, project_id: UUID, clerk_ref: str, status: str,
                                note: str) -> int:
        """A clerk records a milestone of a selected project's implementation."""
        project = self.get_budget_project(project_id)
        cycle = self.get_budget_cycle(project.cycle_id)
        cycle.require(CycleStage.RESULTS)
        selected = (cycle.results or {}).get(project.district, {}).get("selected", [])
        if str(project_id) not in selected:
            raise NotSelected(f"project {project_id} was not selected by the cycle")
        if status not in MILESTONE_STATUSES:
            raise InvalidBudgetCycle(f"a milestone's status is one of "
                                     f"{', '.join(MILESTONE_STATUSES)}")
        project.record_milestone(clerk_ref=clerk_ref, status=status, note=note,
                                 at=self.clock())
        return self.save(project)[-1].notification.id

    def close_budget_cycle(self, cycle_id: UUID, at: datetime, outcome: str = "completed",
                           reason: str = "") -> str:
        """Close the cycle (idempotent): `completed` once its results are published, or
        `cancelled` (reasoned) at any stage before."""
        cycle = self.get_budget_cycle(cycle_id)
        if cycle.stage == CycleStage.CLOSED:
            return cycle.outcome or ""
        if outcome == "completed":
            cycle.require(CycleStage.RESULTS)
        elif outcome == "cancelled":
            if cycle.stage == CycleStage.RESULTS:
                raise WrongStage(f"budget cycle {cycle_id} has published its results")
            if not reason.strip():
                raise ReasonRequired("cancelling a cycle gives its reasons")
        else:
            raise InvalidBudgetCycle("a cycle closes completed or cancelled")
        cycle.close(outcome=outcome, reason=reason, at=at)
        self.save(cycle)
        return outcome

    def _position_of_event(self, aggregate: Aggregate, event_class: type) -> int:
        for stored in reversed(list(self.events.get(aggregate.id))):
            if isinstance(stored, event_class):
                return self.position_of(aggregate.id, stored.originator_version)
        raise WrongStage(f"{aggregate.id} has no {event_class.__name__} event")
