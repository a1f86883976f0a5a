"""The petitions' views on a real PostgreSQL (projections/petitions.py), driven through the
domain (a Registre made by `make_registre`): counts per commune within the collection only,
late signatures apart, withdrawals and renewals, the French timeline (no entry per
signature), erased text, the obligations owed, signatures written in batches by the runner
exactly once, a rebuild giving the runner's rows, and each query served by its index."""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import psycopg
import pytest

from api.settings import Settings
from api.wiring import make_petition_views, make_registre, projection_runner
from domain.application import Registre
from domain.petition.signature import Signature
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from projections.petitions import PetitionProjection, PetitionViews
from projections.rebuild import rebuild
from tests.integration.test_rebuild import _snapshot, _view
from tests.integration.test_view_indexes import _captured

pytestmark = pytest.mark.integration

KINDS = {
    "interpellation": {"basis": "absolute", "threshold_absolute": 5, "sponsors": 2,
                       "obligation": "answer", "obligation_seconds": 10 * 86400},
    "initiative": {"basis": "absolute", "threshold_absolute": 15000, "obligation": "answer"},
}


def claims(commune: str) -> SignerClaims:
    return SignerClaims(commune=commune, elector=True, birthdate=date(1990, 1, 1))


def found(app: Registre) -> UUID:
    return app.found_metropolis(
        f"p-{uuid.uuid4().hex[:8]}", "Métropole des pétitions",
        [{"code": "A", "name": "Ville A", "population": 600},
         {"code": "B", "name": "Ville B", "population": 400}],
        [{"ref": f"m{i}", "name": f"Membre {i}", "role": "councillor", "commune": "A"}
         for i in (1, 2, 3)],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     petition_kinds=KINDS))


def collecting(app: Registre, mid: UUID, author: str = "auteur-1",
               kind: str = "interpellation") -> UUID:
    pid, _ = app.draft_petition(mid, author, kind, "Piste cyclable", "Une piste le long du canal")
    if kind == "interpellation":
        app.sponsor_petition(pid, "parrain-1", claims("A"))
    app.open_petition_admissibility(pid, app.clock())
    app.rule_petition_admissibility(pid, "greffe-1", True)
    app.open_collection(pid, app.clock())
    return pid


@dataclass
class Run:
    app: Registre
    mid: UUID
    pid: UUID
    crossing: int
    late: int


def answered_petition(app: Registre) -> Run:
    """A petition run to its answer: six signatures in two communes (one withdrawn and
    renewed), the threshold crossed at the fifth counted, one signature stored after the
    close (written past the command, which refuses it)."""
    mid = found(app)
    pid = collecting(app, mid)
    for n, commune in ((1, "A"), (2, "A"), (3, "A"), (4, "B")):
        app.sign_petition(pid, f"s{n}", claims(commune))
    app.withdraw_signature(pid, "s2")
    app.sign_petition(pid, "s2", claims("A"))  # renewed
    crossing = app.sign_petition(pid, "s5", claims("B"))
    app.sign_petition(pid, "s6", claims("B"))
    app.record_threshold(pid, crossing, 5, app.clock())
    app.close_collection(pid, app.clock())
    late = app.save(Signature(petition_id=pid, signer_ref="tard", commune="B",
                              capacity="resident", channel="online",
                              batch_id=None))[-1].notification.id
    app.answer_petition(pid, "greffe-1", "Le conseil répond : la piste sera étudiée.")
    app.close_petition(pid, app.clock())
    return Run(app, mid, pid, crossing, late)


def applied(settings: Settings, app: Registre) -> PetitionViews:
    with projection_runner(settings, PetitionProjection, PetitionViews) as runner:
        runner.wait(app.recorder.max_notification_id(), timeout=20)
    return make_petition_views(settings)


@pytest.fixture
def app(settings: Settings):
    app = make_registre(settings)
    yield app
    app.close()


