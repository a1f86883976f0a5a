"""The Pabulib file format (pabulib.org/format): parse, dump, and turn a file into a tally's input.

A `.pb` file is semicolon-separated CSV (RFC 4180 quoting, `""` inside a quoted field) in three
sections, in this order, each introduced by a line holding only its name and followed by a
header line:

- ``META``: ``key;value`` rows (``budget``, ``vote_type``, ``rule``, ``num_votes``…);
- ``PROJECTS``: one row per project, ``project_id`` and ``cost`` required, any other columns
  (``votes``, ``name``, ``selected``…) kept as they are;
- ``VOTES``: one row per voter, ``voter_id`` and ``vote`` required: ``vote`` lists the ids of
  the projects the voter approved, comma-separated; for ``vote_type`` ``cumulative`` or
  ``scoring`` a ``points`` column gives, comma-separated and in the same order, the points the
  voter gave each of them.

`parse` keeps every value as text, the META keys in their order and every column, so that
`dump(parse(t))` parses back to an equal `PbFile`; `dump` writes CRLF line ends and quotes
only the fields that need it, as the Pabulib files do, so a file written that way comes back
byte for byte. A malformed file raises `PbError`, whose message names the 1-based line.

Standard library only, and no I/O but `load` reading one file: the service and the offline
verifier (`registre audit verify`) read the same files with the same code.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from os import PathLike

from domain.rules.budget import Ballot, Election, Project

SECTIONS = ("META", "PROJECTS", "VOTES")
POINTS_VOTE_TYPES = ("cumulative", "scoring")
VOTE_TYPES = ("approval", "ordinal", "cumulative", "scoring")


class PbError(ValueError):
    """A malformed Pabulib file; the message names the source, the line and the fault."""


@dataclass(frozen=True)
class PbFile:
    """A parsed `.pb` file, every value as written.

    `meta` keeps the META keys in file order; `projects` and `votes` hold one dict per row,
    keyed by the section's header (`project_columns`, `vote_columns`, in file order).
    """

    meta: dict[str, str]
    projects: tuple[dict[str, str], ...]
    votes: tuple[dict[str, str], ...]
    project_columns: tuple[str, ...]
    vote_columns: tuple[str, ...]


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")] if value.strip() else []


def _integer(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def parse(text: str, source: str = "<pb>") -> PbFile:
    """Parse the text of a `.pb` file; raise `PbError` naming the line of the first fault."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"')

    def fail(line: int, what: str) -> PbError:
        return PbError(f"{source}:{line}: {what}")

    section: str | None = None
    header: list[str] | None = None
    meta: dict[str, str] = {}
    projects: list[dict[str, str]] = []
    votes: list[dict[str, str]] = []
    columns: dict[str, tuple[str, ...]] = {}
    seen: list[str] = []
    project_ids: dict[str, int] = {}
    voter_ids: set[str] = set()
    try:
        for row in reader:
            line = reader.line_num
            if not row or row == [""]:
                continue
            if len(row) == 1 and row[0].strip().upper() in SECTIONS:
                name = row[0].strip().upper()
                expected = SECTIONS[len(seen)] if len(seen) < len(SECTIONS) else None
                if name in seen:
                    raise fail(line, f"section {name} appears twice")
                if name != expected:
                    raise fail(line, f"section {name} found where section {expected} was expected")
                seen.append(name)
                section, header = name, None
                continue
            if len(row) == 1 and row[0].strip().isalpha() and row[0].strip().isupper():
                raise fail(line, f"unknown section {row[0].strip()!r} "
                                 f"(expected one of {', '.join(SECTIONS)})")
            if section is None:
                raise fail(line, "missing section META: the file must begin with a line 'META'")
            if header is None:
                header = [cell.strip() for cell in row]
                if len(set(header)) != len(header):
                    raise fail(line, f"the {section} header names a column twice")
                required = {"META": ("key", "value"), "PROJECTS": ("project_id", "cost"),
                            "VOTES": ("voter_id", "vote")}[section]
                if section == "META" and header != ["key", "value"]:
                    raise fail(line, "the META header must be 'key;value'")
                for column in required:
                    if column not in header:
                        raise fail(line, f"the {section} header has no column {column!r}")
                if section == "VOTES" and meta.get("vote_type", "approval") in POINTS_VOTE_TYPES \
                        and "points" not in header:
                    raise fail(line, f"vote_type {meta['vote_type']} needs a 'points' column")
                columns[section] = tuple(header)
                continue
            if len(row) != len(header):
                raise fail(line, f"{section} row has {len(row)} columns, "
                                 f"the header has {len(header)}")
            if section == "META":
                key, value = row[0].strip(), row[1]
                if key in meta:
                    raise fail(line, f"META key {key!r} appears twice")
                if key == "budget" and (_integer(value) is None or _integer(value) < 0):
                    raise fail(line, f"budget {value!r} is not a non-negative integer")
                if key == "vote_type" and value.strip() not in VOTE_TYPES:
                    raise fail(line, f"unknown vote_type {value!r} "
                                     f"(expected one of {', '.join(VOTE_TYPES)})")
                meta[key] = value
            elif section == "PROJECTS":
                record = dict(zip(header, row))
                pid = record["project_id"].strip()
                if not pid:
                    raise fail(line, "empty project_id")
                if pid in project_ids:
                    raise fail(line, f"duplicate project id {pid!r} "
                                     f"(first on line {project_ids[pid]})")
                cost = _integer(record["cost"])
                if cost is None or cost <= 0:
                    raise fail(line, f"project {pid!r}: cost {record['cost']!r} "
                                     "is not a positive integer")
                project_ids[pid] = line
                projects.append(record)
            else:
                record = dict(zip(header, row))
                vid = record["voter_id"].strip()
                if vid in voter_ids:
                    raise fail(line, f"duplicate voter id {vid!r}")
                voter_ids.add(vid)
                ids = _split(record["vote"])
                for pid in ids:
                    if pid not in project_ids:
                        raise fail(line, f"voter {vid!r} votes for unknown project {pid!r}")
                if len(set(ids)) != len(ids):
                    raise fail(line, f"voter {vid!r} names a project twice")
                if "points" in record and meta.get("vote_type", "approval") in POINTS_VOTE_TYPES:
                    points = _split(record["points"])
                    if len(points) != len(ids):
                        raise fail(line, f"voter {vid!r}: {len(points)} points "
                                         f"for {len(ids)} projects")
                    for value in points:
                        if _integer(value) is None or _integer(value) < 0:
                            raise fail(line, f"voter {vid!r}: points {value!r} "
                                             "are not a non-negative integer")
                votes.append(record)
    except csv.Error as error:
        raise fail(reader.line_num, f"malformed CSV: {error}") from None
    for name in SECTIONS:
        if name not in seen:
            raise PbError(f"{source}: missing section {name}")
        if name not in columns:
            raise PbError(f"{source}: section {name} has no header line")
    if "budget" not in meta:
        raise PbError(f"{source}: META has no 'budget'")
    return PbFile(meta=meta, projects=tuple(projects), votes=tuple(votes),
                  project_columns=columns["PROJECTS"], vote_columns=columns["VOTES"])


