"""The petitions' HTTP API on a real PostgreSQL: every act of the right of interpellation
(drafting, sponsors, the clerk's ruling, the electorate, paper signatures, the council's
answer, the guarantor's report), each refusal naming its rule in French and leaving the log as
it was, and the read routes' shape (on a stand-in for the petition views).

The stages the PetitionWorkflow drives (the review's opening, the collection, the threshold)
are run here through the domain, as its activities would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from api.auth import issue_token
from api.messages_fr import RULE_FR
from api.routes.petitions import PAPER_ISSUER
from api.settings import Settings
from api.wiring import create_api, make_registre
from domain.application import Registre
from domain.petition.petition import Petition, PetitionStage
from domain.petition.signature import signature_id
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims
from tests.conftest import log_size

pytestmark = pytest.mark.integration

ADULT = date(1990, 5, 1)
KINDS = {
    "interpellation": {"threshold_percent": 1, "sponsors": 2, "obligation": "answer"},
    "trois-parrains": {"threshold_percent": 1, "sponsors": 3},
    "electeurs": {"threshold_percent": 5, "basis": "electors", "signers": "elector"},
    "communale": {"threshold_percent": 1, "scope": "commune", "min_age": 18},
    "consultation": {"basis": "absolute", "threshold_absolute": 2,
                     "obligation": "consultation"},
}
SIGNER = SignerClaims(commune="A", elector=True, birthdate=ADULT)


@dataclass
class Api:
    client: TestClient
    app: Registre
    settings: Settings
    metropolis_id: UUID
    slug: str

    def token(self, sub: str, role: str = "citizen", territory: str | None = "A", *,
              elector: bool = True, birthdate: date | None = ADULT) -> dict[str, str]:
        token = issue_token(self.settings.signing_secret(), sub, role, territory,
                            elector=elector, birthdate=birthdate)
        return {"Authorization": f"Bearer {token}"}

    def draft(self, kind: str = "interpellation", sub: str = "auteur", **body: Any) -> dict:
        r = self.client.post("/petitions", headers=self.token(sub), json={
            "metropolis_id": str(self.metropolis_id), "kind": kind,
            "title": "Piste cyclable rue de Vesle", "text": "Nous demandons au conseil…",
            **body})
        assert r.status_code == 201, r.text
        return r.json()

    def collecting(self, kind: str = "consultation") -> UUID:
        """A petition whose collection is open (as the workflow would have run it)."""
        pid = UUID(self.draft(kind)["id"])
        for n in range(1, self.app.get_petition(pid).kind_rules.sponsors):
            self.app.sponsor_petition(pid, f"parrain-{n}", SIGNER)
        now = datetime.now(timezone.utc) - timedelta(seconds=5)
        self.app.open_petition_admissibility(pid, now)
        self.app.rule_petition_admissibility(pid, "greffe", True)
        self.app.open_collection(pid, now)
        return pid

    def obliged(self, kind: str = "consultation") -> UUID:
        """A petition whose threshold is reached: the obligation is open."""
        pid = self.collecting(kind)
        threshold = self.app.get_petition(pid).threshold
        assert threshold is not None
        for n in range(threshold):
            position = self.app.sign_petition(pid, f"signataire-{n}", SIGNER)
        self.app.record_threshold(pid, position, threshold, datetime.now(timezone.utc))
        return pid


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    app = make_registre(settings)
    slug = f"p-{uuid4().hex[:8]}"
    mid = app.found_metropolis(
        slug, "Métropole des pétitions",
        [{"code": "A", "name": "Ville A", "population": 1000},
         {"code": "B", "name": "Ville B", "population": 500}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=3600, vote_seconds=3600, quorum_percent=50,
                     petition_kinds=KINDS))
    # No `Prefer: wait-for-views`: the stand-in views below follow no log.
    with TestClient(create_api(settings)) as client:
        yield Api(client, app, settings, mid, slug)
    app.close()


def assert_refused(api: Api, response: Any, status: int, rule: str | None, size: int) -> None:
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    if rule:
        assert detail["rule"] == rule
        assert detail["explication"] == RULE_FR[rule]
    assert log_size(api.settings) == size, "a refused request appended to the log"


def pseudonym(api: Api, sub: str, issuer: str | None = None) -> str:
    return str(api.app.personal_data.pseudonym(api.metropolis_id, issuer or "registre-local",
                                               sub))


# -- the acts, accepted ---------------------------------------------------------------------


def test_a_petition_is_drafted_with_its_text_sealed_and_its_workflow_named(api: Api) -> None:
    drafted = api.draft()
    pid = UUID(drafted["id"])
    assert drafted["workflow_id"] == f"petition-{pid}"
    assert drafted["position"] == log_size(api.settings)
    petition = api.app.get_petition(pid)
    assert (petition.kind, petition.stage, petition.author_ref) == (
        "interpellation", PetitionStage.DRAFTED, pseudonym(api, "auteur"))
    assert "Piste cyclable" not in petition.title_sealed  # sealed under the author's key
    assert api.app.personal_data.open(petition.title_sealed) == "Piste cyclable rue de Vesle"


def test_a_second_sponsor_gathers_the_sponsors_when_the_kind_needs_two(api: Api) -> None:
    pid = api.draft()["id"]
    r = api.client.post(f"/petitions/{pid}/sponsors", headers=api.token("parrain"))
    assert r.status_code == 201, r.text
    petition = api.app.get_petition(UUID(pid))
    assert petition.sponsors == [pseudonym(api, "auteur"), pseudonym(api, "parrain")]
    assert petition.gathered


def test_a_co_sponsor_leaves_the_sponsorship_before_the_sponsors_are_gathered(api: Api) -> None:
    pid = api.draft("trois-parrains")["id"]
    api.client.post(f"/petitions/{pid}/sponsors", headers=api.token("parrain"))
    r = api.client.delete(f"/petitions/{pid}/sponsors/mine", headers=api.token("parrain"))
    assert r.status_code == 200, r.text
    assert api.app.get_petition(UUID(pid)).sponsors == [pseudonym(api, "auteur")]


def test_the_author_withdraws_the_petition_and_no_one_else_may(api: Api) -> None:
    pid = api.draft()["id"]
    size = log_size(api.settings)
    other = api.client.post(f"/petitions/{pid}/withdrawal", headers=api.token("autre"))
    assert_refused(api, other, 403, "not_the_author", size)
    r = api.client.post(f"/petitions/{pid}/withdrawal", headers=api.token("auteur"))
    assert r.status_code == 201, r.text
    petition = api.app.get_petition(UUID(pid))
    assert (petition.stage, petition.outcome) == (PetitionStage.CLOSED, "withdrawn")


def test_a_clerk_rules_a_petition_inadmissible_with_reasons_and_its_author_refers_it(
    api: Api,
) -> None:
    pid = UUID(api.draft("consultation")["id"])
    api.app.open_petition_admissibility(pid, datetime.now(timezone.utc))
    clerk = api.token("greffe-1", "clerk", None)
    size = log_size(api.settings)
    unreasoned = api.client.post(f"/petitions/{pid}/admissibility", headers=clerk,
                                 json={"admissible": False})
    assert_refused(api, unreasoned, 409, "reason_required", size)
    r = api.client.post(f"/petitions/{pid}/admissibility", headers=clerk, json={
        "admissible": False, "reason": "Hors des compétences de la métropole."})
    assert r.status_code == 201, r.text
    petition = api.app.get_petition(pid)
    assert (petition.stage, petition.outcome) == (PetitionStage.CLOSED, "inadmissible")
    referral = "La mobilité est une compétence métropolitaine."
    r = api.client.post(f"/petitions/{pid}/referral", headers=api.token("auteur"),
                        json={"text": referral})
    assert r.status_code == 201, r.text
    [referred] = [e for e in api.app.events.get(pid)
                  if isinstance(e, Petition.ReferredToGuarantor)]
    assert referral not in referred.text_sealed
    assert api.app.personal_data.open(referred.text_sealed) == referral


def test_a_clerk_rules_a_petition_admissible_during_the_review(api: Api) -> None:
    pid = UUID(api.draft("consultation")["id"])
    api.app.open_petition_admissibility(pid, datetime.now(timezone.utc))
    r = api.client.post(f"/petitions/{pid}/admissibility",
                        headers=api.token("greffe-1", "clerk", None),
                        json={"admissible": True, "competence": "mobilités"})
    assert r.status_code == 201, r.text
    [ruled] = [e for e in api.app.events.get(pid) if isinstance(e, Petition.AdmissibilityRuled)]
    assert (ruled.admissible, ruled.clerk_ref, ruled.cause) == (True, "greffe-1",
                                                                 "clerk_ruling")


def test_a_clerk_records_the_electorate_which_fixes_an_electors_threshold(api: Api) -> None:
    clerk = api.token("greffe-1", "clerk", None)
    r = api.client.post(f"/metropolises/{api.slug}/electorate", headers=clerk, json={
        "figures": {"A": 700, "B": 300}, "source": "extrait REU 2026-11"})
    assert r.status_code == 201, r.text
    pid = api.collecting("electeurs")  # the collection opens on the figure recorded
    assert api.app.get_petition(pid).threshold == 50  # 5 % of 1,000 electors
    size = log_size(api.settings)
    unknown = api.client.post(f"/metropolises/{api.slug}/electorate", headers=clerk, json={
        "figures": {"Z": 10}, "source": "extrait REU 2026-11"})
    assert_refused(api, unknown, 404, "unknown_commune", size)


def test_a_paper_batch_records_its_signatures_and_refuses_a_duplicate_entry_alone(
    api: Api,
) -> None:
    pid = api.collecting("interpellation")
    signers = [{"registry_id": "REU-001", "commune": "A", "elector": True,
                "birthdate": "1980-01-02"},
               {"registry_id": "REU-002", "commune": "B", "birthdate": "1975-03-04"},
               {"registry_id": "REU-001", "commune": "A", "elector": True,
                "birthdate": "1980-01-02"},
               {"registry_id": "REU-003", "commune": "Z", "birthdate": "1975-03-04"}]
    r = api.client.post(f"/petitions/{pid}/paper-batches",
                        headers=api.token("greffe-1", "clerk", None), json={
                            "sheets": 2, "provenance": "Mairie de Ville A, permanence",
                            "digest": "ab" * 32, "signers": signers})
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["recorded"] == 2 and len(answer["positions"]) == 2
    assert [(e["index"], e["rule"]) for e in answer["refused"]] == [
        (2, "petition.one_signature"), (3, "petition.residence")]
    assert answer["refused"][0]["explication"] == RULE_FR["petition.one_signature"]
    tally = api.app.count_petition(pid, upto=log_size(api.settings))
    assert (tally.count, tally.by_commune) == (2, {"A": 1, "B": 1})
    signature = api.app.repository.get(signature_id(pid, pseudonym(api, "REU-001",
                                                                  PAPER_ISSUER)))
    assert (signature.channel, signature.batch_id) == ("paper", UUID(answer["batch_id"]))


def test_refuses_a_paper_batch_when_the_petition_is_not_collecting(api: Api) -> None:
    pid = api.draft()["id"]
    size = log_size(api.settings)
    r = api.client.post(f"/petitions/{pid}/paper-batches",
                        headers=api.token("greffe-1", "clerk", None), json={
                            "sheets": 1, "provenance": "Mairie de Ville A", "digest": "cd" * 32,
                            "signers": [{"registry_id": "REU-9", "commune": "A"}]})
    assert_refused(api, r, 409, "petition.period", size)


def test_a_clerk_records_the_councils_answer_once_the_threshold_is_reached(api: Api) -> None:
    pid = api.obliged("interpellation")
    text = "Le conseil inscrira la piste cyclable au plan vélo 2027."
    r = api.client.post(f"/petitions/{pid}/answer", headers=api.token("greffe-1", "clerk", None),
                        json={"text": text})
    assert r.status_code == 201, r.text
    [answered] = [e for e in api.app.events.get(pid) if isinstance(e, Petition.Answered)]
    assert (answered.text, answered.clerk_ref, answered.late) == (text, "greffe-1", False)


def test_the_guarantor_reports_the_consultation_a_petition_won(api: Api) -> None:
    pid = api.obliged("consultation")
    size = log_size(api.settings)
    clerk = api.client.post(f"/petitions/{pid}/consultation-report",
                            headers=api.token("greffe-1", "clerk", None),
                            json={"text": "Rapport de la consultation publique."})
    assert_refused(api, clerk, 403, "role_required", size)
    r = api.client.post(f"/petitions/{pid}/consultation-report",
                        headers=api.token("garant", "guarantor", None),
                        json={"text": "Rapport de la consultation publique."})
    assert r.status_code == 201, r.text
    assert api.app.get_petition(pid).fulfilled


# -- refusals -------------------------------------------------------------------------------


def test_refuses_a_draft_when_the_role_is_not_citizen(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post("/petitions", headers=api.token("m1", "councillor"), json={
        "metropolis_id": str(api.metropolis_id), "kind": "interpellation",
        "title": "Titre", "text": "Texte"})
    assert_refused(api, r, 403, "role_required", size)


def test_refuses_a_draft_when_the_kind_is_not_in_the_charter(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post("/petitions", headers=api.token("auteur"), json={
        "metropolis_id": str(api.metropolis_id), "kind": "référendum",
        "title": "Titre", "text": "Texte"})
    assert_refused(api, r, 409, "petition.kind", size)


@pytest.mark.parametrize(("kind", "token", "rule"), [
    ("interpellation", {"territory": None}, "petition.residence"),
    ("interpellation", {"territory": "Z"}, "petition.residence"),
    ("electeurs", {"elector": False}, "petition.signers"),
    ("interpellation", {"birthdate": date.today().replace(year=date.today().year - 10)},
     "petition.min_age"),
    ("interpellation", {"birthdate": None}, "petition.min_age"),
    ("communale", {"territory": "B"}, "petition.residence"),
])
def test_refuses_a_sponsor_who_could_not_sign_naming_the_rule(
    api: Api, kind: str, token: dict[str, Any], rule: str,
) -> None:
    extra = {"commune": "A"} if kind == "communale" else {}
    pid = api.draft(kind, **extra)["id"]
    size = log_size(api.settings)
    r = api.client.post(f"/petitions/{pid}/sponsors", headers=api.token("parrain", **token))
    assert_refused(api, r, 403, rule, size)


def test_refuses_a_draft_by_an_author_who_could_not_sign_it(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post("/petitions", headers=api.token("auteur", territory="B"), json={
        "metropolis_id": str(api.metropolis_id), "kind": "communale", "commune": "A",
        "title": "Titre", "text": "Texte"})
    assert_refused(api, r, 403, "petition.residence", size)


def test_refuses_a_second_sponsorship_by_the_same_citizen(api: Api) -> None:
    pid = api.draft("trois-parrains")["id"]
    api.client.post(f"/petitions/{pid}/sponsors", headers=api.token("parrain"))
    size = log_size(api.settings)
    r = api.client.post(f"/petitions/{pid}/sponsors", headers=api.token("parrain"))
    assert_refused(api, r, 409, "petition.one_sponsorship", size)


def test_refuses_an_answer_when_no_obligation_is_open(api: Api) -> None:
    pid = api.collecting("interpellation")
    size = log_size(api.settings)
    r = api.client.post(f"/petitions/{pid}/answer", headers=api.token("greffe-1", "clerk", None),
                        json={"text": "Une réponse bien trop tôt."})
    assert_refused(api, r, 409, "petition.obligation", size)


def test_refuses_an_act_on_an_unknown_petition(api: Api) -> None:
    size = log_size(api.settings)
    r = api.client.post(f"/petitions/{uuid4()}/sponsors", headers=api.token("parrain"))
    assert_refused(api, r, 404, "unknown_petition", size)
    r = api.client.post(f"/petitions/{api.metropolis_id}/withdrawal",
                        headers=api.token("auteur"))
    assert_refused(api, r, 404, "unknown_petition", size)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/petitions", {"kind": "interpellation", "title": "ab", "text": "Texte"}, "title"),
    ("/petitions", {"kind": "interpellation", "title": "Titre", "text": ""}, "text"),
    ("/petitions", {"kind": "interpellation", "title": "Titre", "text": "T", "couleur": 1},
     "couleur"),
    ("/petitions", {"title": "Titre", "text": "Texte"}, "kind"),
    ("paper", {"sheets": 1, "provenance": "Mairie", "digest": "pas-un-sha256",
               "signers": [{"registry_id": "R1", "commune": "A"}]}, "digest"),
    ("paper", {"sheets": 0, "provenance": "Mairie", "digest": "ab" * 32,
               "signers": [{"registry_id": "R1", "commune": "A"}]}, "sheets"),
    ("paper", {"sheets": 1, "provenance": "Mairie", "digest": "ab" * 32,
               "signers": [{"registry_id": "R1", "commune": "A", "birthdate": "hier"}]},
     "birthdate"),
    ("electorate", {"figures": {"A": -1}, "source": "extrait"}, "A"),
])
def test_names_the_field_when_a_body_is_malformed(api: Api, path: str, body: dict,
                                                  field: str) -> None:
    pid = api.draft()["id"]
    role, url = "citizen", path
    if path == "/petitions":
        body = {"metropolis_id": str(api.metropolis_id), **body}
    elif path == "paper":
        role, url = "clerk", f"/petitions/{pid}/paper-batches"
    else:
        role, url = "clerk", f"/metropolises/{api.slug}/electorate"
    size = log_size(api.settings)
    r = api.client.post(url, json=body, headers=api.token("x", role))
    assert_refused(api, r, 422, "invalid_request", size)
    assert field in [e["loc"][-1] for e in r.json()["detail"]["errors"]]


@pytest.mark.parametrize("hostile", [
    '"Texte avec un \\u0000 caractère nul"',
    '"Texte avec \\ud800 une moitié de paire"',
    '"Texte \\u001b[31mrouge\\u001b[0m"',
    '"Texte avec \\u0085 contrôle C1"',
    '"Texte \\u202egnal\\u202c normal"',
])
def test_refuses_hostile_text_in_a_petition_without_recording_it(api: Api,
                                                                  hostile: str) -> None:
    size = log_size(api.settings)
    body = ('{"metropolis_id": "%s", "kind": "interpellation", "title": "Titre honnête", '
            '"text": %s}' % (api.metropolis_id, hostile)).encode()
    r = api.client.post("/petitions", content=body, headers={
        **api.token("auteur"), "Content-Type": "application/json"})
    assert_refused(api, r, 422, "invalid_request", size)
    assert "rouge" not in r.text and "gnal" not in r.text  # never echoed


# -- reads (on a stand-in for the petition views) -------------------------------------------


class StandInViews:
    """The petition views' reading API, over fixed rows (the real ones follow the log)."""

    def __init__(self, petition_id: UUID, metropolis_id: UUID) -> None:
        self.petition_id = petition_id
        self.row = {"petition_id": petition_id, "metropolis_id": metropolis_id,
                    "kind": "interpellation", "title": "Piste \x1b[31mcyclable",
                    "text": "Texte", "commune": None, "stage": "collecting",
                    "outcome": None, "threshold": 15, "closes_at": "2030-01-01T00:00:00Z"}
        self.count = {"count": 12, "threshold": 15, "progress_percent": 80.0,
                      "by_commune": {"A": 10, "B": 2}, "crossed_at": None, "late": 0,
                      "position": 41}
        self.calls: list[tuple[str, Any]] = []

    def list_petitions(self, metropolis_id=None, stage=None, limit=100, offset=0):
        self.calls.append(("list", (metropolis_id, stage, limit, offset)))
        return [self.row] if stage in (None, "collecting") else []

    def petition(self, petition_id):
        return self.row if petition_id == self.petition_id else None

    def counts(self, petition_id):
        return self.count if petition_id == self.petition_id else None

    def timeline(self, petition_id):
        return [{"position": 40, "at": datetime(2026, 12, 1, tzinfo=timezone.utc),
                 "kind": "Drafted", "stage_fr": "recherche de parrains",
                 "actor_fr": "citoyen·ne", "text": "Pétition rédigée"}]

    def obligations_due(self, metropolis_id=None):
        return [{"petition_id": self.petition_id, "obligation": "answer",
                 "due_at": "2030-01-01T00:00:00Z", "late": True}]


