"""Rebuilding the views from the log in batches (projections/rebuild.py), on a real PostgreSQL:
the same rows as the one-event-per-transaction runner, and exactly once across interruptions."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from api.settings import Settings
from api.wiring import PROJECTIONS, make_registre, projection_runner
from domain.application import Registre
from domain.deliberation.ballot import Vote
from projections.rebuild import BatchedView, rebuild
from tests.integration.helpers import found, to_vote

pytestmark = pytest.mark.integration


def _log(app: Registre) -> None:
    """A log with most kinds of events: supports, comments, votes (one late), a ballot cut
    short (a compliance flag), a decision, a withdrawal, a notice, a charter amendment."""
    mid = found(app, members=5)
    for n in range(3):
        pid, _ = app.submit_proposal(mid, f"citoyen-{n}", f"Proposition {n}", "Résumé")
        app.open_consultation(pid, app.clock())
        for c in range(4):
            app.support(pid, f"soutien-{c}")
            app.comment(pid, f"soutien-{c}", f"Commentaire {c} sur {n}")
        if n == 2:
            app.issue_notice(pid, "garant", "avis", "Avis du garant")
            app.withdraw(pid, f"citoyen-{n}")
            continue
        opened = app.open_vote(pid, app.clock())
        for m, choice in zip(("m1", "m2", "m3"), ("for", "against", "for"), strict=True):
            app.cast_vote(pid, m, choice)
        cutoff = app.close_ballot(pid, app.clock())
        ballot = app.get_proposal(pid).ballot_id
        app.save(Vote(ballot_id=ballot, proposal_id=pid, voter_ref="m4", choice="for"))
        app.decide(pid, opened.position, cutoff)
    _petition(app)
    _budget(app)
    _convention(app)
    rules = app.amended_rules(mid, {"consultation_seconds": 7200})
    app.amend_charter(mid, rules)
    to_vote(app, mid)


def _petition(app: Registre) -> None:
    """A petition collecting signatures: two, one withdrawn, one renewed, then closed."""
    from datetime import date

    from domain.rules.petition import SignerClaims

    claims = SignerClaims(commune="A", elector=True, birthdate=date(1990, 1, 1))
    mid = found(app, members=3, petition_kinds={"interpellation": {
        "basis": "absolute", "threshold_absolute": 2}})
    pid, _ = app.draft_petition(mid, "auteur", "interpellation", "Pétition", "Texte")
    app.open_petition_admissibility(pid, app.clock())
    app.rule_petition_admissibility(pid, "greffe", True)
    app.open_collection(pid, app.clock())
    for signer in ("s1", "s2"):
        app.sign_petition(pid, signer, claims)
    app.withdraw_signature(pid, "s2")
    app.sign_petition(pid, "s2", claims)
    app.close_collection(pid, app.clock())


def _budget(app: Registre) -> None:
    """A budget cycle tallied: projects reviewed and appealed, ballots (one replaced, one
    late), results, a milestone."""
    from tests.integration.test_budget_views import budget_run

    budget_run(app)


def _convention(app: Registre) -> None:
    """A convention drawn by lot that ran its course (a declined seat replaced)."""
    from tests.integration.test_convention_views import convened

    convened(app)


def _last(app: Registre, projection: type) -> int:
    """The last log position among the events the projection follows (its runner tracks
    only those)."""
    topics = set(projection.topics)
    return max(n.id for n in app.recorder.select_notifications(start=1, limit=10**6)
               if n.topic in topics)


def _snapshot(settings: Settings, view: BatchedView, app_name: str) -> dict[str, Any]:
    """Every row of every table of the view, and its tracked position."""
    tables: dict[str, Any] = {}
    with psycopg.connect(settings.postgres_url) as conn:
        for table in view.view_tables:
            rows = conn.execute(SQL("SELECT * FROM {}").format(Identifier(table))).fetchall()
            tables[table] = sorted(rows, key=repr)
        row = conn.execute(SQL("SELECT notification_id FROM {} WHERE application_name = %s")
                           .format(Identifier(view.tracking_table_name)),
                           (app_name,)).fetchone()
    tables["tracking"] = row
    return tables


def _view(settings: Settings, projection: type, view_class: type) -> BatchedView:
    from api.wiring import _tracking_recorder

    return _tracking_recorder(settings, projection.name, view_class, create_table=False)


@pytest.mark.parametrize(("projection", "view_class"), PROJECTIONS,
                         ids=[p.name for p, _ in PROJECTIONS])
def test_rebuild_gives_the_runners_rows_when_rebuilt_in_batches(
    settings: Settings, projection: type, view_class: type
) -> None:
    app = make_registre(settings)
    _log(app)
    with projection_runner(settings, projection, view_class) as runner:
        runner.wait(_last(app, projection), timeout=20)
    view = _view(settings, projection, view_class)
    by_runner = _snapshot(settings, view, app.name)
    assert by_runner["tracking"] is not None
    assert any(by_runner[t] for t in view.view_tables)

    applied = rebuild(app, projection, view, batch_size=7)

    assert applied > 7
    rebuilt = _snapshot(settings, view, app.name)
    for table, rows in by_runner.items():
        assert rebuilt[table] == rows, table
    app.close()


class Interrupted(Exception):
    pass


@pytest.mark.parametrize(("projection", "view_class"), PROJECTIONS,
                         ids=[p.name for p, _ in PROJECTIONS])
def test_rebuild_resumes_to_the_same_rows_when_interrupted_after_some_batches(
    settings: Settings, projection: type, view_class: type
) -> None:
    app = make_registre(settings)
    _log(app)
    with projection_runner(settings, projection, view_class) as runner:
        runner.wait(_last(app, projection), timeout=20)
    view = _view(settings, projection, view_class)
    by_runner = _snapshot(settings, view, app.name)
    committed: list[int] = []

    def fail_after_two(position: int, count: int) -> None:
        committed.append(position)
        if len(committed) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        rebuild(app, projection, view, batch_size=5, on_batch=fail_after_two)
    # Exactly the two committed batches are in the view: its position is the second's end.
    assert view.max_tracking_id(app.name) == committed[1]
    assert _snapshot(settings, view, app.name) != by_runner

    started: list[int] = []
    rebuild(app, projection, view, batch_size=5, on_start=lambda done, _: started.append(done))

    assert started == [committed[1]]  # resumed, not started again
    assert _snapshot(settings, view, app.name) == by_runner
    app.close()


def test_rebuild_starts_again_from_the_first_event_when_the_last_one_finished(
    settings: Settings,
) -> None:
    projection, view_class = PROJECTIONS[0]
    app = make_registre(settings)
    _log(app)
    view = _view(settings, projection, view_class)
    rebuild(app, projection, view, batch_size=50)
    first = _snapshot(settings, view, app.name)
    started: list[int] = []

    rebuild(app, projection, view, batch_size=50, on_start=lambda done, _: started.append(done))

    assert started == [0]
    assert _snapshot(settings, view, app.name) == first
    app.close()


def test_page_decoder_gives_the_mappers_events_when_decoding_every_stored_event(
    settings: Settings,
) -> None:
    from projections.rebuild import _page_decoder, _pages

    app = make_registre(settings)
    _log(app)
    topics = sorted({n.topic for n in app.recorder.select_notifications(start=1, limit=10**6)})
    pages = list(_pages(app.recorder, 0, app.recorder.max_notification_id(), topics, 9))

    decoded = [e for page in pages for e in _page_decoder(app.mapper)(page)]
    expected = [app.mapper.to_domain_event(s) for page in pages for s in page]

    assert len(decoded) == app.recorder.max_notification_id()
    assert [(type(e), e.__dict__) for e in decoded] == [
        (type(e), e.__dict__) for e in expected]
    assert all(type(e.originator_id) is type(x.originator_id) for e, x in zip(
        decoded, expected, strict=True))
    app.close()
