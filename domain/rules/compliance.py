"""The guarantor's compliance checks as pure functions over the log (D12).

Question answered: for each proposal, was any stage shorter than the charter's minimum
(admissibility review, consultation — including one the guarantor required —, deliberation,
ballot, veto window, evaluation steps), was a proposal, an amendment or a veto's override
carried without quorum, was a veto filed outside its window, did the vote open without the
consultation the guarantor required, did an evaluation step open before its date, did a rule
check cite a charter version that was not in force when the proposal was submitted? And for
each petition: was its obligation fulfilled after its deadline (`petition.answer_late`) or
not at all (`petition.no_answer`), did a threshold reached open no obligation
(`petition.no_obligation`), was the threshold recorded at another position than the recount's
crossing (`petition.threshold_position`), was a signature stored after the collection's close
(`petition.late_signature`)? And for each participatory budget cycle: was a ballot stored
after the voting's close (`budget.late_ballot`: never counted), was a ballot stored that breaks
the cycle's ballot rules (`budget.invalid_ballot`: only a write past the commands can), was an
appeal still pending
when voting opened (`budget.appeal_undecided`), do the published results differ from the
recount (`budget.results_mismatch`: `budget_recount`, the very recount `registre audit
verify` makes)? And for each citizens' convention drawn by lot: was the seed revealed
after its deadline or not by then (`convention.late_reveal`), is the pool's commitment the hash
of what it commits (`convention.commitment_mismatch`), is the committed distribution a lottery
over valid panels (`convention.distribution_invalid`), are the panel and each alternate the
ones the committed pool, distribution and revealed seed give (`convention.draw_mismatch`: the
very re-draw `registre audit verify` makes), was the seed revealed before the commitment or
is the guarantor's secret not the committed one (`convention.seed_before_commitment`)? A petition's flags cite the charter version it pinned; a signature's events
are checked with its petition's facts, a ballot's with its cycle's (`facts_key`); a cycle's
opening of the vote reads its projects' facts too (`related_keys`).

`ComplianceChecker.apply` takes the log's events one at a time, in log order, as plain data
(`LoggedEvent`: the fields `domain.ledger.leaf.decode_state` reads from a leaf, UUIDs and
times as text) and returns the flags each one proves. Each flag names the rule, says what was
broken in French, and lists the log positions of the events that prove it; the last of them
is the event that revealed it. The checker's state is plain JSON-able data (charter versions,
one dict of facts per proposal), so the projection can persist it and a verifier can hold it
in memory: both produce the same flags from the same log.

Standard library only, with `domain.ledger.leaf` and `domain.rules`: a guarantor can copy
these files and run them on an export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.ledger.leaf import LogRecord, canonical_topic, decode_state
from domain.rules.charter import CharterRules
from domain.rules.council import Tally, carried_irrevocably

RULE_FR = {
    "stage.consultation": "consultation publique plus courte que le minimum de la charte",
    "stage.vote": "scrutin plus court que le minimum de la charte",
    "stage.deliberation": "délibération plus courte que le minimum de la charte",
    "veto.window.cut_short": "délai de veto clos avant son terme sans levée acquise du veto",
    "quorum": "proposition adoptée sans quorum",
    "veto.window": "veto déposé hors du délai de veto",
    "charter.version":
        "règle appliquée selon une version de la charte qui n'était pas en vigueur",
    "stage.admissibility": "examen de recevabilité écourté ou omis",
    "guarantor.consultation": "vote ouvert sans la consultation publique exigée par le garant",
    "evaluation.schedule": "évaluation citoyenne ouverte avant la date prévue par la charte",
    "stage.evaluation": "dernière évaluation citoyenne plus courte que le minimum de la charte",
    "petition.answer_late": "obligation de la pétition remplie après son échéance",
    "petition.no_answer": "échéance de la pétition dépassée sans réponse du conseil",
    "petition.no_obligation": "seuil de signatures atteint sans obligation ouverte pour le "
                              "conseil",
    "petition.threshold_position": "seuil de signatures enregistré à une autre position que "
                                   "celle du recomptage",
    "petition.late_signature": "signature enregistrée après la clôture de la collecte (non "
                               "comptée)",
    "budget.late_ballot": "bulletin enregistré après la clôture du vote (non compté)",
    "budget.invalid_ballot": "bulletin contraire aux règles de vote du cycle (projets, nombre "
                             "de choix, points ou budget)",
    "budget.appeal_undecided": "vote ouvert alors qu'un recours contre l'inéligibilité d'un "
                               "projet n'était pas tranché",
    "budget.results_mismatch": "résultats publiés différents du recomptage des bulletins",
    "convention.late_reveal": "graine du tirage au sort révélée après son échéance, ou pas "
                              "révélée à temps",
    "convention.commitment_mismatch": "engagement du vivier différent de l'empreinte "
                                      "recalculée de ce qu'il engage",
    "convention.distribution_invalid": "distribution des panels engagée invalide (quotas, "
                                       "taille ou poids)",
    "convention.draw_mismatch": "panel ou remplaçant différent du tirage refait à partir du "
                                "vivier engagé et de la graine",
    "convention.seed_before_commitment": "graine révélée avant l'engagement du vivier, ou "
                                         "différente du secret engagé par le garant",
}

_CHARTER = "domain.governance.charter:Charter."
_PROPOSAL = "domain.deliberation.proposal:Proposal."
CHARTER_ADOPTED = _CHARTER + "Adopted"
CHARTER_AMENDED = _CHARTER + "Amended"
SUBMITTED = _PROPOSAL + "Submitted"
_PETITION = "domain.petition.petition:Petition."
_SIGNATURE = "domain.petition.signature:Signature."
SIGNED, WITHDRAWN, RENEWED = (_SIGNATURE + n for n in ("Signed", "Withdrawn", "Renewed"))
SIGNATURE_TOPICS = frozenset({SIGNED, WITHDRAWN, RENEWED})
_CYCLE = "domain.budget.cycle:BudgetCycle."
_PROJECT = "domain.budget.project:BudgetProject."
_BALLOT = "domain.budget.ballot:BudgetBallot."
BALLOT_CAST, BALLOT_REPLACED = _BALLOT + "Cast", _BALLOT + "Replaced"
BUDGET_BALLOT_TOPICS = frozenset({BALLOT_CAST, BALLOT_REPLACED})
VOTING_OPENED = _CYCLE + "VotingOpened"
RESULTS_PUBLISHED = _CYCLE + "ResultsPublished"
_CONVENTION = "domain.convention.convention:Convention."
CONVENTION_CHECKED = ("Opened", "SeedCommitted", "PoolCommitted", "SeedRevealed", "PanelDrawn",
                      "SeatDeclined", "Ended")

# The events the checks read (today's topics; `canonical_topic` maps the older ones here).
CHECKED_TOPICS = (
    CHARTER_ADOPTED, CHARTER_AMENDED,
    *(_PROPOSAL + name for name in (
        "Submitted", "AdmissibilityOpened", "AdmissibilityDecided", "ConsultationRequired",
        "ConsultationOpened", "DeliberationOpened", "DeliberationClosed", "VoteOpened",
        "BallotClosed", "Decided", "DecisionTypeDeclared", "AmendmentDecided",
        "VetoWindowOpened", "VetoFiled", "VetoWindowClosed", "ImplementationOpened",
        "EvaluationOpened", "Closed")),
    *(_PETITION + name for name in (
        "Drafted", "CollectionOpened", "ThresholdReached", "ObligationOpened",
        "CollectionClosed", "Answered", "AgendaProposalSubmitted", "ConsultationReported",
        "ObligationBreached", "Withdrawn", "Closed")),
    SIGNED, WITHDRAWN, RENEWED,
    *(_CYCLE + name for name in (
        "Opened", "ProjectAdded", "VotingOpened", "VotingClosed", "ResultsPublished")),
    *(_PROJECT + name for name in ("Submitted", "Appealed", "AppealDecided")),
    BALLOT_CAST, BALLOT_REPLACED,
    *(_CONVENTION + name for name in CONVENTION_CHECKED),
)


def plain(value: Any) -> Any:
    """A field's value as `decode_state` reads it from the stored JSON: UUIDs as their text,
    times as ISO 8601 text (eventsourcing stores `isoformat()`), tuples as lists."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass(frozen=True)
