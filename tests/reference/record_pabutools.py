"""Record pabutools' outcomes on the real Pabulib files (tests/data/pabulib/pabutools-outcomes.json).

pabutools' Add1 reruns MES once per currency unit per voter: on Swiecie and Wieliczka 2023 that
takes minutes, too long for `make test`. So its outcomes are recorded once by this script and
tests/unit/test_budget_vs_pabutools.py compares ours with the recording (and computes pabutools
live on the small files). Each entry keeps the file's SHA-256, so a changed file is noticed,
and the file keeps the pabutools version and the command that made it:

    .venv/bin/python -m tests.reference.record_pabutools            # every file, every rule
    .venv/bin/python -m tests.reference.record_pabutools --rule mes --file Poland_Swiecie_2023.pb

Entries for other files and rules already in the JSON are kept. The rules are computed by
tests/reference/pabutools_rules.py (its docstring maps each of our rules to pabutools calls),
with pabutools' lexicographic tie-breaking by project id (our `tie_break="id"`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from importlib.metadata import version
from pathlib import Path

from tests.reference.pabutools_rules import RULES, load, pabutools_allocation

DATA = Path(__file__).resolve().parents[1] / "data" / "pabulib"
OUTCOMES = DATA / "pabutools-outcomes.json"
COMMAND = ".venv/bin/python -m tests.reference.record_pabutools"


def sha256(path: Path) -> str:
    """The file's SHA-256, hexadecimal."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    """Compute and merge the requested (file, rule) outcomes into the JSON file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", action="append", help="a .pb file name in tests/data/pabulib")
    parser.add_argument("--rule", action="append", choices=list(RULES))
    parser.add_argument("--out", type=Path, default=OUTCOMES, help="the JSON file to update")
    args = parser.parse_args()
    files = [DATA / f for f in args.file] if args.file else sorted(DATA.glob("*.pb"))
    rules = args.rule or list(RULES)
    recorded = json.loads(args.out.read_text()) if args.out.exists() else {}
    if recorded.get("pabutools") not in (None, version("pabutools")):
        recorded = {}  # another pabutools: record everything again
    recorded.update({
        "pabutools": version("pabutools"),
        "command": COMMAND,
        "tie_breaking": "pabutools.tiebreaking.lexico_tie_breaking (our tie_break='id')",
        "rules": "tests/reference/pabutools_rules.py",
        "seconds": "pabutools' time for the rule on this machine, informative only; "
                   "mes-add1-greedy and mes-add1-comparison reuse the mes-add1 outcome "
                   "computed just before them, so theirs is the completion or comparison only",
    })
    entries = recorded.setdefault("files", {})
    for path in files:
        digest = sha256(path)
        entry = entries.setdefault(path.name, {"sha256": digest, "outcomes": {}})
        if entry["sha256"] != digest:
            entry.update(sha256=digest, outcomes={})
        instance, profile = load(path)
        for rule in rules:
            started = time.perf_counter()
            selected = pabutools_allocation((instance, profile), rule)
            seconds = time.perf_counter() - started
            cost = int(sum(p.cost for p in instance if p.name in set(selected)))
            entry["outcomes"][rule] = {"selected": selected, "cost": cost,
                                       "seconds": round(seconds, 2)}
            print(f"{path.name} {rule}: {len(selected)} projects, cost {cost}, "
                  f"{seconds:.1f} s", flush=True)
            args.out.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
