"""The citizens' convention's acts from the command line (`registre convention …`), over the
HTTP API with the caller's bearer token, as every other act (api/acts.py):

    registre convention open --metropolis SLUG [--kind K] --title T --mandate M
                             [--rule KEY=VALUE …] [--quota CATEGORY:VALUE=MIN-MAX …]  (clerk)
    registre convention invite CONV --registry FILE.csv --key-file KEY --seed S
                               [--invited-out FILE.csv]                               (clerk)
    registre convention commit-seed CONV (--secret-file FILE | --digest HEX)      (guarantor)
    registre convention register CONV --value CATEGORY=VALUE … [--contact C]     (resident)
    registre convention withdraw CONV                                            (volunteer)
    registre convention reveal CONV (--secret-file FILE | --seed SEED)            (guarantor)
    registre convention answer CONV (--accept | --decline)                   (drawn member)
    registre convention session CONV --number N --summary S                          (clerk)
    registre convention propose CONV --title T --summary S [--commune C …]           (clerk)
    registre convention cancel CONV --reason R                                       (clerk)
    registre convention show CONV | panel CONV | probabilities CONV

Invitations: the registry extract (one address or registry line per CSV row) never leaves the
clerk's machine. Each row, trimmed with its blanks collapsed, is pseudonymised here as
HMAC-SHA256 under the clerk's secret key (`--key-file`, 32 random bytes created on first use,
kept by the clerk's office); only the pseudonyms are sent and drawn from (the server ranks
them by SHA-256 of `<seed>:<pseudonym>`). Anyone given the pseudonymised extract and the
public seed re-ranks it and checks the recorded digest; nobody without the key can tell which
address a pseudonym stands for (a keyless hash of an address could be found by hashing every
address of the metropolis). The rows invited are written to `--invited-out` for the letters.

The guarantor's secret (`--secret-file`, 32 random bytes in hex, created on first use) is
committed as its SHA-256 before the pool closes and revealed after the commitment.
`register_convention_acts(convention_cli)` adds these commands to the `convention` typer of
api/convention_cli.py (whose `marginals` and `draw` work on CSV files offline).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Optional

import typer

from api.acts import TOKEN, URL, _call, _need, _recorded, _show
from api.budget_acts import _pairs, _rule_value


def registry_line(row: list[str]) -> str:
    """A CSV row as one registry line: its cells trimmed, blanks collapsed, joined by `;`."""
    return ";".join(" ".join(cell.split()) for cell in row)


def pseudonymise(key: bytes, line: str) -> str:
    """A registry line's pseudonym: HMAC-SHA256 under the clerk's key, 64 hex digits."""
    return hmac.new(key, line.encode("utf-8"), hashlib.sha256).hexdigest()


def _secret_file(path: Path, *, create: bool) -> str:
    """The hex secret held in `path` (32 random bytes written there, owner-only, on first
    use when `create`)."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    if not create:
        raise typer.BadParameter(f"{path} does not exist", param_hint="--secret-file")
    value = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value + "\n")
    return value


def _quotas(values: list[str]) -> dict[str, dict[str, list[int]]]:
    quotas: dict[str, dict[str, list[int]]] = {}
    for value in values:
        head, sep, bounds = value.rpartition("=")
        category, colon, name = head.partition(":")
        lo, dash, hi = bounds.partition("-")
        if not (sep and colon and dash and category and name and lo.isdigit()
                and hi.isdigit()):
            raise typer.BadParameter(f"{value!r} is not CATEGORY:VALUE=MIN-MAX",
                                     param_hint="--quota")
        quotas.setdefault(category.strip(), {})[name.strip()] = [int(lo), int(hi)]
    return quotas


def _read_registry(path: Path, header: bool) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if any(cell.strip() for cell in r)]
    return [registry_line(r) for r in (rows[1:] if header else rows)]


