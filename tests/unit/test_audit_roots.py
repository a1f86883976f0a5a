"""The verifier's level-by-level roots (domain/ledger/verify.py) agree with domain/ledger/merkle.py."""

import hashlib

import pytest

from domain.ledger import merkle
from domain.ledger.verify import prefix_root, tree_levels

DATA = [hashlib.sha256(str(i).encode()).digest() * 3 for i in range(130)]
LEAF_HASHES = [merkle.leaf_hash(d) for d in DATA]


@pytest.mark.parametrize("size", range(0, 131))
def test_prefix_root_equals_the_rfc_root_when_computed_from_levels(size: int) -> None:
    assert prefix_root(tree_levels(LEAF_HASHES), size) == merkle.root(DATA[:size])
