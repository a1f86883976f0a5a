"""The citizens' conventions' public views: each convention's rules, stage and deadlines, its
committed pool and every volunteer's exact chance of a seat, the draw, the seats accepted and
declined, the sitting, and its French timeline.

Questions answered: which conventions drawn by lot does a metropolis run, at which stage?
How many volunteers so far (a count only, while registration is open)? What did the pool's
commitment fix — the pool (pseudonym and category values, published only as committed), the
quotas, the distribution over panels, the seed's source — and what was each volunteer's
probability of a seat (`domain.rules.sortition.marginals`, exact)? Who was drawn, who declined
and who replaced them, who sits, which sessions were held, which proposals went to the
council? What happened, said in French?

Nothing personal: a volunteer's values and contact are sealed in their registration (D10) and
never opened here; the pool's values are those the commitment published, and only from it.
A failed pool shows its rule, its message and the smallest relaxation of the quotas.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from fractions import Fraction
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from domain.convention.convention import Convention
from domain.convention.volunteer import Volunteer
from domain.ports import NoPersonalData
from domain.rules import sortition
from domain.topics import stored_topics
from projections.labels import CONVENTION_STAGE_FR, convention_label
from projections.rebuild import BatchedView

FOLLOWER = "convention_views"
DECIMALS = 12  # a probability's decimal string: rounded to 12 places; the fraction is exact
_LIST_COLUMNS = ("kind", "title", "stage", "size", "opened_at", "registration_closes_at",
                 "reveal_by", "acceptance_closes_at", "term_ends_at", "outcome")


def probability_text(p: Fraction) -> str:
    """A probability as a decimal string, rounded half-even to `DECIMALS` places."""
    with localcontext() as ctx:
        ctx.prec = 60
        value = Decimal(p.numerator) / Decimal(p.denominator)
        return str(value.quantize(Decimal(1).scaleb(-DECIMALS)))


def committed_probabilities(pool: list[list[Any]], distribution: dict[str, Any]
                            ) -> dict[str, str] | None:
    """Each committed volunteer's exact probability of a seat, as the fraction's text
    (`a/b`), from the committed distribution; None when the distribution does not fit the
    pool (the compliance view flags it: `convention.distribution_invalid`)."""
    try:
        people = [sortition.person(ref, values) for ref, values in pool]
        found = sortition.marginals(people, sortition.Distribution.from_json(distribution))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return None
    return {ref: f"{p.numerator}/{p.denominator}" for ref, p in found.items()}


class ConventionViews(BatchedView):
    """PostgreSQL tables `convention_view` (one row per convention), `convention_pool_view`
    (the committed pool: pseudonym, category values, probability) and
    `convention_timeline_view`; the queries:

    - `conventions(metropolis_id)`: newest first: `id`, `metropolis_id`, `kind`, `title`,
      `stage`, `stage_fr`, `size`, `opened_at`, `registration_closes_at`, `reveal_by`,
      `acceptance_closes_at`, `term_ends_at`, `outcome`, `position`.
    - `convention(convention_id)`: the same with `mandate`, `charter_version`, `rules`,
      `deadlines`, `volunteers` (a count, while registration is open; None after),
      `invitations` (how many invited), `registry_size`, `guarantor_digest`, `pool_size`,
      `close_position`, `commitment`, `method`, `algorithm_version`, `randomness` (the source
      as committed), `seed` (None until revealed), `revealed_at`, `drawn` (the panel drawn),
      `panel` (as it stands), `accepted`, `declined` ([{member, index, replacement}]),
      `members` (who sat), `sessions` ([{number, summary, at}]), `proposals` (ids sent to the
      council), `reason`, `failure` ({rule, message, relaxation, pool_size}); or None.
    - `pool(convention_id)`: None before the commitment, else [{pseudonym, values}] sorted.
    - `probabilities(convention_id)`: None before the commitment, else `people`
      ([{pseudonym, probability (decimal string), fraction (`a/b`)}]), `min`, `max`.
    - `timeline(convention_id)`: `position`, `at`, `kind`, `label` (French).
    - `volunteers(convention_id)`: the count of volunteers while registration is open.
    """

    view_tables = ("convention_view", "convention_pool_view", "convention_timeline_view")
    follower = FOLLOWER

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.personal_data: Any = NoPersonalData()  # never opened: nothing personal is shown
        self.sql_create_statements += [
            SQL("""CREATE TABLE IF NOT EXISTS convention_view (
                convention_id uuid PRIMARY KEY,
                metropolis_id uuid NOT NULL,
                kind text NOT NULL,
                title text NOT NULL,
                mandate text NOT NULL,
                stage text NOT NULL,
                size int NOT NULL,
                rules jsonb NOT NULL,
                charter_version int NOT NULL,
                opened_at timestamptz NOT NULL,
                registration_closes_at timestamptz NOT NULL,
                volunteers int NOT NULL DEFAULT 0,
                invitations int NOT NULL DEFAULT 0,
                registry_size int,
                guarantor_digest text,
                close_position bigint,
                pool_size int,
                commitment text,
                method text,
                algorithm_version text,
                randomness jsonb,
                distribution jsonb,
                committed_at timestamptz,
                reveal_by timestamptz,
                seed text,
                revealed_at timestamptz,
                drawn jsonb,
                panel jsonb,
                acceptance_closes_at timestamptz,
                accepted jsonb NOT NULL DEFAULT '[]',
                declined jsonb NOT NULL DEFAULT '[]',
                members jsonb,
                term_ends_at timestamptz,
                sessions jsonb NOT NULL DEFAULT '[]',
                proposals jsonb NOT NULL DEFAULT '[]',
                outcome text,
                reason text,
                failure jsonb,
                opened_position bigint NOT NULL,
                position bigint NOT NULL)"""),
            SQL("""CREATE TABLE IF NOT EXISTS convention_pool_view (
                convention_id uuid NOT NULL,
                pseudonym text NOT NULL,
                "values" jsonb NOT NULL,
                probability text,
                PRIMARY KEY (convention_id, pseudonym))"""),
            SQL("""CREATE TABLE IF NOT EXISTS convention_timeline_view (
                convention_id uuid NOT NULL,
                position bigint NOT NULL,
                at timestamptz NOT NULL,
                kind text NOT NULL,
                label text NOT NULL,
                PRIMARY KEY (convention_id, position))"""),
            SQL("CREATE INDEX IF NOT EXISTS convention_view_by_metropolis ON "
                "convention_view (metropolis_id, opened_position DESC)"),
        ]

    # -- writing -------------------------------------------------------------------------------

    def record(self, tracking: Tracking, e: Any, kind: str,
               insert: dict[str, Any] | None = None, update: dict[str, Any] | None = None,
               append: dict[str, Any] | None = None,
               pool: list[tuple[str, Any, str | None]] | None = None,
               timeline: bool = True) -> None:
        """Apply one convention event: its row (inserted, or columns set and json lists
        appended to), the committed pool, its timeline entry, the tracking position."""
        position = tracking.notification_id
        cid = e.originator_id
        with self.writing() as curs:
            if insert is not None:
                row = dict(insert, convention_id=cid, opened_position=position,
                           position=position)
                curs.execute(f"INSERT INTO convention_view ({', '.join(row)}) VALUES "  # noqa: S608
                             f"({', '.join(f'%({k})s' for k in row)}) ON CONFLICT DO NOTHING",
                             row)
            else:
                changes = dict(update or {}, position=position)
                sets = [f"{k} = %({k})s" for k in changes]
                sets += [f"{k} = {k} || %(append_{k})s" for k in append or {}]
                params = dict(changes, c=cid, **{f"append_{k}": Jsonb(v)
                                                 for k, v in (append or {}).items()})
                curs.execute("UPDATE convention_view SET " + ", ".join(sets)  # noqa: S608
                             + " WHERE convention_id = %(c)s RETURNING convention_id", params)
                if curs.fetchone() is None:  # a convention never opened in the log
                    self.track(curs, tracking)
                    return
            if pool:
                curs.executemany("INSERT INTO convention_pool_view VALUES (%s, %s, %s, %s) "
                                 "ON CONFLICT DO NOTHING",
                                 [(cid, ref, Jsonb(values), p) for ref, values, p in pool])
            if timeline:
                curs.execute("INSERT INTO convention_timeline_view VALUES (%s, %s, %s, %s, "
                             "%s) ON CONFLICT DO NOTHING",
                             (cid, position, e.timestamp, kind,
                              convention_label(kind, e.__dict__)))
            self.track(curs, tracking)

    def volunteer(self, tracking: Tracking, convention_id: UUID, change: int) -> None:
        """A registration (+1) or a withdrawal (−1), counted while registration is open."""
        with self.writing() as curs:
            curs.execute("UPDATE convention_view SET volunteers = volunteers + %s WHERE "
                         "convention_id = %s AND stage = 'registration'",
                         (change, convention_id))
            self.track(curs, tracking)

    # -- queries -------------------------------------------------------------------------------

    def _read(self, query: str, params: Any) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, params)
            return list(curs.fetchall())

    @staticmethod
    def _listed(row: dict[str, Any]) -> dict[str, Any]:
        out = {"id": row["convention_id"], "metropolis_id": row["metropolis_id"]}
        out.update({k: row[k] for k in _LIST_COLUMNS})
        out["stage_fr"] = CONVENTION_STAGE_FR.get(row["stage"], row["stage"])
        out["position"] = row["position"]
        return out

    def conventions(self, metropolis_id: UUID) -> list[dict[str, Any]]:
        """The metropolis' conventions, newest first."""
        return [self._listed(r) for r in self._read(
            "SELECT * FROM convention_view WHERE metropolis_id = %s "
            "ORDER BY opened_position DESC", (metropolis_id,))]

    def convention(self, convention_id: UUID) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM convention_view WHERE convention_id = %s",
                          (convention_id,))
        if not rows:
            return None
        r = rows[0]
        out = self._listed(r)
        out.update({k: r[k] for k in (
            "mandate", "charter_version", "rules", "invitations", "registry_size",
            "guarantor_digest", "pool_size", "close_position", "commitment", "method",
            "algorithm_version", "randomness", "seed", "revealed_at", "drawn", "panel",
            "accepted", "declined", "members", "sessions", "proposals", "reason", "failure")})
        out["volunteers"] = r["volunteers"] if r["stage"] == "registration" else None
        out["deadlines"] = {k: r[k] for k in ("registration_closes_at", "reveal_by",
                                              "acceptance_closes_at", "term_ends_at")}
        return out

    def volunteers(self, convention_id: UUID) -> int | None:
        """How many volunteers so far, while registration is open (None after, or unknown:
        the committed pool is the count then)."""
        rows = self._read("SELECT volunteers FROM convention_view WHERE convention_id = %s "
                          "AND stage = 'registration'", (convention_id,))
        return rows[0]["volunteers"] if rows else None

    def _committed(self, convention_id: UUID) -> bool:
        return bool(self._read("SELECT 1 FROM convention_view WHERE convention_id = %s AND "
                               "commitment IS NOT NULL", (convention_id,)))

    def pool(self, convention_id: UUID) -> list[dict[str, Any]] | None:
        """The pool as committed (pseudonym and category values), or None before."""
        if not self._committed(convention_id):
            return None
        return [{"pseudonym": r["pseudonym"], "values": r["values"]} for r in self._read(
            'SELECT pseudonym, "values" FROM convention_pool_view WHERE convention_id = %s '
            "ORDER BY pseudonym", (convention_id,))]

    def probabilities(self, convention_id: UUID) -> dict[str, Any] | None:
        """Each committed volunteer's exact probability of a seat, with the least and the
        greatest; None before the commitment."""
        if not self._committed(convention_id):
            return None
        people = []
        for r in self._read("SELECT pseudonym, probability FROM convention_pool_view WHERE "
                            "convention_id = %s ORDER BY pseudonym", (convention_id,)):
            if r["probability"] is None:
                continue
            p = Fraction(r["probability"])
            people.append({"pseudonym": r["pseudonym"], "probability": probability_text(p),
                           "fraction": f"{p.numerator}/{p.denominator}", "_p": p})
        out: dict[str, Any] = {"people": people, "min": None, "max": None}
        if people:
            low = min(people, key=lambda x: x["_p"])
            high = max(people, key=lambda x: x["_p"])
            out["min"] = {"probability": low["probability"], "fraction": low["fraction"]}
            out["max"] = {"probability": high["probability"], "fraction": high["fraction"]}
        for x in people:
            del x["_p"]
        return out

    def timeline(self, convention_id: UUID) -> list[dict[str, Any]]:
        return self._read("SELECT position, at, kind, label FROM convention_timeline_view "
                          "WHERE convention_id = %s ORDER BY position", (convention_id,))


