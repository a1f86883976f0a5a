"""The verifiable ledger: checkpoints, proofs and the raw log for outside verification (D6)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, status
from pydantic import BaseModel, Field

from api.deps import LedgerDep, require_role
from api.edge import EdgeRoute
from api.schemas import LOG_POSITION_MAX, SignatureLine
from domain.ledger.leaf import encode_leaf
from projections.ledger import CheckpointRefused, CheckpointRow, MerkleLog, add_cosignature

router = APIRouter(prefix="/ledger", tags=["ledger"], route_class=EdgeRoute)

# Positions and tree sizes are PostgreSQL bigints: larger ones are malformed (422), not 500s.
Position = Annotated[int, Query(ge=0, le=LOG_POSITION_MAX - 1)]
Size = Annotated[int, Query(ge=1, le=LOG_POSITION_MAX)]


def _log(request: Request) -> MerkleLog:
    return request.app.state.merkle_log


MerkleLogDep = Annotated[MerkleLog, Depends(_log)]


class KeysResponse(BaseModel):
    ledger: str = Field(description="the ledger's note verifier key (Ed25519)")
    witness: str | None = Field(description="the guarantor witness' key (cosignature/v1)")


class CheckpointResponse(BaseModel):
    size: int
    root: str = Field(description="hex")
    note: str = Field(description="C2SP tlog-checkpoint signed note, with any co-signatures")
    issued_at: datetime

    @classmethod
    def of(cls, row: CheckpointRow) -> CheckpointResponse:
        return cls(size=row.size, root=row.root.hex(), note=row.note, issued_at=row.issued_at)


class CosignRequest(BaseModel):
    line: SignatureLine = Field(min_length=10, max_length=500,
                      description="the witness' cosignature/v1 signature line")


class InclusionProofResponse(BaseModel):
    notification_id: int
    index: int
    size: int
    leaf_hash: str
    proof: list[str]
    root: str


class ConsistencyProofResponse(BaseModel):
    old_size: int
    new_size: int
    old_root: str
    new_root: str
    proof: list[str]


class RecordResponse(BaseModel):
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    leaf: str = Field(description="base64 of the leaf bytes (domain/ledger/leaf.py encoding)")


class LeafResponse(BaseModel):
    index: int
    notification_id: int
    leaf_hash: str


def _refused(status_code: int, rule: str, message: str) -> HTTPException:
    return HTTPException(status_code, detail={"rule": rule, "message": message})


@router.get("/keys", response_model=KeysResponse, summary="Clés publiques / Public keys")
def get_keys(request: Request) -> KeysResponse:
    """The public keys that checkpoints and co-signatures verify against."""
    return KeysResponse(ledger=request.app.state.ledger_key.vkey(),
                        witness=request.app.state.witness_vkey())


@router.get("/checkpoint", response_model=CheckpointResponse,
            summary="Dernier point de contrôle / Latest checkpoint")
def latest_checkpoint(log: MerkleLogDep) -> CheckpointResponse:
    """The latest signed checkpoint (tree size, root, signatures)."""
    row = log.latest_checkpoint()
    if row is None:
        raise _refused(404, "no_checkpoint", "no checkpoint has been issued yet")
    return CheckpointResponse.of(row)


@router.get("/checkpoints", response_model=list[CheckpointResponse],
            summary="Historique des points de contrôle / Checkpoint history")
def list_checkpoints(log: MerkleLogDep, after: Position = 0,
                     limit: int = Query(100, ge=1, le=1000)) -> list[CheckpointResponse]:
    """Checkpoints in increasing size, after tree size `after`."""
    return [CheckpointResponse.of(r) for r in log.checkpoints(limit=limit, after=after)]


@router.post("/checkpoints", status_code=status.HTTP_201_CREATED,
             response_model=CheckpointResponse,
             summary="Émettre un point de contrôle / Issue a checkpoint now",
             dependencies=[Depends(require_role("clerk", "guarantor"))])
def issue_now(request: Request, log: MerkleLogDep) -> CheckpointResponse:
    """Sign the current tree now (clerk or guarantor); returns the latest if nothing new."""
    from projections.ledger import issue_checkpoint

    row = issue_checkpoint(log, request.app.state.ledger_key)
    if row is None:
        raise _refused(409, "empty_log", "the log holds no event yet")
    return CheckpointResponse.of(row)


@router.post("/checkpoints/{size}/cosignatures", response_model=CheckpointResponse,
             summary="Co-signer (garant) / Co-sign as witness",
             dependencies=[Depends(require_role("guarantor"))])
def cosign(size: Annotated[int, Path(ge=1, le=LOG_POSITION_MAX)], body: CosignRequest,
           request: Request, log: MerkleLogDep) -> CheckpointResponse:
    """The guarantor's witness attaches its cosignature/v1 to a checkpoint."""
    witness = request.app.state.witness_vkey()
    if witness is None:
        raise _refused(409, "no_witness_key", "no witness public key is configured")
    try:
        return CheckpointResponse.of(add_cosignature(log, size, body.line, witness))
    except CheckpointRefused as e:
        code = 404 if e.rule == "unknown_checkpoint" else 422
        raise _refused(code, e.rule, e.message) from None