class LoggedEvent:
    """One stored event as plain data: its (today's) topic, log position, aggregate id and
    version, and its fields (with `timestamp`, the time it was recorded)."""

    topic: str
    position: int
    originator_id: str
    originator_version: int
    fields: dict[str, Any]

    @classmethod
    def of(cls, topic: str, position: int, originator_id: UUID | str, originator_version: int,
           fields: dict[str, Any]) -> LoggedEvent:
        """From an event's attributes (e.g. a domain event's `__dict__`)."""
        data = {k: plain(v) for k, v in fields.items()
                if k not in ("originator_id", "originator_version")}
        return cls(canonical_topic(topic), position, str(originator_id), originator_version,
                   data)

    @classmethod
    def from_record(cls, record: LogRecord) -> LoggedEvent:
        """From a leaf of the ledger (an export's record)."""
        return cls(canonical_topic(record.topic), record.notification_id,
                   str(record.originator_id), record.originator_version,
                   decode_state(record.state))

    @property
    def name(self) -> str:
        """The event's class name, e.g. `VoteOpened`."""
        return self.topic.rpartition(".")[2]

    @property
    def recorded_at(self) -> str:
        """When the event was recorded (ISO 8601), as the store holds it."""
        return self.fields["timestamp"]


@dataclass(frozen=True)
class Flag:
    """A breach of the pinned charter, with the log positions that prove it (the last one is
    the event that revealed it)."""

    proposal_id: str
    rule: str
    message: str
    positions: tuple[int, ...]
    charter_version: int | None

    @property
    def flagged_at(self) -> int:
        return self.positions[-1]

    @property
    def key(self) -> tuple[str, str, tuple[int, ...], str]:
        """What makes a flag itself: the same rule proved by the same events, saying the
        same thing (two breaches of one rule at one position differ by what they say)."""
        return (self.proposal_id, self.rule, self.positions, self.message)

    def as_dict(self) -> dict[str, Any]:
        """The flag as `GET /guarantor/compliance` serves it (same fields, same order)."""
        return {"proposal_id": self.proposal_id, "rule": self.rule, "message": self.message,
                "positions": list(self.positions), "charter_version": self.charter_version}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _seconds(later: str, earlier: str) -> float:
    return (_at(later) - _at(earlier)).total_seconds()


def _copied(value: Any) -> Any:
    """A copy of JSON-like state (dicts, lists, scalars), to undo a check that failed."""
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) for v in value]
    return value


class ComplianceChecker:
    """Folds the log into compliance flags.

    State: `charters` (charter id → {version: rules as stored}) and `proposals` (proposal
    id → facts the later checks need: pinned charter, open stages with their positions).
    Give it the state saved after the events before, or none to start from the log's
    beginning."""

    def __init__(self, charters: dict[str, dict[int, dict[str, Any]]] | None = None,
                 proposals: dict[str, dict[str, Any]] | None = None) -> None:
        self.charters = charters if charters is not None else {}
        self.proposals = proposals if proposals is not None else {}

    def apply(self, e: LoggedEvent) -> list[Flag]:
        """The flags event `e` proves, in a fixed order; updates the state. An event it
        cannot read (KeyError, TypeError, ValueError) leaves the state as it was."""
        if e.topic == CHARTER_ADOPTED:
            self.charters.setdefault(e.originator_id, {})[1] = e.fields["rules"]
            return []
        if e.topic == CHARTER_AMENDED:
            # The aggregate's version n+1 is its n-th amendment, i.e. charter version n + 1.
            self.charters.setdefault(e.originator_id, {})[e.originator_version] = e.fields["rules"]
            return []
        handler = _HANDLERS.get(e.topic)
        if handler is None:
            return []
        key = facts_key(e)
        if e.topic in SIGNATURE_TOPICS | BUDGET_BALLOT_TOPICS and key not in self.proposals:
            return []  # a signature (a ballot) of a petition (a cycle) never in the log
        before = _copied(self.proposals.get(key))
        try:
            check = _Check(self, e, key)
            handler(check)
        except (KeyError, TypeError, ValueError):
            if before is None:
                self.proposals.pop(key, None)
            else:
                self.proposals[key] = before
            raise
        return check.flags


