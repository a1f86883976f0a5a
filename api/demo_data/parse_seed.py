"""One-off parser: Métrokawa 12 synthesis (Markdown) -> ``metrokawa12.json``.

Provenance
----------
The demo data set of Registre is the synthesis of the *Métrokawa 12* online
consultation run on Agorasso ("Après le Covid : comment construire des
métropoles plus résilientes et démocratiques ?"; the document itself words
it « Après le Corona : comment mettre en place des métropoles plus
résilientes et démocratiques ? »).  It was handed to the project as
``metrokawa12-synthese.md`` in the team's shared seed directory.

This module was run **once** to produce the committed fixture::

    uv run python -m api.demo_data.parse_seed /path/to/metrokawa12-synthese.md

which writes ``api/demo_data/metrokawa12.json`` next to this file.  The
application never reads the Markdown (nor the shared seed directory) at run
time: it only loads the committed JSON through :func:`api.demo_data.load_seed`.
A copy of the Markdown lives in ``tests/data/seed/`` so that the unit tests can
check that ``parse(markdown) == committed JSON``.

Structure of the source
-----------------------
* a preamble (heading, title line, introduction paragraph);
* ``Atelier N : <titre>`` lines, one per workshop, optionally followed by
  free paragraphs describing the workshop;
* one proposal per top-level bullet whose whole content is a Markdown link,
  ``- [Titre](#) (3)``; the vote count is in parentheses, either after the
  link or, escaped, inside the link text (``[Titre \\(7\\)](#)``);
* under each proposal, labelled bullets (``Constat``, ``Objectif(s)``,
  ``Moyen(s)``, ``Exemple``; sometimes in bold, sometimes not indented),
  unlabelled sub-bullets and wrapped continuation lines.

Output fields of a proposal
---------------------------
``number`` is the rank inside its workshop (the document does not number
proposals), ``global_number`` the rank in the whole consultation and ``ref``
a stable key such as ``"A1-P3"``.  ``finding`` is the « Constat » text,
``objective`` the « Objectif » text (or, when a proposal has no objective,
its « Constat » as the description), ``means`` the « Moyens » text and
``example`` the « Exemple » text; absent fields are empty strings.  Sub-bullets
are kept as lines starting with ``"- "``; Markdown links, bold markers and
backslash escapes are stripped; the French wording is otherwise kept verbatim
(typos included).

Standard library only.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

ORGANISATION = "Agorasso"
OUTPUT = Path(__file__).with_name("metrokawa12.json")

_WORKSHOP = re.compile(r"^Atelier\s+(?P<number>\d+)\s*:\s*(?P<title>.+?)\s*$")
_PROPOSAL = re.compile(
    r"^-\s+\[(?P<text>(?:\\.|[^\]\\])+)\]\((?P<href>[^)\s]*)\)"
    r"(?:\s*\((?P<votes>\d+)\))?\s*$"
)
_VOTES_IN_TITLE = re.compile(r"^(?P<title>.*?)\s*\((?P<votes>\d+)\)$")
_FIELD = re.compile(
    r"^\s*-\s+(?:\*\*)?(?P<label>Constats?|Objectifs?|Moyens?|Exemples?)\b"
    r"(?P<qualifier>\s*\([^)]*\))?(?:\*\*)?\s*:\s*(?P<text>.*)$"
)
_BULLET = re.compile(r"^\s*-\s+(?P<text>.*)$")
_TITLE = re.compile(r"^(?P<consultation>.+?)\s*:\s*«\s*(?P<question>.+?)\s*»\s*$")

_LINK = re.compile(r"\[(?P<text>(?:\\.|[^\]\\])*)\]\([^)\s]*\)")
_AUTOLINK = re.compile(r"<(?P<url>https?://[^>\s]+)>")
_BOLD = re.compile(r"\*\*(?P<text>.+?)\*\*")
_ESCAPE = re.compile(r"\\(?P<char>[\\`*_{}\[\]()#+\-.!\"'<>|])")

# Canonical field names, keyed by the lower-cased French label without its plural "s".
_FIELD_NAMES = {
    "constat": "finding",
    "objectif": "objective",
    "moyen": "means",
    "exemple": "example",
}


def strip_markup(text: str) -> str:
    """Remove inline Markdown markup (links, autolinks, bold, escapes)."""
    text = _LINK.sub(lambda m: m.group("text"), text)
    text = _AUTOLINK.sub(lambda m: m.group("url"), text)
    text = _BOLD.sub(lambda m: m.group("text"), text)
    text = _ESCAPE.sub(lambda m: m.group("char"), text)
    return text.strip()


def _parse_proposal_line(line: str) -> tuple[str, int] | None:
    match = _PROPOSAL.match(line)
    if match is None:
        return None
    title = strip_markup(match.group("text"))
    votes = match.group("votes")
    inner = _VOTES_IN_TITLE.match(title)
    if votes is not None and inner is not None:
        raise ValueError(f"two vote counts on proposal line: {line!r}")
    if votes is None:
        if inner is None:
            raise ValueError(f"proposal without a vote count: {line!r}")
        title, votes = inner.group("title"), inner.group("votes")
    return title.strip(), int(votes)


class _Proposal:
    def __init__(self, title: str, votes: int) -> None:
        self.title = title
        self.votes = votes
        self.fields: dict[str, str] = {name: "" for name in _FIELD_NAMES.values()}
        self.current: str | None = None

    def start_field(self, name: str, text: str) -> None:
        if self.fields[name]:  # same label twice: keep both, one per line
            self.fields[name] += "\n" + text
        else:
            self.fields[name] = text
        self.current = name

    def add_sub_item(self, text: str, line: str) -> None:
        self._append("\n- " + text, line)

    def add_continuation(self, text: str, line: str) -> None:
        separator = "\n" if _AUTOLINK.fullmatch(line.strip()) else " "
        self._append(separator + text, line)

    def _append(self, text: str, line: str) -> None:
        if self.current is None:
            raise ValueError(f"text outside any labelled field: {line!r}")
        self.fields[self.current] = (self.fields[self.current] + text).strip()

    def as_dict(self, workshop: int, number: int, global_number: int) -> dict[str, Any]:
        objective = self.fields["objective"] or self.fields["finding"]
        return {
            "ref": f"A{workshop}-P{number}",
            "number": number,
            "global_number": global_number,
            "title": self.title,
            "votes": self.votes,
            "objective": objective,
            "means": self.fields["means"],
            "finding": self.fields["finding"],
            "example": self.fields["example"],
        }


def parse(markdown_text: str) -> dict[str, Any]:
    """Parse the Métrokawa 12 synthesis Markdown into the fixture dict."""
    preamble: list[str] = []
    workshops: list[dict[str, Any]] = []
    # Per workshop: (number, title, description paragraphs, proposals)
    current_ws: dict[str, Any] | None = None
    proposal: _Proposal | None = None

    for raw in markdown_text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue

        heading = _WORKSHOP.match(line)
        if heading is not None:
            current_ws = {
                "number": int(heading.group("number")),
                "title": strip_markup(heading.group("title")),
                "description": [],
                "proposals": [],
            }
            workshops.append(current_ws)
            proposal = None
            continue

        if current_ws is None:
            preamble.append(strip_markup(line))
            continue

        parsed = _parse_proposal_line(line)
        if parsed is not None:
            proposal = _Proposal(*parsed)
            current_ws["proposals"].append(proposal)
            continue

        if proposal is None:
            if _BULLET.match(line):
                raise ValueError(f"bullet before the first proposal of a workshop: {line!r}")
            current_ws["description"].append(strip_markup(line))
            continue

        field = _FIELD.match(line)
        if field is not None:
            key = field.group("label").lower().rstrip("s")
            proposal.start_field(_FIELD_NAMES[key], strip_markup(field.group("text")))
            continue

        bullet = _BULLET.match(line)
        if bullet is not None:
            proposal.add_sub_item(strip_markup(bullet.group("text")), line)
        else:
            proposal.add_continuation(strip_markup(line), line)

    if len(preamble) < 2:
        raise ValueError("missing heading and title before the first workshop")
    heading_line, title_line, *introduction = preamble
    title_match = _TITLE.match(title_line)
    if title_match is None:
        raise ValueError(f"unexpected title line: {title_line!r}")

    out_workshops = []
    global_number = 0
    for ws in workshops:
        proposals = []
        for number, item in enumerate(ws["proposals"], start=1):
            global_number += 1
            proposals.append(item.as_dict(ws["number"], number, global_number))
        out_workshops.append(
            {
                "number": ws["number"],
                "title": ws["title"],
                "description": "\n".join(ws["description"]),
                "proposals": proposals,
            }
        )

    return {
        "source": f"{ORGANISATION} — {heading_line}",
        "title": title_line,
        "consultation": title_match.group("consultation"),
        "question": title_match.group("question"),
        "introduction": "\n".join(introduction),
        "workshops": out_workshops,
    }


def dumps(data: dict[str, Any]) -> str:
    """Serialise exactly as the committed fixture is written."""
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m api.demo_data.parse_seed /path/to/metrokawa12-synthese.md",
              file=sys.stderr)
        return 2
    data = parse(Path(args[0]).read_text(encoding="utf-8"))
    OUTPUT.write_text(dumps(data), encoding="utf-8")
    proposals = [p for ws in data["workshops"] for p in ws["proposals"]]
    print(
        f"wrote {OUTPUT}: {len(data['workshops'])} workshops, {len(proposals)} proposals, "
        f"{sum(p['votes'] for p in proposals)} votes"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
