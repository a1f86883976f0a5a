"""The offline verifier: checks an export of the ledger with nothing but the public keys.

An export is JSON lines: a header (origin, public keys), every signed checkpoint, then every
stored event in log order with its leaf bytes, and the leaf hash and position the ledger's
Merkle log recorded at that index (used only to locate a change: they are themselves checked
against the signed roots). The
format is strict (docs/export-format.md): a line with an unknown or a missing field is refused,
and every readable field of a record must equal what its leaf bytes encode. The verifier trusts
none of the readable fields: it decodes each event from its leaf bytes, and:

1. checks every checkpoint's ledger signature and the guarantor witness' co-signature;
2. recomputes each leaf hash from the leaf bytes and compares it with the ledger's leaf hash
   at that index, which locates the first edited, deleted, inserted or reordered row;
3. recomputes the Merkle root at every checkpoint size from the recomputed leaves: every
   signed root must be the root of a prefix of this one log (so successive checkpoints are
   consistent, and the ledger's leaf hashes cannot have been rewritten to match);
4. recounts every closed ballot (the council's, each amendment's, and the override ballot
   after a mayor's veto) from the vote events before its close position, re-applies the
   pinned charter's quorum and the majority of the proposal's decision type (`domain.rules`),
   and compares with the recorded
   decision; checks each decision cites the charter version that was in force at submission;
5. recounts every petition's signatures with `domain.rules.petition.SignatureCount` (the rule
   the service counts by): the threshold fixed at the opening is the pinned kind's for the
   recorded figure, `ThresholdReached.position` is the recount's crossing position,
   `ObligationOpened.due_at` is the threshold's time plus the pinned kind's
   `obligation_seconds`, and `Closed.count` is the recount;
6. recounts every participatory budget cycle whose results were published: the ballots
   counted are the last of each voter (`domain.rules.budget_cycle.last_ballots`) stored after
   `VotingOpened` and up to `VotingClosed`'s position; each district's results are recomputed
   with the rules and budgets published in `Opened` and the projects on `VotingOpened`'s
   ballots (`domain.rules.compliance.budget_recount`, the exact tally of
   `domain.rules.budget`), and must equal `ResultsPublished.results` entirely (selection,
   costs, rounds and their exact fractions), computed up to the close position;
7. re-draws every citizens' convention drawn by lot from the export alone: the commitment is
   recomputed from `PoolCommitted`'s fields (`sortition.commitment`), its distribution checked
   (`sortition.check_distribution`), the seed must be revealed after the commitment in the log
   and by `reveal_by` (a guarantor's secret: its SHA-256 is the committed digest), the panel
   is redrawn from the committed pool and distribution with the whole seed (`sortition.draw`)
   and each declined seat's alternate re-derived (`sortition.replacement`, earlier decliners
   excluded); each mismatch names the convention and the check (`convention.<rule>`, the
   rule ids of the compliance checks, `domain.rules.compliance`).

Standard library only, with `domain.ledger.merkle`, `domain.ledger.leaf`, `domain.ledger.note`, `domain.ledger.ed25519`
and `domain.rules`: a third party can read and copy these files.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from domain.ledger import merkle, note
from domain.ledger.leaf import LeafError, LogRecord, canonical_topic, decode_leaf
from domain.rules.charter import CharterRules
from domain.rules.council import Tally, decide, decide_proposal
from domain.rules.budget_cycle import last_ballots
from domain.rules.compliance import (
    budget_recount,
    convention_commitment,
    convention_distribution_problems,
    convention_redraw,
    convention_replacement,
    secret_matches,
)
from domain.rules.petition import PetitionKind, SignatureCount

T_ADOPTED = "domain.governance.charter:Charter.Adopted"
T_AMENDED = "domain.governance.charter:Charter.Amended"
T_SEATED = "domain.governance.metropolis:Metropolis.MemberSeated"
T_SUBMITTED = "domain.deliberation.proposal:Proposal.Submitted"
T_VOTE_OPENED = "domain.deliberation.proposal:Proposal.VoteOpened"
T_CLOSED = "domain.deliberation.proposal:Proposal.BallotClosed"
T_DECIDED = "domain.deliberation.proposal:Proposal.Decided"
T_VOTE = "domain.deliberation.ballot:Vote.Cast"
T_VETO_FILED = "domain.deliberation.proposal:Proposal.VetoFiled"
T_WINDOW_CLOSED = "domain.deliberation.proposal:Proposal.VetoWindowClosed"
T_AMENDMENT = "domain.deliberation.proposal:Proposal.CharterAmendmentProposed"
T_DECISION_TYPE = "domain.deliberation.proposal:Proposal.DecisionTypeDeclared"
T_TABLED = "domain.deliberation.proposal:Proposal.AmendmentTabled"
T_DELIB_CLOSED = "domain.deliberation.proposal:Proposal.DeliberationClosed"
T_AMENDMENT_DECIDED = "domain.deliberation.proposal:Proposal.AmendmentDecided"
_PETITION = "domain.petition.petition:Petition."
T_DRAFTED = _PETITION + "Drafted"
T_COLLECTION_OPENED = _PETITION + "CollectionOpened"
T_THRESHOLD = _PETITION + "ThresholdReached"
T_OBLIGATION = _PETITION + "ObligationOpened"
T_COLLECTION_CLOSED = _PETITION + "CollectionClosed"
T_PETITION_CLOSED = _PETITION + "Closed"
T_SIGNED = "domain.petition.signature:Signature.Signed"
T_SIGNATURE_WITHDRAWN = "domain.petition.signature:Signature.Withdrawn"
T_RENEWED = "domain.petition.signature:Signature.Renewed"
_CYCLE = "domain.budget.cycle:BudgetCycle."
T_BUDGET_OPENED = _CYCLE + "Opened"
T_BUDGET_VOTING_OPENED = _CYCLE + "VotingOpened"
T_BUDGET_VOTING_CLOSED = _CYCLE + "VotingClosed"
T_BUDGET_RESULTS = _CYCLE + "ResultsPublished"
T_BUDGET_CAST = "domain.budget.ballot:BudgetBallot.Cast"
T_BUDGET_REPLACED = "domain.budget.ballot:BudgetBallot.Replaced"
BUDGET_TOPICS = frozenset({T_BUDGET_OPENED, T_BUDGET_VOTING_OPENED, T_BUDGET_VOTING_CLOSED,
                           T_BUDGET_RESULTS, T_BUDGET_CAST, T_BUDGET_REPLACED})
_CONVENTION = "domain.convention.convention:Convention."
T_CONVENTION_OPENED = _CONVENTION + "Opened"
T_SEED_COMMITTED = _CONVENTION + "SeedCommitted"
T_POOL_COMMITTED = _CONVENTION + "PoolCommitted"
T_SEED_REVEALED = _CONVENTION + "SeedRevealed"
T_PANEL_DRAWN = _CONVENTION + "PanelDrawn"
T_SEAT_DECLINED = _CONVENTION + "SeatDeclined"
T_CONVENTION_ENDED = _CONVENTION + "Ended"
CONVENTION_TOPICS = frozenset({T_CONVENTION_OPENED, T_SEED_COMMITTED, T_POOL_COMMITTED,
                               T_SEED_REVEALED, T_PANEL_DRAWN, T_SEAT_DECLINED,
                               T_CONVENTION_ENDED})
RECOUNTED_TOPICS = BUDGET_TOPICS | CONVENTION_TOPICS | frozenset({
    T_ADOPTED, T_AMENDED, T_SEATED, T_SUBMITTED, T_VOTE_OPENED, T_CLOSED, T_DECIDED, T_VOTE,
    T_VETO_FILED, T_WINDOW_CLOSED, T_AMENDMENT, T_TABLED, T_DELIB_CLOSED, T_AMENDMENT_DECIDED,
    T_DECISION_TYPE, T_DRAFTED, T_COLLECTION_OPENED, T_THRESHOLD, T_OBLIGATION,
    T_COLLECTION_CLOSED, T_PETITION_CLOSED, T_SIGNED, T_SIGNATURE_WITHDRAWN, T_RENEWED})


@dataclass
class Report:
    """What the verifier found. `ok` when no error was found."""

    records: int = 0
    checkpoints: int = 0
    cosigned: int = 0
    verified_size: int = 0
    ballots_recounted: int = 0
    petitions_recounted: int = 0
    budgets_recounted: int = 0
    conventions_redrawn: int = 0
    consistency_checked: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    first_bad_position: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, message: str, position: int | None = None) -> None:
        if position is not None and self.first_bad_position is None:
            self.first_bad_position = position
        if len(self.errors) < 100:
            self.errors.append(message)


@dataclass
class _Ballot:
    proposal_id: str
    opened_at: int
    closed_at: int | None = None
    votes: list[tuple[int, str, str]] = field(default_factory=list)

    def tally(self) -> Tally:
        """The votes recorded after the ballot opened and before its close position."""
        tally = Tally()
        for position, voter, choice in self.votes:
            if self.opened_at < position < (self.closed_at or 0):
                tally.add(voter, choice)
        return tally


@dataclass
class _Petition:
    """What the recount of one petition keeps: its pinned kind, its running count, the
    threshold recorded (the crossing position it claims, and where it was recorded)."""

    kind: PetitionKind
    charter_version: int
    tally: SignatureCount | None = None
    reached: tuple[int, int] | None = None
    reached_at: str | None = None


@dataclass
class _Budget:
    """What the recount of one budget cycle keeps: its published rules and budgets, the
    projects on each district's ballot, the positions of voting's opening and close, and
    every ballot event (position, district, voter, choices)."""

    rules: dict[str, Any]
    districts: dict[str, int]
    on_ballot: dict[str, dict[str, int]] = field(default_factory=dict)
    voting: int | None = None
    closed: int | None = None
    ballots: list[tuple[int, str, str, Any]] = field(default_factory=list)


@dataclass
class _Convention:
    """What the re-draw of one convention keeps: its seed source, the guarantor's committed
    digest, the committed fields (with the commitment's position), the seed revealed (and
    where), the panel as it stands, who declined, and whether a check failed."""

    randomness: str
    secret: tuple[str, int] | None = None
    committed: dict[str, Any] | None = None
    seed: tuple[str, int] | None = None
    panel: list[str] | None = None
    declined: list[str] = field(default_factory=list)
    failed: bool = False


class _Recount:
    """Replays the governance events needed to recount ballots and check charter citations,
    and the petition events needed to recount every petition's signatures."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.charters: dict[str, list[dict[str, Any]]] = {}
        self.charter_of: dict[str, str] = {}  # metropolis id -> charter id
        self.members: dict[str, set[str]] = defaultdict(set)
        self.proposals: dict[str, dict[str, Any]] = {}
        self.ballots: dict[str, _Ballot] = {}
        self.ballot_of: dict[str, str] = {}  # proposal id -> ballot id
        self.override_of: dict[str, str] = {}  # proposal id -> override ballot id
        self.amendment_ballots: dict[tuple[str, int], str] = {}
        self.petitions: dict[str, _Petition] = {}
        self.budgets: dict[str, _Budget] = {}
        self.conventions: dict[str, _Convention] = {}

    def apply(self, record: LogRecord) -> None:
        topic = canonical_topic(record.topic)
        if topic not in RECOUNTED_TOPICS:
            return
        f = record.fields()
        oid, pos = str(record.originator_id), record.notification_id
        if topic.startswith("domain.petition."):
            self._petition_event(topic, oid, pos, f)
        elif topic in BUDGET_TOPICS:
            self._budget_event(topic, oid, pos, f)
        elif topic in CONVENTION_TOPICS:
            self._convention_event(topic, oid, pos, f)
        elif topic == T_ADOPTED:
            self.charters[oid] = [f["rules"]]
            self.charter_of[f["metropolis_id"]] = oid
        elif topic == T_AMENDED:
            self.charters.setdefault(oid, []).append(f["rules"])
        elif topic == T_SEATED:
            self.members[oid].add(f["member_ref"])
        elif topic == T_SUBMITTED:
            in_force = len(self.charters.get(f["charter_id"], []))
            self.proposals[oid] = {**f, "in_force": in_force}
            if f["charter_version"] != in_force:
                self.report.error(
                    f"position #{pos}: proposal {oid} pins charter v{f['charter_version']} "
                    f"but v{in_force} was in force", pos)
        elif topic == T_VOTE_OPENED:
            self.ballots[f["ballot_id"]] = _Ballot(oid, pos)
            self.ballot_of[oid] = f["ballot_id"]
        elif topic == T_VOTE:
            ballot = self.ballots.get(f["ballot_id"])
            if ballot is None:
                self.report.error(f"position #{pos}: vote on ballot {f['ballot_id']} "
                                  "that was never opened", pos)
            else:
                ballot.votes.append((pos, f["voter_ref"], f["choice"]))
        elif topic == T_CLOSED:
            ballot = self.ballots.get(f["ballot_id"])
            if ballot is not None:
                ballot.closed_at = pos
        elif topic == T_DECIDED:
            self._check_decision(oid, pos, f)
        elif topic == T_TABLED:
            self.ballots[f["ballot_id"]] = _Ballot(oid, pos)
            self.amendment_ballots[(oid, f["number"])] = f["ballot_id"]
        elif topic == T_DELIB_CLOSED:
            for (proposal_id, _), ballot_id in self.amendment_ballots.items():
                if proposal_id == oid and self.ballots[ballot_id].closed_at is None:
                    self.ballots[ballot_id].closed_at = pos
        elif topic == T_AMENDMENT_DECIDED:
            self._check_amendment(oid, pos, f)
        elif topic == T_AMENDMENT:
            self.proposals[oid]["amends_charter"] = True
        elif topic == T_DECISION_TYPE:
            self.proposals[oid]["decision_type"] = f["decision_type"]
        elif topic == T_VETO_FILED:
            self.ballots[f["override_ballot_id"]] = _Ballot(oid, pos)
            self.override_of[oid] = f["override_ballot_id"]
        elif topic == T_WINDOW_CLOSED:
            self._check_window(oid, pos, f)

    # -- petitions ---------------------------------------------------------------------------

    def _petition_event(self, topic: str, oid: str, pos: int, f: dict[str, Any]) -> None:
        if topic in (T_SIGNED, T_SIGNATURE_WITHDRAWN, T_RENEWED):
            petition = self.petitions.get(f["petition_id"])
            if petition is None:
                self.report.error(f"position #{pos}: signature of petition {f['petition_id']} "
                                  "that was never drafted", pos)
            elif petition.tally is not None:  # before the opening: never counted
                if topic == T_SIGNATURE_WITHDRAWN:
                    petition.tally.withdrawn(pos, f["signer_ref"], f["commune"])
                else:
                    petition.tally.signed(pos, f["signer_ref"], f["commune"])
            return
        if topic == T_DRAFTED:
            self.petitions[oid] = _Petition(PetitionKind.from_dict(f["rules"]),
                                            f["charter_version"])
            return
        petition = self.petitions.get(oid)
        where = f"position #{pos}: petition {oid}"
        if petition is None:
            self.report.error(f"{where}: {topic.rpartition('.')[2]} of a petition never "
                              "drafted", pos)
            return
        if topic == T_COLLECTION_OPENED:
            expected = petition.kind.threshold(f["figure"])
            if f["threshold"] != expected:
                self.report.error(f"{where}: the collection opens with a threshold of "
                                  f"{f['threshold']} signatures, the pinned kind gives "
                                  f"{expected} for a figure of {f['figure']}", pos)
            petition.tally = SignatureCount(threshold=f["threshold"], opened_at=pos)
        elif topic == T_COLLECTION_CLOSED and petition.tally is not None:
            petition.tally.closed_at = pos
        elif topic == T_THRESHOLD:
            petition.reached = (f["position"], pos)
            petition.reached_at = f.get("at")  # ThresholdReached's own time, when it has one
        elif topic == T_OBLIGATION:
            self._check_obligation(petition, where, pos, f)
        elif topic == T_PETITION_CLOSED:
            recount = petition.tally.count if petition.tally is not None else 0
            if f["count"] != recount:
                self.report.error(f"{where}: closed with a count of {f['count']} signatures, "
                                  f"the recount gives {recount}", pos)
            else:
                self.report.petitions_recounted += 1

    # -- participatory budgets ---------------------------------------------------------------

    def _budget_event(self, topic: str, oid: str, pos: int, f: dict[str, Any]) -> None:
        if topic in (T_BUDGET_CAST, T_BUDGET_REPLACED):
            cycle = self.budgets.get(str(f["cycle_id"]))
            if cycle is None:
                self.report.error(f"position #{pos}: ballot in budget cycle {f['cycle_id']} "
                                  "that was never opened", pos)
            else:
                cycle.ballots.append((pos, f["district"], f["voter_ref"], f["choices"]))
            return
        if topic == T_BUDGET_OPENED:
            self.budgets[oid] = _Budget(f["rules"], f["districts"])
            return
        cycle = self.budgets.get(oid)
        where = f"position #{pos}: budget cycle {oid}"
        if cycle is None:
            self.report.error(f"{where}: {topic.rpartition('.')[2]} of a cycle never opened",
                              pos)
        elif topic == T_BUDGET_VOTING_OPENED:
            cycle.voting, cycle.on_ballot = pos, f["ballots"]
        elif topic == T_BUDGET_VOTING_CLOSED:
            cycle.closed = pos
        elif topic == T_BUDGET_RESULTS:
            self._check_budget_results(oid, cycle, where, pos, f)

    # -- citizens' conventions drawn by lot ---------------------------------------------------

    def _convention_event(self, topic: str, oid: str, pos: int, f: dict[str, Any]) -> None:
        if topic == T_CONVENTION_OPENED:
            self.conventions[oid] = _Convention(f["rules"]["randomness"])
            return
        convention = self.conventions.get(oid)
        where = f"position #{pos}: convention {oid}"
        if convention is None:
            self.report.error(f"{where}: {topic.rpartition('.')[2]} of a convention never "
                              "opened", pos)
            return

        def failed(rule: str, message: str) -> None:
            convention.failed = True
            self.report.error(f"{where}: {rule}: {message}", pos)

        if topic == T_SEED_COMMITTED:
            convention.secret = (f["digest"], pos)
        elif topic == T_POOL_COMMITTED:
            self._check_pool(convention, pos, f, failed)
        elif topic == T_SEED_REVEALED:
            self._check_seed(convention, pos, f, failed)
        elif topic == T_PANEL_DRAWN:
            self._check_draw(convention, f, failed)
        elif topic == T_SEAT_DECLINED:
            self._check_replacement(convention, f, failed)
        elif topic == T_CONVENTION_ENDED:
            committed = convention.committed
            if (committed is not None and convention.seed is None
                    and datetime.fromisoformat(f["at"])
                    > datetime.fromisoformat(committed["reveal_by"])):
                failed("convention.late_reveal", f"ended {f['at']} with no seed revealed by "
                       f"{committed['reveal_by']}")

    @staticmethod
    def _check_pool(convention: _Convention, pos: int, f: dict[str, Any],
                    failed: Callable[[str, str], None]) -> None:
        if convention.seed is not None:
            failed("convention.seed_before_commitment", f"the seed was revealed at position "
                   f"#{convention.seed[1]}, before this commitment")
        committed = dict(f, position=pos)
        try:
            recomputed: str | None = convention_commitment(committed)
        except ValueError:
            recomputed = None  # an unreadable distribution: reported just below
        if recomputed is not None and recomputed != f["commitment"]:
            failed("convention.commitment_mismatch", f"the commitment {f['commitment']} is "
                   f"not the hash of what it commits ({recomputed})")
        problems = convention_distribution_problems(committed)
        if problems:
            failed("convention.distribution_invalid", "the committed distribution is not a "
                   "lottery over valid panels: " + "; ".join(problems[:3]))
        if (convention.randomness == "guarantor_secret"
                and f["randomness"].get("secret_sha256")
                != (convention.secret[0] if convention.secret else None)):
            failed("convention.commitment_mismatch", "the commitment does not cite the "
                   "guarantor's committed secret")
        convention.committed = committed

    @staticmethod
    def _check_seed(convention: _Convention, pos: int, f: dict[str, Any],
                    failed: Callable[[str, str], None]) -> None:
        committed = convention.committed
        if committed is None:
            failed("convention.seed_before_commitment", "the seed is revealed before the "
                   "pool was committed")
        elif datetime.fromisoformat(f["at"]) > datetime.fromisoformat(committed["reveal_by"]):
            failed("convention.late_reveal", f"revealed {f['at']}, due by "
                   f"{committed['reveal_by']}")
        if convention.randomness == "guarantor_secret" and not secret_matches(
                f["seed"], convention.secret[0] if convention.secret else None):
            failed("convention.seed_before_commitment", "SHA-256 of the revealed secret is "
                   "not the digest the guarantor committed")
        convention.seed = (f["seed"], pos)

    @staticmethod
    def _check_draw(convention: _Convention, f: dict[str, Any],
                    failed: Callable[[str, str], None]) -> None:
        convention.panel = list(f["panel"])
        if convention.committed is None or convention.seed is None:
            failed("convention.draw_mismatch", "a panel drawn without a committed pool and a "
                   "revealed seed before it")
            return
        try:
            redrawn = convention_redraw(convention.committed, convention.randomness,
                                        convention.seed[0])
        except ValueError as e:
            failed("convention.draw_mismatch", f"the draw cannot be redone ({e})")
            return
        if sorted(f["panel"]) != redrawn:
            failed("convention.draw_mismatch", f"the panel recorded {sorted(f['panel'])} is "
                   f"not the one redrawn from the committed pool and the seed {redrawn}")

    @staticmethod
    def _check_replacement(convention: _Convention, f: dict[str, Any],
                           failed: Callable[[str, str], None]) -> None:
        panel, declined = convention.panel or [], convention.declined
        if convention.committed is None or convention.seed is None or convention.panel is None:
            failed("convention.draw_mismatch", "a seat declined before any panel was drawn")
        else:
            if f["index"] != len(declined):
                failed("convention.draw_mismatch", f"decline number {f['index']} is the "
                       f"decline number {len(declined)}")
            try:
                expected = convention_replacement(convention.committed, convention.randomness,
                                                  convention.seed[0], panel, f["member"],
                                                  len(declined), declined)
            except ValueError as e:
                failed("convention.draw_mismatch", f"the alternate of {f['member']} cannot be "
                       f"re-derived ({e})")
            else:
                if expected != f["replacement"]:
                    failed("convention.draw_mismatch", f"the seat {f['member']} declined went "
                           f"to {f['replacement']}, the re-derived alternate is {expected}")
        convention.panel = [m for m in panel if m != f["member"]] + (
            [f["replacement"]] if f["replacement"] is not None else [])
        convention.declined = [*declined, f["member"]]

    def _check_budget_results(self, oid: str, cycle: _Budget, where: str, pos: int,
                              f: dict[str, Any]) -> None:
        if cycle.voting is None or cycle.closed is None:
            self.report.error(f"{where}: results published before voting opened and closed",
                              pos)
            return
        if f["close_position"] != cycle.closed:
            self.report.error(f"{where}: results computed up to position "
                              f"#{f['close_position']}, voting closed at #{cycle.closed}", pos)
        counted = last_ballots(oid, ((oid, district, voter, choices)
                                     for p, district, voter, choices in cycle.ballots
                                     if cycle.voting < p <= cycle.closed))
        recount = budget_recount(oid, cycle.rules, cycle.districts, cycle.on_ballot, counted)
        published = f["results"]
        differ = sorted(d for d in set(recount) | set(published)
                        if recount.get(d) != published.get(d))
        for district in differ:
            mine, theirs = recount.get(district) or {}, published.get(district) or {}
            self.report.error(
                f"{where}: the results published for district {district} differ from the "
                f"recount (published: {theirs.get('selected')} costing {theirs.get('cost')} "
                f"from {theirs.get('ballots')} ballot(s); recount: {mine.get('selected')} "
                f"costing {mine.get('cost')} from {mine.get('ballots')} ballot(s)"
                + ("; the rounds differ" if (mine.get("selected"), mine.get("cost"))
                   == (theirs.get("selected"), theirs.get("cost")) else "") + ")", pos)
        if not differ:
            self.report.budgets_recounted += 1

    def _check_obligation(self, petition: _Petition, where: str, pos: int,
                          f: dict[str, Any]) -> None:
        """The deadline is the threshold's time plus the pinned kind's obligation_seconds
        (the threshold's time: ThresholdReached's `at`, else the obligation's `at`, recorded
        with it in one transaction)."""
        if petition.reached is None:
            self.report.error(f"{where}: an obligation opened before any threshold was "
                              "recorded", pos)
            return
        reached_at = datetime.fromisoformat(petition.reached_at or f["at"])
        due = reached_at + timedelta(seconds=petition.kind.obligation_seconds)
        if datetime.fromisoformat(f["due_at"]) != due:
            self.report.error(f"{where}: the obligation is due {f['due_at']}, the pinned kind "
                              f"gives {due.isoformat()} ({petition.kind.obligation_seconds} s "
                              f"after the threshold, {reached_at.isoformat()})", pos)

    def finish(self) -> None:
        """Checks needing the whole log: each threshold recorded at the recount's crossing;
        the conventions redrawn (drawn, and every check passed)."""
        self.report.conventions_redrawn = sum(
            1 for c in self.conventions.values() if c.panel is not None and not c.failed)
        for oid, petition in self.petitions.items():
            if petition.reached is None:
                continue
            claimed, pos = petition.reached
            crossed = petition.tally.crossed_at if petition.tally is not None else None
            if claimed != crossed:
                self.report.error(f"position #{pos}: petition {oid} records its threshold "
                                  f"reached at position #{claimed}, the recount crosses it "
                                  + (f"at #{crossed}" if crossed is not None else "nowhere"),
                                  pos)

    def _check_amendment(self, proposal_id: str, pos: int, d: dict[str, Any]) -> None:
        """Recount an amendment's ballot and re-apply the quorum and simple majority."""
        where = f"position #{pos}: decision on amendment {d['number']} of proposal {proposal_id}"
        ballot = self.ballots.get(self.amendment_ballots.get((proposal_id, d["number"]), ""))
        if ballot is None or ballot.closed_at != d["cutoff_position"]:
            self.report.error(f"{where} has no ballot closed at its cut-off", pos)
            return
        proposal = self.proposals[proposal_id]
        tally = ballot.tally()
        members = len(self.members[proposal["metropolis_id"]])
        rules = CharterRules(**self.charters[proposal["charter_id"]][d["charter_version"] - 1])
        outcome = decide(tally, members, rules.for_amendment())
        expected = ("adopted" if outcome.adopted else "rejected", outcome.cause,
                    tally.yes, tally.no, tally.abstain)
        if expected != (d["outcome"], d["cause"], d["yes"], d["no"], d["abstain"]):
            self.report.error(f"{where}: recount gives {expected}", pos)
            return
        self.report.ballots_recounted += 1

    def _check_window(self, proposal_id: str, pos: int, d: dict[str, Any]) -> None:
        """Recount an override ballot and re-apply the override majority."""
        where = f"position #{pos}: close of the veto window of proposal {proposal_id}"
        ballot = self.ballots.get(self.override_of.get(proposal_id, ""))
        if ballot is None:
            if d["cause"] != "no_veto" or d["outcome"] != "adopted":
                self.report.error(f"{where} records {d['outcome']} ({d['cause']}) though no "
                                  "veto was filed", pos)
            return
        if ballot.closed_at is None or d["cutoff_position"] != ballot.closed_at:
            self.report.error(f"{where} cites cut-off #{d['cutoff_position']} but the override "
                              f"ballot closed at #{ballot.closed_at}", pos)
            return
        proposal = self.proposals[proposal_id]
        tally = ballot.tally()
        members = len(self.members[proposal["metropolis_id"]])
        rules = CharterRules(**self.charters[proposal["charter_id"]][d["charter_version"] - 1])
        override = decide(tally, members, rules.for_override())
        expected = ("adopted", "override_carried") if override.adopted else (
            "rejected", "veto_sustained")
        recorded = (d["outcome"], d["cause"], d["yes"], d["no"], d["abstain"])
        if (*expected, tally.yes, tally.no, tally.abstain) != recorded:
            self.report.error(f"{where}: recount gives {expected[0]} ({expected[1]}), for "
                              f"{tally.yes}, against {tally.no}, abstain {tally.abstain}; "
                              f"recorded {recorded}", pos)
            return
        self.report.ballots_recounted += 1

    def _check_decision(self, proposal_id: str, pos: int, d: dict[str, Any]) -> None:
        proposal = self.proposals.get(proposal_id)
        ballot = self.ballots.get(self.ballot_of.get(proposal_id, ""))
        if proposal is None or ballot is None:
            self.report.error(f"position #{pos}: decision on proposal {proposal_id} "
                              "without its submission or ballot in the log", pos)
            return
        where = f"position #{pos}: decision on proposal {proposal_id}"
        if ballot.closed_at is None or d["cutoff_position"] != ballot.closed_at:
            self.report.error(f"{where} cites cut-off #{d['cutoff_position']} but the ballot "
                              f"closed at #{ballot.closed_at}", pos)
            return
        if d["charter_version"] != proposal["in_force"]:
            self.report.error(f"{where} cites charter v{d['charter_version']} but "
                              f"v{proposal['in_force']} was in force at submission", pos)
        tally = ballot.tally()
        members = len(self.members[proposal["metropolis_id"]])
        recorded = (d["yes"], d["no"], d["abstain"], d["members"])
        if (tally.yes, tally.no, tally.abstain, members) != recorded:
            self.report.error(
                f"{where}: recount gives for {tally.yes}, against {tally.no}, abstain "
                f"{tally.abstain} of {members} members; the decision records for {d['yes']}, "
                f"against {d['no']}, abstain {d['abstain']} of {d['members']}", pos)
            return
        versions = self.charters.get(proposal["charter_id"], [])
        if not 0 < d["charter_version"] <= len(versions):
            self.report.error(f"{where} cites a charter version absent from the log", pos)
            return
        outcome = decide_proposal(tally, members,
                                  CharterRules(**versions[d["charter_version"] - 1]),
                                  proposal.get("amends_charter", False),
                                  proposal.get("decision_type", "ordinary"))
        expected = ("adopted" if outcome.adopted else "rejected", outcome.cause)
        if expected != (d["outcome"], d["cause"]):
            self.report.error(f"{where}: the charter's rules give {expected[0]} "
                              f"({expected[1]}) but {d['outcome']} ({d['cause']}) was recorded",
                              pos)
            return
        self.report.ballots_recounted += 1