def facts_key(e: LoggedEvent) -> str:
    """Whose facts an event reads and changes: its aggregate's (a proposal, a petition), or,
    for a signature, its petition's."""
    if e.topic in SIGNATURE_TOPICS:
        return str(e.fields["petition_id"])
    if e.topic in BUDGET_BALLOT_TOPICS:
        return str(e.fields["cycle_id"])
    return e.originator_id


def related_keys(e: LoggedEvent, facts: dict[str, Any] | None) -> list[str]:
    """The other facts an event's checks read, given its own (`facts_key`'s): a cycle's
    opening of the vote reads the facts of the cycle's projects (their appeals)."""
    if e.topic == VOTING_OPENED and facts:
        return list(facts.get("projects", []))
    return []


class _Check:
    """The checks of one proposal event: its facts, its pinned rules, the flags found."""

    def __init__(self, checker: ComplianceChecker, e: LoggedEvent,
                 key: str | None = None) -> None:
        self.checker, self.e, self.f = checker, e, e.fields
        self.key = e.originator_id if key is None else key
        self.facts = checker.proposals.setdefault(self.key, {})
        self.flags: list[Flag] = []

    @cached_property
    def rules(self) -> CharterRules:
        """The rules of the charter version the proposal pinned (if it pinned one absent from
        the log, flagged at its submission: those in force then)."""
        versions = self.checker.charters.get(self.facts.get("charter_id", ""), {})
        rules = (versions.get(self.facts.get("charter_version", 0))
                 or versions.get(self.facts.get("in_force", 0)))
        if rules is None:
            raise ValueError(f"proposal {self.e.originator_id}: no submission under a charter "
                             "in the log")
        return CharterRules.from_dict(rules)

    @property
    def version(self) -> int | None:
        return self.facts.get("charter_version")

    def flag(self, rule: str, detail: str, positions: Iterable[int],
             version: int | None = None) -> None:
        self.flags.append(Flag(self.key, rule, f"{RULE_FR[rule]} : {detail}",
                               tuple(positions),
                               self.version if version is None else version))

    def cited(self) -> None:
        """The event cites the charter version in force at submission."""
        if "submitted" in self.facts and self.f["charter_version"] != self.facts.get("in_force"):
            self.flag("charter.version",
                      f"{self.e.name} cite la v{self.f['charter_version']}, la "
                      f"v{self.facts.get('in_force')} était en vigueur au dépôt",
                      [self.facts["submitted"], self.e.position], self.f["charter_version"])

    def consultation_ended(self, ended_at: str) -> None:
        """The consultation under way ended (the deliberation, the vote or a required
        consultation opened): flag it if shorter than its minimum; it is then checked, once."""
        consultation = self.facts.pop("consultation", None)
        if consultation:
            lasted = _seconds(ended_at, consultation["at"])
            minimum = consultation.get("min", self.rules.consultation_seconds)
            if lasted < minimum:
                self.flag("stage.consultation", f"{lasted:.0f} s au lieu de {minimum} s",
                          [consultation["position"], self.e.position])
            self.facts["consulted"] = True

    def quorum(self, took_part: int, members: int, what: str) -> None:
        rules = self.rules
        if not rules.quorum_met(took_part, members):
            self.flag("quorum", f"{what}{took_part} votants sur {members} membres, quorum de "
                      f"{rules.quorum_percent} %", [self.e.position])


def _submitted(c: _Check) -> None:
    f = c.f
    in_force = max(c.checker.charters.get(f["charter_id"], {}), default=0)
    c.facts.clear()
    c.facts.update({"charter_id": f["charter_id"], "charter_version": f["charter_version"],
                    "in_force": in_force, "submitted": c.e.position})
    if f["charter_version"] != in_force:
        c.flag("charter.version", f"la proposition épingle la v{f['charter_version']}, la "
               f"v{in_force} était en vigueur", [c.e.position])


def _consultation_opened(c: _Check) -> None:
    facts, rules = c.facts, c.rules
    if ("consulted" not in facts and "consultation" not in facts
            and rules.admissibility_seconds > 0 and "admissibility_decided" not in facts):
        c.flag("stage.admissibility", "consultation ouverte sans décision de recevabilité",
               [facts["submitted"], c.e.position])
    # A consultation following one under way (required by the guarantor) ends it.
    c.consultation_ended(c.f["opened_at"])
    required = facts.pop("required", None)
    facts["consultation"] = {
        "at": c.f["opened_at"], "position": c.e.position,
        "min": max(rules.consultation_seconds, required["seconds"] if required else 0)}
    c.cited()


def _vote_opened(c: _Check) -> None:
    c.consultation_ended(c.f["opened_at"])
    required = c.facts.get("required")
    if required:
        c.flag("guarantor.consultation",
               "exigée par le garant, aucune consultation n'a été ouverte depuis",
               [required["position"], c.e.position])
    c.facts["vote"] = {"at": c.f["opened_at"], "position": c.e.position,
                       "ballot_id": c.f["ballot_id"]}
    c.cited()


def _ballot_closed(c: _Check) -> None:
    vote = c.facts.get("vote")
    if vote and vote["ballot_id"] == c.f["ballot_id"]:
        minimum = c.rules.vote_seconds
        lasted = _seconds(c.f["closed_at"], vote["at"])
        if lasted < minimum:
            c.flag("stage.vote", f"{lasted:.0f} s au lieu de {minimum} s",
                   [vote["position"], c.e.position])


