"""`registre convention …`: a citizens' convention drawn by lot (issue #11), from CSV files.

    registre convention marginals --people P.csv --features F.csv --panel-size K
                                  --method leximin|maximin|nash|legacy [--id-column C] [--json]
    registre convention draw      … (same inputs) --seed HEX [--json]

`marginals` prints each person's probability of a seat under the method's lottery; `draw` draws
the panel from that lottery with the seed (`domain.rules.sortition.draw`) and prints it with the
commitment to everything the draw depended on. Errors: exit code 2, the rule named on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from api.sortition_files import SortitionFileError, load
from domain.rules import sortition

convention_cli = typer.Typer(help="Citizens' conventions drawn by lot: selection probabilities "
                                  "and the seeded draw (leximin, maximin, nash, legacy).",
                             no_args_is_help=True)

PEOPLE = typer.Option(..., "--people", help="the pool (CSV)")
FEATURES = typer.Option(..., "--features", help="the quotas (CSV: feature,value,min,max or "
                                                "category,feature,min,max)")
SIZE = typer.Option(..., "--panel-size", help="seats on the panel")
METHOD = typer.Option("leximin", "--method", help=" | ".join(sortition.METHODS))
ID_COLUMN = typer.Option(None, "--id-column", help="the people file's id column (default "
                                                   "nationbuilder_id; Flanigan files: row number)")
AS_JSON = typer.Option(False, "--json", help="print JSON")


def _fail(rule: str, message: str) -> None:
    typer.echo(f"refusé ({rule}) : {message}", err=True)
    raise typer.Exit(2)


def _solve(people_file: Path, features_file: Path, size: int, method: str,
           id_column: Optional[str]):
    """Read the files and solve; any refusal exits with code 2."""
    from api.sortition_solver import solve

    try:
        people, quotas = load(people_file, features_file, id_column)
        progress = (lambda line: print(line, file=sys.stderr, flush=True)) \
            if len(people) > 500 or method in ("nash", "legacy") else None
        return people, quotas, solve(people, quotas, size, method, progress=progress)
    except SortitionFileError as e:
        _fail(e.rule, str(e))
    except sortition.SortitionError as e:
        extra = ""
        if "relaxation" in e.details:
            extra = " ; relaxation : " + json.dumps(e.details["relaxation"], ensure_ascii=False)
        _fail(e.rule, str(e) + extra)


def _percent(p: float) -> str:
    return f"{100 * p:.2f} %".replace(".", ",")


@convention_cli.command("marginals")
def marginals_cmd(people: Path = PEOPLE, features: Path = FEATURES, panel_size: int = SIZE,
                  method: str = METHOD, id_column: Optional[str] = ID_COLUMN,
                  as_json: bool = AS_JSON) -> None:
    """Compute each person's probability of a seat under the method's lottery."""
    pool, _, sel = _solve(people, features, panel_size, method, id_column)
    if as_json:
        typer.echo(json.dumps({"method": sel.method, "marginals": sel.marginals,
                               "panels": sel.panels, "seconds": round(sel.seconds, 3)}))
        return
    values = sorted(sel.marginals.values())
    typer.echo(f"Méthode : {sel.method}")
    typer.echo(f"Personnes : {len(pool)} ; sièges : {panel_size}")
    typer.echo(f"Probabilité minimale : {_percent(values[0])}")
    typer.echo(f"Probabilité maximale : {_percent(values[-1])}")
    typer.echo(f"Panels dans la loterie : {sel.panels}")
    typer.echo(f"Durée du calcul : {sel.seconds:.2f} s".replace(".", ","))


@convention_cli.command("draw")
def draw_cmd(people: Path = PEOPLE, features: Path = FEATURES, panel_size: int = SIZE,
             method: str = METHOD, seed: str = typer.Option(..., "--seed", help="hexadecimal"),
             id_column: Optional[str] = ID_COLUMN, as_json: bool = AS_JSON) -> None:
    """Draw the panel from the method's lottery with the seed."""
    try:
        seed_bytes = bytes.fromhex(seed)
    except ValueError:
        _fail("sortition.bad_seed", f"--seed {seed!r} is not hexadecimal")
    if not seed_bytes:
        _fail("sortition.bad_seed", "--seed is empty")
    pool, quotas, sel = _solve(people, features, panel_size, method, id_column)
    panel = sortition.draw(pool, sel.distribution, seed_bytes)
    committed = sortition.commitment(pool, quotas, panel_size, sel.method,
                                     sortition.ALGORITHM_VERSION, sel.distribution,
                                     f"seed:{seed_bytes.hex()}")
    by_id = {p.id: p for p in pool}
    if as_json:
        typer.echo(json.dumps({
            "method": sel.method, "seed": seed_bytes.hex(), "commitment": committed,
            "algorithm": sortition.ALGORITHM_VERSION, "panel": list(panel),
            "members": {i: dict(by_id[i].values) for i in panel}}, ensure_ascii=False))
        return
    typer.echo(f"Méthode : {sel.method} ; graine : {seed_bytes.hex()}")
    typer.echo(f"Engagement (SHA-256) : {committed}")
    typer.echo(f"Panel tiré ({len(panel)} personnes) :")
    for i in panel:
        values = ", ".join(f"{f} = {v}" for f, v in by_id[i].values)
        typer.echo(f"  {i} — {values}")


# The process' acts against the HTTP API (open, register, reveal, …): api/convention_acts.py.
from api.convention_acts import register_convention_acts  # noqa: E402

register_convention_acts(convention_cli)
