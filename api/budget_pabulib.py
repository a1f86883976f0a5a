"""Pabulib files (pabulib.org) in and out of the ledger: a real city's participatory budget
imported as a closed cycle, for replays and research; any closed cycle exported as a `.pb`.

Import (`import_pb`): the file becomes one cycle of a metropolis, district `metropolis`, its
budget the file's, its source `pabulib:<sha256 of the file's bytes>` (so the file it came
from is named in its first event). Every stage is run at once through the budget commands
with the real clock: the cycle opens with the file's ballot kind and the rule the city used
(`PABULIB_RULES[META rule]`), each project is submitted (its name as title, sealed under the
import's pseudonym, its Pabulib id and other columns in its sealed summary), the review opens
and closes by the clerks' silence, each voter casts their ballot under the pseudonym
`pabulib:<voter_id>` (validated as any ballot, saved in batches), voting closes, the tally
runs at the close position, the cycle closes. No person's name or attribute (age, sex) from
the file is recorded.

Export (`export_pb`): a closed cycle's district as a `PbFile` (`pabulib.dump` writes it):
META (description, country, unit, budget, vote_type, rule, num_projects, num_votes…),
PROJECTS (project_id, cost, votes, name, selected), VOTES (voter_id: the voter's pseudonym,
vote, and points for a cumulative ballot). An imported cycle gives back its file's project ids.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from domain.application import Registre
from domain.budget.cycle import BudgetCycle, CycleStage
from domain.errors import InvalidBudgetCycle
from domain.rules import pabulib
from domain.rules.budget import PABULIB_RULES
from domain.rules.budget_cycle import METROPOLIS
from domain.rules.petition import SignerClaims

SOURCE_PREFIX = "pabulib:"
VOTER_PREFIX = "pabulib:"
BATCH = 500
SUMMARY_KIND = "pabulib-project"
TALLY_RULE_OF = {ours: theirs for theirs, ours in PABULIB_RULES.items()}
IMPORT_SECONDS = 3600  # each stage's period; all are run at once, long before it ends


@dataclass(frozen=True)
class Imported:
    """What an import recorded: the cycle, its source, how many projects and ballots."""

    cycle_id: UUID
    source: str
    projects: int
    ballots: int
    results: dict[str, Any]


def source_of(data: bytes) -> str:
    return SOURCE_PREFIX + hashlib.sha256(data).hexdigest()


def _ballot_rules(pb: pabulib.PbFile) -> dict[str, Any]:
    vote_type = pb.meta.get("vote_type", "approval").strip()
    if vote_type in pabulib.POINTS_VOTE_TYPES:
        most = max((sum(int(p) for p in row["points"].split(",") if p.strip())
                    for row in pb.votes), default=1)
        return {"ballot": "cumulative", "points": max(1, most), "max_points_per_project": 0}
    # approval and ordinal (whose ranks the tally rules do not use): one point per project
    return {"ballot": "approval", "min_approvals": 1, "max_approvals": 0}


def import_pb(app: Registre, metropolis_id: UUID, data: bytes, clerk_ref: str,
              name: str = "<pb>") -> Imported:
    """Import the `.pb` file `data` into the metropolis as a closed, tallied cycle (see the
    module docstring); `InvalidBudgetCycle` or `pabulib.PbError` when it cannot be."""
    pb = pabulib.parse(data.decode("utf-8"), source=name)
    source = source_of(data)
    rule = PABULIB_RULES.get(pb.meta.get("rule", "").strip())
    if rule is None:
        raise InvalidBudgetCycle(
            f"{name}: the file's rule {pb.meta.get('rule')!r} is none this ledger reproduces "
            f"({', '.join(PABULIB_RULES)})")
    budget = int(pb.meta["budget"].strip())
    if budget < 1:
        raise InvalidBudgetCycle(f"{name}: the file's budget is zero")
    overrides = {**_ballot_rules(pb), "rule": rule, "tie_break": "default",
                 "replace_ballot": False, "min_age": 0, "max_projects_per_author": 0,
                 "submission_seconds": IMPORT_SECONDS, "review_seconds": IMPORT_SECONDS,
                 "voting_seconds": IMPORT_SECONDS}
    title = pb.meta.get("description", "").strip() or f"Pabulib {source[8:20]}"
    cycle_id, _ = app.open_budget_cycle(metropolis_id, clerk_ref, title, {METROPOLIS: budget},
                                        overrides, source=source)
    metropolis = app.get_metropolis(metropolis_id)
    commune = metropolis.communes[0]["code"]
    claims = SignerClaims(commune=commune, elector=True, birthdate=date(1900, 1, 1))
    competences = app.get_charter(metropolis_id).rules().competences
    competence = competences[0] if competences else None
    author = f"pabulib-import:{source[8:24]}"
    ids: dict[str, str] = {}
    for row in pb.projects:
        pid = row["project_id"].strip()
        summary = json.dumps({"kind": SUMMARY_KIND, "project_id": pid, "columns": {
            k: v for k, v in row.items() if k not in ("project_id", "cost", "votes",
                                                      "selected", "name")}},
            ensure_ascii=False)
        project_id, _ = app.submit_budget_project(
            cycle_id, author, claims, METROPOLIS, row.get("name", "").strip() or pid, summary,
            int(row["cost"].strip()), competence)
        ids[pid] = str(project_id)
    now = app.clock()
    app.open_budget_review(cycle_id, now)
    app.open_budget_voting(cycle_id, now)
    points = pb.meta.get("vote_type", "approval").strip() in pabulib.POINTS_VOTE_TYPES
    pending: list[Any] = []
    for row in pb.votes:
        chosen = [p.strip() for p in row["vote"].split(",") if p.strip()]
        given = ([int(p) for p in row["points"].split(",") if p.strip()] if points
                 else [1] * len(chosen))
        choices = [(ids[p], n) for p, n in zip(chosen, given) if n > 0]
        act = app.ballot_act(cycle_id, VOTER_PREFIX + row["voter_id"].strip(), claims,
                             METROPOLIS, choices)
        pending.extend(act.prepare())
        if len(pending) >= BATCH:
            app.save(*pending)
            pending = []
    if pending:
        app.save(*pending)
    app.close_budget_voting(cycle_id, app.clock())
    results = app.tally_budget_cycle(cycle_id, app.clock())
    app.close_budget_cycle(cycle_id, app.clock(), "completed")
    return Imported(cycle_id, source, len(ids), len(pb.votes), results)


def import_file(app: Registre, metropolis_id: UUID, path: Path, clerk_ref: str) -> Imported:
    return import_pb(app, metropolis_id, path.read_bytes(), clerk_ref, name=str(path))


def _original(app: Registre, summary_sealed: str) -> dict[str, Any] | None:
    text = app.personal_data.open(summary_sealed)
    try:
        data = json.loads(text or "")
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("kind") == SUMMARY_KIND else None


def export_pb(app: Registre, cycle_id: UUID, district: str | None = None) -> pabulib.PbFile:
    """A closed cycle's district (default: its only one, or `metropolis`) as a Pabulib file."""
    cycle: BudgetCycle = app.get_budget_cycle(cycle_id)
    if cycle.stage != CycleStage.CLOSED or cycle.results is None:
        raise InvalidBudgetCycle(f"budget cycle {cycle_id} is not closed with its results")
    if district is None:
        district = next(iter(cycle.districts)) if len(cycle.districts) == 1 else METROPOLIS
    if district not in cycle.districts:
        raise InvalidBudgetCycle(f"budget cycle {cycle_id} has no district {district}")
    rules = cycle.cycle_rules
    result = cycle.results[district]
    ballots, _ = app.budget_ballots(cycle_id)
    counted = ballots.get(district, {})
    on_ballot = cycle.ballots.get(district, {})
    projects = [p for p in app.budget_projects(cycle_id) if str(p.id) in on_ballot]
    titles = app.personal_data.open_all([p.title_sealed for p in projects])
    pb_id: dict[str, str] = {}
    for project in projects:
        original = _original(app, project.summary_sealed) if cycle.source.startswith(
            SOURCE_PREFIX) else None
        pb_id[str(project.id)] = str(original["project_id"]) if original else str(project.id)
    votes: dict[str, int] = {}
    for choices in counted.values():
        for pid, n in choices:
            if n > 0:
                votes[pid] = votes.get(pid, 0) + 1
    selected = set(result["selected"])
    metropolis = app.get_metropolis(cycle.metropolis_id)
    cumulative = rules.ballot == "cumulative"
    meta = {
        "description": cycle.title, "country": "France", "unit": metropolis.name,
        "district": district, "instance": str(cycle.submission_closes_at.year),
        "num_projects": str(len(projects)), "num_votes": str(len(counted)),
        "budget": str(cycle.districts[district]),
        "vote_type": "cumulative" if cumulative else "approval",
        "rule": TALLY_RULE_OF.get(rules.rule, rules.rule),
        "date_begin": (cycle.voting_opens_at or cycle.submission_closes_at).strftime(
            "%d.%m.%Y"),
        "date_end": (cycle.voting_closes_at or cycle.submission_closes_at).strftime(
            "%d.%m.%Y"),
        "currency": "EUR", "source": cycle.source, "registre_cycle": str(cycle_id),
    }
    if rules.ballot == "knapsack":
        meta["max_sum_cost"] = str(cycle.districts[district])
    if cumulative:
        meta["max_sum_points"] = str(rules.points)
    elif rules.min_approvals:
        meta["min_length"] = str(rules.min_approvals)
    if rules.max_approvals and not cumulative:
        meta["max_length"] = str(rules.max_approvals)
    rows = [{"project_id": pb_id[str(p.id)], "cost": str(p.cost),
             "votes": str(votes.get(str(p.id), 0)),
             "name": title if title is not None else "", "selected":
             "1" if str(p.id) in selected else "0"}
            for p, title in zip(projects, titles)]
    vote_rows = []
    for voter, choices in counted.items():
        row = {"voter_id": voter, "vote": ",".join(pb_id.get(p, p) for p, _ in choices)}
        if cumulative:
            row["points"] = ",".join(str(n) for _, n in choices)
        vote_rows.append(row)
    return pabulib.PbFile(
        meta=meta, projects=tuple(rows), votes=tuple(vote_rows),
        project_columns=("project_id", "cost", "votes", "name", "selected"),
        vote_columns=("voter_id", "vote", "points") if cumulative else ("voter_id", "vote"))
