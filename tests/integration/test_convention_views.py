"""The citizens' conventions' views on a real PostgreSQL (projections/conventions.py), driven
through the domain (a Registre made by `make_registre`): the count of volunteers while
registration is open and nothing of the pool before its commitment, the pool as committed
and each volunteer's exact probability, the draw, a declined seat and its alternate, the
sitting, sessions and a proposal sent to the council, a failed pool with its relaxation, the
French timeline, no contact anywhere, a rebuild giving the runner's rows; and the compliance
view's convention checks on the same log."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from uuid import UUID

import psycopg
import pytest

from api.settings import Settings
from api.wiring import make_convention_views, make_registre, projection_runner
from domain.application import Registre
from domain.rules import sortition
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from projections.conventions import ConventionProjection, ConventionViews
from projections.rebuild import rebuild
from tests.integration.test_budget_views import flags
from tests.integration.test_rebuild import _snapshot, _view
from tests.unit.test_convention import uniform_solver

pytestmark = pytest.mark.integration

DAY = 86400
SECRET = "5a" * 32
CONTACT = "06 12 34 56 78"
KIND = {"size": 4, "quotas": {"gender": {"f": [2, 2], "m": [2, 2]},
                              "commune": {"A": [1, 3], "B": [1, 3]}},
        "method": "leximin", "randomness": "guarantor_secret",
        "registration_seconds": 10 * DAY, "reveal_seconds": 2 * DAY,
        "acceptance_seconds": 5 * DAY, "term_seconds": 100 * DAY}
CLAIMS = {c: SignerClaims(commune=c, birthdate=date(1980, 1, 1)) for c in ("A", "B")}


def found(app: Registre) -> UUID:
    return app.found_metropolis(
        f"c-{uuid.uuid4().hex[:8]}", "Métropole de la convention",
        [{"code": "A", "name": "Ville A", "population": 600},
         {"code": "B", "name": "Ville B", "population": 400}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     convention_kinds={"convention": KIND}))


@dataclass
class Run:
    app: Registre
    mid: UUID
    cid: UUID
    panel: list[str]


def registering(app: Registre, mid: UUID | None = None, per_type: int = 3) -> Run:
    """A convention of 4 (2 f, 2 m, communes A and B 1 to 3 each), the guarantor's secret
    committed, `per_type` volunteers of each (commune, gender) and one more who withdrew."""
    mid = mid or found(app)
    cid, _ = app.open_convention(mid, "greffe-1", "convention", "Convention climat",
                                 "Proposer des mesures pour le climat")
    app.commit_convention_seed(cid, "garant-1", hashlib.sha256(bytes.fromhex(SECRET)).hexdigest())
    i = 0
    for commune in ("A", "B"):
        for gender in ("f", "m"):
            for _ in range(per_type):
                app.register_volunteer(cid, f"v{i:02d}", CLAIMS[commune], {"gender": gender},
                                       CONTACT)
                i += 1
    app.register_volunteer(cid, "quitter", CLAIMS["A"], {"gender": "f"}, CONTACT)
    app.withdraw_volunteer(cid, "quitter")
    return Run(app, mid, cid, [])


def convened(app: Registre) -> Run:
    """The whole course: committed, revealed, drawn; the first member declines (an alternate
    of the same values takes the seat), the second accepts; the sitting, one session, one
    proposal to the council, the end of the mandate."""
    run = registering(app)
    cid = run.cid
    assert app.commit_convention_pool(cid, app.clock(), uniform_solver)
    app.reveal_convention_seed(cid, "garant-1", SECRET)
    run.panel = app.draw_convention_panel(cid, app.clock())
    app.answer_convention_seat(cid, run.panel[0], accept=False)
    app.answer_convention_seat(cid, run.panel[1], accept=True)
    app.open_convention_sitting(cid, app.clock())
    app.record_convention_session(cid, "greffe-1", 1, "Séance d'ouverture")
    app.send_convention_proposal(cid, "greffe-1", "Tarif social des transports",
                                 "Proposition de la convention")
    app.end_convention(cid, app.clock())
    return run


def applied(settings: Settings, app: Registre) -> ConventionViews:
    with projection_runner(settings, ConventionProjection, ConventionViews) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=20)
    return make_convention_views(settings)


@pytest.fixture
def app(settings: Settings):
    app = make_registre(settings)
    yield app
    app.close()


def test_counts_volunteers_and_shows_no_pool_when_registration_is_open(
    settings: Settings, app: Registre,
) -> None:
    run = registering(app)
    views = applied(settings, app)
    assert views.volunteers(run.cid) == 12  # the one who withdrew is not counted
    shown = views.convention(run.cid)
    assert shown is not None
    assert (shown["stage"], shown["volunteers"], shown["pool_size"]) == ("registration", 12,
                                                                         None)
    assert shown["seed"] is None and shown["commitment"] is None
    assert views.pool(run.cid) is None and views.probabilities(run.cid) is None
    assert shown["guarantor_digest"] == hashlib.sha256(bytes.fromhex(SECRET)).hexdigest()


def test_pool_and_probabilities_are_the_committed_ones_when_the_pool_is_committed(
    settings: Settings, app: Registre,
) -> None:
    run = registering(app)
    app.commit_convention_pool(run.cid, app.clock(), uniform_solver)
    views = applied(settings, app)
    committed = app.get_convention(run.cid).committed
    assert views.pool(run.cid) == [{"pseudonym": ref, "values": values}
                                   for ref, values in committed["pool"]]
    assert views.volunteers(run.cid) is None
    people = [sortition.person(ref, values) for ref, values in committed["pool"]]
    exact = sortition.marginals(people, sortition.Distribution.from_json(
        committed["distribution"]))
    chances = views.probabilities(run.cid)
    assert chances is not None
    assert {x["pseudonym"]: Fraction(x["fraction"]) for x in chances["people"]} == exact
    assert sum(Fraction(x["fraction"]) for x in chances["people"]) == 4  # the seats
    assert Fraction(chances["min"]["fraction"]) == min(exact.values())
    assert Fraction(chances["max"]["fraction"]) == max(exact.values())
    first = chances["people"][0]
    assert abs(Fraction(first["probability"]) - Fraction(first["fraction"])) < Fraction(
        1, 10**12)
    shown = views.convention(run.cid)
    assert (shown["stage"], shown["pool_size"]) == ("committed", 12)
    assert shown["commitment"] == app.get_convention(run.cid).commitment
    assert shown["randomness"]["source"] == "guarantor_secret"
    assert shown["deadlines"]["reveal_by"] == app.get_convention(run.cid).reveal_by


def test_convention_shows_the_draw_the_alternate_and_the_sitting_when_it_ran_its_course(
    settings: Settings, app: Registre,
) -> None:
    run = convened(app)
    views = applied(settings, app)
    convention = app.get_convention(run.cid)
    shown = views.convention(run.cid)
    assert shown is not None
    assert shown["seed"] == SECRET and shown["drawn"] == run.panel
    (declined,) = shown["declined"]
    assert declined["member"] == run.panel[0] and declined["index"] == 0
    assert declined["replacement"] in convention.panel
    assert shown["panel"] == convention.panel and shown["members"] == convention.members
    assert shown["accepted"] == [run.panel[1]]
    assert [s["number"] for s in shown["sessions"]] == [1]
    assert shown["proposals"] == [str(p) for p in convention.proposals]
    assert (shown["stage"], shown["outcome"], shown["failure"]) == ("ended", "completed",
                                                                    None)
    listed = views.conventions(run.mid)
    assert [c["id"] for c in listed] == [run.cid] and listed[0]["size"] == 4
    assert views.convention(uuid.uuid4()) is None and views.conventions(uuid.uuid4()) == []


def test_timeline_tells_the_convention_in_french_without_an_entry_per_volunteer(
    settings: Settings, app: Registre,
) -> None:
    run = convened(app)
    timeline = applied(settings, app).timeline(run.cid)
    labels = [t["label"] for t in timeline]
    replacement = app.get_convention(run.cid).panel[-1]
    starts = ["Convention ouverte", "Engagement du garant", "Vivier clos et engagé : 12 "
              "volontaire(s)", "Graine révélée", "Panel tiré au sort : 4 membre(s)",
              f"Siège refusé — remplacé par {replacement} (siège de {run.panel[0]})",
              f"Siège accepté par {run.panel[1]}", "Installation : 4 membre(s)",
              "Séance 1 : Séance d'ouverture", "Proposition transmise au conseil",
              "Fin du mandat"]
    assert len(labels) == len(starts)
    for label, start in zip(labels, starts, strict=True):
        assert label.startswith(start), (label, start)
    assert [t["position"] for t in timeline] == sorted(t["position"] for t in timeline)


def test_failed_pool_shows_its_rule_and_smallest_relaxation(settings: Settings,
                                                           app: Registre) -> None:
    mid = found(app)
    cid, _ = app.open_convention(mid, "greffe-1", "convention", "Convention mobilités", "M",
                                 overrides={"invitations": 3})
    app.draw_convention_invitations(cid, "greffe-1", [f"adresse-{i}" for i in range(20)],
                                    "tirage-public-2027")
    app.commit_convention_seed(cid, "garant-1", hashlib.sha256(bytes.fromhex(SECRET)).hexdigest())
    for i in range(5):
        app.register_volunteer(cid, f"v{i}", CLAIMS["A"], {"gender": "m"}, CONTACT)
    assert app.commit_convention_pool(cid, app.clock(), uniform_solver) is None
    views = applied(settings, app)
    shown = views.convention(cid)
    assert (shown["stage"], shown["outcome"], shown["invitations"]) == ("ended", "failed", 3)
    assert shown["failure"]["rule"].startswith("sortition.")
    assert shown["failure"]["relaxation"] and shown["failure"]["pool_size"] == 5
    assert views.pool(cid) is None
    labels = [t["label"] for t in views.timeline(cid)]
    assert labels[1].startswith("Tirage des invitations : 3 invitation(s) tirée(s) parmi 20")
    assert any(label.startswith("Vivier clos sans panel possible (5 volontaires)")
               and "assouplissement le plus petit : minimum de" in label for label in labels)
    assert labels[-1] == "Convention close : vivier insuffisant"


def test_no_contact_is_in_any_view_when_volunteers_gave_theirs(settings: Settings,
                                                              app: Registre) -> None:
    convened(app)
    view = applied(settings, app)
    rows = _snapshot(settings, view, app.name)
    assert rows["convention_pool_view"]
    assert CONTACT not in repr(rows)


def test_rebuild_gives_the_runners_rows_when_rebuilt_in_batches(settings: Settings,
                                                               app: Registre) -> None:
    convened(app)
    registering(app)
    applied(settings, app)
    view = _view(settings, ConventionProjection, ConventionViews)
    by_runner = _snapshot(settings, view, app.name)
    assert by_runner["convention_pool_view"] and by_runner["convention_timeline_view"]
    for batch in (3, 1000):
        rebuild(app, ConventionProjection, view, batch_size=batch)
        assert _snapshot(settings, view, app.name) == by_runner, batch


def test_compliance_flags_nothing_when_the_convention_ran_by_its_rules(
    settings: Settings, app: Registre,
) -> None:
    convened(app)
    assert [f for f in flags(settings, app) if f["rule"].startswith("convention.")] == []
    with psycopg.connect(settings.postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM registre_dead_letters").fetchone()[0] == 0


def test_compliance_flags_a_forged_panel_and_a_late_reveal(settings: Settings,
                                                         app: Registre) -> None:
    run = registering(app)
    cid = run.cid
    app.commit_convention_pool(cid, app.clock(), uniform_solver)
    convention = app.get_convention(cid)
    convention.reveal_seed(seed=SECRET, revealed_by="garant-1",
                           at=convention.reveal_by + timedelta(hours=1))
    people, _, _, dist = app._committed_people(convention)
    honest = list(sortition.draw(people, dist, bytes.fromhex(SECRET)))
    outsider = next(p.id for p in people if p.id not in honest)
    convention.draw_panel(panel=sorted([outsider, *honest[1:]]), at=app.clock(),
                          acceptance_closes_at=app.clock())
    app.save(convention)  # past the commands
    found_flags = [(f["proposal_id"], f["rule"]) for f in flags(settings, app)]
    assert found_flags == [(cid, "convention.late_reveal"), (cid, "convention.draw_mismatch")]
