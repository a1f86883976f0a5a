"""The participatory budgets' public views: each cycle's state and published rules, its
projects with their eligibility, appeals, votes and implementation, its results explained
project by project, and its French timeline.

Questions answered: which budget cycles does a metropolis run, at which stage, with which
rules and budgets? Which projects are on each district's ballot, how many votes has each so
far, which were selected and how far is their implementation? How many voters per district?
Why was a project funded or not? What happened to a cycle, said in French?

The votes follow the tally's rule (`domain.rules.budget_cycle.last_ballots`): a voter's last
ballot stored after voting opened and up to its close counts; a `Replaced` ballot moves its
votes (approvals, or points for a cumulative ballot); a ballot stored after the close is kept
apart as `late`, never counted. The timeline has one entry per cycle and project event, none
per ballot.

Ballots are many: their events are applied in memory and written in batches
(projections/batching.py), in one transaction with the tracking position of the last one, as
the petitions' signatures are; a cycle or project event first writes the ballots before it.

What the authors wrote (titles and summaries) is kept sealed (D10) and opened when read,
« contenu effacé » once the author's key was erased.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic
from psycopg.sql import SQL
from psycopg.types.json import Jsonb

from domain.budget.ballot import BudgetBallot
from domain.budget.cycle import BudgetCycle
from domain.budget.project import BudgetProject
from domain.ports import ERASED, NoPersonalData
from domain.topics import stored_topics
from projections.batching import BufferedView
from projections.labels import BUDGET_STAGE_FR, PROJECT_TITLE, amount_fr, budget_label
from projections.personal_data import TamperedSeal

UNREADABLE = "contenu illisible"
FOLLOWER = "budget_views"
_CAST = get_topic(BudgetBallot.Cast)
_REPLACED = get_topic(BudgetBallot.Replaced)
_CYCLE_COLUMNS = ("title", "stage", "districts", "rules", "submission_closes_at",
                  "review_closes_at", "voting_opens_at", "voting_closes_at", "outcome",
                  "source")


@dataclass
class _Window:
    """A cycle's voting, as the counts need it: the positions of its opening and close."""

    opened: int
    closed: int | None = None


@dataclass
class _Ballot:
    """A voter's ballot in memory: the choices counted, those of a late ballot, and whether
    memory holds a change not yet written."""

    choices: list[list] | None = None
    late: list[list] | None = None
    position: int = 0
    dirty: bool = False


