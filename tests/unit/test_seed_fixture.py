"""The committed Métrokawa 12 demo fixture matches its source document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.demo_data import SEED_FILE, load_seed
from api.demo_data.parse_seed import dumps, parse

SEED_MARKDOWN = Path(__file__).resolve().parents[1] / "data" / "seed" / "metrokawa12-synthese.md"

# What the document actually contains (counted by hand in the Markdown): the
# seed README announces 35 proposals, the synthesis lists 28.
EXPECTED_PROPOSALS_PER_WORKSHOP = {1: 11, 2: 5, 3: 4, 4: 8}
EXPECTED_TOTAL_VOTES = 92


@pytest.fixture(scope="module")
def seed() -> dict:
    return load_seed()


@pytest.fixture(scope="module")
def proposals(seed: dict) -> list[dict]:
    return [p for ws in seed["workshops"] for p in ws["proposals"]]


def _by_ref(proposals: list[dict]) -> dict[str, dict]:
    return {p["ref"]: p for p in proposals}


def test_parsing_the_markdown_copy_gives_the_committed_json(seed: dict) -> None:
    parsed = parse(SEED_MARKDOWN.read_text(encoding="utf-8"))
    assert parsed == seed
    # Byte-for-byte too: the committed file is exactly what the parser writes.
    assert SEED_FILE.read_text(encoding="utf-8") == dumps(parsed)


def test_fixture_is_plain_json_next_to_the_package() -> None:
    raw = SEED_FILE.read_text(encoding="utf-8")
    assert json.loads(raw) == load_seed()
    assert "\\u00e9" not in raw  # written with ensure_ascii=False
    assert "é" in raw


def test_four_workshops_numbered_1_to_4(seed: dict) -> None:
    assert [ws["number"] for ws in seed["workshops"]] == [1, 2, 3, 4]
    assert all(ws["title"].strip() for ws in seed["workshops"])


def test_proposal_counts(seed: dict, proposals: list[dict]) -> None:
    counts = {ws["number"]: len(ws["proposals"]) for ws in seed["workshops"]}
    assert counts == EXPECTED_PROPOSALS_PER_WORKSHOP
    assert len(proposals) == 28


def test_every_proposal_is_well_formed(seed: dict, proposals: list[dict]) -> None:
    for ws in seed["workshops"]:
        for index, p in enumerate(ws["proposals"], start=1):
            assert p["number"] == index
            assert p["ref"] == f"A{ws['number']}-P{index}"
    assert [p["global_number"] for p in proposals] == list(range(1, len(proposals) + 1))
    assert len({p["ref"] for p in proposals}) == len(proposals)
    for p in proposals:
        assert isinstance(p["title"], str) and p["title"].strip(), p
        assert type(p["votes"]) is int and p["votes"] >= 0, p
        for key in ("objective", "means", "finding", "example"):
            assert isinstance(p[key], str), (p["ref"], key)


def test_markdown_markup_is_stripped(proposals: list[dict]) -> None:
    for p in proposals:
        for key in ("title", "objective", "means", "finding", "example"):
            text = p[key]
            assert "](" not in text and "**" not in text and "\\" not in text, (p["ref"], key)
            assert "<http" not in text, (p["ref"], key)


def test_total_votes(proposals: list[dict]) -> None:
    assert sum(p["votes"] for p in proposals) == EXPECTED_TOTAL_VOTES


def test_header(seed: dict) -> None:
    assert seed["consultation"] == "Métrokawa 12"
    assert seed["question"] == (
        "Après le Corona : comment mettre en place des métropoles plus "
        "résilientes et démocratiques ?"
    )
    assert "Agorasso" in seed["source"]


def test_spot_values_read_in_the_markdown(seed: dict, proposals: list[dict]) -> None:
    by_ref = _by_ref(proposals)

    first = proposals[0]
    assert first["ref"] == "A1-P1"
    assert first["title"] == "Créer des communautés apprenantes entre les métropoles"
    assert first["votes"] == 3
    assert first["objective"].startswith("favoriser le partage des expériences participatives")
    assert first["means"].startswith("grenelle locaux de la démocratie participative")

    assert seed["workshops"][1]["title"] == (
        "La présence des citoyens dans l'orientation des politiques publiques métropolitaines"
    )

    # Vote count written inside the link text: "[Mêler ... \(7\)](#)".
    mixed = by_ref["A2-P1"]
    assert mixed["title"] == (
        "Mêler citoyens, acteurs économiques, associatifs et institutionnels "
        "dans des instances de co-construction des politiques publiques"
    )
    assert mixed["votes"] == 7

    # Escaped parentheses that are not a vote count stay in the title.
    assert by_ref["A1-P10"]["title"] == (
        "Relier les réseaux travaillant sur les questions de constitution "
        "(nationales, territoriales...)"
    )
    assert by_ref["A1-P10"]["votes"] == 1

    convention = by_ref["A3-P1"]
    assert convention["title"] == (
        "Créer pour chaque métropole une convention citoyenne métropolitaine"
    )
    assert convention["votes"] == 7

    # Unindented "- **Objectif**" / "- **Moyen**" bullets still belong to the proposal.
    bureau = by_ref["A3-P2"]
    assert bureau["objective"].startswith("Les Conseils communautaires doivent se doter")
    assert bureau["means"].startswith("Élire un Bureau collégial")
    assert bureau["example"] == "exécutif collégial de la Métropole du Grand Nancy."

    pacte = by_ref["A4-P6"]
    assert pacte["title"] == 'Créer un "pacte de collaboration" avec élus et citoyens'
    assert "Grand Reims" in pacte["example"]

    last = proposals[-1]
    assert last["ref"] == "A4-P8"
    assert last["title"] == (
        "Créer une autorité indépendante supervisant l'ensemble des processus "
        "démocratiques métropolitains"
    )
    assert last["votes"] == 1
    assert "A Montréal, 1% de signataires" in last["objective"]
    # Wrapped line after a blank line is glued back to its sentence.
    assert "assurant le rôle de tiers garant." in last["finding"]


def test_proposals_without_details_keep_empty_strings(proposals: list[dict]) -> None:
    by_ref = _by_ref(proposals)
    for ref in ("A1-P10", "A4-P4"):
        p = by_ref[ref]
        assert (p["objective"], p["means"], p["finding"], p["example"]) == ("", "", "", "")


def test_sub_bullets_are_kept_as_lines(proposals: list[dict]) -> None:
    informer = _by_ref(proposals)["A4-P3"]
    assert informer["means"].count("\n- ") == 3
    assert "\n- Sur le bulletin de vote, distinguer les 2 listes" in informer["means"]


def test_parser_rejects_a_proposal_without_votes() -> None:
    with pytest.raises(ValueError, match="vote count"):
        parse(
            "Synthèse\n\nMétrokawa 12 : « Question ? »\n\n"
            "Atelier 1 : Titre\n\n- [Proposition sans votes](#)\n"
        )
