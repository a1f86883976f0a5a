"""The petitions' public views (right of interpellation): each petition's state, its counts
(in total and per commune) and its French timeline.

Questions answered: which petitions exist and where does each stand (stage, threshold,
deadline, obligation, outcome)? How many signatures does a petition count, per commune, how
far is it from its threshold, and where was the threshold crossed? Which obligations does the
council owe, by when, and which are breached? What happened to a petition, said in French?

The counts follow `domain.rules.petition.SignatureCount`'s rule: only signature events stored
after the collection's opening and up to its close are counted (signatures, withdrawals,
renewals); a signature stored after the close is counted apart, as `late`, never in the
total; `crossed_at` is the position of the signature that first brought the count to the
threshold. The timeline has one entry per petition event, none per signature.

Signatures are many (2,000 a second at a petition's peak): their events are applied in
memory and written in batches (projections/batching.py) — at most `batch_events` events or
`max_delay` seconds after the first one — in one transaction with the tracking position of
the last one, so each is applied exactly once; a rebuild's batch (`registre projections
rebuild`) writes them with its own. A petition event first writes the signatures before it. A
batch PostgreSQL refuses (not an outage) is applied again event by event, and the event
refused set aside as a dead letter.

What the author wrote (title and text) is kept sealed (D10) and opened when read, « contenu
effacé » once the author's key was erased.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from domain.petition.petition import Petition
from domain.petition.signature import Signature
from domain.ports import ERASED, NoPersonalData
from domain.topics import stored_topics
from projections.labels import date_fr
from projections.personal_data import TamperedSeal
from projections.batching import BufferedView


UNREADABLE = "contenu illisible"
FOLLOWER = "petition_views"

STAGE_FR = {
    "drafted": "recherche de parrainages",
    "admissibility": "examen de recevabilité",
    "collecting": "collecte des signatures",
    "obligation": "obligation du conseil",
    "closed": "clôturée",
}
OUTCOME_FR = {
    "answered": "obligation remplie",
    "failed": "seuil non atteint",
    "lapsed": "parrainages insuffisants",
    "inadmissible": "irrecevable",
    "withdrawn": "retirée par son auteur",
}
OBLIGATION_FR = {
    "answer": "réponse motivée du conseil",
    "agenda": "inscription d'une proposition à l'ordre du jour du conseil",
    "consultation": "consultation publique, rapport du garant",
}
AUTHOR, CLERK, GUARANTOR, COUNCIL = "auteur", "greffe", "garant", "conseil"


def number_fr(n: int) -> str:
    """15000 → « 15 000 »."""
    return f"{n:,}".replace(",", " ")


def _placeholder(name: str) -> str:
    return f"⟦{name}⟧"


@dataclass
class _Window:
    """A petition's collection, as the counts need it."""

    threshold: int
    opened: int
    closed: int | None = None


@dataclass
class _Tally:
    """A petition's counts (and per commune: [signatures, withdrawals, renewals, late])."""

    count: int = 0
    signatures: int = 0
    withdrawals: int = 0
    renewals: int = 0
    late: int = 0
    crossed_at: int | None = None
    position: int | None = None
    communes: dict[str, list[int]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)


SIGNED, WITHDRAWN, RENEWED = "signed", "withdrawn", "renewed"