class BudgetViews(BufferedView):
    """PostgreSQL tables `budget_cycle_view`, `budget_project_view`, `budget_ballot_view`
    (each voter's counted and late ballot), `budget_vote_view` (votes per project),
    `budget_district_view` (voters per district) and `budget_timeline_view`; the queries:

    - `cycles(metropolis_id)`: the metropolis' cycles, newest first: `id`, `metropolis_id`,
      `title`, `stage`, `stage_fr`, `districts` ({district: budget}), `rules` (as published),
      `submission_closes_at`, `review_closes_at`, `voting_opens_at`, `voting_closes_at`,
      `outcome`, `source`, `position` (its last event's).
    - `cycle(cycle_id)`: the same, with `projects` and `ballots` ({district: count}: projects
      submitted, voters counted), `late_ballots` ({district: voters whose last ballot came
      after the close}) and `results` (as `results` gives them), or None.
    - `projects(cycle_id, district=None, eligible=None)`: in submission order: `id`,
      `district`, `title`, `summary` (opened), `cost`, `competence`, `eligible`, `cause`,
      `reason`, `appeal` (None, "pending", "upheld", "dismissed"), `appeal_reason`, `votes`,
      `late`, `selected`, `milestones` ([{status, note, at}]), `position`.
    - `results(cycle_id)`: None before the results, else per district: `rule`, `tie_break`,
      `budget`, `ballots`, `cost`, `selected` (ids in order), `rounds`, `voter_budget`,
      `notes` (as published) and `explanation`: for every project on the ballot, `id`,
      `title`, `cost`, `votes`, `selected`, `round` (its index in `rounds`, or None),
      `phase`, `reason` (French, empty when funded), `supporters_money`.
    - `timeline(cycle_id)`: `position`, `at`, `kind` (`BudgetCycle.Opened`…), `label`
      (French), `project_id` (for a project's event).
    - `ballot_counts(cycle_id)`: {district: voters counted}.
    """

    view_tables = ("budget_cycle_view", "budget_project_view", "budget_ballot_view",
                   "budget_vote_view", "budget_district_view", "budget_timeline_view")
    follower = FOLLOWER
    batch_events = 1000
    max_delay = 0.05

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.personal_data: Any = NoPersonalData()  # set by the wiring (make_budget_views)
        self._forget_memory()
        self.sql_create_statements += [
            SQL("""CREATE TABLE IF NOT EXISTS budget_cycle_view (
                cycle_id uuid PRIMARY KEY,
                metropolis_id uuid NOT NULL,
                title text NOT NULL,
                stage text NOT NULL,
                districts jsonb NOT NULL,
                rules jsonb NOT NULL,
                charter_version int NOT NULL,
                source text NOT NULL,
                submission_closes_at timestamptz NOT NULL,
                review_closes_at timestamptz,
                voting_opens_at timestamptz,
                voting_closes_at timestamptz,
                on_ballot jsonb,
                voting_position bigint,
                closed_position bigint,
                results jsonb,
                explanation jsonb,
                outcome text,
                reason text,
                opened_position bigint NOT NULL,
                position bigint NOT NULL)"""),
            SQL("""CREATE TABLE IF NOT EXISTS budget_project_view (
                project_id uuid PRIMARY KEY,
                cycle_id uuid NOT NULL,
                district text NOT NULL,
                author_ref text NOT NULL,
                title text NOT NULL,
                summary text NOT NULL,
                cost bigint NOT NULL,
                competence text,
                eligible boolean,
                cause text,
                reason text,
                appeal text,
                appeal_reason text,
                selected boolean NOT NULL DEFAULT false,
                milestones jsonb NOT NULL DEFAULT '[]',
                position bigint NOT NULL)"""),
            SQL("""CREATE TABLE IF NOT EXISTS budget_ballot_view (
                cycle_id uuid NOT NULL,
                district text NOT NULL,
                voter_ref text NOT NULL,
                choices jsonb,
                late jsonb,
                position bigint NOT NULL,
                PRIMARY KEY (cycle_id, district, voter_ref))"""),
            SQL("""CREATE TABLE IF NOT EXISTS budget_vote_view (
                cycle_id uuid NOT NULL,
                project_id text NOT NULL,
                votes bigint NOT NULL,
                late bigint NOT NULL,
                PRIMARY KEY (cycle_id, project_id))"""),
            SQL("""CREATE TABLE IF NOT EXISTS budget_district_view (
                cycle_id uuid NOT NULL,
                district text NOT NULL,
                ballots bigint NOT NULL,
                late bigint NOT NULL,
                PRIMARY KEY (cycle_id, district))"""),
            SQL("""CREATE TABLE IF NOT EXISTS budget_timeline_view (
                cycle_id uuid NOT NULL,
                position bigint NOT NULL,
                at timestamptz NOT NULL,
                kind text NOT NULL,
                label text NOT NULL,
                project_id uuid,
                PRIMARY KEY (cycle_id, position))"""),
            SQL("CREATE INDEX IF NOT EXISTS budget_cycle_view_by_metropolis ON "
                "budget_cycle_view (metropolis_id, opened_position DESC)"),
            SQL("CREATE INDEX IF NOT EXISTS budget_project_view_by_cycle ON "
                "budget_project_view (cycle_id, position)"),
        ]

    # -- ballots: applied in memory, written in batches -------------------------------------

    def _forget_memory(self) -> None:
        self._windows: dict[UUID, _Window | None] = {}
        self._ballots: dict[tuple[UUID, str, str], _Ballot] = {}
        self._votes: dict[tuple[UUID, str], list[int]] = {}  # [votes, late] changes
        self._voters: dict[tuple[UUID, str], list[int]] = {}  # [ballots, late] changes

    def ballot(self, tracking: Tracking, topic: str, cycle_id: UUID, district: str,
               voter_ref: str, choices: list[list]) -> None:
        """Apply one ballot event to its cycle's counts; written with the next batch."""
        self.buffered(tracking, topic, (topic == _CAST, cycle_id, district, voter_ref,
                                        [[str(p), int(n)] for p, n in choices]))

    def _window(self, cycle_id: UUID) -> _Window | None:
        if cycle_id not in self._windows:
            rows = self._cursor_read("SELECT voting_position, closed_position FROM "
                                     "budget_cycle_view WHERE cycle_id = %s", (cycle_id,))
            row = rows[0] if rows else None
            self._windows[cycle_id] = (None if row is None or row["voting_position"] is None
                                       else _Window(row["voting_position"],
                                                    row["closed_position"]))
        return self._windows[cycle_id]

    def _held(self, key: tuple[UUID, str, str], first: bool) -> _Ballot:
        held = self._ballots.get(key)
        if held is None:
            held = _Ballot()
            if not first:  # a replacement: the ballot it replaces is in the table
                rows = self._cursor_read(
                    "SELECT choices, late, position FROM budget_ballot_view WHERE cycle_id = "
                    "%s AND district = %s AND voter_ref = %s", key)
                if rows:
                    held = _Ballot(rows[0]["choices"], rows[0]["late"], rows[0]["position"])
            if len(self._ballots) > 100_000:
                self._ballots = {k: b for k, b in self._ballots.items() if b.dirty}
            self._ballots[key] = held
        return held

    def _apply_buffered(self, position: int, item: Any) -> None:
        first, cycle_id, district, voter, choices = item
        window = self._window(cycle_id)
        if window is None or position <= window.opened:
            return  # no voting open: nothing counts (the tally's rule)
        held = self._held((cycle_id, district, voter), first)
        late = window.closed is not None and position > window.closed
        column = 1 if late else 0
        before = held.late if late else held.choices
        voters = self._voters.setdefault((cycle_id, district), [0, 0])
        if before is None:
            voters[column] += 1
        for project, points in before or []:
            self._votes.setdefault((cycle_id, project), [0, 0])[column] -= points
        for project, points in choices:
            self._votes.setdefault((cycle_id, project), [0, 0])[column] += points
        if late:
            held.late = choices
        else:
            held.choices = choices
        held.position, held.dirty = position, True

    def flush(self, curs: Any) -> None:
        """Write the ballots and counts changed since the last write (the caller's
        transaction)."""
        dirty = [(k, b) for k, b in self._ballots.items() if b.dirty]
        if dirty:
            curs.executemany(
                "INSERT INTO budget_ballot_view VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT "
                "(cycle_id, district, voter_ref) DO UPDATE SET choices = EXCLUDED.choices, "
                "late = EXCLUDED.late, position = EXCLUDED.position",
                [(*k, None if b.choices is None else Jsonb(b.choices),
                  None if b.late is None else Jsonb(b.late), b.position) for k, b in dirty])
            for _, held in dirty:
                held.dirty = False
        if self._votes:
            curs.executemany(
                "INSERT INTO budget_vote_view AS v VALUES (%s, %s, %s, %s) ON CONFLICT "
                "(cycle_id, project_id) DO UPDATE SET votes = v.votes + EXCLUDED.votes, "
                "late = v.late + EXCLUDED.late",
                [(*k, n[0], n[1]) for k, n in sorted(self._votes.items())])
            self._votes = {}
        if self._voters:
            curs.executemany(
                "INSERT INTO budget_district_view AS d VALUES (%s, %s, %s, %s) ON CONFLICT "
                "(cycle_id, district) DO UPDATE SET ballots = d.ballots + EXCLUDED.ballots, "
                "late = d.late + EXCLUDED.late",
                [(*k, n[0], n[1]) for k, n in sorted(self._voters.items())])
            self._voters = {}

    # -- cycle and project events ------------------------------------------------------------

    def record(self, tracking: Tracking, e: Any, kind: str, cycle_id: UUID | None = None,
               insert: tuple[str, dict[str, Any]] | None = None,
               update: dict[str, Any] | None = None,
               project_update: dict[str, Any] | None = None, timeline: bool = True) -> None:
        """Apply one cycle or project event: its rows, its timeline entry, the tracking
        position (the ballots before it are written first)."""
        with self._lock:
            self.settle()
            self._record(tracking, e, kind, cycle_id, insert, update, project_update,
                         timeline)

    def _record(self, tracking: Tracking, e: Any, kind: str, cycle_id: UUID | None,
                insert: tuple[str, dict[str, Any]] | None, update: dict[str, Any] | None,
                project_update: dict[str, Any] | None, timeline: bool) -> None:
        position = tracking.notification_id
        project_id = e.originator_id if kind.startswith("BudgetProject.") else None
        with self.writing() as curs:
            if insert is not None:
                table, row = insert
                columns = ", ".join(row)
                values = ", ".join(f"%({k})s" for k in row)
                curs.execute(f"INSERT INTO {table} ({columns}) VALUES ({values}) "  # noqa: S608
                             "ON CONFLICT DO NOTHING", row)
            if project_id is not None:
                if project_update:
                    sets = ", ".join(f"{k} = {k} || %({k})s" if k == "milestones"
                                     else f"{k} = %({k})s" for k in project_update)
                    curs.execute(f"UPDATE budget_project_view SET {sets} "  # noqa: S608
                                 "WHERE project_id = %(p)s", dict(project_update, p=project_id))
                curs.execute("SELECT cycle_id FROM budget_project_view WHERE project_id = %s",
                             (project_id,))
                row = curs.fetchone()
                cycle_id = None if row is None else row["cycle_id"]
            else:
                cycle_id = e.originator_id
            if cycle_id is None:  # an event of a project never submitted in the log
                self.track(curs, tracking)
                return
            changes = dict(update or {}, position=position)
            curs.execute("UPDATE budget_cycle_view SET "  # noqa: S608
                         + ", ".join(f"{k} = %({k})s" for k in changes)
                         + " WHERE cycle_id = %(c)s RETURNING cycle_id",
                         dict(changes, c=cycle_id))
            if curs.fetchone() is None:  # a cycle never opened in the log
                self.track(curs, tracking)
                return
            if timeline:
                curs.execute("INSERT INTO budget_timeline_view VALUES (%s, %s, %s, %s, %s, "
                             "%s) ON CONFLICT DO NOTHING",
                             (cycle_id, position, e.timestamp, kind,
                              budget_label(kind, e.__dict__), project_id))
            if kind == "BudgetCycle.ResultsPublished":
                self._publish(curs, cycle_id, e.results)
            self.track(curs, tracking)
        if update and ("voting_position" in update or "closed_position" in update):
            self._windows.pop(cycle_id, None)

    def _publish(self, curs: Any, cycle_id: UUID, results: dict[str, dict[str, Any]]) -> None:
        """The results published: the projects selected, and why each was funded or not
        (kept without titles: those are opened when read)."""
        selected = [p for r in results.values() for p in r["selected"]]
        curs.execute("UPDATE budget_project_view SET selected = (project_id::text = "
                     "ANY(%s)) WHERE cycle_id = %s", (selected, cycle_id))
        curs.execute("SELECT on_ballot FROM budget_cycle_view WHERE cycle_id = %s",
                     (cycle_id,))
        on_ballot = (curs.fetchone() or {}).get("on_ballot") or {}
        curs.execute("SELECT district, choices FROM budget_ballot_view WHERE cycle_id = %s "
                     "AND choices IS NOT NULL ORDER BY district, voter_ref", (cycle_id,))
        ballots: dict[str, list[list[list]]] = {}
        for row in curs.fetchall():
            ballots.setdefault(row["district"], []).append(row["choices"])
        explanation = {d: explained(r, on_ballot.get(d, {}), ballots.get(d, []))
                       for d, r in results.items()}
        curs.execute("UPDATE budget_cycle_view SET explanation = %s WHERE cycle_id = %s",
                     (Jsonb(explanation), cycle_id))

    # -- queries -------------------------------------------------------------------------------

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

    def _read(self, query: str, params: Any) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, params)
            return list(curs.fetchall())

    @staticmethod
    def _cycle_row(row: dict[str, Any]) -> dict[str, Any]:
        out = {"id": row["cycle_id"], "metropolis_id": row["metropolis_id"]}
        out.update({k: row[k] for k in _CYCLE_COLUMNS})
        out["stage_fr"] = BUDGET_STAGE_FR.get(row["stage"], row["stage"])
        out["position"] = row["position"]
        return out

    def cycles(self, metropolis_id: UUID) -> list[dict[str, Any]]:
        """The metropolis' cycles, newest first."""
        return [self._cycle_row(r) for r in self._read(
            "SELECT * FROM budget_cycle_view WHERE metropolis_id = %s "
            "ORDER BY opened_position DESC", (metropolis_id,))]

    def cycle(self, cycle_id: UUID) -> dict[str, Any] | None:
        rows = self._read("SELECT * FROM budget_cycle_view WHERE cycle_id = %s", (cycle_id,))
        if not rows:
            return None
        out = self._cycle_row(rows[0])
        projects = self._read("SELECT district, count(*) AS n FROM budget_project_view WHERE "
                              "cycle_id = %s GROUP BY district", (cycle_id,))
        voters = self._read("SELECT * FROM budget_district_view WHERE cycle_id = %s",
                            (cycle_id,))
        districts = list(rows[0]["districts"])
        out["projects"] = {d: 0 for d in districts} | {r["district"]: r["n"] for r in projects}
        out["ballots"] = {d: 0 for d in districts} | {r["district"]: r["ballots"]
                                                      for r in voters}
        out["late_ballots"] = {d: 0 for d in districts} | {r["district"]: r["late"]
                                                           for r in voters}
        out["results"] = self._results(rows[0])
        return out

    def ballot_counts(self, cycle_id: UUID) -> dict[str, int]:
        """Voters counted so far in each district (one read of a small table)."""
        return {r["district"]: r["ballots"] for r in self._read(
            "SELECT district, ballots FROM budget_district_view WHERE cycle_id = %s "
            "ORDER BY district", (cycle_id,))}

    def projects(self, cycle_id: UUID, district: str | None = None,
                 eligible: bool | None = None) -> list[dict[str, Any]]:
        """The cycle's projects in submission order (of one district, of one eligibility,
        if given), with their votes so far."""
        where = ["p.cycle_id = %(c)s"]
        if district is not None:
            where.append("p.district = %(d)s")
        if eligible is not None:
            where.append("p.eligible IS NOT DISTINCT FROM %(e)s")
        rows = self._read(
            "SELECT p.*, v.votes, v.late FROM budget_project_view p LEFT JOIN "
            "budget_vote_view v ON v.cycle_id = p.cycle_id AND v.project_id = "
            f"p.project_id::text WHERE {' AND '.join(where)} ORDER BY p.position",  # noqa: S608
            {"c": cycle_id, "d": district, "e": eligible})
        texts = self._open([r[c] for r in rows for c in ("title", "summary")])
        out = []
        for i, r in enumerate(rows):
            out.append({
                "id": r["project_id"], "district": r["district"], "title": texts[2 * i],
                "summary": texts[2 * i + 1], "cost": r["cost"], "competence": r["competence"],
                "eligible": r["eligible"], "cause": r["cause"], "reason": r["reason"],
                "appeal": r["appeal"], "appeal_reason": r["appeal_reason"],
                "votes": r["votes"] or 0, "late": r["late"] or 0, "selected": r["selected"],
                "milestones": r["milestones"], "position": r["position"]})
        return out

    def _titles(self, cycle_id: UUID) -> dict[str, str]:
        rows = self._read("SELECT project_id, title FROM budget_project_view WHERE "
                          "cycle_id = %s", (cycle_id,))
        return dict(zip((str(r["project_id"]) for r in rows),
                        self._open([r["title"] for r in rows]), strict=True))

    def _results(self, row: dict[str, Any]) -> dict[str, Any] | None:
        if row["results"] is None:
            return None
        titles = self._titles(row["cycle_id"])
        out = {}
        for district, published in row["results"].items():
            explanation = [dict(x, title=titles.get(x["id"], UNREADABLE))
                           for x in (row["explanation"] or {}).get(district, [])]
            out[district] = dict(published, explanation=explanation)
        return out

    def results(self, cycle_id: UUID) -> dict[str, Any] | None:
        rows = self._read("SELECT cycle_id, results, explanation FROM budget_cycle_view "
                          "WHERE cycle_id = %s", (cycle_id,))
        return self._results(rows[0]) if rows else None

    def timeline(self, cycle_id: UUID) -> list[dict[str, Any]]:
        rows = self._read("SELECT position, at, kind, label, project_id FROM "
                          "budget_timeline_view WHERE cycle_id = %s ORDER BY position",
                          (cycle_id,))
        if any(PROJECT_TITLE in r["label"] for r in rows):
            titles = self._titles(cycle_id)
            for r in rows:
                if r["project_id"] is not None:
                    r["label"] = r["label"].replace(
                        PROJECT_TITLE, titles.get(str(r["project_id"]), UNREADABLE))
        return rows


