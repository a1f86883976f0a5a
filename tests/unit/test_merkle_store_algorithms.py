"""The Merkle log's stored-node algorithms (projections/ledger.py) agree with domain/ledger/merkle.py."""

import hashlib

import pytest

from domain.ledger import merkle
from projections.ledger import Frontier, path, subproof, subtree_hash, with_stored_nodes

LEAVES = [hashlib.sha256(str(i).encode()).digest() for i in range(70)]


def stored_nodes(size: int) -> dict[tuple[int, int], bytes]:
    frontier, completed = Frontier(0, []), []
    for data in LEAVES[:size]:
        frontier.append(merkle.leaf_hash(data), completed)
    return {(level, idx): h for level, idx, h in completed}


def fetcher(size: int):
    nodes = stored_nodes(size)
    return lambda keys: {k: nodes[k] for k in keys if k in nodes}


@pytest.mark.parametrize("size", range(0, 70))
def test_frontier_root_equals_the_rfc_root_when_leaves_are_appended(size: int) -> None:
    frontier, completed = Frontier(0, []), []
    for data in LEAVES[:size]:
        frontier.append(merkle.leaf_hash(data), completed)
    assert frontier.root() == merkle.root(LEAVES[:size])
    nodes = {(lv, i): h for lv, i, h in completed}
    assert Frontier(size, [(lv, nodes[(lv, i)]) for lv, i in Frontier.keys(size)]).root() \
        == merkle.root(LEAVES[:size])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 31, 64, 69])
def test_inclusion_paths_equal_the_rfc_paths_when_read_from_stored_nodes(size: int) -> None:
    fetch = fetcher(69)  # nodes of a larger tree: proofs for older sizes read the same store
    for index in range(size):
        got = with_stored_nodes(lambda get, i=index: path(i, 0, size, get), fetch)
        assert got == merkle.inclusion_proof(LEAVES[:size], index)


@pytest.mark.parametrize("new", [2, 7, 16, 33, 69])
def test_consistency_proofs_equal_the_rfc_proofs_when_read_from_stored_nodes(new: int) -> None:
    fetch = fetcher(69)
    for old in range(1, new):
        got = with_stored_nodes(lambda get, o=old: subproof(o, 0, new, True, get), fetch)
        assert got == merkle.consistency_proof(LEAVES[:new], old)


def test_subtree_hash_reads_only_perfect_nodes_when_the_range_is_ragged() -> None:
    seen = []

    def get(level: int, index: int) -> bytes:
        seen.append((level, index))
        return stored_nodes(13)[(level, index)]

    assert subtree_hash(0, 13, get) == merkle.root(LEAVES[:13])
    assert seen == [(3, 0), (2, 2), (0, 12)]


def test_names_the_missing_node_when_the_store_is_incomplete() -> None:
    with pytest.raises(LookupError, match="lacks"):
        with_stored_nodes(lambda get: path(0, 0, 8, get), lambda keys: {})
