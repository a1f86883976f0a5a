"""The guarantor's compliance view: which processes broke their pinned charter, and the events
that prove it.

Question answered: the one `domain.rules.compliance` answers, kept up to date. This view is a
thin adapter: it feeds each event, as the plain data a leaf decodes to, to the same pure
`ComplianceChecker` that `registre audit compliance` runs on an export, and stores the flags
it returns. Between events it keeps the checker's state in two tables (the charter versions,
the facts of each proposal and of each petition, a signature's checked with its petition's,
of each budget cycle and project, a ballot's checked with its cycle's) and a budget cycle's
counted ballots in a third (read back only to recount its results, so a cycle's facts stay
small while thousands vote), committed with the flags and the tracking row, so each event is
checked exactly once and a rebuild from the log gives the same flags. A flag's key is its
rule, its proving positions and what it says: none is dropped, none is stored twice. An empty
view is the record that every process ran by its rules.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic, resolve_topic
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from domain.rules.compliance import (
    CHARTER_ADOPTED,
    CHARTER_AMENDED,
    BUDGET_BALLOT_TOPICS,
    CHECKED_TOPICS,
    RESULTS_PUBLISHED,
    SUBMITTED,
    ComplianceChecker,
    SIGNATURE_TOPICS,
    LoggedEvent,
    facts_key,
    related_keys,
)
from domain.topics import stored_topics
from projections.batching import BufferedView


class ComplianceView(BufferedView):
    """Tables `compliance_charters`, `compliance_proposals` and `compliance_budget_ballots`
    (the checker's state) and `compliance_flags` (the findings, in the order the checker gave
    them).

    Signatures and ballots are many: their checks run on their petition's (cycle's) facts held
    in memory, written in batches with the flags they found (projections/batching.py); any
    other event first writes those, then is checked in a transaction of its own."""

    view_tables = ("compliance_charters", "compliance_proposals", "compliance_flags",
                   "compliance_budget_ballots")
    _BUFFERED = SIGNATURE_TOPICS | BUDGET_BALLOT_TOPICS
    follower = "compliance"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._forget_memory()
        self.sql_create_statements += [
            SQL("CREATE TABLE IF NOT EXISTS compliance_charters (charter_id uuid, "
                "version int, rules jsonb NOT NULL, PRIMARY KEY (charter_id, version))"),
            SQL("CREATE TABLE IF NOT EXISTS compliance_proposals (proposal_id uuid PRIMARY KEY, "
                "facts jsonb NOT NULL)"),
            SQL("CREATE TABLE IF NOT EXISTS compliance_flags (proposal_id uuid NOT NULL, "
                "rule text NOT NULL, message text NOT NULL, positions bigint[] NOT NULL, "
                "charter_version int, flagged_at bigint NOT NULL, seq int NOT NULL, "
                "PRIMARY KEY (proposal_id, rule, positions, message))"),
            SQL("CREATE INDEX IF NOT EXISTS compliance_flags_order "
                "ON compliance_flags (flagged_at, seq)"),
            SQL("CREATE TABLE IF NOT EXISTS compliance_budget_ballots (cycle_id uuid NOT NULL, "
                "district text NOT NULL, voter_ref text NOT NULL, choices jsonb NOT NULL, "
                "PRIMARY KEY (cycle_id, district, voter_ref))"),
        ]

    def check(self, tracking: Tracking, event: LoggedEvent) -> None:
        """Check one event with the state saved so far; store the new state, the flags and
        the tracking position in one transaction (a signature's: with the next batch)."""
        if event.topic in self._BUFFERED:
            self.buffered(tracking, event.topic, event)
            return
        with self._lock:
            self.settle()  # the signatures before it first
            self._check(tracking, event)
            self._facts.pop(facts_key(event), None)  # the table holds them now

    def _check(self, tracking: Tracking, event: LoggedEvent) -> None:
        with self.writing() as curs:  # a rebuild's batch, or a transaction of its own
            checker = self._load(curs, event)
            before = copy.deepcopy(checker.proposals)
            flags = checker.apply(event)
            for facts in checker.proposals.values():
                facts.pop("ballots", None)  # a cycle's ballots have their own table
            if event.topic in (CHARTER_ADOPTED, CHARTER_AMENDED):
                for cid, versions in checker.charters.items():
                    for version, rules in versions.items():
                        curs.execute("INSERT INTO compliance_charters VALUES (%s, %s, %s) "
                                     "ON CONFLICT DO NOTHING", (cid, version, Jsonb(rules)))
            for pid, facts in checker.proposals.items():
                if facts != before.get(pid):
                    curs.execute("INSERT INTO compliance_proposals VALUES (%s, %s) "
                                 "ON CONFLICT (proposal_id) DO UPDATE SET facts = EXCLUDED.facts",
                                 (pid, Jsonb(facts)))
            for seq, flag in enumerate(flags):
                curs.execute(
                    "INSERT INTO compliance_flags VALUES (%s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (flag.proposal_id, flag.rule, flag.message, list(flag.positions),
                     flag.charter_version, flag.flagged_at, seq))
            self.track(curs, tracking)

    # -- signatures: checked on facts held in memory, written in batches --------------------

    def _forget_memory(self) -> None:
        self._facts: dict[str, dict[str, Any] | None] = {}
        self._dirty: set[str] = set()
        self._found: list[tuple[Any, ...]] = []
        self._ballots: dict[tuple[str, str, str], list[list]] = {}

    def _apply_buffered(self, position: int, event: LoggedEvent) -> None:
        key = facts_key(event)
        if key not in self._facts:
            rows = self._cursor_read("SELECT facts FROM compliance_proposals "
                                     "WHERE proposal_id = %s", (key,))
            self._facts[key] = dict(rows[0]["facts"]) if rows else None
        facts = self._facts[key]
        if facts is None:
            return  # a signature of a petition the log never drafted: nothing to check
        checker = ComplianceChecker({}, {key: facts})
        try:
            flags = checker.apply(event)
        finally:
            self._facts[key] = checker.proposals.get(key)  # as it was, when unreadable
            counted = (self._facts[key] or {}).pop("ballots", None) or {}
            for district, voters in counted.items():
                for voter, choices in voters.items():
                    self._ballots[(key, district, voter)] = choices
        self._dirty.add(key)
        self._found += [(f.proposal_id, f.rule, f.message, list(f.positions),
                         f.charter_version, f.flagged_at, seq) for seq, f in enumerate(flags)]

    def flush(self, curs: Any) -> None:
        """Write the facts and flags the signatures changed (in the caller's transaction)."""
        if self._dirty:
            curs.executemany("INSERT INTO compliance_proposals VALUES (%s, %s) ON CONFLICT "
                             "(proposal_id) DO UPDATE SET facts = EXCLUDED.facts",
                             [(key, Jsonb(self._facts[key])) for key in sorted(self._dirty)
                              if self._facts.get(key) is not None])
            self._dirty.clear()
        if self._found:
            curs.executemany("INSERT INTO compliance_flags VALUES (%s, %s, %s, %s, %s, %s, %s) "
                             "ON CONFLICT DO NOTHING", self._found)
            self._found = []
        if self._ballots:
            curs.executemany("INSERT INTO compliance_budget_ballots VALUES (%s, %s, %s, %s) "
                             "ON CONFLICT (cycle_id, district, voter_ref) DO UPDATE SET "
                             "choices = EXCLUDED.choices",
                             [(*k, Jsonb(c)) for k, c in self._ballots.items()])
            self._ballots = {}

    @staticmethod
    def _load(curs: Any, event: LoggedEvent) -> ComplianceChecker:
        """A checker holding the state this event's checks read: its proposal's facts and
        the versions of the charter concerned."""
        if event.topic in (CHARTER_ADOPTED, CHARTER_AMENDED):
            return ComplianceChecker()  # a new version: nothing to read
        key = facts_key(event)  # a signature's: its petition's facts
        curs.execute("SELECT facts FROM compliance_proposals WHERE proposal_id = %s", (key,))
        row = curs.fetchone()
        proposals = {key: dict(row["facts"])} if row else {}
        for other in related_keys(event, proposals.get(key)):
            curs.execute("SELECT facts FROM compliance_proposals WHERE proposal_id = %s",
                         (other,))
            found = curs.fetchone()
            if found:
                proposals[other] = dict(found["facts"])
        if event.topic == RESULTS_PUBLISHED and key in proposals:
            curs.execute("SELECT district, voter_ref, choices FROM compliance_budget_ballots "
                         "WHERE cycle_id = %s", (key,))
            ballots: dict[str, dict[str, Any]] = {}
            for r in curs.fetchall():
                ballots.setdefault(r["district"], {})[r["voter_ref"]] = r["choices"]
            proposals[key]["ballots"] = ballots
        charter_id = (event.fields["charter_id"] if event.topic == SUBMITTED
                      else proposals.get(key, {}).get("charter_id"))
        charters: dict[str, dict[int, dict[str, Any]]] = {}
        if charter_id:
            curs.execute("SELECT version, rules FROM compliance_charters WHERE charter_id = %s",
                         (charter_id,))
            charters[charter_id] = {r["version"]: r["rules"] for r in curs.fetchall()}
        return ComplianceChecker(charters, proposals)

    # -- queries ----------------------------------------------------------------------------

    def flags(self, proposal_id: UUID | None = None) -> list[dict[str, Any]]:
        """The flags in the order the checker found them (log order)."""
        where = "WHERE proposal_id = %s" if proposal_id else ""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(f"SELECT * FROM compliance_flags {where} "  # noqa: S608
                         "ORDER BY flagged_at, seq", (proposal_id,) if proposal_id else ())
            return list(curs.fetchall())


class ComplianceProjection(Projection[ComplianceView]):
    """Checks each proposal's events against the charter version it pinned, with the pure
    checks of `domain.rules.compliance`."""

    name = "compliance"
    topics = stored_topics(*(resolve_topic(t) for t in CHECKED_TOPICS))

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        event = LoggedEvent.of(get_topic(type(domain_event)), tracking.notification_id,
                               domain_event.originator_id, domain_event.originator_version,
                               domain_event.__dict__)
        if event.topic in CHECKED_TOPICS:
            self.view.check(tracking, event)
        else:
            self.view.insert_tracking(tracking)
