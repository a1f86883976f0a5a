"""The proposals' public views: each proposal's current state and tally, its timeline, and
each commune's veto record, and the consultation's supports and comments.

Questions answered: which proposals exist and where does each stand (stage, deadline, votes so
far, decision)? What happened to a proposal, event by event: when, by which role, at which
stage, said in French? Which vetoes did each commune's mayor file, and were they sustained?

What private persons wrote (titles and summaries, comments, referrals, evaluation comments) is
kept here as the log holds it, sealed (D10); the queries open it for display, and show
« contenu effacé » once its author's key was erased. A timeline label names a sealed text by a
placeholder (`⟦title⟧`) that the query fills from the row's `details["sealed"]`.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.projection import Projection
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from domain.deliberation.ballot import Vote
from domain.deliberation.notice import Notice
from domain.deliberation.participation import Comment, Support
from domain.governance.charter import Charter
from domain.deliberation.draft import Draft
from domain.deliberation.proposal import (
    Proposal,
    amendment_ballot_id,
    council_ballot_id,
    override_ballot_id,
)
from domain.deliberation.stages import Stage
from domain.ports import ERASED, NoPersonalData
from domain.topics import stored_topics
from projections.labels import (
    CAUSE_FR,
    CHOICE_FR,
    MAJORITY_FR,
    OUTCOME_FR,
    OUTCOME_MASC_FR,
    date_fr,
)
from projections.personal_data import TamperedSeal


UNREADABLE = "contenu illisible"  # a sealed text that no longer opens (altered in the store)


def _placeholder(name: str) -> str:
    return f"⟦{name}⟧"


class ProposalViews(PostgresTrackingRecorder):
    """PostgreSQL tables `proposal_view` and `timeline_view`, and the queries on them."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # Opens sealed text for display: set by the wiring (api/wiring.py make_views).
        self.personal_data: Any = NoPersonalData()
        self.sql_create_statements.append(
            SQL("""CREATE TABLE IF NOT EXISTS proposal_view (
                proposal_id uuid PRIMARY KEY,
                metropolis_id uuid NOT NULL,
                title text NOT NULL,
                summary text NOT NULL,
                author_ref text NOT NULL,
                charter_version int NOT NULL,
                stage text NOT NULL,
                closes_at timestamptz,
                ballot_id uuid,
                yes int NOT NULL DEFAULT 0,
                no int NOT NULL DEFAULT 0,
                abstain int NOT NULL DEFAULT 0,
                outcome text,
                cause text,
                submitted_at timestamptz NOT NULL,
                updated_at timestamptz NOT NULL,
                position bigint NOT NULL)""")
        )
        # Columns added after the table's first version: added in place by `registre migrate`.
        self.sql_create_statements.append(SQL(
            "ALTER TABLE proposal_view ADD COLUMN IF NOT EXISTS supports int NOT NULL DEFAULT 0, "
            "ADD COLUMN IF NOT EXISTS comments int NOT NULL DEFAULT 0"))
        self.sql_create_statements.append(
            SQL("""CREATE TABLE IF NOT EXISTS comment_view (
                proposal_id uuid NOT NULL,
                position bigint NOT NULL,
                at timestamptz NOT NULL,
                citizen_ref text NOT NULL,
                text text NOT NULL,
                PRIMARY KEY (proposal_id, position))""")
        )
        self.sql_create_statements.append(
            SQL("""CREATE TABLE IF NOT EXISTS veto_record_view (
                commune text NOT NULL,
                proposal_id uuid NOT NULL,
                mayor_ref text NOT NULL,
                reason text NOT NULL,
                filed_at timestamptz NOT NULL,
                position bigint NOT NULL,
                outcome text,
                cause text,
                PRIMARY KEY (proposal_id, commune))""")
        )
        self.sql_create_statements.append(
            SQL("""CREATE TABLE IF NOT EXISTS timeline_view (
                proposal_id uuid NOT NULL,
                position bigint NOT NULL,
                at timestamptz NOT NULL,
                event text NOT NULL,
                stage text NOT NULL,
                actor_role text NOT NULL,
                label text NOT NULL,
                details jsonb NOT NULL,
                PRIMARY KEY (proposal_id, position))""")
        )

        # Ballots whose close event has been applied: a vote arriving after it is late.
        self.sql_create_statements.append(
            SQL("""CREATE TABLE IF NOT EXISTS closed_ballot_view (
                ballot_id uuid PRIMARY KEY,
                position bigint NOT NULL)""")
        )

    # -- writes: each in the same transaction as the tracking row --------------------------

    def record(
        self,
        tracking: Tracking,
        *,
        proposal_id: UUID,
        at: datetime,
        event: str,
        actor_role: str,
        label: str,
        details: dict[str, Any],
        insert: dict[str, Any] | None = None,
        update: dict[str, Any] | None = None,
        increment: tuple[str, UUID] | None = None,
        extra: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """Apply one event: create or update the proposal row, append to its timeline, and
        track the position, all in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            if insert is not None:
                columns = ", ".join(insert)
                values = ", ".join(f"%({k})s" for k in insert)
                curs.execute(f"INSERT INTO proposal_view ({columns}) VALUES ({values})", insert)  # noqa: S608
            changes = dict(update or {}, updated_at=at, position=tracking.notification_id)
            sets = ", ".join(f"{k} = %({k})s" for k in changes)
            params = dict(changes, proposal_id=proposal_id)
            if increment:  # the running tally counts the council's ballot, not an override
                column, params["vote_ballot"] = increment
                sets += (f", {column} = {column} + "
                         "(CASE WHEN ballot_id = %(vote_ballot)s THEN 1 ELSE 0 END)")
            curs.execute(
                f"UPDATE proposal_view SET {sets} WHERE proposal_id = %(proposal_id)s "  # noqa: S608
                "RETURNING stage",
                params,
            )
            row = curs.fetchone()
            stage = row["stage"] if row else "inconnu"
            curs.execute(
                "INSERT INTO timeline_view VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    proposal_id, tracking.notification_id, at, event, stage,
                    actor_role, label, Jsonb(details),
                ),
            )
            if extra is not None:  # one more statement in the same transaction
                curs.execute(extra[0], extra[1])
            self._insert_tracking(curs, tracking)

    def participate(self, tracking: Tracking, proposal_id: UUID, column: str,
                    comment: dict[str, Any] | None = None) -> None:
        """Count a support or a comment (kept out of the timeline: they are many)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(f"UPDATE proposal_view SET {column} = {column} + 1 "  # noqa: S608
                         "WHERE proposal_id = %s", (proposal_id,))
            if comment is not None:
                curs.execute("INSERT INTO comment_view VALUES (%(p)s, %(n)s, %(at)s, %(c)s, "
                             "%(t)s)", dict(comment, p=proposal_id, n=tracking.notification_id))
            self._insert_tracking(curs, tracking)

    # -- queries ----------------------------------------------------------------------------

    def _open(self, sealed: list[str]) -> list[str]:
        """Sealed texts as citizens read them: clear, « contenu effacé » or « contenu
        illisible »."""
        if not sealed:
            return []
        try:
            opened = self.personal_data.open_all(sealed)
        except TamperedSeal:  # find which: the others still read
            opened = []
            for one in sealed:
                try:
                    opened.append(self.personal_data.open(one))
                except TamperedSeal:
                    opened.append(UNREADABLE)
        return [ERASED if text is None else text for text in opened]

    def _open_rows(self, rows: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
        values = self._open([r[c] for r in rows for c in columns])
        for i, row in enumerate(rows):
            for j, column in enumerate(columns):
                row[column] = values[i * len(columns) + j]
        return rows

    def _open_timeline(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sealed = [(row, name, value) for row in rows
                  for name, value in row["details"].get("sealed", {}).items()]
        values = self._open([value for _, _, value in sealed])
        for (row, name, _), text in zip(sealed, values):
            row["label"] = row["label"].replace(_placeholder(name), text)
            row["details"][name] = text
        for row in rows:
            row["details"].pop("sealed", None)
        return rows

    def closed_at(self, ballot_id: UUID) -> int | None:
        """The log position at which `ballot_id` closed, if its close has been applied."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT position FROM closed_ballot_view WHERE ballot_id = %s",
                         (ballot_id,))
            row = curs.fetchone()
            return None if row is None else int(row["position"])

    def comments(self, proposal_id: UUID, limit: int, offset: int) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT * FROM comment_view WHERE proposal_id = %s ORDER BY position "
                         "LIMIT %s OFFSET %s", (proposal_id, limit, offset))
            rows = list(curs.fetchall())
        return self._open_rows(rows, "text")

    def list_proposals(
        self, metropolis_id: UUID | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        where = "WHERE metropolis_id = %(m)s" if metropolis_id else ""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT * FROM proposal_view {where} "  # noqa: S608
                "ORDER BY submitted_at DESC, position DESC LIMIT %(l)s OFFSET %(o)s",
                {"m": metropolis_id, "l": limit, "o": offset},
            )
            rows = list(curs.fetchall())
        return self._open_rows(rows, "title", "summary")

    def get_proposal(self, proposal_id: UUID, *, open_text: bool = True) -> dict[str, Any] | None:
        """One proposal's row (its title and summary opened, unless `open_text` is false:
        the projection's own reads never need them)."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT * FROM proposal_view WHERE proposal_id = %s", (proposal_id,))
            row = curs.fetchone()
        if row is None or not open_text:
            return row
        return self._open_rows([row], "title", "summary")[0]

    def veto_record(self, commune: str,
                    metropolis_id: UUID | None = None) -> list[dict[str, Any]]:
        """Every veto filed for a commune (of one metropolis, if given), with the outcome
        once the window closed."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT v.*, p.title FROM veto_record_view v JOIN proposal_view p "
                         "USING (proposal_id) WHERE commune = %s AND (%s::uuid IS NULL OR "
                         "p.metropolis_id = %s) ORDER BY v.position",
                         (commune, metropolis_id, metropolis_id))
            rows = list(curs.fetchall())
        return self._open_rows(rows, "title")

    def timeline(self, proposal_id: UUID) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT * FROM timeline_view WHERE proposal_id = %s ORDER BY position",
                (proposal_id,),
            )
            rows = list(curs.fetchall())
        return self._open_timeline(rows)


class ProposalProjection(Projection[ProposalViews]):
    """Projects proposal and vote events into `ProposalViews`."""

    name = "public_views"
    topics = stored_topics(
        *(
            Proposal.Submitted,
            Proposal.ConsultationOpened,
            Proposal.VoteOpened,
            Proposal.BallotClosed,
            Proposal.Decided,
            Proposal.Withdrawn,
            Proposal.VetoWindowOpened,
            Proposal.VetoFiled,
            Proposal.VetoWindowClosed,
            Proposal.DeliberationOpened,
            Proposal.AmendmentTabled,
            Proposal.DeliberationClosed,
            Proposal.AmendmentDecided,
            Proposal.AdmissibilityOpened,
            Proposal.AdmissibilityDecided,
            Proposal.ReferredToGuarantor,
            Proposal.ImplementationOpened,
            Proposal.MilestoneRecorded,
            Proposal.EvaluationOpened,
            Proposal.EvaluationScored,
            Proposal.Closed,
            Proposal.DecisionTypeDeclared,
            Charter.Amended,
            Draft.Submitted,
            Proposal.ConsultationRequired,
            Proposal.EvaluationPanelAppointed,
            Vote.Cast,
            Notice.Issued,
            Support.Given,
            Comment.Posted,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    @process_event.register
    def _(self, e: Proposal.Submitted, tracking: Tracking) -> None:
        self.view.record(
            tracking,
            proposal_id=e.originator_id,
            at=e.timestamp,
            event="ProposalSubmitted",
            actor_role="citizen",
            label=(f"Proposition « {_placeholder('title')} » déposée (charte "
                   f"v{e.charter_version}"
                   + (f", communes concernées : {', '.join(e.communes)})" if e.communes
                      else ")")),
            details={"sealed": {"title": e.title_sealed}, "charter_version": e.charter_version,
                     "communes": e.communes},
            insert={
                "proposal_id": e.originator_id,
                "metropolis_id": e.metropolis_id,
                "title": e.title_sealed,
                "summary": e.summary_sealed,
                "author_ref": e.author_ref,
                "charter_version": e.charter_version,
                "stage": Stage.SUBMITTED,
                "submitted_at": e.timestamp,
                "updated_at": e.timestamp,
                "position": tracking.notification_id,
            },
        )

    @process_event.register
    def _(self, e: Proposal.ConsultationOpened, tracking: Tracking) -> None:
        self.view.record(
            tracking,
            proposal_id=e.originator_id,
            at=e.timestamp,
            event="ConsultationOpened",
            actor_role="registre",
            label=(
                ("Consultation publique requise par le garant" if e.rule ==
                 "guarantor.consultation" else "Consultation publique")
                + f" ouverte jusqu'au {date_fr(e.closes_at)} "
                f"(charte v{e.charter_version}, règle {e.rule})"
            ),
            details={"cause": e.cause, "closes_at": e.closes_at.isoformat(), "rule": e.rule},
            update={"stage": Stage.CONSULTATION, "closes_at": e.closes_at},
        )

    @process_event.register
    def _(self, e: Proposal.VoteOpened, tracking: Tracking) -> None:
        self.view.record(
            tracking,
            proposal_id=e.originator_id,
            at=e.timestamp,
            event="VoteOpened",
            actor_role="registre",
            label=(
                f"Vote nominatif du conseil ouvert jusqu'au {date_fr(e.closes_at)} "
                f"({CAUSE_FR.get(e.cause, e.cause)} de l'étape précédente ; charte "
                f"v{e.charter_version}, règle {e.rule})"
            ),
            details={"closes_at": e.closes_at.isoformat(), "ballot_id": str(e.ballot_id)},
            update={"stage": Stage.VOTE, "closes_at": e.closes_at, "ballot_id": e.ballot_id},
        )

    def _ballot_fr(self, e: Vote.Cast) -> str:
        """Which ballot a vote is on, said after the voter: nothing for the council's own."""
        if e.ballot_id == council_ballot_id(e.proposal_id):
            return ""
        if e.ballot_id == override_ballot_id(e.proposal_id):
            return " sur la levée du veto"
        number = next((n for n in range(1, 501)
                       if e.ballot_id == amendment_ballot_id(e.proposal_id, n)), None)
        return f" sur l'amendement n° {number}" if number else ""

    @process_event.register
    def _(self, e: Vote.Cast, tracking: Tracking) -> None:
        # A vote that passed the open check but reached the log after its ballot's close
        # position is not counted (the cut-off is the close position): say so, count nothing.
        closed = self.view.closed_at(e.ballot_id)
        label = (f"Vote nominatif de {e.voter_ref}{self._ballot_fr(e)} : "
                 f"{CHOICE_FR.get(e.choice, e.choice)}")
        if closed is not None:
            label += f" — enregistré après la clôture du scrutin (#{closed}), non compté"
        self.view.record(
            tracking,
            proposal_id=e.proposal_id,
            at=e.timestamp,
            event="VoteCast",
            actor_role="councillor",
            label=label,
            details={"voter_ref": e.voter_ref, "choice": e.choice, "late": closed is not None,
                     "ballot_id": str(e.ballot_id)},
            increment=None if closed is not None else (
                {"for": "yes", "against": "no"}.get(e.choice, "abstain"), e.ballot_id),
        )

    @process_event.register
    def _(self, e: Proposal.BallotClosed, tracking: Tracking) -> None:
        row = self.view.get_proposal(e.originator_id, open_text=False)
        council_ballot = row is not None and row["ballot_id"] == e.ballot_id
        self.view.record(
            tracking,
            proposal_id=e.originator_id,
            at=e.timestamp,
            event="BallotClosed",
            actor_role="registre",
            label=("Scrutin clos" if council_ballot else "Scrutin de levée du veto clos")
            + f" ({CAUSE_FR.get(e.cause, e.cause)})",
            details={"cutoff_position": tracking.notification_id},
            # The override ballot's close leaves the stage to the window's close, next.
            update={"stage": Stage.COUNTING, "closes_at": None} if council_ballot else {},
            extra=("INSERT INTO closed_ballot_view VALUES (%(b)s, %(p)s) ON CONFLICT DO NOTHING",
                   {"b": e.ballot_id, "p": tracking.notification_id}),
        )

    @process_event.register
    def _(self, e: Proposal.Decided, tracking: Tracking) -> None:
        quorum = "quorum atteint" if e.quorum_met else "quorum non atteint"
        self.view.record(
            tracking,
            proposal_id=e.originator_id,
            at=e.timestamp,
            event="Decided",
            actor_role="registre",
            label=(
                f"Proposition {OUTCOME_FR.get(e.outcome, e.outcome)} : "
                f"{CAUSE_FR.get(e.cause, e.cause)} — pour {e.yes}, contre {e.no}, "
                f"abstention {e.abstain} sur {e.members} membres, {quorum} "
                f"(charte v{e.charter_version}, règles {', '.join(e.rules_cited)})"
            ),
            details={
                "outcome": e.outcome, "cause": e.cause, "yes": e.yes, "no": e.no,
                "abstain": e.abstain, "members": e.members, "quorum_met": e.quorum_met,
                "cutoff_position": e.cutoff_position, "rules_cited": e.rules_cited,
            },
            # The official tally replaces the running count: only votes before the cut-off.
            update={
                "stage": Stage.DECIDED, "outcome": e.outcome, "cause": e.cause,
                "yes": e.yes, "no": e.no, "abstain": e.abstain,
            },
        )

    @process_event.register
    def _(self, e: Proposal.Withdrawn, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="Withdrawn",
            actor_role="citizen", label="Proposition retirée par son auteur·rice",
            details={"cause": e.cause},
            update={"stage": Stage.WITHDRAWN, "closes_at": None, "outcome": "withdrawn",
                    "cause": e.cause},
        )

    @process_event.register
    def _(self, e: Proposal.VetoWindowOpened, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="VetoWindowOpened",
            actor_role="registre",
            label=(f"Adoptée par le conseil : les maires des communes concernées peuvent "
                   f"opposer un veto jusqu'au {date_fr(e.closes_at)} (charte "
                   f"v{e.charter_version}, règle {e.rule})"),
            details={"cause": e.cause, "closes_at": e.closes_at.isoformat(), "rule": e.rule},
            update={"stage": Stage.VETO_WINDOW, "closes_at": e.closes_at},
        )

    @process_event.register
    def _(self, e: Proposal.VetoFiled, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="VetoFiled",
            actor_role="mayor",
            label=(f"Veto du maire de la commune {e.commune} ({e.mayor_ref}) : « {e.reason} » "
                   "— le conseil peut le lever avant la fin du délai"),
            details={"mayor_ref": e.mayor_ref, "commune": e.commune, "reason": e.reason,
                     "override_ballot_id": str(e.override_ballot_id)},
            extra=("INSERT INTO veto_record_view (commune, proposal_id, mayor_ref, reason, "
                   "filed_at, position) VALUES (%(c)s, %(p)s, %(m)s, %(r)s, %(t)s, %(n)s)",
                   {"c": e.commune, "p": e.originator_id, "m": e.mayor_ref, "r": e.reason,
                    "t": e.timestamp, "n": tracking.notification_id}),
        )

    @process_event.register
    def _(self, e: Proposal.VetoWindowClosed, tracking: Tracking) -> None:
        counts = (f" — levée du veto : pour {e.yes}, contre {e.no}, abstention {e.abstain} "
                  f"sur {e.members} membres" if e.cause != "no_veto" else "")
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="VetoWindowClosed",
            actor_role="registre",
            label=(f"Fin du délai de veto : proposition {OUTCOME_FR.get(e.outcome, e.outcome)} "
                   f"({CAUSE_FR.get(e.cause, e.cause)}){counts} (charte v{e.charter_version}, "
                   f"règles {', '.join(e.rules_cited)})"),
            details={"outcome": e.outcome, "cause": e.cause, "yes": e.yes, "no": e.no,
                     "abstain": e.abstain, "cutoff_position": e.cutoff_position},
            update={"stage": Stage.DECIDED, "outcome": e.outcome, "cause": e.cause,
                    "closes_at": None},
            extra=("UPDATE veto_record_view SET outcome = %(o)s, cause = %(c)s "
                   "WHERE proposal_id = %(p)s", {"o": e.outcome, "c": e.cause,
                                                 "p": e.originator_id}),
        )

    @process_event.register
    def _(self, e: Notice.Issued, tracking: Tracking) -> None:
        kind = "Avis du garant" if e.kind == "avis" else "Le garant requiert une consultation"
        self.view.record(
            tracking, proposal_id=e.process_id, at=e.timestamp, event="NoticeIssued",
            actor_role="guarantor", label=f"{kind} : « {e.text} »",
            details={"kind": e.kind, "text": e.text, "notice_id": str(e.originator_id)},
        )

    @process_event.register
    def _(self, e: Proposal.ImplementationOpened, tracking: Tracking) -> None:
        steps = ", ".join(date_fr(t) for t in e.evaluations_at)
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="ImplementationOpened",
            actor_role="registre",
            label=(f"Mise en œuvre : évaluations citoyennes prévues le {steps} (charte "
                   f"v{e.charter_version}, règle {e.rule})"),
            details={"cause": e.cause, "evaluations_at": [t.isoformat() for t in e.evaluations_at],
                     "closes_at": e.closes_at.isoformat()},
            update={"stage": Stage.IMPLEMENTATION, "closes_at": e.evaluations_at[0]},
        )

    @process_event.register
    def _(self, e: Proposal.MilestoneRecorded, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="MilestoneRecorded",
            actor_role="clerk", label=f"Jalon de mise en œuvre : {e.text}",
            details={"text": e.text},
        )

    @process_event.register
    def _(self, e: Proposal.EvaluationOpened, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="EvaluationOpened",
            actor_role="registre",
            label=f"Évaluation citoyenne n° {e.step} ouverte ({CAUSE_FR.get(e.cause, e.cause)})",
            details={"step": e.step}, update={"stage": Stage.EVALUATION},
        )

    @process_event.register
    def _(self, e: Proposal.EvaluationScored, tracking: Tracking) -> None:
        scores = ", ".join(f"{k} {v}/10" for k, v in e.indicators.items())
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="EvaluationScored",
            actor_role="citizen",
            label=(f"Évaluation n° {e.step} par {e.panel_ref} : {scores}"
                   + (f" — « {_placeholder('comment')} »" if e.comment_sealed else "")),
            details={"step": e.step, "indicators": e.indicators,
                     **({"sealed": {"comment": e.comment_sealed}} if e.comment_sealed
                        else {"comment": ""})},
        )

    @process_event.register
    def _(self, e: Proposal.Closed, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="Closed",
            actor_role="registre", label="Processus clos après la dernière évaluation",
            details={"cause": e.cause}, update={"stage": Stage.CLOSED, "closes_at": None},
        )

    @process_event.register
    def _(self, e: Proposal.AdmissibilityOpened, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="AdmissibilityOpened",
            actor_role="registre",
            label=(f"Examen de recevabilité par le greffe jusqu'au {date_fr(e.closes_at)} "
                   f"(charte v{e.charter_version}, règle {e.rule})"),
            details={"cause": e.cause, "closes_at": e.closes_at.isoformat()},
            update={"stage": Stage.ADMISSIBILITY, "closes_at": e.closes_at},
        )

    @process_event.register
    def _(self, e: Proposal.AdmissibilityDecided, tracking: Tracking) -> None:
        if e.admissible:
            label = ("Proposition recevable" + (f" (compétence : {e.competence})"
                                                 if e.competence else "")
                     + (" — sans décision du greffe à l'échéance"
                        if e.cause == "deadline_reached" else ""))
        else:
            label = f"Proposition irrecevable : {e.reason}"
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="AdmissibilityDecided",
            actor_role="clerk" if e.cause == "clerk_ruling" else "registre",
            label=f"{label} (charte v{e.charter_version}, règle {e.rule})",
            details={"admissible": e.admissible, "competence": e.competence,
                     "reason": e.reason, "cause": e.cause},
            update={"stage": Stage.ADMISSIBLE if e.admissible else Stage.INADMISSIBLE,
                    "closes_at": None,
                    **({} if e.admissible else {"outcome": "inadmissible",
                                                  "cause": "ruled_inadmissible"})},
        )

    @process_event.register
    def _(self, e: Draft.Submitted, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.proposal_id, at=e.timestamp, event="DraftSubmitted",
            actor_role="citizen",
            label=(f"Rédigée en brouillon à partir du {date_fr(e.drafted_at)} "
                   f"({e.revisions} révision(s)) avant son dépôt"),
            details={"draft_id": str(e.originator_id), "revisions": e.revisions},
        )

    @process_event.register
    def _(self, e: Charter.Amended, tracking: Tracking) -> None:
        if e.proposal_id is None:  # not brought by a proposal: no timeline to join
            self.view.insert_tracking(tracking)
            return
        # The aggregate's version n is the charter's version n (its n-1-th amendment).
        self.view.record(
            tracking, proposal_id=e.proposal_id, at=e.timestamp, event="CharterAmended",
            actor_role="registre",
            label=(f"La charte v{e.originator_version} entre en vigueur pour les propositions "
                   "déposées désormais (les processus en cours gardent leur version)"),
            details={"charter_version": e.originator_version},
        )

    @process_event.register
    def _(self, e: Proposal.DecisionTypeDeclared, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="DecisionTypeDeclared",
            actor_role="clerk" if e.reason else "citizen",  # a requalification is reasoned
            label=(("Requalifiée par le greffe : " if e.reason else "")
                   + f"type de décision {e.decision_type}, à la majorité "
                   f"{MAJORITY_FR.get(e.majority, e.majority)} (charte v{e.charter_version}, "
                   f"règle {e.rule})" + (f" — « {e.reason} »" if e.reason else "")),
            details={"decision_type": e.decision_type, "majority": e.majority,
                     "declared_by": e.declared_by, "reason": e.reason},
        )

    @process_event.register
    def _(self, e: Proposal.ConsultationRequired, tracking: Tracking) -> None:
        days = e.seconds / 86400
        length = f"{days:g} jour(s)" if days >= 1 else f"{e.seconds} s"
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="ConsultationRequired",
            actor_role="guarantor",
            label=(f"Le garant exige une consultation publique d'au moins {length} avant le "
                   f"vote : « {e.reason} » (règle {e.rule})"),
            details={"reason": e.reason, "seconds": e.seconds},
        )

    @process_event.register
    def _(self, e: Proposal.EvaluationPanelAppointed, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp,
            event="EvaluationPanelAppointed", actor_role="guarantor",
            label=(f"Le garant désigne le panel d'évaluation citoyen ({len(e.members)} "
                   f"membre(s) : {', '.join(e.members)})"),
            details={"members": e.members, "method": e.method},
        )

    @process_event.register
    def _(self, e: Proposal.ReferredToGuarantor, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="ReferredToGuarantor",
            actor_role="citizen",
            label=f"Le garant est saisi par l'auteur·rice : « {_placeholder('text')} »",
            details={"sealed": {"text": e.text_sealed}},
        )

    @process_event.register
    def _(self, e: Support.Given, tracking: Tracking) -> None:
        self.view.participate(tracking, e.proposal_id, "supports")

    @process_event.register
    def _(self, e: Comment.Posted, tracking: Tracking) -> None:
        self.view.participate(tracking, e.proposal_id, "comments",
                              {"at": e.timestamp, "c": e.citizen_ref, "t": e.text_sealed})

    @process_event.register
    def _(self, e: Proposal.DeliberationOpened, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="DeliberationOpened",
            actor_role="registre",
            label=(f"Fin de la consultation : délibération du conseil (amendements) jusqu'au "
                   f"{date_fr(e.closes_at)} (charte v{e.charter_version}, règle {e.rule})"),
            details={"cause": e.cause, "closes_at": e.closes_at.isoformat()},
            update={"stage": Stage.DELIBERATION, "closes_at": e.closes_at},
        )

    @process_event.register
    def _(self, e: Proposal.AmendmentTabled, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="AmendmentTabled",
            actor_role="councillor",
            label=f"Amendement n° {e.number} déposé par {e.councillor_ref} : « {e.text} »",
            details={"number": e.number, "text": e.text, "ballot_id": str(e.ballot_id)},
        )

    @process_event.register
    def _(self, e: Proposal.DeliberationClosed, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="DeliberationClosed",
            actor_role="registre",
            label=f"Délibération close ({CAUSE_FR.get(e.cause, e.cause)})",
            details={"cutoff_position": tracking.notification_id},
            update={"stage": Stage.DELIBERATED, "closes_at": None},
            extra=("INSERT INTO closed_ballot_view SELECT (details->>'ballot_id')::uuid, %(p)s "
                   "FROM timeline_view WHERE proposal_id = %(i)s AND event = 'AmendmentTabled' "
                   "ON CONFLICT DO NOTHING", {"p": tracking.notification_id,
                                               "i": e.originator_id}),
        )

    @process_event.register
    def _(self, e: Proposal.AmendmentDecided, tracking: Tracking) -> None:
        self.view.record(
            tracking, proposal_id=e.originator_id, at=e.timestamp, event="AmendmentDecided",
            actor_role="registre",
            label=(f"Amendement n° {e.number} {OUTCOME_MASC_FR.get(e.outcome, e.outcome)} "
                   f"({CAUSE_FR.get(e.cause, e.cause)}) — pour {e.yes}, contre {e.no}, "
                   f"abstention {e.abstain} (charte v{e.charter_version}, règles "
                   f"{', '.join(e.rules_cited)})"),
            details={"number": e.number, "outcome": e.outcome, "yes": e.yes, "no": e.no,
                     "abstain": e.abstain},
        )
