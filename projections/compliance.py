"""The guarantor's compliance view: which processes broke their pinned charter, and the events
that prove it.

Question answered: for each proposal, was any stage shorter than the charter's minimum
(admissibility review, consultation — including one the guarantor required —, deliberation,
ballot, veto window, evaluation steps), was a proposal adopted without quorum, was a veto filed
outside its window, did the vote open without the consultation the guarantor required, did an
evaluation step open before its date, did a rule check cite a charter version that was not in
force when the proposal was submitted? Each flag names the rule
and lists the log positions of the events that prove it. An empty view is the record that every
process ran by its rules.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from domain.governance.charter import Charter
from domain.governance.metropolis import Metropolis
from domain.deliberation.proposal import Proposal
from domain.rules.charter import CharterRules
from domain.rules.council import Tally, carried_irrevocably
from domain.topics import stored_topics
from projections.rebuild import BatchedView

RULE_FR = {
    "stage.consultation": "consultation publique plus courte que le minimum de la charte",
    "stage.vote": "scrutin plus court que le minimum de la charte",
    "stage.deliberation": "délibération plus courte que le minimum de la charte",
    "veto.window.cut_short": "délai de veto clos avant son terme sans levée acquise du veto",
    "quorum": "proposition adoptée sans quorum",
    "veto.window": "veto déposé hors du délai de veto",
    "charter.version": "règle appliquée selon une version de la charte qui n'était pas en vigueur",
    "stage.admissibility": "examen de recevabilité écourté ou omis",
    "guarantor.consultation": "vote ouvert sans la consultation publique exigée par le garant",
    "evaluation.schedule": "évaluation citoyenne ouverte avant la date prévue par la charte",
    "stage.evaluation": "dernière évaluation citoyenne plus courte que le minimum de la charte",
}


class ComplianceView(BatchedView):
    """Tables `compliance_charters`, `compliance_members`, `compliance_proposals` (the facts
    the checks need) and `compliance_flags` (the findings)."""

    view_tables = ("compliance_charters", "compliance_members", "compliance_proposals",
                   "compliance_flags")

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements += [
            SQL("CREATE TABLE IF NOT EXISTS compliance_charters (charter_id uuid, "
                "version int, rules jsonb NOT NULL, PRIMARY KEY (charter_id, version))"),
            SQL("CREATE TABLE IF NOT EXISTS compliance_members (metropolis_id uuid, "
                "member_ref text, PRIMARY KEY (metropolis_id, member_ref))"),
            SQL("CREATE TABLE IF NOT EXISTS compliance_proposals (proposal_id uuid PRIMARY KEY, "
                "facts jsonb NOT NULL)"),
            SQL("CREATE TABLE IF NOT EXISTS compliance_flags (proposal_id uuid NOT NULL, "
                "rule text NOT NULL, message text NOT NULL, positions bigint[] NOT NULL, "
                "charter_version int, flagged_at bigint NOT NULL, "
                "PRIMARY KEY (proposal_id, rule, flagged_at))"),
        ]

    def apply(self, tracking: Tracking, step: Any) -> None:
        """Run `step(curs)` and record the tracking position in the same transaction."""
        with self.writing() as curs:
            step(curs)
            self.track(curs, tracking)

    # -- queries ----------------------------------------------------------------------------

    def flags(self, proposal_id: UUID | None = None) -> list[dict[str, Any]]:
        where = "WHERE proposal_id = %s" if proposal_id else ""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT * FROM compliance_flags {where} "  # noqa: S608
                         "ORDER BY flagged_at", (proposal_id,) if proposal_id else ())
            return list(curs.fetchall())


def _facts(curs: Any, proposal_id: UUID) -> dict[str, Any]:
    curs.execute("SELECT facts FROM compliance_proposals WHERE proposal_id = %s",
                 (proposal_id,))
    row = curs.fetchone()
    return dict(row["facts"]) if row else {}


def _save(curs: Any, proposal_id: UUID, facts: dict[str, Any]) -> None:
    curs.execute("INSERT INTO compliance_proposals VALUES (%s, %s) ON CONFLICT (proposal_id) "
                 "DO UPDATE SET facts = EXCLUDED.facts", (proposal_id, Jsonb(facts)))


def _rules(curs: Any, facts: dict[str, Any]) -> CharterRules:
    curs.execute("SELECT rules FROM compliance_charters WHERE charter_id = %s AND version = %s",
                 (facts["charter_id"], facts["charter_version"]))
    return CharterRules.from_dict(curs.fetchone()["rules"])


def _flag(curs: Any, proposal_id: UUID, rule: str, detail: str, positions: list[int],
          version: int | None) -> None:
    curs.execute(
        "INSERT INTO compliance_flags VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (proposal_id, rule, f"{RULE_FR[rule]} : {detail}", positions, version, positions[-1]))


def _seconds(later: datetime, earlier: str) -> float:
    return (later - datetime.fromisoformat(earlier)).total_seconds()


class ComplianceProjection(Projection[ComplianceView]):
    """Checks each proposal's events against the charter version it pinned."""

    name = "compliance"
    topics = stored_topics(*(
        Charter.Adopted, Charter.Amended, Metropolis.MemberSeated, Proposal.Submitted,
        Proposal.ConsultationOpened, Proposal.VoteOpened, Proposal.BallotClosed,
        Proposal.Decided, Proposal.VetoWindowOpened, Proposal.VetoFiled,
        Proposal.DeliberationOpened, Proposal.DeliberationClosed, Proposal.VetoWindowClosed,
        Proposal.AdmissibilityOpened, Proposal.AdmissibilityDecided,
        Proposal.ConsultationRequired, Proposal.ImplementationOpened,
        Proposal.EvaluationOpened, Proposal.Closed, Proposal.AmendmentDecided,
        Proposal.DecisionTypeDeclared))

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, e: Charter.Adopted, tracking: Tracking) -> None:
        self.view.apply(tracking, lambda curs: curs.execute(
            "INSERT INTO compliance_charters VALUES (%s, 1, %s) ON CONFLICT DO NOTHING",
            (e.originator_id, Jsonb(e.rules))))

    @process_event.register
    def _(self, e: Charter.Amended, tracking: Tracking) -> None:
        # The aggregate's version n+1 is its n-th amendment, i.e. charter version n + 1.
        self.view.apply(tracking, lambda curs: curs.execute(
            "INSERT INTO compliance_charters VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (e.originator_id, e.originator_version, Jsonb(e.rules))))

    @process_event.register
    def _(self, e: Metropolis.MemberSeated, tracking: Tracking) -> None:
        self.view.apply(tracking, lambda curs: curs.execute(
            "INSERT INTO compliance_members VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (e.originator_id, e.member_ref)))

    @process_event.register
    def _(self, e: Proposal.Submitted, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            curs.execute("SELECT COALESCE(MAX(version), 0) AS v FROM compliance_charters "
                         "WHERE charter_id = %s", (e.charter_id,))
            in_force = curs.fetchone()["v"]
            # `reviews`: this view saw the proposal from its submission with the admissibility
            # checks on (a view upgraded in place did not see earlier rulings).
            facts = {"charter_id": str(e.charter_id), "charter_version": e.charter_version,
                     "in_force": in_force, "metropolis_id": str(e.metropolis_id),
                     "submitted": tracking.notification_id, "reviews": True}
            _save(curs, e.originator_id, facts)
            if e.charter_version != in_force:
                _flag(curs, e.originator_id, "charter.version",
                      f"la proposition épingle la v{e.charter_version}, la v{in_force} était "
                      "en vigueur", [tracking.notification_id], e.charter_version)
        self.view.apply(tracking, step)

    def _cited(self, curs: Any, e: Any, facts: dict[str, Any], tracking: Tracking) -> None:
        if e.charter_version != facts.get("in_force"):
            _flag(curs, e.originator_id, "charter.version",
                  f"{type(e).__name__} cite la v{e.charter_version}, la v{facts.get('in_force')} "
                  "était en vigueur au dépôt",
                  [facts["submitted"], tracking.notification_id], e.charter_version)

    @process_event.register
    def _(self, e: Proposal.ConsultationOpened, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            rules = _rules(curs, facts)
            if ("consulted" not in facts and "consultation" not in facts
                    and rules.admissibility_seconds > 0
                    and facts.get("reviews") and "admissibility_decided" not in facts):
                _flag(curs, e.originator_id, "stage.admissibility",
                      "consultation ouverte sans décision de recevabilité",
                      [facts["submitted"], tracking.notification_id], facts["charter_version"])
            # A consultation following one under way (required by the guarantor) ends it.
            self._consultation_ended(curs, e, facts, e.opened_at, tracking)
            required = facts.pop("required", None)
            facts["consultation"] = {
                "at": e.opened_at.isoformat(), "position": tracking.notification_id,
                "min": max(rules.consultation_seconds, required["seconds"] if required else 0)}
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @staticmethod
    def _consultation_ended(curs: Any, e: Any, facts: dict[str, Any], ended_at: datetime,
                            tracking: Tracking) -> None:
        """The consultation under way ended (the deliberation or the vote opened): flag it if
        shorter than its minimum; it is then checked, once."""
        consultation = facts.pop("consultation", None)
        if consultation:
            lasted = _seconds(ended_at, consultation["at"])
            minimum = consultation.get("min", _rules(curs, facts).consultation_seconds)
            if lasted < minimum:
                _flag(curs, e.originator_id, "stage.consultation",
                      f"{lasted:.0f} s au lieu de {minimum} s",
                      [consultation["position"], tracking.notification_id],
                      facts["charter_version"])
            facts["consulted"] = True

    @process_event.register
    def _(self, e: Proposal.VoteOpened, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            self._consultation_ended(curs, e, facts, e.opened_at, tracking)
            required = facts.get("required")
            if required:
                _flag(curs, e.originator_id, "guarantor.consultation",
                      "exigée par le garant, aucune consultation n'a été ouverte depuis",
                      [required["position"], tracking.notification_id],
                      facts["charter_version"])
            facts["vote"] = {"at": e.opened_at.isoformat(), "position": tracking.notification_id,
                             "ballot_id": str(e.ballot_id)}
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.BallotClosed, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            vote = facts.get("vote")
            if vote and vote["ballot_id"] == str(e.ballot_id):
                rules = _rules(curs, facts)
                lasted = _seconds(e.closed_at, vote["at"])
                if lasted < rules.vote_seconds:
                    _flag(curs, e.originator_id, "stage.vote",
                          f"{lasted:.0f} s au lieu de {rules.vote_seconds} s",
                          [vote["position"], tracking.notification_id], facts["charter_version"])
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.Decided, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            rules = _rules(curs, facts)
            took_part = e.yes + e.no + e.abstain
            if e.outcome == "adopted" and not rules.quorum_met(took_part, e.members):
                _flag(curs, e.originator_id, "quorum",
                      f"{took_part} votants sur {e.members} membres, quorum de "
                      f"{rules.quorum_percent} %", [tracking.notification_id],
                      facts["charter_version"])
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.VetoWindowOpened, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            facts["veto_window"] = {"closes_at": e.closes_at.isoformat(),
                                    "position": tracking.notification_id}
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.VetoFiled, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            window = facts.get("veto_window")
            if window is None:
                _flag(curs, e.originator_id, "veto.window", "aucun délai de veto n'était ouvert",
                      [tracking.notification_id], facts.get("charter_version"))
            elif _seconds(e.timestamp, window["closes_at"]) >= 0:
                _flag(curs, e.originator_id, "veto.window",
                      f"déposé après la clôture du délai ({window['closes_at']})",
                      [window["position"], tracking.notification_id],
                      facts.get("charter_version"))
            if facts:
                self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.DeliberationOpened, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            self._consultation_ended(curs, e, facts, e.opened_at, tracking)
            facts["deliberation"] = {"at": e.opened_at.isoformat(),
                                     "position": tracking.notification_id}
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.DeliberationClosed, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            opened = facts.get("deliberation")
            if opened:
                rules = _rules(curs, facts)
                lasted = _seconds(e.closed_at, opened["at"])
                if lasted < rules.deliberation_seconds:
                    _flag(curs, e.originator_id, "stage.deliberation",
                          f"{lasted:.0f} s au lieu de {rules.deliberation_seconds} s",
                          [opened["position"], tracking.notification_id],
                          facts["charter_version"])
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.VetoWindowClosed, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            window = facts.get("veto_window")
            # Closing early is the rule when the override was carried whatever the votes to
            # come (two thirds of the members, or every member having voted).
            rules = _rules(curs, facts)
            took_part = e.yes + e.no + e.abstain
            if (e.cause == "override_carried"
                    and not rules.quorum_met(took_part, e.members)):
                _flag(curs, e.originator_id, "quorum",
                      f"veto levé par {took_part} votants sur {e.members} membres, quorum de "
                      f"{rules.quorum_percent} %", [tracking.notification_id],
                      facts["charter_version"])
            self._cited(curs, e, facts, tracking)
            carried = e.cause == "override_carried" and carried_irrevocably(
                Tally(e.yes, e.no, e.abstain), e.members, rules.for_override())
            if window and not carried and _seconds(e.timestamp, window["closes_at"]) < 0:
                _flag(curs, e.originator_id, "veto.window.cut_short",
                      f"clos le {e.timestamp.isoformat()}, terme {window['closes_at']}",
                      [window["position"], tracking.notification_id],
                      facts.get("charter_version"))
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.AdmissibilityOpened, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            rules = _rules(curs, facts)
            given = (e.closes_at - e.opened_at).total_seconds()
            if given < rules.admissibility_seconds:
                _flag(curs, e.originator_id, "stage.admissibility",
                      f"délai d'examen de {given:.0f} s au lieu de {rules.admissibility_seconds} s",
                      [tracking.notification_id], facts["charter_version"])
            facts["admissibility"] = {"closes_at": e.closes_at.isoformat(),
                                      "position": tracking.notification_id}
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.AdmissibilityDecided, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            review = facts.get("admissibility")
            if (review and e.cause == "deadline_reached"
                    and _seconds(e.timestamp, review["closes_at"]) < 0):
                _flag(curs, e.originator_id, "stage.admissibility",
                      f"déclarée recevable à l'échéance le {e.timestamp.isoformat()}, "
                      f"échéance {review['closes_at']}",
                      [review["position"], tracking.notification_id], facts["charter_version"])
            facts["admissibility_decided"] = tracking.notification_id
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.ConsultationRequired, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            facts["required"] = {"seconds": e.seconds, "position": tracking.notification_id}
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.ImplementationOpened, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            rules = _rules(curs, facts)
            for n, (at, after) in enumerate(
                    zip(e.evaluations_at, rules.evaluation_after_seconds, strict=False), 1):
                if (at - e.opened_at).total_seconds() < after:
                    _flag(curs, e.originator_id, "evaluation.schedule",
                          f"évaluation n° {n} prévue {(at - e.opened_at).total_seconds():.0f} s "
                          f"après l'adoption au lieu de {after} s",
                          [tracking.notification_id], facts["charter_version"])
            if len(e.evaluations_at) != len(rules.evaluation_after_seconds):
                _flag(curs, e.originator_id, "evaluation.schedule",
                      f"{len(e.evaluations_at)} évaluation(s) prévue(s) au lieu de "
                      f"{len(rules.evaluation_after_seconds)}",
                      [tracking.notification_id], facts["charter_version"])
            facts["implementation"] = {
                "evaluations_at": [t.isoformat() for t in e.evaluations_at],
                "closes_at": e.closes_at.isoformat(), "position": tracking.notification_id}
            _save(curs, e.originator_id, facts)
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.EvaluationOpened, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            plan = facts.get("implementation")
            if plan and 0 < e.step <= len(plan["evaluations_at"]):
                due = plan["evaluations_at"][e.step - 1]
                if _seconds(e.opened_at, due) < 0:
                    _flag(curs, e.originator_id, "evaluation.schedule",
                          f"évaluation n° {e.step} ouverte le {e.opened_at.isoformat()}, "
                          f"prévue le {due}",
                          [plan["position"], tracking.notification_id],
                          facts["charter_version"])
            facts.setdefault("evaluation_opened", {})[str(e.step)] = {
                "at": e.opened_at.isoformat(), "position": tracking.notification_id}
            _save(curs, e.originator_id, facts)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.Closed, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            plan = facts.get("implementation")
            if plan and _seconds(e.closed_at, plan["closes_at"]) < 0:
                rules = _rules(curs, facts)
                last = facts.get("evaluation_opened", {}).get(
                    str(len(plan["evaluations_at"])), {})
                lasted = _seconds(e.closed_at, last["at"]) if last else 0
                _flag(curs, e.originator_id, "stage.evaluation",
                      f"close le {e.closed_at.isoformat()} ({lasted:.0f} s après l'ouverture "
                      f"de la dernière évaluation, au lieu de "
                      f"{rules.evaluation_window_seconds} s)",
                      [p for p in (last.get("position"), tracking.notification_id) if p],
                      facts["charter_version"])
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.AmendmentDecided, tracking: Tracking) -> None:
        def step(curs: Any) -> None:
            facts = _facts(curs, e.originator_id)
            rules = _rules(curs, facts)
            took_part = e.yes + e.no + e.abstain
            if e.outcome == "adopted" and not rules.quorum_met(took_part, e.members):
                _flag(curs, e.originator_id, "quorum",
                      f"amendement n° {e.number} adopté par {took_part} votants sur "
                      f"{e.members} membres, quorum de {rules.quorum_percent} %",
                      [tracking.notification_id], facts["charter_version"])
            self._cited(curs, e, facts, tracking)
        self.view.apply(tracking, step)

    @process_event.register
    def _(self, e: Proposal.DecisionTypeDeclared, tracking: Tracking) -> None:
        self.view.apply(tracking, lambda curs: self._cited(
            curs, e, _facts(curs, e.originator_id), tracking))