def load(path: str | PathLike[str]) -> PbFile:
    """Read and parse a `.pb` file (UTF-8)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return parse(handle.read(), source=str(path))


def dump(pb: PbFile) -> str:
    """The text of `pb` as a `.pb` file: CRLF line ends, minimal quoting, columns in order."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", quotechar='"', lineterminator="\r\n",
                        quoting=csv.QUOTE_MINIMAL)
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    for key, value in pb.meta.items():
        writer.writerow([key, value])
    writer.writerow(["PROJECTS"])
    writer.writerow(pb.project_columns)
    for row in pb.projects:
        writer.writerow([row[column] for column in pb.project_columns])
    writer.writerow(["VOTES"])
    writer.writerow(pb.vote_columns)
    for row in pb.votes:
        writer.writerow([row[column] for column in pb.vote_columns])
    return out.getvalue()


def election(pb: PbFile) -> Election:
    """The tally's input: META `budget`, the projects, one ballot per voter.

    Cumulative and scoring ballots carry their points; approval (and ordinal, whose ranks the
    tally rules here do not use) give 1 point per listed project.
    """
    vote_type = pb.meta.get("vote_type", "approval").strip()
    projects = tuple(Project(id=row["project_id"].strip(), cost=int(row["cost"].strip()),
                             name=row.get("name", "")) for row in pb.projects)
    ballots = []
    for row in pb.votes:
        ids = _split(row["vote"])
        if vote_type in POINTS_VOTE_TYPES:
            points = [int(value) for value in _split(row["points"])]
            ballots.append(Ballot(points=tuple(zip(ids, points))))
        else:
            ballots.append(Ballot.approval(ids))
    return Election(budget=int(pb.meta["budget"].strip()), projects=projects,
                    ballots=tuple(ballots))