def _fraction(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def explained(published: dict[str, Any], on_ballot: dict[str, int],
              ballots: list[list[list]]) -> list[dict[str, Any]]:
    """Why each project on a district's ballot was funded or not, in French: the tally's own
    `domain.rules.budget.explain` applied to the published outcome (its rounds) and the
    ballots the view counted; when it cannot (the results do not fit these ballots),
    derived from the rounds and costs alone."""
    from domain.rules import budget as tallies

    projects = tuple(tallies.Project(id=p, cost=c) for p, c in sorted(on_ballot.items()))
    election = tallies.Election(
        budget=published["budget"], projects=projects,
        ballots=tuple(tallies.Ballot(points=tuple(sorted((str(p), int(n)) for p, n in b)))
                      for b in ballots))
    left = published["budget"] - published["cost"]
    try:
        outcome = tallies.Outcome(
            rule=published["rule"], tie_break=published["tie_break"],
            selected=tuple(published["selected"]), cost=published["cost"],
            rounds=tuple(tallies.Round(
                project=r["project"], phase=r["phase"], votes=r["votes"], cost=r["cost"],
                price=_fraction(r["price"]), effective_votes=_fraction(r["effective_votes"]),
                paid=_fraction(r["paid"]) or Fraction(0), payers=r["payers"])
                for r in published["rounds"]),
            voter_budget=_fraction(published.get("voter_budget")), notes=())
        found = tallies.explain(election, outcome)
    except (ValueError, KeyError, TypeError, ZeroDivisionError):
        return _derived(published, on_ballot, ballots)
    completion = any(r["phase"] == "completion" for r in published["rounds"])
    out = []
    for x in found:
        money = x.supporters_money
        if x.selected:
            reason = ""
        elif x.votes == 0:
            reason = "personne n'a voté pour ce projet"
        elif x.cost > published["budget"]:
            reason = "il coûte plus que le budget entier"
        elif money is not None and money < x.cost:
            reason = (f"ses soutiens n'avaient plus assez de budget pour le financer (il leur "
                      f"restait {amount_fr(int(money))} pour un coût de {amount_fr(x.cost)})")
            if completion:
                reason += (f", et il ne tenait plus dans le budget restant ({amount_fr(left)} "
                           "restants)")
        else:
            reason = f"il ne tenait plus dans le budget restant ({amount_fr(left)} restants)"
        out.append({"id": x.id, "cost": x.cost, "votes": x.votes, "selected": x.selected,
                    "round": x.round, "phase": x.phase, "reason": reason,
                    "supporters_money": None if money is None else str(money)})
    return out


def _derived(published: dict[str, Any], on_ballot: dict[str, int],
             ballots: list[list[list]]) -> list[dict[str, Any]]:
    where = {r["project"]: (i, r["phase"]) for i, r in enumerate(published["rounds"])}
    votes: dict[str, int] = {}
    for ballot in ballots:
        for p, n in ballot:
            if n > 0:
                votes[str(p)] = votes.get(str(p), 0) + 1
    left = published["budget"] - published["cost"]
    out = []
    for pid, cost in sorted(on_ballot.items()):
        i, phase = where.get(pid, (None, None))
        if i is not None:
            reason = ""
        elif not votes.get(pid):
            reason = "personne n'a voté pour ce projet"
        elif cost > left:
            reason = f"il ne tenait plus dans le budget restant ({amount_fr(left)} restants)"
        else:
            reason = "la règle de répartition ne l'a pas retenu"
        out.append({"id": pid, "cost": cost, "votes": votes.get(pid, 0),
                    "selected": i is not None, "round": i, "phase": phase, "reason": reason,
                    "supporters_money": None})
    return out


class BudgetProjection(Projection[BudgetViews]):
    """Projects budget cycle, project and ballot events into `BudgetViews`."""

    name = FOLLOWER
    topics = stored_topics(
        BudgetCycle.Opened, BudgetCycle.ProjectAdded, BudgetCycle.ReviewOpened,
        BudgetCycle.VotingOpened, BudgetCycle.VotingClosed, BudgetCycle.ResultsPublished,
        BudgetCycle.Closed, BudgetProject.Submitted, BudgetProject.Ruled,
        BudgetProject.Appealed, BudgetProject.AppealDecided, BudgetProject.MilestoneRecorded,
        BudgetBallot.Cast, BudgetBallot.Replaced,
    )

    @singledispatchmethod
    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.view.insert_tracking(tracking)

    # -- ballots -------------------------------------------------------------------------------

    @process_event.register
    def _(self, e: BudgetBallot.Cast, tracking: Tracking) -> None:
        self.view.ballot(tracking, _CAST, e.cycle_id, e.district, e.voter_ref, e.choices)

    @process_event.register
    def _(self, e: BudgetBallot.Replaced, tracking: Tracking) -> None:
        self.view.ballot(tracking, _REPLACED, e.cycle_id, e.district, e.voter_ref, e.choices)

    # -- the cycle -----------------------------------------------------------------------------

    @process_event.register
    def _(self, e: BudgetCycle.Opened, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetCycle.Opened", insert=("budget_cycle_view", {
            "cycle_id": e.originator_id, "metropolis_id": e.metropolis_id, "title": e.title,
            "stage": "submission", "districts": Jsonb(e.districts), "rules": Jsonb(e.rules),
            "charter_version": e.charter_version, "source": e.source,
            "submission_closes_at": e.submission_closes_at,
            "opened_position": tracking.notification_id,
            "position": tracking.notification_id}))

    @process_event.register
    def _(self, e: BudgetCycle.ProjectAdded, tracking: Tracking) -> None:
        # The project's own Submitted, stored with it, is its timeline entry.
        self.view.record(tracking, e, "BudgetCycle.ProjectAdded", timeline=False)

    @process_event.register
    def _(self, e: BudgetCycle.ReviewOpened, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetCycle.ReviewOpened",
                         update={"stage": "review", "review_closes_at": e.closes_at})

    @process_event.register
    def _(self, e: BudgetCycle.VotingOpened, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetCycle.VotingOpened", update={
            "stage": "voting", "voting_opens_at": e.at, "voting_closes_at": e.closes_at,
            "on_ballot": Jsonb(e.ballots), "voting_position": tracking.notification_id})

    @process_event.register
    def _(self, e: BudgetCycle.VotingClosed, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetCycle.VotingClosed",
                         update={"closed_position": tracking.notification_id})

    @process_event.register
    def _(self, e: BudgetCycle.ResultsPublished, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetCycle.ResultsPublished",
                         update={"stage": "results", "results": Jsonb(e.results)})

    @process_event.register
    def _(self, e: BudgetCycle.Closed, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetCycle.Closed", update={
            "stage": "closed", "outcome": e.outcome, "reason": e.reason})

    # -- projects ------------------------------------------------------------------------------

    @process_event.register
    def _(self, e: BudgetProject.Submitted, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetProject.Submitted", insert=(
            "budget_project_view", {
                "project_id": e.originator_id, "cycle_id": e.cycle_id, "district": e.district,
                "author_ref": e.author_ref, "title": e.title_sealed,
                "summary": e.summary_sealed, "cost": e.cost, "competence": e.competence,
                "position": tracking.notification_id}))

    @process_event.register
    def _(self, e: BudgetProject.Ruled, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetProject.Ruled", project_update={
            "eligible": e.eligible, "cause": e.cause, "reason": e.reason})

    @process_event.register
    def _(self, e: BudgetProject.Appealed, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetProject.Appealed",
                         project_update={"appeal": "pending"})

    @process_event.register
    def _(self, e: BudgetProject.AppealDecided, tracking: Tracking) -> None:
        change: dict[str, Any] = {"appeal": "upheld" if e.upheld else "dismissed",
                                  "appeal_reason": e.reason}
        if e.upheld:
            change["eligible"] = True
        self.view.record(tracking, e, "BudgetProject.AppealDecided", project_update=change)

    @process_event.register
    def _(self, e: BudgetProject.MilestoneRecorded, tracking: Tracking) -> None:
        self.view.record(tracking, e, "BudgetProject.MilestoneRecorded", project_update={
            "milestones": Jsonb([{"status": e.status, "note": e.note,
                                  "at": e.at.isoformat()}])})
