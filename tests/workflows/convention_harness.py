"""What the convention's workflow tests, its history recorder and the relay's convention test
share: a charter kind small enough for a brute-force solver, the guarantor's secret, a
metropolis of two communes, a pool of volunteers, and `uniform_solver` (copied from
tests/unit/test_convention.py: the HiGHS adapter is not needed to drive a workflow)."""

from __future__ import annotations

import hashlib
import itertools
import uuid
from datetime import date, datetime, timezone
from typing import Any

from domain.application import Registre
from domain.rules import sortition
from domain.rules.charter import CharterRules
from domain.rules.petition import SignerClaims

DAY = 86400
SECRET = "11" * 32
SECRET_DIGEST = hashlib.sha256(bytes.fromhex(SECRET)).hexdigest()
RESIDENT_A = SignerClaims(commune="A", birthdate=date(1980, 1, 1))
RESIDENT_B = SignerClaims(commune="B", birthdate=date(1980, 1, 1))
KIND: dict[str, Any] = {
    "size": 4, "quotas": {"gender": {"f": [2, 2], "m": [2, 2]},
                          "commune": {"A": [1, 3], "B": [1, 3]}},
    "method": "leximin", "randomness": "guarantor_secret",
    "registration_seconds": 10 * DAY, "reveal_seconds": 2 * DAY,
    "acceptance_seconds": 5 * DAY, "term_seconds": 100 * DAY}


def uniform_solver(people: Any, quotas: Any, size: int, method: str
                   ) -> sortition.Distribution:
    """Every valid composition equally likely (brute force: small pools only)."""
    types = sortition.types_of(people)
    keys = list(types)
    compositions = []
    for counts in itertools.product(*(range(len(types[k]) + 1) for k in keys)):
        comp = dict(zip(keys, counts))
        if not sortition.violations(comp, people, quotas, size):
            compositions.append(comp)
    if not compositions:
        raise sortition.SortitionError("sortition.infeasible_quotas", "no panel meets them",
                                       relaxation=[{"feature": "gender", "value": "f",
                                                    "bound": "min", "from": 2, "to": 1}])
    return sortition.from_probabilities(compositions, [1.0] * len(compositions))


class EnvClock:
    """The domain's clock, set from the test server's virtual clock before each act."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def found(app: Registre, **kind: Any) -> uuid.UUID:
    """A metropolis of communes A and B offering the kind `convention` (KIND, overridden)."""
    return app.found_metropolis(
        f"m-{uuid.uuid4().hex[:8]}", "Métropole test",
        [{"code": "A", "name": "Ville A", "population": 1000},
         {"code": "B", "name": "Ville B", "population": 500}],
        [{"ref": "m1", "name": "Membre 1", "role": "councillor", "commune": "A"}],
        CharterRules(consultation_seconds=30 * DAY, vote_seconds=14 * DAY, quorum_percent=50,
                     convention_kinds={"convention": {**KIND, **kind}}))


def open_convention(app: Registre, metropolis_id: uuid.UUID) -> uuid.UUID:
    cid, _ = app.open_convention(metropolis_id, "greffe", "convention",
                                 "Convention citoyenne sur le climat",
                                 "Proposer des mesures de réduction des émissions.")
    return cid


def register_pool(app: Registre, cid: uuid.UUID, per_type: int = 2,
                  feasible: bool = True) -> list[str]:
    """Volunteers of each commune and gender (`per_type` of each); an infeasible pool: five
    men of commune A."""
    refs = []
    kinds = ([(RESIDENT_A, "f"), (RESIDENT_A, "m"), (RESIDENT_B, "f"), (RESIDENT_B, "m")]
             if feasible else [(RESIDENT_A, "m")] * 5)
    for claims, gender in kinds:
        for _ in range(per_type if feasible else 1):
            ref = f"v{len(refs)}"
            app.register_volunteer(cid, ref, claims, {"gender": gender}, "06 00 00 00 00")
            refs.append(ref)
    return refs