def _took_part(f: dict[str, Any]) -> int:
    return f["yes"] + f["no"] + f["abstain"]


def _decided(c: _Check) -> None:
    if c.f["outcome"] == "adopted":
        c.quorum(_took_part(c.f), c.f["members"], "")
    c.cited()


def _amendment_decided(c: _Check) -> None:
    if c.f["outcome"] == "adopted":
        c.quorum(_took_part(c.f), c.f["members"], f"amendement n° {c.f['number']} adopté par ")
    c.cited()


def _veto_window_opened(c: _Check) -> None:
    c.facts["veto_window"] = {"closes_at": c.f["closes_at"], "position": c.e.position}
    c.cited()


def _veto_filed(c: _Check) -> None:
    window = c.facts.get("veto_window")
    if window is None:
        c.flag("veto.window", "aucun délai de veto n'était ouvert", [c.e.position])
    elif _seconds(c.e.recorded_at, window["closes_at"]) >= 0:
        c.flag("veto.window", f"déposé après la clôture du délai ({window['closes_at']})",
               [window["position"], c.e.position])
    c.cited()


def _veto_window_closed(c: _Check) -> None:
    f, rules = c.f, c.rules
    window = c.facts.get("veto_window")
    if f["cause"] == "override_carried":
        c.quorum(_took_part(f), f["members"], "veto levé par ")
    c.cited()
    # Closing early is the rule when the override was carried whatever the votes to come
    # (two thirds of the members, or every member having voted).
    carried = f["cause"] == "override_carried" and carried_irrevocably(
        Tally(f["yes"], f["no"], f["abstain"]), f["members"], rules.for_override())
    if window and not carried and _seconds(c.e.recorded_at, window["closes_at"]) < 0:
        c.flag("veto.window.cut_short",
               f"clos le {c.e.recorded_at}, terme {window['closes_at']}",
               [window["position"], c.e.position])


def _deliberation_opened(c: _Check) -> None:
    c.consultation_ended(c.f["opened_at"])
    c.facts["deliberation"] = {"at": c.f["opened_at"], "position": c.e.position}
    c.cited()


def _deliberation_closed(c: _Check) -> None:
    opened = c.facts.get("deliberation")
    if opened:
        minimum = c.rules.deliberation_seconds
        lasted = _seconds(c.f["closed_at"], opened["at"])
        if lasted < minimum:
            c.flag("stage.deliberation", f"{lasted:.0f} s au lieu de {minimum} s",
                   [opened["position"], c.e.position])


def _admissibility_opened(c: _Check) -> None:
    minimum = c.rules.admissibility_seconds
    given = _seconds(c.f["closes_at"], c.f["opened_at"])
    if given < minimum:
        c.flag("stage.admissibility", f"délai d'examen de {given:.0f} s au lieu de {minimum} s",
               [c.e.position])
    c.facts["admissibility"] = {"closes_at": c.f["closes_at"], "position": c.e.position}
    c.cited()


def _admissibility_decided(c: _Check) -> None:
    review = c.facts.get("admissibility")
    if (review and c.f["cause"] == "deadline_reached"
            and _seconds(c.e.recorded_at, review["closes_at"]) < 0):
        c.flag("stage.admissibility",
               f"déclarée recevable à l'échéance le {c.e.recorded_at}, "
               f"échéance {review['closes_at']}", [review["position"], c.e.position])
    c.facts["admissibility_decided"] = c.e.position
    c.cited()


def _consultation_required(c: _Check) -> None:
    c.facts["required"] = {"seconds": c.f["seconds"], "position": c.e.position}
    c.cited()


def _implementation_opened(c: _Check) -> None:
    f, steps = c.f, c.rules.evaluation_after_seconds
    for n, (at, after) in enumerate(zip(f["evaluations_at"], steps, strict=False), 1):
        planned = _seconds(at, f["opened_at"])
        if planned < after:
            c.flag("evaluation.schedule", f"évaluation n° {n} prévue {planned:.0f} s après "
                   f"l'adoption au lieu de {after} s", [c.e.position])
    if len(f["evaluations_at"]) != len(steps):
        c.flag("evaluation.schedule", f"{len(f['evaluations_at'])} évaluation(s) prévue(s) au "
               f"lieu de {len(steps)}", [c.e.position])
    c.facts["implementation"] = {"evaluations_at": list(f["evaluations_at"]),
                                 "closes_at": f["closes_at"], "position": c.e.position}
    c.cited()


def _evaluation_opened(c: _Check) -> None:
    f, plan = c.f, c.facts.get("implementation")
    if plan and 0 < f["step"] <= len(plan["evaluations_at"]):
        due = plan["evaluations_at"][f["step"] - 1]
        if _seconds(f["opened_at"], due) < 0:
            c.flag("evaluation.schedule", f"évaluation n° {f['step']} ouverte le "
                   f"{f['opened_at']}, prévue le {due}", [plan["position"], c.e.position])
    c.facts.setdefault("evaluation_opened", {})[str(f["step"])] = {
        "at": f["opened_at"], "position": c.e.position}


def _closed(c: _Check) -> None:
    plan = c.facts.get("implementation")
    if plan and _seconds(c.f["closed_at"], plan["closes_at"]) < 0:
        last = c.facts.get("evaluation_opened", {}).get(str(len(plan["evaluations_at"])), {})
        lasted = _seconds(c.f["closed_at"], last["at"]) if last else 0
        c.flag("stage.evaluation",
               f"close le {c.f['closed_at']} ({lasted:.0f} s après l'ouverture de la dernière "
               f"évaluation, au lieu de {c.rules.evaluation_window_seconds} s)",
               [p for p in (last.get("position"), c.e.position) if p])


