"""The Pabulib format: the four real files parse, round-trip and reproduce the cities' outcomes;
a malformed file is refused with its line number."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.rules import budget, pabulib
from domain.rules.pabulib import PbError

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"
FILES = sorted(DATA.glob("*.pb"))

GOOD = (
    "META\nkey;value\nbudget;100\nvote_type;approval\nrule;greedy\n"
    "PROJECTS\nproject_id;cost;name\na;60;A\nb;50;B\n"
    "VOTES\nvoter_id;vote\n1;a,b\n2;b\n"
)


def test_four_real_files_are_present_when_listed() -> None:
    assert [f.name for f in FILES] == [
        "Poland_Swiecie_2023.pb", "Poland_Warszawa_2017_Plac_Wojska_Polskiego.pb",
        "Poland_Warszawa_2019_Anin.pb", "Poland_Wieliczka_2023_Green_Budget.pb"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_real_file_round_trips_to_an_equal_pbfile_when_dumped(path: Path) -> None:
    pb = pabulib.load(path)
    assert pabulib.parse(pabulib.dump(pb)) == pb
    assert list(pb.meta)[:2] == ["description", "country"]
    assert len(pb.projects) == int(pb.meta["num_projects"])
    assert len(pb.votes) == int(pb.meta["num_votes"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_dump_is_byte_identical_when_the_file_ends_every_line_with_crlf(path: Path) -> None:
    text = path.read_bytes().decode("utf-8")
    dumped = pabulib.dump(pabulib.parse(text))
    if path.stem == "Poland_Wieliczka_2023_Green_Budget":
        # Its line 12 alone ends with LF; dump writes CRLF everywhere: that is the only change.
        assert text.split("\r\n")[10].endswith("\nrule;equalshares/add1-comparison") or \
            "rule;equalshares/add1-comparison\n" in text
        assert dumped == text.replace("rule;equalshares/add1-comparison\n",
                                      "rule;equalshares/add1-comparison\r\n")
    else:
        assert dumped == text


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_tally_reproduces_the_city_outcome_when_run_under_the_file_rule(path: Path) -> None:
    pb = pabulib.load(path)
    official = {row["project_id"] for row in pb.projects if row["selected"].strip() == "1"}
    outcome = budget.tally(pabulib.election(pb), budget.PABULIB_RULES[pb.meta["rule"]])
    assert set(outcome.selected) == official
    assert outcome.cost <= int(pb.meta["budget"])


def test_parse_keeps_every_column_when_a_file_has_extra_ones() -> None:
    pb = pabulib.parse(GOOD)
    assert pb.meta == {"budget": "100", "vote_type": "approval", "rule": "greedy"}
    assert pb.project_columns == ("project_id", "cost", "name")
    assert pb.projects[0] == {"project_id": "a", "cost": "60", "name": "A"}
    assert pb.votes[1] == {"voter_id": "2", "vote": "b"}


def test_quoted_fields_round_trip_when_they_hold_semicolons_and_quotes() -> None:
    text = GOOD.replace(";A\n", ';"x; ""y"""\n')
    pb = pabulib.parse(text)
    assert pb.projects[0]["name"] == 'x; "y"'
    assert pabulib.parse(pabulib.dump(pb)) == pb


def test_election_gives_points_when_ballots_are_cumulative() -> None:
    text = ("META\nkey;value\nbudget;100\nvote_type;cumulative\n"
            "PROJECTS\nproject_id;cost\na;60\nb;50\n"
            "VOTES\nvoter_id;vote;points\n1;a,b;3,2\n2;b;5\n")
    e = pabulib.election(pabulib.parse(text))
    assert e.budget == 100
    assert e.projects == (budget.Project("a", 60), budget.Project("b", 50))
    assert e.ballots == (budget.Ballot((("a", 3), ("b", 2))), budget.Ballot((("b", 5),)))


def test_election_gives_one_point_per_project_when_ballots_are_approval() -> None:
    e = pabulib.election(pabulib.parse(GOOD))
    assert e.ballots == (budget.Ballot.approval(["a", "b"]), budget.Ballot.approval(["b"]))
    assert e.projects[0].name == "A"


@pytest.mark.parametrize(("text", "line", "fault"), [
    ("key;value\nbudget;1\n", 1, "missing section META"),
    ("META\nkey;value\nbudget;1\nRESULTS\n", 4, "unknown section 'RESULTS'"),
    (GOOD.replace("a;60;A", "a;60"), 8, "PROJECTS row has 2 columns, the header has 3"),
    (GOOD.replace("b;50;B", "a;50;B"), 9, "duplicate project id 'a' (first on line 8)"),
    (GOOD.replace("a;60;A", "a;6.5;A"), 8, "cost '6.5' is not a positive integer"),
    (GOOD.replace("a;60;A", "a;0;A"), 8, "cost '0' is not a positive integer"),
    (GOOD.replace("2;b\n", "2;z\n"), 13, "unknown project 'z'"),
    (GOOD.replace("budget;100", "budget;1e5"), 3, "budget '1e5' is not a non-negative integer"),
    (GOOD.replace("1;a,b\n", "1;a,a\n"), 12, "names a project twice"),
    (GOOD.replace("2;b\n", "1;b\n"), 13, "duplicate voter id '1'"),
    (GOOD.replace("VOTES\n", "META\n"), 10, "section META appears twice"),
    (GOOD.replace("PROJECTS\nproject_id;cost;name\na;60;A\nb;50;B\n", ""), 6,
     "section VOTES found where section PROJECTS was expected"),
    (GOOD.replace("project_id;cost;name", "project_id;price;name"), 7, "no column 'cost'"),
    (GOOD.replace("vote_type;approval", "vote_type;cumulative"), 11, "needs a 'points' column"),
    (GOOD.replace("vote_type;approval", "vote_type;cumulative")
     .replace("voter_id;vote\n1;a,b\n2;b\n", "voter_id;vote;points\n1;a,b;1\n2;b;2\n"),
     12, "1 points for 2 projects"),
    (GOOD.replace("vote_type;approval", "vote_type;cumulative")
     .replace("voter_id;vote\n1;a,b\n2;b\n", "voter_id;vote;points\n1;a,b;1,x\n2;b;2\n"),
     12, "points 'x' are not a non-negative integer"),
    (GOOD.replace("vote_type;approval", "vote_type;secret"), 4, "unknown vote_type 'secret'"),
])
def test_parse_names_the_line_and_the_fault_when_a_file_is_malformed(
        text: str, line: int, fault: str) -> None:
    with pytest.raises(PbError) as raised:
        pabulib.parse(text, source="t.pb")
    message = str(raised.value)
    assert message.startswith(f"t.pb:{line}: "), message
    assert fault in message, message


@pytest.mark.parametrize(("cut", "missing"), [("VOTES\n", "VOTES"), ("PROJECTS\n", "PROJECTS")])
def test_parse_refuses_a_file_when_a_section_is_missing(cut: str, missing: str) -> None:
    text = GOOD[:GOOD.index(cut)]
    with pytest.raises(PbError, match=f"missing section {missing}"):
        pabulib.parse(text)


def test_parse_refuses_a_file_when_meta_has_no_budget() -> None:
    with pytest.raises(PbError, match="no 'budget'"):
        pabulib.parse(GOOD.replace("budget;100\n", ""))


def test_pberror_is_a_value_error_when_caught_generically() -> None:
    assert issubclass(PbError, ValueError)