class ConventionProjection(Projection[ConventionViews]):
    """Projects convention and volunteer events into `ConventionViews`."""

    name = FOLLOWER
    topics = stored_topics(
        Convention.Opened, Convention.InvitationsDrawn, Convention.SeedCommitted,
        Convention.PoolCommitted, Convention.PoolFailed, Convention.SeedRevealed,
        Convention.PanelDrawn, Convention.SeatAccepted, Convention.SeatDeclined,
        Convention.SittingOpened, Convention.SessionHeld, Convention.ProposalSent,
        Convention.Ended, Volunteer.Registered, Volunteer.Withdrawn,
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    # -- volunteers: a count, nothing else -------------------------------------------------------

    @process_event.register
    def _(self, e: Volunteer.Registered, tracking: Tracking) -> None:
        self.view.volunteer(tracking, e.convention_id, +1)

    @process_event.register
    def _(self, e: Volunteer.Withdrawn, tracking: Tracking) -> None:
        self.view.volunteer(tracking, e.convention_id, -1)

    # -- the convention ------------------------------------------------------------------------

    @process_event.register
    def _(self, e: Convention.Opened, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.Opened", insert={
            "metropolis_id": e.metropolis_id, "kind": e.kind, "title": e.title,
            "mandate": e.mandate, "stage": "registration", "size": e.rules["size"],
            "rules": Jsonb(e.rules), "charter_version": e.charter_version,
            "opened_at": e.at, "registration_closes_at": e.registration_closes_at})

    @process_event.register
    def _(self, e: Convention.InvitationsDrawn, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.InvitationsDrawn", update={
            "invitations": len(e.invited), "registry_size": e.registry_size})

    @process_event.register
    def _(self, e: Convention.SeedCommitted, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.SeedCommitted",
                         update={"guarantor_digest": e.digest})

    @process_event.register
    def _(self, e: Convention.PoolCommitted, tracking: Tracking) -> None:
        chances = committed_probabilities(e.pool, e.distribution) or {}
        self.view.record(tracking, e, "Convention.PoolCommitted", update={
            "stage": "committed", "close_position": e.close_position,
            "pool_size": len(e.pool), "commitment": e.commitment, "method": e.method,
            "algorithm_version": e.algorithm_version, "randomness": Jsonb(e.randomness),
            "distribution": Jsonb(e.distribution), "committed_at": e.at,
            "reveal_by": e.reveal_by},
            pool=[(str(ref), values, chances.get(str(ref))) for ref, values in e.pool])

    @process_event.register
    def _(self, e: Convention.PoolFailed, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.PoolFailed", update={
            "close_position": e.close_position, "pool_size": e.pool_size,
            "failure": Jsonb({"rule": e.rule, "message": e.message,
                              "relaxation": e.relaxation, "pool_size": e.pool_size})})

    @process_event.register
    def _(self, e: Convention.SeedRevealed, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.SeedRevealed", update={
            "stage": "revealed", "seed": e.seed, "revealed_at": e.at})

    @process_event.register
    def _(self, e: Convention.PanelDrawn, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.PanelDrawn", update={
            "stage": "acceptance", "drawn": Jsonb(e.panel), "panel": Jsonb(e.panel),
            "acceptance_closes_at": e.acceptance_closes_at})

    @process_event.register
    def _(self, e: Convention.SeatAccepted, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.SeatAccepted", append={
            "accepted": [e.member]})

    @process_event.register
    def _(self, e: Convention.SeatDeclined, tracking: Tracking) -> None:
        with self.view.reading() as curs:  # a rebuild's batch sees its own writes
            curs.execute("SELECT panel FROM convention_view WHERE convention_id = %s",
                         (e.originator_id,))
            row = curs.fetchone()
        panel = [m for m in ((row or {}).get("panel") or []) if m != e.member]
        if e.replacement is not None:
            panel.append(e.replacement)
        self.view.record(tracking, e, "Convention.SeatDeclined", update={
            "panel": Jsonb(panel)}, append={"declined": [
                {"member": e.member, "index": e.index, "replacement": e.replacement}]})

    @process_event.register
    def _(self, e: Convention.SittingOpened, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.SittingOpened", update={
            "stage": "sitting", "members": Jsonb(e.members), "term_ends_at": e.term_ends_at})

    @process_event.register
    def _(self, e: Convention.SessionHeld, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.SessionHeld", append={"sessions": [
            {"number": e.number, "summary": e.summary, "at": e.at.isoformat()}]})

    @process_event.register
    def _(self, e: Convention.ProposalSent, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.ProposalSent", append={
            "proposals": [str(e.proposal_id)]})

    @process_event.register
    def _(self, e: Convention.Ended, tracking: Tracking) -> None:
        self.view.record(tracking, e, "Convention.Ended", update={
            "stage": "ended", "outcome": e.outcome, "reason": e.reason})