def _key(text: str | None) -> note.VerifierKey | None:
    return note.parse_vkey(text) if text else None


# The export format (docs/export-format.md): every line is one JSON object of one kind, with
# exactly these fields; a line with an unknown or a missing field is refused.
FORMAT = "registre-export/1"
HEADER_FIELDS = frozenset({"kind", "format", "source", "exported_at", "keys"})
KEYS_FIELDS = frozenset({"ledger", "witness"})
CHECKPOINT_FIELDS = frozenset({"kind", "size", "note"})
RECORD_FIELDS = frozenset({"kind", "index", "notification_id", "originator_id",
                           "originator_version", "topic", "leaf", "leaf_hash",
                           "logged_notification_id"})


def _exact_fields(line: dict[str, Any], expected: frozenset[str], where: str,
                  report: Report, position: int | None = None) -> bool:
    """Report any unknown or missing field of `line`; True when its fields are exactly right."""
    unknown, missing = sorted(set(line) - expected), sorted(expected - set(line))
    if unknown:
        report.error(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}", position)
    if missing:
        report.error(f"{where}: missing field(s) {', '.join(map(repr, missing))}", position)
    return not unknown and not missing


def _same(value: Any, expected: Any) -> bool:
    """Equal and of the same JSON type (`true` is not `1`)."""
    return type(value) is type(expected) and value == expected