# -- petitions (right of interpellation) ---------------------------------------------------
# A petition's facts (keyed by its id, like a proposal's): `petition` (the Drafted position),
# `charter_version` (pinned), `threshold`, `opened` / `closed` (the collection's positions),
# `count`, `crossed` (the recount's crossing position), `early` (signers whose signature was
# stored before the opening: never counted), `reached` (what ThresholdReached recorded),
# `obligation` (its position and deadline), and the events awaited: `awaiting_obligation`
# (a ThresholdReached not yet followed by its ObligationOpened), `awaiting_threshold` (a
# collection closed above the threshold, its ThresholdReached not yet recorded).
#
# The running count is `domain.rules.petition.SignatureCount`'s rule kept in a few numbers
# instead of the set of signers: in a log where each signature's events alternate (Signed,
# Withdrawn, Renewed, Withdrawn…, as the Signature aggregate records them), a withdrawal in
# the collection always follows a counted signature, unless that signature was stored before
# the opening (`early`); `registre audit verify` recounts with `SignatureCount` itself.

_SIGNATURE_FR = {SIGNED: "signature", WITHDRAWN: "retrait de signature",
                 RENEWED: "signature renouvelée"}


def _petition_drafted(c: _Check) -> None:
    c.facts.clear()
    c.facts.update({"petition": c.e.position, "charter_version": c.f["charter_version"],
                    "count": 0, "late": 0, "early": []})


def _petition_event(c: _Check) -> None:
    """What every petition event after the draft checks: an awaited event that did not
    come (the obligation after the threshold, the threshold after a close above it)."""
    awaiting = c.facts.pop("awaiting_obligation", None)
    if awaiting is not None and c.e.name != "ObligationOpened":
        c.flag("petition.no_obligation", f"le seuil enregistré à la position #{awaiting} "
               "n'a ouvert aucune obligation", [awaiting, c.e.position])
    closed = c.facts.get("awaiting_threshold")
    if closed is not None and c.e.name != "ThresholdReached":
        c.facts.pop("awaiting_threshold")
        c.flag("petition.no_obligation",
               f"la collecte close à la position #{closed} compte {c.facts['count']} "
               f"signature(s) pour un seuil de {c.facts['threshold']} (franchi à la position "
               f"#{c.facts['crossed']}), sans seuil enregistré",
               [c.facts["crossed"], closed, c.e.position])


def _collection_opened(c: _Check) -> None:
    _petition_event(c)
    c.facts.update({"threshold": c.f["threshold"], "opened": c.e.position, "count": 0,
                    "crossed": None})


def _signature(c: _Check) -> None:
    facts, f, position = c.facts, c.f, c.e.position
    signer, signing = f["signer_ref"], c.e.topic != WITHDRAWN
    early = facts.setdefault("early", [])
    if "opened" not in facts:  # stored before the opening: never counted
        if signing and signer not in early:
            early.append(signer)
        elif not signing and signer in early:
            early.remove(signer)
        return
    closed = facts.get("closed")
    if closed is not None and position > closed:
        if signing:
            facts["late"] = facts.get("late", 0) + 1
        c.flag("petition.late_signature",
               f"{_SIGNATURE_FR[c.e.topic]} à la position #{position}, collecte close à la "
               f"position #{closed}", [closed, position])
        return
    if not signing:
        if signer in early:
            early.remove(signer)
        else:
            facts["count"] -= 1
        return
    if signer in early:
        early.remove(signer)
    facts["count"] += 1
    if facts.get("crossed") is None and facts["count"] >= facts["threshold"]:
        facts["crossed"] = position


def _threshold_reached(c: _Check) -> None:
    _petition_event(c)
    facts, claimed = c.facts, c.f["position"]
    crossed = facts.get("crossed")
    if claimed != crossed:
        recount = (f"le recomptage le franchit à la position #{crossed}" if crossed
                   is not None else "le recomptage ne l'a pas franchi")
        c.flag("petition.threshold_position",
               f"enregistré à la position #{claimed}, {recount}",
               sorted({p for p in (crossed, c.e.position) if p is not None}))
    facts["reached"] = {"claimed": claimed, "position": c.e.position}
    facts.pop("awaiting_threshold", None)
    facts["awaiting_obligation"] = c.e.position


def _obligation_opened(c: _Check) -> None:
    _petition_event(c)
    c.facts["obligation"] = {"position": c.e.position, "due_at": c.f["due_at"]}


def _collection_closed(c: _Check) -> None:
    _petition_event(c)
    c.facts["closed"] = c.e.position
    if c.facts.get("crossed") is not None and "reached" not in c.facts:
        c.facts["awaiting_threshold"] = c.e.position


def _fulfilled(c: _Check) -> None:
    _petition_event(c)
    obligation = c.facts.get("obligation")
    if obligation and _seconds(c.f["at"], obligation["due_at"]) > 0:
        what = {"Answered": "réponse du conseil", "ConsultationReported":
                "rapport de la consultation", "AgendaProposalSubmitted":
                "inscription à l'ordre du jour"}[c.e.name]
        c.flag("petition.answer_late", f"{what} le {c.f['at']}, échéance {obligation['due_at']}",
               [obligation["position"], c.e.position])


def _obligation_breached(c: _Check) -> None:
    _petition_event(c)
    obligation = c.facts.get("obligation", {})
    c.flag("petition.no_answer", f"échéance {c.f['due_at']}, manquement constaté le "
           f"{c.f['at']}", [p for p in (obligation.get("position"), c.e.position) if p])


# -- the participatory budget ---------------------------------------------------------------
# A cycle's facts (keyed by its id): `cycle` (the Opened position), `charter_version`, `rules`,
# `districts`, `projects` (their ids), `voting` (VotingOpened's position) with `on_ballot`
# (district -> project id -> cost), `closed` (VotingClosed's position) and `ballots` (district
# -> voter -> choices: the last ballot of each, as `last_ballots` keeps it; dropped once the
# results are checked). A project's facts (keyed by its id): `cycle` and `appeal` (the
# position of its pending appeal, or None). The view keeps a cycle's `ballots` in a table of
# their own (projections/compliance.py), not in the cycle's facts.