def test_counts_per_commune_within_the_collection_when_signatures_were_withdrawn_and_late(
    settings: Settings, app: Registre,
) -> None:
    run = answered_petition(app)
    views = applied(settings, app)
    counts = views.counts(run.pid)
    assert counts is not None
    assert (counts["count"], counts["threshold"], counts["late"]) == (6, 5, 1)
    assert counts["by_commune"] == {"A": 3, "B": 3}
    assert counts["crossed_at"] == run.crossing
    assert counts["progress_percent"] == 120.0
    assert (counts["signatures"], counts["withdrawals"], counts["renewals"]) == (6, 1, 1)
    assert counts["by_commune_detail"]["B"]["late"] == 1
    assert counts["position"] == run.late  # the last signature event applied
    assert app.count_petition(run.pid).count == counts["count"]  # SignatureCount agrees


def test_petition_row_says_where_it_stands_when_answered(settings: Settings,
                                                         app: Registre) -> None:
    run = answered_petition(app)
    row = applied(settings, app).petition(run.pid)
    assert row is not None
    assert (row["stage"], row["stage_fr"], row["outcome"], row["outcome_fr"]) == (
        "closed", "clôturée", "answered", "obligation remplie")
    assert (row["title"], row["text"]) == ("Piste cyclable", "Une piste le long du canal")
    assert (row["sponsors"], row["threshold"], row["threshold_position"], row["count"],
            row["late"]) == (2, 5, run.crossing, 6, 1)
    assert (row["obligation"], row["fulfilled"], row["breached"], row["answer_late"]) == (
        "answer", True, False, False)
    assert row["charter_version"] == 1 and row["metropolis_id"] == run.mid
    assert row["due_at"] is not None and row["closed_position"] is not None


def test_timeline_tells_the_course_in_french_without_an_entry_per_signature(
    settings: Settings, app: Registre,
) -> None:
    run = answered_petition(app)
    timeline = applied(settings, app).timeline(run.pid)
    assert [t["kind"] for t in timeline] == [
        "Drafted", "SponsorsGathered", "AdmissibilityOpened", "AdmissibilityRuled",
        "CollectionOpened", "ThresholdReached", "ObligationOpened", "CollectionClosed",
        "Answered", "Closed"]
    assert [t["actor_fr"] for t in timeline] == [
        "auteur", "auteur", "greffe", "greffe", "greffe", "greffe", "conseil", "greffe",
        "conseil", "greffe"]
    text = [t["text"] for t in timeline]
    assert text[0].startswith("Pétition déposée : « Piste cyclable »")
    assert text[1] == "Parrainages réunis (2)"
    assert text[3] == "Recevable"
    assert re.fullmatch(r"Collecte ouverte jusqu'au \d\d/\d\d/\d{4} à [\d:]+ UTC — seuil : "
                        r"5 signatures", text[4])
    assert text[5] == f"Seuil atteint à la position {run.crossing} (5 signatures)"
    assert text[6].startswith("Obligation : réponse motivée du conseil avant le ")
    assert text[7] == "Collecte close : 6 signature(s)"
    assert text[8].startswith("Réponse du conseil : « Le conseil répond")
    assert text[9] == "Clôturée : obligation remplie (6 signature(s))"
    assert [t["stage_fr"] for t in timeline][4:7] == [
        "collecte des signatures", "collecte des signatures", "obligation du conseil"]
    assert all("sealed" not in t["details"] for t in timeline)


def test_shows_contenu_efface_when_the_authors_key_was_erased(settings: Settings,
                                                              app: Registre) -> None:
    run = answered_petition(app)
    assert app.personal_data.erase(run.mid, "auteur-1")
    views = applied(settings, app)
    row = views.petition(run.pid)
    assert row is not None and (row["title"], row["text"]) == ("contenu effacé",
                                                              "contenu effacé")
    assert views.timeline(run.pid)[0]["text"].startswith("Pétition déposée : « contenu effacé »")
    assert [p["title"] for p in views.list_petitions(run.mid)] == ["contenu effacé"]