def _check_header(line: dict[str, Any], report: Report) -> dict[str, Any]:
    """The header's keys (empty when the header is malformed)."""
    if not _exact_fields(line, HEADER_FIELDS, "header", report):
        return {}
    if line["format"] != FORMAT:
        report.error(f"header: format {line['format']!r} is not {FORMAT!r}")
    for name in ("source", "exported_at"):
        if not isinstance(line[name], str):
            report.error(f"header: {name} is not a string")
    keys = line["keys"]
    if not isinstance(keys, dict) or not _exact_fields(keys, KEYS_FIELDS, "header keys",
                                                        report):
        return {}
    if not all(v is None or isinstance(v, str) for v in keys.values()):
        report.error("header keys: a key is neither a string nor null")
        return {}
    return keys


def verify_export(
    lines: Iterable[dict[str, Any]],
    ledger_key: str | None = None,
    witness_key: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Verify an export (its JSON lines, already parsed). Keys are note vkeys; when not given,
    the export's own keys are used and the report warns that they are unpinned. The format is
    strict (docs/export-format.md): the header first, then the checkpoints, then the records
    in log order, each line with exactly its documented fields."""
    report = Report()
    recount = _Recount(report)
    checkpoints: list[note.Checkpoint] = []
    leaves: list[bytes] = []
    ledger: note.VerifierKey | None = _key(ledger_key)
    witness: note.VerifierKey | None = _key(witness_key)
    last_nid = 0
    seen_header = False
    for number, line in enumerate(lines, start=1):
        if progress:
            progress(1)  # one step per line of the export
        kind = line.get("kind") if isinstance(line, dict) else None
        if number == 1 and kind != "header":
            report.error("line 1: the export does not begin with its header")
        if kind == "header":
            if seen_header:
                report.error(f"line {number}: a second header")
                continue
            seen_header = True
            keys = _check_header(line, report)
            if ledger is None:
                ledger = _key(keys.get("ledger"))
                report.warnings.append("ledger key taken from the export (unpinned): pin it "
                                       "with --ledger-key")
            if witness is None and keys.get("witness"):
                witness = _key(keys.get("witness"))
                report.warnings.append("witness key taken from the export (unpinned): pin it "
                                       "with --witness-key")
        elif kind == "checkpoint":
            where = f"line {number} (checkpoint)"
            if leaves:
                report.error(f"{where}: after the records; checkpoints come first")
            if not _exact_fields(line, CHECKPOINT_FIELDS, where, report):
                continue
            checkpoint = _check_checkpoint(line["note"], ledger, witness, report)
            if checkpoint is None:
                continue
            if not _same(line["size"], checkpoint.size):
                report.error(f"checkpoint of size {checkpoint.size}: its readable size "
                             f"{line['size']!r} disagrees with the signed note")
            checkpoints.append(checkpoint)
        elif kind == "record":
            index = len(leaves)
            leaf = _check_record(line, index, last_nid, report)
            if leaf is None:
                leaves.append(b"")
                continue
            record, leaf_bytes = leaf
            last_nid = record.notification_id
            lh = merkle.leaf_hash(leaf_bytes)
            hint, logged = line.get("leaf_hash"), line.get("logged_notification_id")
            if type(logged) is int and logged < record.notification_id:
                report.error(f"position #{logged} (leaf {index}): logged by the ledger but "
                             "missing from the store (deleted)", logged)
            elif _is_hex_hash(hint) and bytes.fromhex(hint) != lh:
                report.error(f"position #{record.notification_id} (leaf {index}): the stored "
                             "event differs from the one the ledger logged at this index "
                             "(edited, inserted or moved)", record.notification_id)
            leaves.append(lh)
            try:
                recount.apply(record)
            except (KeyError, TypeError, ValueError) as e:
                report.error(f"position #{record.notification_id}: event fields unreadable "
                             f"({e})", record.notification_id)
        else:
            report.error(f"line {number}: unknown kind {kind!r}")
    if not seen_header:
        report.error("the export has no header")
    recount.finish()
    report.records = len(leaves)
    _check_roots(checkpoints, leaves, report)
    return report


def _is_hex_hash(value: Any) -> bool:
    return (isinstance(value, str) and len(value) == 64
            and all(c in "0123456789abcdef" for c in value))


def _check_record(line: dict[str, Any], index: int, last_nid: int,
                  report: Report) -> tuple[LogRecord, bytes] | None:
    """Decode a record's leaf and check every readable field of the record against it."""
    try:
        leaf_bytes = base64.b64decode(line["leaf"], validate=True)
        record = decode_leaf(leaf_bytes)
    except (KeyError, TypeError, ValueError, LeafError) as e:
        nid = line.get("notification_id")
        nid = nid if type(nid) is int else None
        where = f"position #{nid} (leaf {index})" if nid is not None else f"leaf {index}"
        _exact_fields(line, RECORD_FIELDS, where, report, nid)
        report.error(f"{where}: leaf bytes unreadable ({e})", nid)
        return None
    position = record.notification_id  # named by the leaf, whatever the readable copy says
    where = f"position #{position} (leaf {index})"
    _exact_fields(line, RECORD_FIELDS, where, report, position)
    readable = {"notification_id": record.notification_id,
                "originator_id": str(record.originator_id),
                "originator_version": record.originator_version, "topic": record.topic}
    for name, expected in readable.items():
        if name in line and not _same(line[name], expected):
            report.error(f"{where}: its {name} {line[name]!r} disagrees with the leaf bytes "
                         f"({expected!r})", position)
    if "index" in line and not _same(line["index"], index):
        report.error(f"{where}: exported as leaf {line['index']!r} but found at {index}",
                     position)
    if line.get("leaf_hash") is not None and not _is_hex_hash(line["leaf_hash"]):
        report.error(f"{where}: its leaf_hash is not 64 lower-case hex digits", position)
    logged = line.get("logged_notification_id")
    if logged is not None and type(logged) is not int:
        report.error(f"{where}: its logged_notification_id is not an integer", position)
    if record.notification_id <= last_nid:
        report.error(f"{where}: out of log order after #{last_nid}", position)
    return record, leaf_bytes


def _check_checkpoint(text: Any, ledger: note.VerifierKey | None,
                      witness: note.VerifierKey | None, report: Report
                      ) -> note.Checkpoint | None:
    try:
        checkpoint = note.parse_checkpoint(text)
    except (TypeError, ValueError) as e:
        report.error(f"a checkpoint's note is malformed ({e})")
        return None
    report.checkpoints += 1
    if ledger is None or not note.verify_note(text, ledger):
        report.error(f"checkpoint of size {checkpoint.size}: the ledger's signature is "
                     "missing or invalid")
    if witness is not None:
        if note.verify_cosignature(text, witness) is not None:
            report.cosigned += 1
        elif any(name == witness.name for name, _ in checkpoint.signatures):
            report.error(f"checkpoint of size {checkpoint.size}: the witness' co-signature "
                         "is invalid")
    return checkpoint


# The verifier's hot loops. Copying a hash object already fed its one-byte prefix skips
# OpenSSL's per-hash initialisation, which costs as much as hashing a 65-byte node itself
# (measured here: a third faster than `sha256(prefix + data)`; see docs/benchmarks.md).
_LEAF_SEED = hashlib.sha256(b"\x00")
_NODE_SEED = hashlib.sha256(b"\x01")


def leaf_hashes(leaves: Iterable[bytes]) -> list[bytes]:
    """RFC 9162 leaf hashes SHA-256(0x00 || leaf) of many leaves."""
    out: list[bytes] = []
    append, fresh = out.append, _LEAF_SEED.copy
    for leaf in leaves:
        h = fresh()
        h.update(leaf)
        append(h.digest())
    return out


def tree_levels(leaf_hashes: list[bytes]) -> list[list[bytes]]:
    """Every level of the perfect subtrees over `leaf_hashes`: level l holds the roots of the
    aligned runs of 2**l leaves, SHA-256(0x01 || left || right) level by level."""
    levels = [leaf_hashes]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above: list[bytes] = []
        append, fresh = above.append, _NODE_SEED.copy
        for left, right in zip(below[0::2], below[1::2]):
            h = fresh()
            h.update(left)
            h.update(right)
            append(h.digest())
        levels.append(above)
    return levels


def prefix_root(levels: list[list[bytes]], size: int) -> bytes:
    """The RFC 9162 root of the first `size` leaves, from `tree_levels`."""
    if size == 0:
        return hashlib.sha256(b"").digest()
    subtrees, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            subtrees.append(levels[level][start >> level])
            start += 1 << level
    root = subtrees[-1]
    for h in reversed(subtrees[:-1]):
        root = merkle.node_hash(h, root)
    return root


def _check_roots(checkpoints: list[note.Checkpoint], leaves: list[bytes],
                 report: Report) -> None:
    """Every signed root must be the root of a prefix of the recomputed leaves."""
    levels = tree_levels(leaves)
    previous = 0
    for checkpoint in sorted(checkpoints, key=lambda c: c.size):
        if checkpoint.size <= previous:
            report.error(f"two checkpoints claim size {checkpoint.size}")
            continue
        if checkpoint.size > len(leaves):
            report.error(f"checkpoint of size {checkpoint.size} covers more events than the "
                         f"export holds ({len(leaves)}): events were deleted",
                         None)
            break
        if prefix_root(levels, checkpoint.size) != checkpoint.root_hash:
            report.error(f"checkpoint of size {checkpoint.size}: its signed root is not the "
                         f"root of the exported events (a change between leaves {previous} "
                         f"and {checkpoint.size - 1})")
        else:
            report.verified_size = checkpoint.size
        previous = checkpoint.size
    if report.verified_size < len(leaves):
        report.warnings.append(f"{len(leaves) - report.verified_size} event(s) after the last "
                               "checkpoint are not yet covered by a signature")


def check_signed_consistency(
    notes: Iterable[str], ledger: note.VerifierKey | None,
    proof: Callable[[int, int], Sequence[bytes]], report: Report,
) -> None:
    """Check that each signed checkpoint extends the one before it (a prover's consistency
    proof, `proof(old_size, new_size)`, e.g. a live server's), against the roots the ledger's
    signatures cover, never against roots the prover supplies: a log rewritten after a
    checkpoint was signed cannot prove itself consistent with it. Checkpoints whose signature
    does not verify are reported and left out of the chain."""
    signed: dict[int, note.Checkpoint] = {}
    for text in notes:
        try:
            checkpoint = note.parse_checkpoint(text)
        except ValueError as e:
            report.error(f"a checkpoint is malformed ({e})")
            continue
        if ledger is None or not note.verify_note(text, ledger):
            report.error(f"checkpoint of size {checkpoint.size}: the ledger's signature is "
                         "missing or invalid; left out of the consistency chain")
            continue
        other = signed.get(checkpoint.size)
        if other is not None and other.root_hash != checkpoint.root_hash:
            report.error(f"two signed checkpoints of size {checkpoint.size} with different "
                         "roots: a split view")
        signed[checkpoint.size] = checkpoint
    chain = [signed[size] for size in sorted(signed)]
    for old, new in zip(chain, chain[1:]):
        where = f"signed checkpoints {old.size} → {new.size}"
        try:
            path = proof(old.size, new.size)
        except (LookupError, ValueError) as e:
            report.error(f"{where}: no consistency proof ({e})")
            continue
        if not merkle.verify_consistency(old.size, new.size, path, old.root_hash,
                                         new.root_hash):
            report.error(f"{where}: the consistency proof does not verify against the signed "
                         f"roots (the log was rewritten after size {old.size} was signed, or "
                         "the proof is forged)")
            continue
        report.consistency_checked += 1