@pytest.fixture
def views(api: Api) -> StandInViews:
    stand_in = StandInViews(uuid4(), api.metropolis_id)
    api.client.app.state.petition_views = stand_in
    return stand_in


def test_lists_petitions_by_metropolis_and_stage_from_the_views(api: Api,
                                                                views: StandInViews) -> None:
    r = api.client.get("/petitions", params={"metropolis_id": str(api.metropolis_id),
                                             "stage": "collecting", "limit": 10})
    assert r.status_code == 200, r.text
    [row] = r.json()
    assert (row["id"], row["stage"], row["stage_fr"], row["threshold"]) == (
        str(views.petition_id), "collecting", "collecte des signatures", 15)
    assert "\x1b" not in row["title"]  # stored odd text is neutralised
    assert views.calls == [("list", (api.metropolis_id, "collecting", 10, 0))]
    bad = api.client.get("/petitions", params={"stage": "ouverte"})
    assert bad.status_code == 422 and bad.json()["detail"]["errors"][0]["loc"][-1] == "stage"


def test_reads_one_petition_and_its_timeline_or_404_naming_the_rule(
    api: Api, views: StandInViews,
) -> None:
    one = api.client.get(f"/petitions/{views.petition_id}")
    assert one.status_code == 200 and one.json()["kind"] == "interpellation"
    [entry] = api.client.get(f"/petitions/{views.petition_id}/timeline").json()
    assert (entry["kind"], entry["actor_fr"], entry["text"]) == (
        "Drafted", "citoyen·ne", "Pétition rédigée")
    for path in (f"/petitions/{uuid4()}", f"/petitions/{uuid4()}/timeline",
                 f"/petitions/{uuid4()}/count"):
        missing = api.client.get(path)
        assert missing.status_code == 404
        assert missing.json()["detail"]["rule"] == "unknown_petition"


