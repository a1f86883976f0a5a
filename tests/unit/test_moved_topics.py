"""Events stored before the domain became one package per process stay readable: their old
topics (`domain.proposal:Proposal.Submitted`) resolve to the moved classes, the followers select
them, and the verifier reads them (tests/data/log-before-package-move.json was recorded by the
code before the move, with tests/data/record_log_before_move.py: founded, submitted, consulted,
supported, commented, voted, decided)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from domain.deliberation.proposal import Proposal
from domain.governance.metropolis import Metropolis
from domain.ledger.leaf import MOVED_MODULES, canonical_topic
from domain.topics import stored_topics
from projections.compliance import ComplianceProjection
from projections.proposals import ProposalProjection
from tests.unit.helpers import in_memory_app

LOG = json.loads((Path(__file__).parents[1] / "data" / "log-before-package-move.json").read_text())


def _replayed_app():
    app = in_memory_app()
    app.recorder.insert_events([
        StoredEvent(UUID(e["originator_id"]), e["originator_version"], e["topic"],
                    base64.b64decode(e["state"]))
        for e in LOG["events"]])
    return app


def test_old_log_uses_the_old_module_names_when_recorded_before_the_move() -> None:
    modules = {e["topic"].partition(":")[0] for e in LOG["events"]}
    assert modules <= set(MOVED_MODULES), modules


def test_aggregates_load_from_old_topics_when_the_log_predates_the_move() -> None:
    app = _replayed_app()
    submitted = next(e for e in LOG["events"] if e["topic"] == "domain.proposal:Proposal.Submitted")
    proposal = app.get_proposal(UUID(submitted["originator_id"]))
    assert isinstance(proposal, Proposal)
    assert (proposal.stage, proposal.outcome) == ("decided", "adopted")
    assert app.personal_data.open(proposal.title_sealed) == "Titre"  # upcast: recorded in clear
    founded = next(e for e in LOG["events"] if e["topic"].endswith("Metropolis.Founded"))
    metropolis = app.get_metropolis(UUID(founded["originator_id"]))
    assert isinstance(metropolis, Metropolis) and metropolis.council_size == 3


def test_followers_select_old_topics_when_events_predate_the_move() -> None:
    selected = set(ProposalProjection.topics) | set(ComplianceProjection.topics)
    wanted = {e["topic"] for e in LOG["events"]
              if not e["topic"].endswith(("Metropolis.Founded", "Charter.Adopted",
                                              "Metropolis.MemberSeated"))}
    assert wanted <= set(ProposalProjection.topics)
    assert "domain.charter:Charter.Adopted" in selected
    assert "domain.deliberation.proposal:Proposal.Submitted" in stored_topics(Proposal.Submitted)


def test_verifier_reads_old_topics_as_todays_when_canonicalised() -> None:
    assert (canonical_topic("domain.proposal:Proposal.Decided")
            == "domain.deliberation.proposal:Proposal.Decided")
    assert canonical_topic("domain.deliberation.ballot:Vote.Cast") == "domain.deliberation.ballot:Vote.Cast"


def test_verifier_recounts_the_ballot_of_a_log_recorded_before_the_move() -> None:
    from domain.ledger.leaf import LogRecord
    from domain.ledger.verify import Report, _Recount

    report = Report()
    recount = _Recount(report)
    for e in LOG["events"]:
        recount.apply(LogRecord(e["id"], UUID(e["originator_id"]), e["originator_version"],
                                e["topic"], base64.b64decode(e["state"])))
    assert report.errors == []
    assert report.ballots_recounted == 1
