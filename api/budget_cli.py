"""`registre budget …`: participatory budgets on Pabulib files, tallied by the exact rules.

    registre budget tally FILE.pb --rule RULE [--tie-break default|id] [--json]

RULE is one of `domain.rules.budget.RULES`, or `auto`: the rule the file's META `rule` names
(`PABULIB_RULES`). The tally itself is `domain.rules.budget.tally`, the same function the service
and the offline verifier apply; this module only reads the file and prints.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import typer

from domain.rules import budget, pabulib

budget_cli = typer.Typer(help="Participatory budgets: tally a Pabulib (.pb) file with an exact "
                              "rule (greedy, Method of Equal Shares and its Add1 variants).",
                         no_args_is_help=True)

RULE_HELP = f"one of {', '.join(budget.RULES)}, or auto (the rule in the file's META `rule`)"


class BudgetCliError(Exception):
    """A file or an option the command cannot tally: printed on stderr, exit code 2."""


def check_rule(rule: str) -> None:
    """Raise BudgetCliError unless `rule` is one of ours or `auto`."""
    if rule != "auto" and rule not in budget.RULES:
        raise BudgetCliError(f"unknown rule {rule!r}; rules: {', '.join(budget.RULES)}, auto")


def resolve_rule(rule: str, pb: pabulib.PbFile) -> str:
    """Our rule for `rule`: itself, or for `auto` the one the file's META `rule` names."""
    check_rule(rule)
    if rule != "auto":
        return rule
    named = pb.meta.get("rule", "").strip()
    if not named:
        raise BudgetCliError("--rule auto: the file's META names no rule; choose one with "
                             f"--rule ({', '.join(budget.RULES)})")
    if named not in budget.PABULIB_RULES:
        raise BudgetCliError(
            f"--rule auto: the file's META rule {named!r} is not one we tally (we know "
            f"{', '.join(sorted(budget.PABULIB_RULES))}); choose one with --rule")
    return budget.PABULIB_RULES[named]


def read(path: Path) -> tuple[pabulib.PbFile, budget.Election]:
    """The parsed file and its election; a malformed one raises BudgetCliError."""
    try:
        pb = pabulib.load(path)
        return pb, pabulib.election(pb)
    except (pabulib.PbError, budget.BudgetRuleError) as e:
        raise BudgetCliError(str(e)) from None
    except UnicodeDecodeError as e:
        raise BudgetCliError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise BudgetCliError(f"{path}: {e.strerror or e}") from None


def _amount(value: int | Fraction) -> str:
    if isinstance(value, int) or value.denominator == 1:
        return f"{int(value):,}"
    return f"{float(value):,.2f}"


def human(outcome: budget.Outcome, election: budget.Election, path: Path,
          auto_from: str | None) -> list[str]:
    """The outcome as lines for a person: the rule, each funded project, the total, the notes."""
    origin = f" (auto: META rule {auto_from})" if auto_from else ""
    lines = [f"{path.name}: rule {outcome.rule}{origin}, tie-break {outcome.tie_break}",
             f"budget {_amount(election.budget)}, {len(election.projects)} projects, "
             f"{len(election.ballots):,} ballots"]
    if outcome.voter_budget is not None:
        lines.append(f"voter budget {_amount(outcome.voter_budget)} (each voter's starting "
                     "budget in the MES run kept)")
    mes = any(r.price is not None for r in outcome.rounds)
    header = f"{'#':>3}  {'project':<12} {'cost':>12} {'votes':>7}  {'phase':<10}"
    if mes:
        header += f" {'per vote':>10} {'eff. votes':>10}"
    lines.append(header)
    for number, r in enumerate(outcome.rounds, 1):
        line = f"{number:>3}  {r.project:<12} {_amount(r.cost):>12} {r.votes:>7,}  {r.phase:<10}"
        if r.effective_votes is not None:
            # what each supporter who paid in full paid per point (π = cost / effective votes)
            line += (f" {_amount(Fraction(r.cost) / r.effective_votes):>10}"
                     f" {_amount(r.effective_votes):>10}")
        lines.append(line.rstrip())
    lines.append(f"total {_amount(outcome.cost)} of {_amount(election.budget)} "
                 f"({len(outcome.selected)} projects, {_amount(election.budget - outcome.cost)} "
                 "left)")
    lines.extend(f"note: {note}" for note in outcome.notes)
    return lines


@budget_cli.command("tally")
def tally_cmd(
    file: Path = typer.Argument(..., help="a Pabulib .pb file", dir_okay=False),
    rule: str = typer.Option(..., "--rule", help=RULE_HELP),
    tie_break: str = typer.Option("default", "--tie-break",
                                  help="default (lowest cost, most votes, then a lot) or id "
                                       "(project id order, as pabutools)"),
    as_json: bool = typer.Option(False, "--json",
                                 help='print only {"rule", "selected", "cost"} as JSON'),
) -> None:
    """Tally a Pabulib file: the funded projects in order, with cost, votes and, for the Method
    of Equal Shares, what each supporter paid per vote and the effective votes; then the total
    against the budget. A malformed file, an unknown rule: the reason on stderr, exit code 2."""
    try:
        if tie_break not in budget.TIE_BREAKS:
            raise BudgetCliError(f"unknown tie-break {tie_break!r}; tie-breaks: "
                                 f"{', '.join(budget.TIE_BREAKS)}")
        check_rule(rule)  # before reading the file
        pb, election = read(file)
        resolved = resolve_rule(rule, pb)
        try:
            outcome = budget.tally(election, resolved, tie_break=tie_break)
        except budget.BudgetRuleError as e:
            raise BudgetCliError(str(e)) from None
    except BudgetCliError as e:
        typer.echo(f"registre budget tally: {e}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"rule": resolved, "selected": list(outcome.selected),
                               "cost": outcome.cost}))
        return
    auto_from = pb.meta.get("rule") if rule == "auto" else None
    typer.echo("\n".join(human(outcome, election, file, auto_from)))


# The cycle's acts (open, submit, rule, appeal, vote, milestone, cancel, show, results, import,
# export): api/budget_acts.py, on the same `registre budget` group.
from api.budget_acts import register as _register_acts  # noqa: E402

_register_acts(budget_cli)