def budget_recount(cycle_id: str, rules: dict[str, Any], districts: dict[str, int],
                   on_ballot: dict[str, dict[str, int]],
                   ballots: dict[str, dict[str, list[list]]]) -> dict[str, dict[str, Any]]:
    """Each district's results recomputed from the cycle's published rules, its districts'
    budgets, the projects on each district's ballot and the ballots counted (the last of each
    voter stored after voting opened and up to its close): what `ResultsPublished` must hold.
    The one recount of the compliance view and of `registre audit verify`."""
    from domain.rules.budget_cycle import BudgetRules, cycle_results

    return cycle_results(BudgetRules.from_dict(rules), districts, on_ballot, ballots,
                         lot_seed=cycle_id)


def _budget_opened(c: _Check) -> None:
    c.facts.clear()
    c.facts.update({"cycle": c.e.position, "charter_version": c.f["charter_version"],
                    "rules": c.f["rules"], "districts": c.f["districts"], "projects": []})


def _budget_project_added(c: _Check) -> None:
    c.facts.setdefault("projects", []).append(str(c.f["project_id"]))


def _budget_voting_opened(c: _Check) -> None:
    for pid in c.facts.get("projects", []):
        appeal = c.checker.proposals.get(pid, {}).get("appeal")
        if appeal is not None:
            c.flag("budget.appeal_undecided", f"le recours sur le projet {pid} (position "
                   f"#{appeal}) n'était pas tranché", [appeal, c.e.position])
    c.facts.update({"voting": c.e.position, "on_ballot": c.f["ballots"], "ballots": {}})


def _budget_voting_closed(c: _Check) -> None:
    c.facts["closed"] = c.e.position


def _budget_ballot(c: _Check) -> None:
    facts, position = c.facts, c.e.position
    closed = facts.get("closed")
    if closed is not None and position > closed:
        c.flag("budget.late_ballot", f"bulletin ({c.f['district']}) à la position #{position}, "
               f"vote clos à la position #{closed}", [closed, position])
        return
    if "voting" not in facts:
        return  # stored before voting opened: never counted (nor by the tally)
    from domain.rules.budget_cycle import BudgetRules, ballot_refusal

    district, choices = c.f["district"], [(str(p), n) for p, n in c.f["choices"]]
    refused = (("budget.district", "district sans budget dans ce cycle")
               if district not in facts["districts"] else ballot_refusal(
                   BudgetRules.from_dict(facts["rules"]), facts["districts"][district],
                   facts["on_ballot"].get(district, {}), choices))
    if refused is not None:
        c.flag("budget.invalid_ballot", f"bulletin ({district}) à la position #{position} : "
               f"règle {refused[0]}", [facts["voting"], position])
    facts.setdefault("ballots", {}).setdefault(c.f["district"], {})[c.f["voter_ref"]] = [
        [str(p), int(n)] for p, n in c.f["choices"]]


def _budget_results(c: _Check) -> None:
    facts = c.facts
    ballots = facts.pop("ballots", {})
    if "voting" not in facts:
        raise ValueError(f"cycle {c.key}: results published before any vote opened")
    recount = budget_recount(c.key, facts["rules"], facts["districts"], facts["on_ballot"],
                             ballots)
    published = c.f["results"]
    differ = sorted(d for d in set(recount) | set(published)
                    if recount.get(d) != published.get(d))
    for district in differ:
        mine, theirs = recount.get(district), published.get(district) or {}
        what = ("district absent du recomptage" if mine is None else
                f"publiés : {theirs.get('selected')} pour {theirs.get('cost')} sur "
                f"{theirs.get('ballots')} bulletin(s) ; recomptés : {mine['selected']} pour "
                f"{mine['cost']} sur {mine['ballots']} bulletin(s)")
        if mine is not None and (mine["selected"], mine["cost"], mine["ballots"]) == (
                theirs.get("selected"), theirs.get("cost"), theirs.get("ballots")):
            what = "le détail des tours diffère du recomptage"
        c.flag("budget.results_mismatch", f"{district} — {what}",
               [p for p in (facts.get("closed"), c.e.position) if p])
    if facts.get("closed") is not None and c.f["close_position"] != facts["closed"]:
        c.flag("budget.results_mismatch", f"calculés jusqu'à la position "
               f"#{c.f['close_position']}, le vote a été clos à la position #{facts['closed']}",
               [facts["closed"], c.e.position])
    facts["results"] = c.e.position


def _budget_project_submitted(c: _Check) -> None:
    c.facts.clear()
    c.facts.update({"cycle": str(c.f["cycle_id"]), "appeal": None})


def _budget_appealed(c: _Check) -> None:
    c.facts["appeal"] = c.e.position


def _budget_appeal_decided(c: _Check) -> None:
    c.facts["appeal"] = None


# -- citizens' conventions drawn by lot -----------------------------------------------------
# A convention's facts (keyed by its id): `convention` (Opened's position), `charter_version`,
# `randomness` (its rules' seed source: guarantor_secret, dice, beacon), `secret` (the
# guarantor's committed digest and its position), `committed` (PoolCommitted's fields the draw
# depends on, with its position), `revealed` (the seed, when and where), `drawn` (PanelDrawn's
# position), `panel` (the panel as it stands after each decline) and `declined` (who declined,
# in order: no alternate again).

_COMMITTED_FIELDS = ("close_position", "pool", "quotas", "size", "method", "algorithm_version",
                     "distribution", "randomness", "commitment", "reveal_by")


def _committed_selection(committed: dict[str, Any]) -> tuple[list[Any], list[Any], Any]:
    """The committed pool's people, quotas and distribution (`domain.rules.sortition`)."""
    from domain.rules import sortition

    people = [sortition.person(ref, values) for ref, values in committed["pool"]]
    quotas = [sortition.Quota(str(q[0]), str(q[1]), q[2], q[3]) for q in committed["quotas"]]
    return people, quotas, sortition.Distribution.from_json(committed["distribution"])