def test_lists_petitions_and_the_obligations_owed_with_their_breach(
    settings: Settings, app: Registre,
) -> None:
    run = answered_petition(app)
    owed = collecting(app, run.mid, "auteur-2")
    positions = [app.sign_petition(owed, f"o{n}", claims("A")) for n in range(5)]
    app.record_threshold(owed, positions[-1], 5, app.clock())
    app.record_breach(owed, app.clock())
    refused, _ = app.draft_petition(run.mid, "auteur-3", "initiative", "Hors sujet", "Texte")
    app.open_petition_admissibility(refused, app.clock())
    app.rule_petition_admissibility(refused, "greffe-1", False, reason="hors compétence")
    views = applied(settings, app)

    due = views.obligations_due(run.mid)
    assert [(d["petition_id"], d["breached"], d["obligation"]) for d in due] == [
        (owed, True, "answer")]
    assert due[0]["title"] == "Piste cyclable" and due[0]["due_at"] is not None
    assert views.obligations_due(uuid.uuid4()) == []
    assert [p["petition_id"] for p in views.list_petitions(run.mid)] == [refused, owed, run.pid]
    assert [p["petition_id"] for p in views.list_petitions(run.mid, "closed")] == [
        refused, run.pid]
    assert [p["petition_id"] for p in views.list_petitions(stage="obligation")] == [owed]
    assert len(views.list_petitions(run.mid, limit=1, offset=1)) == 1
    ruled = views.timeline(refused)
    assert ruled[-2]["text"] == "Irrecevable : hors compétence"
    assert ruled[-1]["text"].startswith("Clôturée : irrecevable")
    assert views.timeline(owed)[-1]["text"].startswith(
        "Manquement : délai dépassé sans réponse")
    assert views.counts(refused) is None  # no collection: no counts


def test_rebuild_gives_the_runners_rows_when_rebuilt_in_batches(settings: Settings,
                                                               app: Registre) -> None:
    run = answered_petition(app)
    other = collecting(app, run.mid, "auteur-2")
    for n in range(7):
        app.sign_petition(other, f"x{n}", claims("AB"[n % 2]))
    applied(settings, app)
    view = _view(settings, PetitionProjection, PetitionViews)
    by_runner = _snapshot(settings, view, app.name)
    assert by_runner["petition_count_view"] and by_runner["petition_timeline_view"]
    for batch in (3, 1000):
        rebuild(app, PetitionProjection, view, batch_size=batch)
        assert _snapshot(settings, view, app.name) == by_runner, batch


def test_runner_writes_signatures_in_batches_exactly_once_across_a_restart(
    settings: Settings, app: Registre,
) -> None:
    mid = found(app)
    pid = collecting(app, mid, kind="initiative")
    bulk(app, pid, 2500, start=0)
    views = applied(settings, app)
    assert views.counts(pid)["count"] == 2500
    bulk(app, pid, 1500, start=2500)  # while no runner is up: picked up on restart
    views = applied(settings, app)
    counts = views.counts(pid)
    assert (counts["count"], counts["by_commune"]) == (4000, {"A": 2000, "B": 2000})
    assert views.max_tracking_id(app.name) == app.recorder.max_notification_id()
    with psycopg.connect(settings.postgres_url) as conn:  # no event set aside
        assert conn.execute("SELECT count(*) FROM registre_dead_letters").fetchone()[0] == 0


def bulk(app: Registre, pid: UUID, n: int, start: int) -> None:
    """`n` signatures stored in one transaction per 500 (as the group-commit writer does)."""
    for first in range(start, start + n, 500):
        app.save(*(Signature(petition_id=pid, signer_ref=f"b{i}", commune="AB"[i % 2],
                             capacity="resident", channel="online", batch_id=None)
                   for i in range(first, min(first + 500, start + n))))


def test_measures_the_runners_rate_when_applying_many_signatures(
    settings: Settings, app: Registre, capsys: pytest.CaptureFixture[str],
) -> None:
    mid = found(app)
    pid = collecting(app, mid, kind="initiative")
    bulk(app, pid, 20000, start=0)
    last = app.recorder.max_notification_id()
    began = time.perf_counter()
    with projection_runner(settings, PetitionProjection, PetitionViews) as runner:
        runner.wait(last, timeout=120)
    seconds = time.perf_counter() - began
    view = _view(settings, PetitionProjection, PetitionViews)
    began = time.perf_counter()
    rebuild(app, PetitionProjection, view, batch_size=1000)
    rebuilt = time.perf_counter() - began
    with capsys.disabled():
        print(f"\npetition views: runner {20000 / seconds:,.0f} signatures/s, "
              f"rebuild {20000 / rebuilt:,.0f} signatures/s")
    assert make_petition_views(settings).counts(pid)["count"] == 20000