class PetitionViews(BufferedView):
    """PostgreSQL tables `petition_view`, `petition_count_view`, `petition_commune_view` and
    `petition_timeline_view`, and the queries the HTTP routes call:

    - `list_petitions(metropolis_id=None, stage=None, limit=100, offset=0)`: petitions, newest
      first, each a dict as `petition` gives it.
    - `petition(petition_id)`: one petition, or None: `petition_id`, `metropolis_id`, `kind`,
      `commune`, `stage`, `stage_fr`, `author_ref`, `title`, `text` (opened, « contenu
      effacé » once erased), `sponsors`, `threshold`, `figure`, `figure_source`, `opens_at`,
      `closes_at`, `opened_position`, `closed_position`, `threshold_position`,
      `threshold_count`, `obligation`, `obligation_at`, `due_at`, `breached`, `fulfilled`,
      `fulfilled_at`, `answer_late`, `outcome`, `outcome_fr`, `charter_version`,
      `drafted_at`, `drafted_position`, `updated_at`, `position` (its last event's log
      position), `count` and `late` (its counts so far, 0 before the collection).
    - `counts(petition_id)`: None before the collection opened, else `count`, `threshold`,
      `progress_percent` (count / threshold × 100, a float, above 100 past the threshold),
      `by_commune` ({commune code: count}), `crossed_at` (log position of the signature that
      crossed the threshold, or None), `late` (signatures stored after the close, not
      counted), `position` (the last log position applied to these counts), and
      `signatures`, `withdrawals`, `renewals`, `by_commune_detail` ({code: {count,
      signatures, withdrawals, renewals, late}}).
    - `timeline(petition_id)`: its entries in log order: `position`, `at`, `kind` (the event),
      `stage`, `stage_fr` (the stage after it), `actor_fr` (« auteur », « greffe », « garant »,
      « conseil »), `text` (French), `details`.
    - `obligations_due(metropolis_id=None)`: the obligations still owed (threshold reached,
      not fulfilled), soonest due first: `petition_id`, `metropolis_id`, `kind`, `commune`,
      `title`, `obligation`, `obligation_fr`, `obligation_at`, `due_at`, `breached`,
      `threshold_position`.
    """

    view_tables = ("petition_view", "petition_count_view", "petition_commune_view",
                   "petition_timeline_view")
    follower = FOLLOWER
    batch_events = 1000  # signature events applied in memory before they are written
    max_delay = 0.05  # seconds a signature waits at most before it is written

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.personal_data: Any = NoPersonalData()  # set by the wiring (make_petition_views)
        self._forget_memory()
        self.sql_create_statements += [
            SQL("""CREATE TABLE IF NOT EXISTS petition_view (
                petition_id uuid PRIMARY KEY,
                metropolis_id uuid NOT NULL,
                kind text NOT NULL,
                commune text,
                stage text NOT NULL,
                author_ref text NOT NULL,
                title text NOT NULL,
                text text NOT NULL,
                sponsors int NOT NULL DEFAULT 1,
                threshold int,
                figure int,
                figure_source text,
                opens_at timestamptz,
                closes_at timestamptz,
                opened_position bigint,
                closed_position bigint,
                threshold_position bigint,
                threshold_count int,
                obligation text,
                obligation_at timestamptz,
                due_at timestamptz,
                breached boolean NOT NULL DEFAULT false,
                fulfilled boolean NOT NULL DEFAULT false,
                fulfilled_at timestamptz,
                answer_late boolean,
                outcome text,
                charter_version int NOT NULL,
                drafted_at timestamptz NOT NULL,
                drafted_position bigint NOT NULL,
                updated_at timestamptz NOT NULL,
                position bigint NOT NULL)"""),
            SQL("""CREATE TABLE IF NOT EXISTS petition_count_view (
                petition_id uuid PRIMARY KEY,
                count int NOT NULL,
                signatures int NOT NULL,
                withdrawals int NOT NULL,
                renewals int NOT NULL,
                late int NOT NULL,
                crossed_at bigint,
                position bigint)"""),
            SQL("""CREATE TABLE IF NOT EXISTS petition_commune_view (
                petition_id uuid NOT NULL,
                commune text NOT NULL,
                count int NOT NULL,
                signatures int NOT NULL,
                withdrawals int NOT NULL,
                renewals int NOT NULL,
                late int NOT NULL,
                PRIMARY KEY (petition_id, commune))"""),
            SQL("""CREATE TABLE IF NOT EXISTS petition_timeline_view (
                petition_id uuid NOT NULL,
                position bigint NOT NULL,
                at timestamptz NOT NULL,
                kind text NOT NULL,
                stage text NOT NULL,
                actor_fr text NOT NULL,
                text text NOT NULL,
                details jsonb NOT NULL,
                PRIMARY KEY (petition_id, position))"""),
            # One index per query the routes make that a primary key does not serve.
            SQL("CREATE INDEX IF NOT EXISTS petition_view_by_metropolis_date ON petition_view "
                "(metropolis_id, drafted_at DESC, drafted_position DESC)"),
            SQL("CREATE INDEX IF NOT EXISTS petition_view_by_stage_date ON petition_view "
                "(stage, drafted_at DESC, drafted_position DESC)"),
            SQL("CREATE INDEX IF NOT EXISTS petition_view_by_date ON petition_view "
                "(drafted_at DESC, drafted_position DESC)"),
            SQL("CREATE INDEX IF NOT EXISTS petition_view_obligations_due ON petition_view "
                "(due_at, metropolis_id) WHERE stage = 'obligation' AND NOT fulfilled"),
        ]

    # -- the state kept in memory between writes (projections/batching.py) -----------------

    def _forget_memory(self) -> None:
        """Drop what memory holds of the tables (after a rollback, a reset, a failure)."""
        self._windows: dict[UUID, _Window | None] = {}
        self._tallies: dict[UUID, _Tally] = {}

    def _window(self, petition_id: UUID) -> _Window | None:
        if petition_id not in self._windows:
            rows = self._cursor_read(
                "SELECT threshold, opened_position, closed_position FROM petition_view "
                "WHERE petition_id = %s", (petition_id,))
            row = rows[0] if rows else None
            self._windows[petition_id] = (
                None if row is None or row["opened_position"] is None else
                _Window(row["threshold"], row["opened_position"], row["closed_position"]))
        return self._windows[petition_id]

    def _tally(self, petition_id: UUID) -> _Tally:
        tally = self._tallies.get(petition_id)
        if tally is None:
            rows = self._cursor_read("SELECT * FROM petition_count_view WHERE petition_id = %s",
                                     (petition_id,))
            tally = _Tally()
            if rows:
                r = rows[0]
                tally = _Tally(r["count"], r["signatures"], r["withdrawals"], r["renewals"],
                               r["late"], r["crossed_at"], r["position"])
                for c in self._cursor_read(
                        "SELECT * FROM petition_commune_view WHERE petition_id = %s",
                        (petition_id,)):
                    tally.communes[c["commune"]] = [c["signatures"], c["withdrawals"],
                                                    c["renewals"], c["late"]]
            self._tallies[petition_id] = tally
        return tally

    # -- signatures: applied in memory, written in batches ---------------------------------

    def signature(self, tracking: Tracking, what: str, petition_id: UUID, commune: str,
                  topic: str) -> None:
        """Apply one signature event (`signed`, `withdrawn` or `renewed`) to its petition's
        counts; written with the next batch."""
        self.buffered(tracking, topic, (what, petition_id, commune))

    def _apply_buffered(self, position: int, item: Any) -> None:
        self._count(position, *item)

    def _count(self, position: int, what: str, petition_id: UUID, commune: str) -> None:
        window = self._window(petition_id)
        if window is None or position <= window.opened:
            return  # no collection open: nothing counts (SignatureCount's rule)
        tally = self._tally(petition_id)
        per = tally.communes.setdefault(commune, [0, 0, 0, 0])
        if window.closed is not None and position > window.closed:
            if what != WITHDRAWN:
                tally.late += 1
                per[3] += 1
        elif what == WITHDRAWN:
            tally.withdrawals += 1
            tally.count -= 1
            per[1] += 1
        else:
            if what == SIGNED:
                tally.signatures += 1
                per[0] += 1
            else:
                tally.renewals += 1
                per[2] += 1
            tally.count += 1
            if tally.crossed_at is None and tally.count >= window.threshold:
                tally.crossed_at = position
        tally.position = position
        tally.dirty.add(commune)

    def flush(self, curs: Any) -> None:
        """Write the counts changed since the last write (in the caller's transaction)."""
        dirty = [(pid, t) for pid, t in self._tallies.items() if t.dirty]
        if not dirty:
            return
        curs.execute(
            "INSERT INTO petition_count_view AS c SELECT * FROM unnest(%s::uuid[], %s::int[], "
            "%s::int[], %s::int[], %s::int[], %s::int[], %s::bigint[], %s::bigint[]) "
            "ON CONFLICT (petition_id) DO UPDATE SET count = EXCLUDED.count, "
            "signatures = EXCLUDED.signatures, withdrawals = EXCLUDED.withdrawals, "
            "renewals = EXCLUDED.renewals, late = EXCLUDED.late, "
            "crossed_at = EXCLUDED.crossed_at, position = EXCLUDED.position",
            ([p for p, _ in dirty], [t.count for _, t in dirty], [t.signatures for _, t in dirty],
             [t.withdrawals for _, t in dirty], [t.renewals for _, t in dirty],
             [t.late for _, t in dirty], [t.crossed_at for _, t in dirty],
             [t.position for _, t in dirty]))
        rows = [(pid, c, t.communes[c]) for pid, t in dirty for c in sorted(t.dirty)]
        curs.execute(
            "INSERT INTO petition_commune_view AS c SELECT * FROM unnest(%s::uuid[], %s::text[], "
            "%s::int[], %s::int[], %s::int[], %s::int[], %s::int[]) "
            "ON CONFLICT (petition_id, commune) DO UPDATE SET count = EXCLUDED.count, "
            "signatures = EXCLUDED.signatures, withdrawals = EXCLUDED.withdrawals, "
            "renewals = EXCLUDED.renewals, late = EXCLUDED.late",
            ([p for p, _, _ in rows], [c for _, c, _ in rows],
             [n[0] + n[2] - n[1] for _, _, n in rows], [n[0] for _, _, n in rows],
             [n[1] for _, _, n in rows], [n[2] for _, _, n in rows],
             [n[3] for _, _, n in rows]))
        for _, tally in dirty:
            tally.dirty.clear()

    # -- petition events: one write each, with its timeline entry ----------------------------

    def record(self, tracking: Tracking, e: Any, *, kind: str, actor: str, text: str,
               details: dict[str, Any] | None = None, insert: dict[str, Any] | None = None,
               update: dict[str, Any] | None = None) -> None:
        """Apply one petition event: its row, its timeline entry, the tracking position."""
        with self._lock:
            self._record(tracking, e, kind, actor, text, details, insert, update)

    def _record(self, tracking: Tracking, e: Any, kind: str, actor: str, text: str,
                details: dict[str, Any] | None, insert: dict[str, Any] | None,
                update: dict[str, Any] | None) -> None:
        self.settle()  # the signatures before it first
        petition_id = e.originator_id
        with self.writing() as curs:
            if insert is not None:
                columns = ", ".join(insert)
                values = ", ".join(f"%({k})s" for k in insert)
                curs.execute(f"INSERT INTO petition_view ({columns}) VALUES ({values})",  # noqa: S608
                             insert)
            changes = dict(update or {}, updated_at=e.timestamp,
                           position=tracking.notification_id)
            sets = ", ".join(f"{k} = %({k})s" for k in changes)
            curs.execute(f"UPDATE petition_view SET {sets} WHERE petition_id = %(p)s "  # noqa: S608
                         "RETURNING stage", dict(changes, p=petition_id))
            row = curs.fetchone()
            if row is None:  # an event of a petition whose draft is not in the log
                self.track(curs, tracking)
                return
            curs.execute("INSERT INTO petition_timeline_view VALUES (%s, %s, %s, %s, %s, %s, "
                         "%s, %s)", (petition_id, tracking.notification_id, e.timestamp, kind,
                                     row["stage"], actor, text, Jsonb(details or {})))
            if kind == "CollectionOpened":
                curs.execute("INSERT INTO petition_count_view VALUES (%s, 0, 0, 0, 0, 0, NULL, "
                             "%s) ON CONFLICT DO NOTHING", (petition_id, tracking.notification_id))
            self.track(curs, tracking)
        # Committed (or in the batch, forgotten on its rollback): the counts' window follows.
        if update and ("opened_position" in update or "closed_position" in update):
            self._windows.pop(petition_id, None)
            self._tallies.pop(petition_id, None)

    def sponsors(self, tracking: Tracking, petition_id: UUID, change: int) -> None:
        """A sponsor joined (+1) or left (-1): counted, no timeline entry."""
        with self._lock:
            self.settle()
            with self.writing() as curs:
                curs.execute("UPDATE petition_view SET sponsors = sponsors + %s, position = %s "
                             "WHERE petition_id = %s", (change, tracking.notification_id,
                                                        petition_id))
                self.track(curs, tracking)

    def count_now(self, petition_id: UUID) -> int:
        """The count applied so far (the signatures before are written first)."""
        with self._lock:
            self.settle()
            return self._tally(petition_id).count if self._window(petition_id) else 0

    # -- queries ------------------------------------------------------------------------

    def _open(self, sealed: list[str]) -> list[str]:
        if not sealed:
            return []
        try:
            opened = self.personal_data.open_all(sealed)
        except TamperedSeal:
            opened = []
            for one in sealed:
                try:
                    opened.append(self.personal_data.open(one))
                except TamperedSeal:
                    opened.append(UNREADABLE)
        return [ERASED if text is None else text for text in opened]

    def _petitions(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        values = self._open([r[c] for r in rows for c in ("title", "text")])
        for i, row in enumerate(rows):
            row["title"], row["text"] = values[2 * i], values[2 * i + 1]
            row["stage_fr"] = STAGE_FR.get(row["stage"], row["stage"])
            row["outcome_fr"] = OUTCOME_FR.get(row["outcome"]) if row["outcome"] else None
            row["count"] = row["count"] or 0
            row["late"] = row["late"] or 0
        return rows

    _SELECT = ("SELECT p.*, c.count, c.late FROM petition_view p "
               "LEFT JOIN petition_count_view c USING (petition_id) ")

    def list_petitions(self, metropolis_id: UUID | None = None, stage: str | None = None,
                       limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Petitions newest first (of one metropolis, at one stage, if given)."""
        where = [w for w, v in (("p.metropolis_id = %(m)s", metropolis_id),
                                ("p.stage = %(s)s", stage)) if v is not None]
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                self._SELECT + (f"WHERE {' AND '.join(where)} " if where else "")
                + "ORDER BY p.drafted_at DESC, p.drafted_position DESC "
                "LIMIT %(l)s OFFSET %(o)s",
                {"m": metropolis_id, "s": stage, "l": limit, "o": offset})
            rows = list(curs.fetchall())
        return self._petitions(rows)

    def petition(self, petition_id: UUID) -> dict[str, Any] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._SELECT + "WHERE p.petition_id = %s", (petition_id,))
            row = curs.fetchone()
        return None if row is None else self._petitions([row])[0]

    def counts(self, petition_id: UUID) -> dict[str, Any] | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT c.*, p.threshold FROM petition_count_view c JOIN petition_view "
                         "p USING (petition_id) WHERE c.petition_id = %s", (petition_id,))
            row = curs.fetchone()
            if row is None:
                return None
            curs.execute("SELECT * FROM petition_commune_view WHERE petition_id = %s "
                         "ORDER BY commune", (petition_id,))
            communes = list(curs.fetchall())
        threshold = row["threshold"] or 0
        return {
            "petition_id": petition_id,
            "count": row["count"],
            "threshold": threshold,
            "progress_percent": round(100.0 * row["count"] / threshold, 2) if threshold else 0.0,
            "by_commune": {c["commune"]: c["count"] for c in communes},
            "crossed_at": row["crossed_at"],
            "late": row["late"],
            "position": row["position"],
            "signatures": row["signatures"],
            "withdrawals": row["withdrawals"],
            "renewals": row["renewals"],
            "by_commune_detail": {c["commune"]: {k: c[k] for k in (
                "count", "signatures", "withdrawals", "renewals", "late")} for c in communes},
        }

    def timeline(self, petition_id: UUID) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute("SELECT * FROM petition_timeline_view WHERE petition_id = %s "
                         "ORDER BY position", (petition_id,))
            rows = list(curs.fetchall())
        sealed = [(row, name, value) for row in rows
                  for name, value in row["details"].get("sealed", {}).items()]
        opened = self._open([value for _, _, value in sealed])
        for (row, name, _), text in zip(sealed, opened):
            row["text"] = row["text"].replace(_placeholder(name), text)
            row["details"][name] = text
        for row in rows:
            row["details"].pop("sealed", None)
            row["stage_fr"] = STAGE_FR.get(row["stage"], row["stage"])
        return rows

    def obligations_due(self, metropolis_id: UUID | None = None) -> list[dict[str, Any]]:
        """The obligations still owed, soonest due first, with their breach flag."""
        where = " AND metropolis_id = %(m)s" if metropolis_id is not None else ""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT petition_id, metropolis_id, kind, commune, title, obligation, "
                "obligation_at, due_at, breached, threshold_position FROM petition_view "
                f"WHERE stage = 'obligation' AND NOT fulfilled{where} "  # noqa: S608
                "ORDER BY due_at, petition_id", {"m": metropolis_id})
            rows = list(curs.fetchall())
        titles = self._open([r["title"] for r in rows])
        for row, title in zip(rows, titles):
            row["title"] = title
            row["obligation_fr"] = OBLIGATION_FR.get(row["obligation"], row["obligation"])
        return rows


class PetitionProjection(Projection[PetitionViews]):
    """Projects petition and signature events into `PetitionViews`."""

    name = FOLLOWER
    topics = stored_topics(
        Petition.Drafted, Petition.SponsorJoined, Petition.SponsorLeft,
        Petition.SponsorsGathered, Petition.AdmissibilityOpened, Petition.AdmissibilityRuled,
        Petition.ReferredToGuarantor, Petition.CollectionOpened, Petition.ThresholdReached,
        Petition.ObligationOpened, Petition.CollectionClosed, Petition.Answered,
        Petition.AgendaProposalSubmitted, Petition.ConsultationReported,
        Petition.ObligationBreached, Petition.Withdrawn, Petition.Closed,
        Signature.Signed, Signature.Withdrawn, Signature.Renewed,
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    # -- signatures ------------------------------------------------------------------------

    @process_event.register
    def _(self, e: Signature.Signed, tracking: Tracking) -> None:
        self.view.signature(tracking, SIGNED, e.petition_id, e.commune,
                            "domain.petition.signature:Signature.Signed")

    @process_event.register
    def _(self, e: Signature.Withdrawn, tracking: Tracking) -> None:
        self.view.signature(tracking, WITHDRAWN, e.petition_id, e.commune,
                            "domain.petition.signature:Signature.Withdrawn")

    @process_event.register
    def _(self, e: Signature.Renewed, tracking: Tracking) -> None:
        self.view.signature(tracking, RENEWED, e.petition_id, e.commune,
                            "domain.petition.signature:Signature.Renewed")

    # -- the petition's course -------------------------------------------------------------

    @process_event.register
    def _(self, e: Petition.Drafted, tracking: Tracking) -> None:
        where = f", commune {e.commune}" if e.commune else ""
        self.view.record(
            tracking, e, kind="Drafted", actor=AUTHOR,
            text=(f"Pétition déposée : « {_placeholder('title')} » (type {e.kind}{where}, "
                  f"charte v{e.charter_version})"),
            details={"sealed": {"title": e.title_sealed}, "kind": e.kind,
                     "commune": e.commune, "charter_version": e.charter_version},
            insert={"petition_id": e.originator_id, "metropolis_id": e.metropolis_id,
                    "kind": e.kind, "commune": e.commune, "stage": "drafted",
                    "author_ref": e.author_ref, "title": e.title_sealed,
                    "text": e.text_sealed, "charter_version": e.charter_version,
                    "drafted_at": e.timestamp, "drafted_position": tracking.notification_id,
                    "updated_at": e.timestamp, "position": tracking.notification_id})

    @process_event.register
    def _(self, e: Petition.SponsorJoined, tracking: Tracking) -> None:
        self.view.sponsors(tracking, e.originator_id, 1)

    @process_event.register
    def _(self, e: Petition.SponsorLeft, tracking: Tracking) -> None:
        self.view.sponsors(tracking, e.originator_id, -1)

    @process_event.register
    def _(self, e: Petition.SponsorsGathered, tracking: Tracking) -> None:
        self.view.record(tracking, e, kind="SponsorsGathered", actor=AUTHOR,
                         text=f"Parrainages réunis ({number_fr(e.sponsors)})",
                         details={"sponsors": e.sponsors}, update={"sponsors": e.sponsors})

    @process_event.register
    def _(self, e: Petition.AdmissibilityOpened, tracking: Tracking) -> None:
        self.view.record(tracking, e, kind="AdmissibilityOpened", actor=CLERK,
                         text=f"Examen de recevabilité par le greffe jusqu'au "
                              f"{date_fr(e.closes_at)}",
                         details={"closes_at": e.closes_at.isoformat()},
                         update={"stage": "admissibility"})

    @process_event.register
    def _(self, e: Petition.AdmissibilityRuled, tracking: Tracking) -> None:
        if e.admissible:
            text = ("Recevable" + (f" (compétence : {e.competence})" if e.competence else "")
                    + (" — sans décision du greffe à l'échéance" if e.cause == "deadline"
                       else ""))
        else:
            text = f"Irrecevable : {e.reason}"
        self.view.record(tracking, e, kind="AdmissibilityRuled", actor=CLERK, text=text,
                         details={"admissible": e.admissible, "competence": e.competence,
                                  "reason": e.reason, "cause": e.cause},
                         update={} if e.admissible else {"stage": "closed",
                                                         "outcome": "inadmissible"})

    @process_event.register
    def _(self, e: Petition.ReferredToGuarantor, tracking: Tracking) -> None:
        self.view.record(tracking, e, kind="ReferredToGuarantor", actor=AUTHOR,
                         text=f"Le garant est saisi par l'auteur : « {_placeholder('text')} »",
                         details={"sealed": {"text": e.text_sealed}})

    @process_event.register
    def _(self, e: Petition.CollectionOpened, tracking: Tracking) -> None:
        self.view.record(
            tracking, e, kind="CollectionOpened", actor=CLERK,
            text=(f"Collecte ouverte jusqu'au {date_fr(e.closes_at)} — seuil : "
                  f"{number_fr(e.threshold)} signatures"),
            details={"closes_at": e.closes_at.isoformat(), "threshold": e.threshold,
                     "figure": e.figure, "figure_source": e.figure_source},
            update={"stage": "collecting", "threshold": e.threshold, "figure": e.figure,
                    "figure_source": e.figure_source, "opens_at": e.at,
                    "closes_at": e.closes_at, "opened_position": tracking.notification_id})

    @process_event.register
    def _(self, e: Petition.ThresholdReached, tracking: Tracking) -> None:
        self.view.record(
            tracking, e, kind="ThresholdReached", actor=CLERK,
            text=(f"Seuil atteint à la position {e.position} ({number_fr(e.count)} "
                  "signatures)"),
            details={"position": e.position, "count": e.count,
                     "at": e.at.isoformat() if getattr(e, "at", None) else None},
            update={"threshold_position": e.position, "threshold_count": e.count})

    @process_event.register
    def _(self, e: Petition.ObligationOpened, tracking: Tracking) -> None:
        what = OBLIGATION_FR.get(e.obligation, e.obligation)
        self.view.record(
            tracking, e, kind="ObligationOpened", actor=COUNCIL,
            text=f"Obligation : {what} avant le {date_fr(e.due_at)}",
            details={"obligation": e.obligation, "due_at": e.due_at.isoformat()},
            update={"stage": "obligation", "obligation": e.obligation,
                    "obligation_at": e.at, "due_at": e.due_at})

    @process_event.register
    def _(self, e: Petition.CollectionClosed, tracking: Tracking) -> None:
        count = self.view.count_now(e.originator_id)
        self.view.record(
            tracking, e, kind="CollectionClosed", actor=CLERK,
            text=f"Collecte close : {number_fr(count)} signature(s)",
            details={"count": count, "cutoff_position": tracking.notification_id},
            update={"closed_position": tracking.notification_id})

    @process_event.register
    def _(self, e: Petition.Answered, tracking: Tracking) -> None:
        self.view.record(
            tracking, e, kind="Answered", actor=COUNCIL,
            text=f"Réponse du conseil : « {e.text} »" + (" — après l'échéance" if e.late
                                                         else ""),
            details={"text": e.text, "clerk_ref": e.clerk_ref, "late": e.late},
            update={"fulfilled": True, "fulfilled_at": e.at, "answer_late": e.late})

    @process_event.register
    def _(self, e: Petition.AgendaProposalSubmitted, tracking: Tracking) -> None:
        self.view.record(
            tracking, e, kind="AgendaProposalSubmitted", actor=COUNCIL,
            text="Proposition inscrite à l'ordre du jour du conseil au nom des signataires",
            details={"proposal_id": str(e.proposal_id)},
            update={"fulfilled": True, "fulfilled_at": e.at, "answer_late": False})

    @process_event.register
    def _(self, e: Petition.ConsultationReported, tracking: Tracking) -> None:
        self.view.record(
            tracking, e, kind="ConsultationReported", actor=GUARANTOR,
            text=f"Rapport de la consultation publique : « {e.text} »"
                 + (" — après l'échéance" if e.late else ""),
            details={"text": e.text, "guarantor_ref": e.guarantor_ref, "late": e.late},
            update={"fulfilled": True, "fulfilled_at": e.at, "answer_late": e.late})

    @process_event.register
    def _(self, e: Petition.ObligationBreached, tracking: Tracking) -> None:
        self.view.record(
            tracking, e, kind="ObligationBreached", actor=GUARANTOR,
            text=f"Manquement : délai dépassé sans réponse (échéance {date_fr(e.due_at)})",
            details={"due_at": e.due_at.isoformat()}, update={"breached": True})

    @process_event.register
    def _(self, e: Petition.Withdrawn, tracking: Tracking) -> None:
        self.view.record(tracking, e, kind="Withdrawn", actor=AUTHOR,
                         text="Pétition retirée par son auteur",
                         update={"stage": "closed", "outcome": "withdrawn"})

    @process_event.register
    def _(self, e: Petition.Closed, tracking: Tracking) -> None:
        outcome = OUTCOME_FR.get(e.outcome, e.outcome)
        self.view.record(
            tracking, e, kind="Closed", actor=CLERK,
            text=f"Clôturée : {outcome} ({number_fr(e.count)} signature(s))",
            details={"outcome": e.outcome, "count": e.count},
            update={"stage": "closed", "outcome": e.outcome})