def convention_commitment(committed: dict[str, Any]) -> str:
    """The commitment recomputed from `PoolCommitted`'s fields, as the command computes it:
    `sortition.commitment` over the pool, quotas, size, method, algorithm version,
    distribution, and the randomness source as `json.dumps(randomness, sort_keys=True)`."""
    import json

    from domain.rules import sortition

    people, quotas, dist = _committed_selection(committed)
    return sortition.commitment(people, quotas, committed["size"], committed["method"],
                                committed["algorithm_version"], dist,
                                json.dumps(committed["randomness"], sort_keys=True))


def convention_distribution_problems(committed: dict[str, Any]) -> list[str]:
    """Why the committed distribution is not a lottery over valid panels of the committed
    pool (`sortition.check_distribution`; empty: it is one)."""
    from domain.rules import sortition

    try:
        people, quotas, dist = _committed_selection(committed)
    except sortition.SortitionError as e:
        return [str(e)]
    return sortition.check_distribution(people, quotas, committed["size"], dist)


def convention_redraw(committed: dict[str, Any], randomness: str, seed: str) -> list[str]:
    """The panel drawn from the committed distribution with the whole revealed seed
    (`sortition.draw`, `domain.rules.convention.seed_bytes`), ids sorted. Raises ValueError
    (a `SortitionError`, or a seed of the wrong form)."""
    from domain.rules import sortition
    from domain.rules.convention import seed_bytes

    people, _, dist = _committed_selection(committed)
    return list(sortition.draw(people, dist, seed_bytes(randomness, seed)))


def convention_replacement(committed: dict[str, Any], randomness: str, seed: str,
                           panel: list[str], member: str, index: int,
                           declined: list[str]) -> str | None:
    """Who takes the seat `member` declined (the `index`-th decline), the panel standing as
    `panel`, those who declined before excluded (`sortition.replacement`)."""
    from domain.rules import sortition
    from domain.rules.convention import seed_bytes

    people, quotas, _ = _committed_selection(committed)
    return sortition.replacement(people, quotas, committed["size"], panel, member,
                                 seed_bytes(randomness, seed), index, excluded=declined)


def secret_matches(seed: str, digest: str | None) -> bool:
    """SHA-256 of the revealed secret's bytes is the digest the guarantor committed."""
    import hashlib

    try:
        return digest is not None and hashlib.sha256(
            bytes.fromhex(seed.strip())).hexdigest() == digest
    except ValueError:
        return False


def _convention_opened(c: _Check) -> None:
    c.facts.clear()
    c.facts.update({"convention": c.e.position, "charter_version": c.f["charter_version"],
                    "randomness": c.f["rules"]["randomness"]})


def _convention_seed_committed(c: _Check) -> None:
    c.facts["secret"] = {"digest": c.f["digest"], "position": c.e.position}


def _convention_pool_committed(c: _Check) -> None:
    from domain.rules import sortition

    facts, position = c.facts, c.e.position
    committed = {k: c.f[k] for k in _COMMITTED_FIELDS}
    committed["position"] = position
    revealed = facts.get("revealed")
    if revealed is not None:
        c.flag("convention.seed_before_commitment",
               f"graine révélée à la position #{revealed['position']}, vivier engagé à la "
               f"position #{position}", [revealed["position"], position])
    try:
        recomputed: str | None = convention_commitment(committed)
    except sortition.SortitionError:
        recomputed = None  # an unreadable distribution: flagged just below
    if recomputed is not None and recomputed != c.f["commitment"]:
        c.flag("convention.commitment_mismatch",
               f"engagement {c.f['commitment']}, recalculé {recomputed}", [position])
    secret = facts.get("secret")
    if (facts.get("randomness") == "guarantor_secret"
            and c.f["randomness"].get("secret_sha256") != (secret or {}).get("digest")):
        c.flag("convention.commitment_mismatch",
               "l'engagement ne cite pas le secret engagé par le garant"
               + (f" (position #{secret['position']})" if secret else " (aucun secret engagé)"),
               [p for p in ((secret or {}).get("position"), position) if p])
    problems = convention_distribution_problems(committed)
    if problems:
        c.flag("convention.distribution_invalid", "; ".join(problems[:3]), [position])
    facts["committed"] = committed


def _convention_seed_revealed(c: _Check) -> None:
    facts, position = c.facts, c.e.position
    committed = facts.get("committed")
    if committed is None:
        c.flag("convention.seed_before_commitment",
               f"graine révélée à la position #{position}, aucun vivier engagé avant",
               [position])
    elif _seconds(c.f["at"], committed["reveal_by"]) > 0:
        c.flag("convention.late_reveal", f"révélée le {c.f['at']}, échéance "
               f"{committed['reveal_by']}", [committed["position"], position])
    if facts.get("randomness") == "guarantor_secret":
        secret = facts.get("secret") or {}
        if not secret_matches(c.f["seed"], secret.get("digest")):
            c.flag("convention.seed_before_commitment",
                   "SHA-256 du secret révélé n'est pas l'empreinte engagée par le garant",
                   [p for p in (secret.get("position"), position) if p])
    facts["revealed"] = {"position": position, "seed": c.f["seed"], "at": c.f["at"]}


def _convention_panel_drawn(c: _Check) -> None:
    facts, position = c.facts, c.e.position
    committed, revealed = facts.get("committed"), facts.get("revealed")
    if committed is None or revealed is None:
        c.flag("convention.draw_mismatch", "panel tiré sans vivier engagé ni graine révélée "
               "avant lui", [position])
    else:
        proof = [committed["position"], revealed["position"], position]
        try:
            redrawn = convention_redraw(committed, facts.get("randomness", ""),
                                        revealed["seed"])
        except ValueError as e:
            c.flag("convention.draw_mismatch", f"le tirage ne peut être refait ({e})", proof)
        else:
            if sorted(c.f["panel"]) != redrawn:
                c.flag("convention.draw_mismatch", f"panel enregistré {sorted(c.f['panel'])}, "
                       f"tirage refait {redrawn}", proof)
    facts.update({"drawn": position, "panel": list(c.f["panel"]), "declined": []})