def register_convention_acts(app: typer.Typer) -> None:
    """Add the convention's act commands to `app` (the `registre convention` typer)."""

    @app.command("open")
    def convention_open(
        metropolis: str = typer.Option(..., help="slug of the metropolis"),
        kind: str = typer.Option("convention", help="a convention kind of the charter"),
        title: str = typer.Option(..., help="titre de la convention"),
        mandate: str = typer.Option(..., help="le mandat confié à la convention"),
        rule: list[str] = typer.Option([], help="KEY=VALUE overriding a rule of the kind, "
                                                "e.g. size=30 or method=nash (repeatable)"),
        quota: list[str] = typer.Option([], help="CATEGORY:VALUE=MIN-MAX, e.g. "
                                                 "gender:femme=14-16 (repeatable; replaces "
                                                 "the kind's quotas)"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Convene a convention of a kind the charter offers (clerk)."""
        body: dict[str, Any] = {"kind": kind, "title": title, "mandate": mandate}
        rules: dict[str, Any] = {k: _rule_value(v) for k, v in _pairs(rule, "--rule").items()}
        if quota:
            rules["quotas"] = _quotas(quota)
        if rules:
            body["rules"] = rules
        data = _call("POST", f"/metropolises/{metropolis}/conventions", url, _need(token), body)
        _recorded(data, f"Convention citoyenne convoquée : {data['id']}")

    @app.command("invite")
    def convention_invite(
        convention_id: str,
        registry: Path = typer.Option(..., exists=True, dir_okay=False, readable=True,
                                      help="the registry extract, one address per CSV row"),
        key_file: Path = typer.Option(..., help="the clerk's secret pseudonym key (created "
                                                "on first use; keep it)"),
        seed: str = typer.Option(..., help="the public seed (e.g. a lottery's draw)"),
        header: bool = typer.Option(True, "--header/--no-header",
                                    help="the CSV's first row names its columns"),
        invited_out: Optional[Path] = typer.Option(
            None, help="where the rows invited are written (default: REGISTRY.invited.csv)"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Draw the invitations from a registry extract sent as pseudonyms only (clerk)."""
        key = bytes.fromhex(_secret_file(key_file, create=True))
        lines = _read_registry(registry, header)
        by_pseudonym = {pseudonymise(key, line): line for line in lines}
        data = _call("POST", f"/conventions/{convention_id}/invitations", url, _need(token),
                     {"entries": sorted(by_pseudonym), "seed": seed})
        out = invited_out or registry.with_suffix(".invited.csv")
        with out.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for pseudonym in data["invited"]:
                writer.writerow([by_pseudonym[pseudonym], pseudonym])
        _recorded(data, f"{len(data['invited'])} invitation(s) tirée(s) parmi "
                        f"{len(by_pseudonym)} entrées du registre (écrites dans {out})")

    @app.command("commit-seed")
    def convention_commit_seed(
        convention_id: str,
        secret_file: Optional[Path] = typer.Option(
            None, help="the guarantor's secret (created on first use; keep it until the "
                       "reveal)"),
        digest: Optional[str] = typer.Option(None, help="SHA-256 of the secret, in hex"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Commit SHA-256 of the guarantor's secret before the pool closes (guarantor)."""
        if (secret_file is None) == (digest is None):
            raise typer.BadParameter("give --secret-file or --digest")
        if secret_file is not None:
            digest = hashlib.sha256(bytes.fromhex(_secret_file(secret_file, create=True))
                                    ).hexdigest()
        data = _call("POST", f"/conventions/{convention_id}/seed-commitment", url,
                     _need(token), {"digest": digest})
        _recorded(data, f"Secret du garant engagé : SHA-256 {digest}")

    @app.command("register")
    def convention_register(
        convention_id: str,
        value: list[str] = typer.Option([], help="CATEGORY=VALUE for each category of the "
                                                 "quotas but the commune (repeatable)"),
        contact: str = typer.Option("", help="how to reach you if drawn (sealed)"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Volunteer for a convention during registration (resident)."""
        _recorded(_call("POST", f"/conventions/{convention_id}/volunteers", url, _need(token),
                        {"values": _pairs(value, "--value"), "contact": contact}),
                  "Candidature enregistrée")

    @app.command("withdraw")
    def convention_withdraw(convention_id: str, url: Optional[str] = URL,
                            token: Optional[str] = TOKEN) -> None:
        """Withdraw one's candidacy before the pool closes (volunteer)."""
        _recorded(_call("DELETE", f"/conventions/{convention_id}/volunteers/me", url,
                        _need(token)), "Candidature retirée")

    @app.command("reveal")
    def convention_reveal(
        convention_id: str,
        secret_file: Optional[Path] = typer.Option(None, help="the secret committed"),
        seed: Optional[str] = typer.Option(None, help="the seed: the secret in hex, the "
                                                      "dice's digits or the beacon's value"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Reveal the seed after the pool's commitment (guarantor)."""
        if (secret_file is None) == (seed is None):
            raise typer.BadParameter("give --secret-file or --seed")
        if secret_file is not None:
            seed = _secret_file(secret_file, create=False)
        _recorded(_call("POST", f"/conventions/{convention_id}/seed", url, _need(token),
                        {"seed": seed}), "Graine du tirage révélée")

    @app.command("answer")
    def convention_answer(
        convention_id: str, accept: bool = typer.Option(..., "--accept/--decline"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Accept or decline one's seat (drawn member)."""
        _recorded(_call("POST", f"/conventions/{convention_id}/seats/me", url, _need(token),
                        {"accept": accept}),
                  "Siège accepté" if accept else "Siège refusé : un suppléant est tiré")

    @app.command("session")
    def convention_session(
        convention_id: str, number: int = typer.Option(..., min=1),
        summary: str = typer.Option(...), url: Optional[str] = URL,
        token: Optional[str] = TOKEN,
    ) -> None:
        """Record a session held by the sitting convention (clerk)."""
        _recorded(_call("POST", f"/conventions/{convention_id}/sessions", url, _need(token),
                        {"number": number, "summary": summary}),
                  f"Séance {number} consignée")

    @app.command("propose")
    def convention_propose(
        convention_id: str, title: str = typer.Option(...), summary: str = typer.Option(...),
        commune: list[str] = typer.Option([], help="a commune concerned (repeatable)"),
        url: Optional[str] = URL, token: Optional[str] = TOKEN,
    ) -> None:
        """Send one of the convention's proposals to the council (clerk)."""
        data = _call("POST", f"/conventions/{convention_id}/proposals", url, _need(token),
                     {"title": title, "summary": summary, "communes": commune})
        _recorded(data, f"Proposition transmise au conseil : {data['id']}")

    @app.command("cancel")
    def convention_cancel(convention_id: str, reason: str = typer.Option(...),
                          url: Optional[str] = URL, token: Optional[str] = TOKEN) -> None:
        """Cancel a convention before its end, with reasons (clerk)."""
        _recorded(_call("POST", f"/conventions/{convention_id}/cancel", url, _need(token),
                        {"reason": reason}), "Convention annulée")

    @app.command("show")
    def convention_show(convention_id: str, url: Optional[str] = URL) -> None:
        """A convention, then its timeline."""
        _show({"convention": _call("GET", f"/conventions/{convention_id}", url),
               "timeline": _call("GET", f"/conventions/{convention_id}/timeline", url)})

    @app.command("panel")
    def convention_panel(convention_id: str, url: Optional[str] = URL) -> None:
        """The committed pool, the commitment, the seed and the panel drawn."""
        convention = _call("GET", f"/conventions/{convention_id}", url)
        _show({k: convention.get(k) for k in ("stage", "commitment", "seed", "panel",
                                              "members", "declined", "replacements")
               if k in convention} | {"pool": _call("GET", f"/conventions/{convention_id}/pool",
                                                    url)})

    @app.command("probabilities")
    def convention_probabilities(convention_id: str, url: Optional[str] = URL) -> None:
        """Each volunteer's probability of selection under the committed distribution."""
        _show(_call("GET", f"/conventions/{convention_id}/probabilities", url))