def test_serves_the_count_as_cacheable_json_with_an_etag_and_304_when_unchanged(
    api: Api, views: StandInViews,
) -> None:
    r = api.client.get(f"/petitions/{views.petition_id}/count")
    assert r.status_code == 200, r.text
    assert r.json() == views.count
    assert r.headers["cache-control"] == "public, max-age=2"
    assert r.headers["etag"] == '"41"'
    same = api.client.get(f"/petitions/{views.petition_id}/count",
                          headers={"If-None-Match": '"41"'})
    assert same.status_code == 304 and same.content == b""
    assert same.headers["etag"] == '"41"'
    views.count = {**views.count, "count": 13, "position": 42}
    changed = api.client.get(f"/petitions/{views.petition_id}/count",
                             headers={"If-None-Match": '"41"'})
    assert changed.status_code == 200 and changed.json()["count"] == 13
    assert changed.headers["etag"] == '"42"'


def test_lists_the_obligations_due_from_the_views(api: Api, views: StandInViews) -> None:
    r = api.client.get("/petitions/obligations-due",
                       params={"metropolis_id": str(api.metropolis_id)})
    assert r.status_code == 200, r.text
    assert r.json() == [{"petition_id": str(views.petition_id), "obligation": "answer",
                         "due_at": "2030-01-01T00:00:00Z", "late": True}]


def test_every_petition_write_route_names_its_role_in_the_openapi(api: Api) -> None:
    spec = api.client.app.openapi()
    roles = {(path, method): op.get("x-roles") for path, item in spec["paths"].items()
             for method, op in item.items()
             if path.startswith("/petitions") or path.endswith("/electorate")}
    assert roles[("/petitions", "post")] == ["citizen"]
    assert roles[("/petitions/{petition_id}/answer", "post")] == ["clerk"]
    assert roles[("/petitions/{petition_id}/consultation-report", "post")] == ["guarantor"]
    assert roles[("/metropolises/{slug}/electorate", "post")] == ["clerk"]
    assert roles[("/petitions/{petition_id}/sponsors/mine", "delete")] == ["citizen"]
    assert json.dumps(spec)  # the spec serialises