@router.get("/proofs/inclusion", response_model=InclusionProofResponse,
            summary="Preuve d'inclusion / Inclusion proof")
def inclusion(log: MerkleLogDep, notification_id: Size,
              size: Annotated[int | None, Query(ge=1, le=LOG_POSITION_MAX)] = None,
              ) -> InclusionProofResponse:
    """Proof that event #notification_id is in the tree of `size` (default: current)."""
    index = log.index_of(notification_id)
    if index is None:
        raise _refused(404, "not_in_log", f"event #{notification_id} is not in the Merkle log")
    try:
        size, root = log.root(size)
        leaf, proof = log.inclusion_proof(index, size)
    except ValueError as e:
        raise _refused(422, "bad_size", str(e)) from None
    return InclusionProofResponse(notification_id=notification_id, index=index, size=size,
                                  leaf_hash=leaf.hex(), proof=[p.hex() for p in proof],
                                  root=root.hex())


@router.get("/proofs/consistency", response_model=ConsistencyProofResponse,
            summary="Preuve de cohérence / Consistency proof")
def consistency(log: MerkleLogDep, old: Size, new: Size) -> ConsistencyProofResponse:
    """Proof that the tree of size `old` is a prefix of the tree of size `new`."""
    try:
        proof = log.consistency_proof(old, new)
        _, old_root = log.root(old)
        _, new_root = log.root(new)
    except ValueError as e:
        raise _refused(422, "bad_size", str(e)) from None
    return ConsistencyProofResponse(old_size=old, new_size=new, old_root=old_root.hex(),
                                    new_root=new_root.hex(), proof=[p.hex() for p in proof])


@router.get("/records", response_model=list[RecordResponse],
            summary="Export du journal brut / Raw log export (paged)")
def records(ledger: LedgerDep, after: Position = 0,
            limit: int = Query(1000, ge=1, le=10000)) -> list[dict[str, Any]]:
    """Stored events after position `after`, in log order, each with its leaf bytes."""
    page = ledger.recorder.select_notifications(start=after + 1, limit=limit)
    return [{
        "notification_id": n.id, "originator_id": str(n.originator_id),
        "originator_version": n.originator_version, "topic": n.topic,
        "leaf": base64.b64encode(encode_leaf(n.id, n.originator_id, n.originator_version,
                                             n.topic, n.state)).decode(),
    } for n in page]


@router.get("/leaves", response_model=list[LeafResponse],
            summary="Empreintes des feuilles / Leaf hashes (paged)")
def leaves(log: MerkleLogDep, start: Position = 0,
           limit: int = Query(1000, ge=1, le=10000)) -> list[LeafResponse]:
    """The Merkle log's leaf hashes from index `start`: where each event sits in the tree."""
    return [LeafResponse(index=i, notification_id=nid, leaf_hash=h.hex())
            for i, nid, h in log.leaves(start, limit)]