def _convention_seat_declined(c: _Check) -> None:
    facts, position, f = c.facts, c.e.position, c.f
    committed, revealed = facts.get("committed"), facts.get("revealed")
    panel, declined = facts.get("panel", []), facts.get("declined", [])
    if committed is not None and revealed is not None and "drawn" in facts:
        proof = [revealed["position"], facts["drawn"], position]
        if f["index"] != len(declined):
            c.flag("convention.draw_mismatch", f"refus n° {f['index']}, c'est le refus "
                   f"n° {len(declined)}", proof)
        try:
            expected = convention_replacement(committed, facts.get("randomness", ""),
                                              revealed["seed"], panel, f["member"],
                                              len(declined), declined)
        except ValueError as e:
            c.flag("convention.draw_mismatch", f"le remplaçant de {f['member']} ne peut être "
                   f"retiré ({e})", proof)
        else:
            if expected != f["replacement"]:
                c.flag("convention.draw_mismatch", f"siège refusé par {f['member']} : "
                       f"remplaçant enregistré {f['replacement']}, retiré {expected}", proof)
    panel = [m for m in panel if m != f["member"]]
    if f["replacement"] is not None:
        panel.append(f["replacement"])
    facts["panel"], facts["declined"] = panel, [*declined, f["member"]]


def _convention_ended(c: _Check) -> None:
    committed = c.facts.get("committed")
    if (committed is not None and "revealed" not in c.facts
            and _seconds(c.f["at"], committed["reveal_by"]) > 0):
        c.flag("convention.late_reveal", f"aucune graine révélée à l'échéance "
               f"{committed['reveal_by']} ; convention close le {c.f['at']}",
               [committed["position"], c.e.position])


_HANDLERS = {
    SUBMITTED: _submitted,
    _PROPOSAL + "AdmissibilityOpened": _admissibility_opened,
    _PROPOSAL + "AdmissibilityDecided": _admissibility_decided,
    _PROPOSAL + "ConsultationRequired": _consultation_required,
    _PROPOSAL + "ConsultationOpened": _consultation_opened,
    _PROPOSAL + "DeliberationOpened": _deliberation_opened,
    _PROPOSAL + "DeliberationClosed": _deliberation_closed,
    _PROPOSAL + "VoteOpened": _vote_opened,
    _PROPOSAL + "BallotClosed": _ballot_closed,
    _PROPOSAL + "Decided": _decided,
    _PROPOSAL + "DecisionTypeDeclared": lambda c: c.cited(),
    _PROPOSAL + "AmendmentDecided": _amendment_decided,
    _PROPOSAL + "VetoWindowOpened": _veto_window_opened,
    _PROPOSAL + "VetoFiled": _veto_filed,
    _PROPOSAL + "VetoWindowClosed": _veto_window_closed,
    _PROPOSAL + "ImplementationOpened": _implementation_opened,
    _PROPOSAL + "EvaluationOpened": _evaluation_opened,
    _PROPOSAL + "Closed": _closed,
    _PETITION + "Drafted": _petition_drafted,
    _PETITION + "CollectionOpened": _collection_opened,
    _PETITION + "ThresholdReached": _threshold_reached,
    _PETITION + "ObligationOpened": _obligation_opened,
    _PETITION + "CollectionClosed": _collection_closed,
    _PETITION + "Answered": _fulfilled,
    _PETITION + "AgendaProposalSubmitted": _fulfilled,
    _PETITION + "ConsultationReported": _fulfilled,
    _PETITION + "ObligationBreached": _obligation_breached,
    _PETITION + "Withdrawn": _petition_event,
    _PETITION + "Closed": _petition_event,
    SIGNED: _signature,
    WITHDRAWN: _signature,
    RENEWED: _signature,
    _CYCLE + "Opened": _budget_opened,
    _CYCLE + "ProjectAdded": _budget_project_added,
    VOTING_OPENED: _budget_voting_opened,
    _CYCLE + "VotingClosed": _budget_voting_closed,
    RESULTS_PUBLISHED: _budget_results,
    _PROJECT + "Submitted": _budget_project_submitted,
    _PROJECT + "Appealed": _budget_appealed,
    _PROJECT + "AppealDecided": _budget_appeal_decided,
    BALLOT_CAST: _budget_ballot,
    BALLOT_REPLACED: _budget_ballot,
    _CONVENTION + "Opened": _convention_opened,
    _CONVENTION + "SeedCommitted": _convention_seed_committed,
    _CONVENTION + "PoolCommitted": _convention_pool_committed,
    _CONVENTION + "SeedRevealed": _convention_seed_revealed,
    _CONVENTION + "PanelDrawn": _convention_panel_drawn,
    _CONVENTION + "SeatDeclined": _convention_seat_declined,
    _CONVENTION + "Ended": _convention_ended,
}


def check_log(events: Iterable[LoggedEvent],
              unreadable: Callable[[LoggedEvent, Exception], None] | None = None,
              ) -> Iterator[Flag]:
    """Every flag of a whole log, in log order (a flag is never given twice). An event whose
    fields the checks cannot read is passed to `unreadable` and skipped (raised without it),
    as the view skips one it cannot apply (D13)."""
    checker, seen = ComplianceChecker(), set()
    for e in events:
        try:
            flags = checker.apply(e)
        except (KeyError, TypeError, ValueError) as error:
            if unreadable is None:
                raise
            unreadable(e, error)
            continue
        for flag in flags:
            if flag.key not in seen:
                seen.add(flag.key)
                yield flag