M, P = uuid.uuid4(), uuid.uuid4()
QUERIES = {
    "petitions by metropolis and date": (lambda v: v.list_petitions(M),
                                         "petition_view_by_metropolis_date"),
    "petitions by stage and date": (lambda v: v.list_petitions(stage="collecting"),
                                    "petition_view_by_stage_date"),
    "petitions by date": (lambda v: v.list_petitions(), "petition_view_by_date"),
    "one petition": (lambda v: v.petition(P), "petition_view_pkey"),
    "a petition's counts": (lambda v: v.counts(P), "petition_count_view_pkey"),
    "a petition's timeline": (lambda v: v.timeline(P), "petition_timeline_view_pkey"),
    "obligations owed": (lambda v: v.obligations_due(), "petition_view_obligations_due"),
    "a metropolis' obligations owed": (lambda v: v.obligations_due(M),
                                       "petition_view_obligations_due"),
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_query_uses_its_index_when_sequential_scans_are_disabled(settings: Settings,
                                                                 name: str) -> None:
    query, index = QUERIES[name]
    views = make_petition_views(settings)
    calls = _captured(views, query)
    assert calls, "the query method ran no SQL"
    with psycopg.connect(settings.postgres_url) as conn:
        conn.execute("SET enable_seqscan = off")
        sql, params = calls[0]
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql, params))
        assert "Seq Scan" not in plan, plan
        assert re.search(rf"Index (Only )?Scan (using|on) {index}\b", plan), plan
    views.datastore.close()


def test_sets_a_refused_signature_aside_and_counts_the_others_when_a_batch_is_refused(
    settings: Settings, app: Registre,
) -> None:
    from projections.followers import dead_letters

    mid = found(app)
    pid = collecting(app, mid, kind="initiative")
    app.sign_petition(pid, "s1", claims("A"))
    # A commune PostgreSQL refuses to store (a NUL), written past the edge's checks.
    bad = app.save(Signature(petition_id=pid, signer_ref="s2", commune="A\x00", capacity="resident",
                             channel="online", batch_id=None))[-1].notification.id
    app.sign_petition(pid, "s3", claims("B"))
    views = applied(settings, app)
    counts = views.counts(pid)
    assert (counts["count"], counts["by_commune"]) == (2, {"A": 1, "B": 1})
    letters = dead_letters(views.datastore, follower="petition_views")
    assert [(d.position, d.topic) for d in letters] == [
        (bad, "domain.petition.signature:Signature.Signed")]
    assert views.max_tracking_id(app.name) == app.recorder.max_notification_id()


def test_registre_projections_rebuild_remakes_the_petition_views_when_named(
    settings: Settings, app: Registre, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from api.cli import cli

    run = answered_petition(app)
    before = applied(settings, app).counts(run.pid)
    monkeypatch.setenv("REGISTRE_POSTGRES_URL", settings.postgres_url)
    monkeypatch.setenv("REGISTRE_VAR_DIR", str(settings.var_dir))
    result = CliRunner().invoke(cli, ["projections", "rebuild", "--view", "petition_views"])
    assert result.exit_code == 0, result.output
    assert "petition_views:" in result.stdout and "events applied" in result.stdout
    assert make_petition_views(settings).counts(run.pid) == before


def test_counts_are_written_again_when_a_write_failed_for_want_of_the_database(
    settings: Settings, app: Registre, monkeypatch: pytest.MonkeyPatch,
) -> None:
    pid = collecting(app, found(app), kind="initiative")
    bulk(app, pid, 10, start=0)
    real, failed = PetitionViews.flush, []

    def flaky(self: PetitionViews, curs: object) -> None:
        real(self, curs)
        if not failed and self._batch is None:  # the connection lost before the commit
            failed.append(True)
            raise psycopg.OperationalError("connexion perdue")

    monkeypatch.setattr(PetitionViews, "flush", flaky)
    views = applied(settings, app)
    assert failed == [True]
    assert views.counts(pid)["count"] == 10  # counted once, from the tables, at the retry
    assert views.max_tracking_id(app.name) == app.recorder.max_notification_id()
