"""domain.ledger.merkle against the RFC 6962 / RFC 9162 reference vectors of transparency-dev/merkle.

Every vector in tests/data/merkle/rfc6962-vectors.json is its own test (see PROVENANCE.md there).
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from domain.ledger import merkle
from domain.ledger.merkle import (
    IncrementalTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

VECTORS_PATH = Path(__file__).resolve().parents[1] / "data" / "merkle" / "rfc6962-vectors.json"
VECTORS = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))

LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves_hex"]]
ROOT_OF_EIGHT = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def _b(hex_string: str) -> bytes:
    return bytes.fromhex(hex_string)


def _bs(hex_strings: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hex_strings]


def _probe_id(probe: dict) -> str:
    return probe["file"].removeprefix("testdata/").removesuffix(".json")


def _flip(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


ROOT_CASES = sorted(VECTORS["root_by_size_hex"].items(), key=lambda item: int(item[0]))
INCLUSION_CASES = VECTORS["inclusion_proofs"]
CONSISTENCY_CASES = VECTORS["consistency_proofs"]
INCLUSION_PROBES = VECTORS["probes"]["inclusion"]
CONSISTENCY_PROBES = VECTORS["probes"]["consistency"]


def _inclusion_id(case: dict) -> str:
    return f"leaf{case['leaf_index']}-of-{case['tree_size']}"


def _consistency_id(case: dict) -> str:
    return f"{case['size1']}-to-{case['size2']}"


# --------------------------------------------------------------------------- the vector file


def test_vector_file_holds_every_reference_case_when_loaded():
    assert len(LEAVES) == 8
    assert [int(size) for size, _ in ROOT_CASES] == list(range(9))
    assert len(INCLUSION_CASES) == 5
    assert len(CONSISTENCY_CASES) == 5
    assert len(INCLUSION_PROBES) == 98
    assert len(CONSISTENCY_PROBES) == 98
    assert sum(not p["wantErr"] for p in INCLUSION_PROBES + CONSISTENCY_PROBES) == 12
    # probe ids are unique, so no case is shadowed in the parametrized tests below
    assert len({_probe_id(p) for p in INCLUSION_PROBES}) == 98
    assert len({_probe_id(p) for p in CONSISTENCY_PROBES}) == 98


def test_module_exposes_exactly_the_documented_api_when_imported():
    expected = {
        "IncrementalTree",
        "consistency_proof",
        "inclusion_proof",
        "leaf_hash",
        "node_hash",
        "root",
        "verify_consistency",
        "verify_inclusion",
    }
    defined_here = {
        name
        for name, obj in vars(merkle).items()
        if not name.startswith("_")
        and callable(obj)
        and getattr(obj, "__module__", None) == merkle.__name__
    }
    assert defined_here == expected
    assert set(merkle.__all__) == expected


# --------------------------------------------------------------------------- hashing and roots


def test_leaf_and_node_hashes_use_rfc_prefixes_when_computed():
    import hashlib

    assert leaf_hash(b"abc") == hashlib.sha256(b"\x00abc").digest()
    left, right = b"L" * 32, b"R" * 32
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


@pytest.mark.parametrize(("size", "expected"), ROOT_CASES, ids=[f"size-{s}" for s, _ in ROOT_CASES])
def test_root_matches_reference_when_tree_holds_first_n_standard_leaves(size, expected):
    assert root(LEAVES[: int(size)]).hex() == expected


def test_root_is_known_constant_when_tree_holds_the_eight_standard_leaves():
    assert root(LEAVES).hex() == ROOT_OF_EIGHT


def test_root_is_sha256_of_empty_string_when_tree_is_empty():
    assert root([]).hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


# --------------------------------------------------------------------------- reference proofs


@pytest.mark.parametrize("case", INCLUSION_CASES, ids=[_inclusion_id(c) for c in INCLUSION_CASES])
def test_inclusion_proof_equals_reference_when_generated_from_standard_leaves(case):
    leaves = LEAVES[: case["tree_size"]]
    assert root(leaves).hex() == case["root"]
    proof = inclusion_proof(leaves, case["leaf_index"])
    assert [p.hex() for p in proof] == case["proof"]


@pytest.mark.parametrize("case", INCLUSION_CASES, ids=[_inclusion_id(c) for c in INCLUSION_CASES])
def test_verify_inclusion_accepts_reference_proof_when_untampered(case):
    index = case["leaf_index"]
    assert verify_inclusion(
        leaf_hash(LEAVES[index]), index, case["tree_size"], _bs(case["proof"]), _b(case["root"])
    )


@pytest.mark.parametrize(
    "case", CONSISTENCY_CASES, ids=[_consistency_id(c) for c in CONSISTENCY_CASES]
)
def test_consistency_proof_equals_reference_when_generated_from_standard_leaves(case):
    assert root(LEAVES[: case["size1"]]).hex() == case["root1"]
    assert root(LEAVES[: case["size2"]]).hex() == case["root2"]
    proof = consistency_proof(LEAVES[: case["size2"]], case["size1"])
    assert [p.hex() for p in proof] == case["proof"]


@pytest.mark.parametrize(
    "case", CONSISTENCY_CASES, ids=[_consistency_id(c) for c in CONSISTENCY_CASES]
)
def test_verify_consistency_accepts_reference_proof_when_untampered(case):
    assert verify_consistency(
        case["size1"], case["size2"], _bs(case["proof"]), _b(case["root1"]), _b(case["root2"])
    )


# --------------------------------------------------------------------------- reference probes


def _verify_inclusion_probe(probe: dict) -> bool:
    return verify_inclusion(
        _b(probe["leafHash"]),
        probe["leafIdx"],
        probe["treeSize"],
        _bs(probe["proof"]),
        _b(probe["root"]),
    )


def _verify_consistency_probe(probe: dict) -> bool:
    return verify_consistency(
        probe["size1"], probe["size2"], _bs(probe["proof"]), _b(probe["root1"]), _b(probe["root2"])
    )


_REJECTED_INCLUSION = [p for p in INCLUSION_PROBES if p["wantErr"]]
_ACCEPTED_INCLUSION = [p for p in INCLUSION_PROBES if not p["wantErr"]]
_REJECTED_CONSISTENCY = [p for p in CONSISTENCY_PROBES if p["wantErr"]]
_ACCEPTED_CONSISTENCY = [p for p in CONSISTENCY_PROBES if not p["wantErr"]]


@pytest.mark.parametrize(
    "probe", _REJECTED_INCLUSION, ids=[_probe_id(p) for p in _REJECTED_INCLUSION]
)
def test_verify_inclusion_rejects_when_reference_verifier_rejects(probe):
    assert _verify_inclusion_probe(probe) is False, probe["desc"]


@pytest.mark.parametrize(
    "probe", _ACCEPTED_INCLUSION, ids=[_probe_id(p) for p in _ACCEPTED_INCLUSION]
)
def test_verify_inclusion_accepts_when_reference_verifier_accepts(probe):
    assert _verify_inclusion_probe(probe) is True, probe["desc"]


@pytest.mark.parametrize(
    "probe", _REJECTED_CONSISTENCY, ids=[_probe_id(p) for p in _REJECTED_CONSISTENCY]
)
def test_verify_consistency_rejects_when_reference_verifier_rejects(probe):
    assert _verify_consistency_probe(probe) is False, probe["desc"]


@pytest.mark.parametrize(
    "probe", _ACCEPTED_CONSISTENCY, ids=[_probe_id(p) for p in _ACCEPTED_CONSISTENCY]
)
def test_verify_consistency_accepts_when_reference_verifier_accepts(probe):
    assert _verify_consistency_probe(probe) is True, probe["desc"]


# --------------------------------------------------------------------------- reference conventions


def test_verify_consistency_rejects_when_old_size_is_zero():
    empty = root([])
    assert not verify_consistency(0, 0, [], empty, empty)
    assert not verify_consistency(0, 3, [], empty, root(LEAVES[:3]))


def test_verify_consistency_needs_empty_proof_and_equal_roots_when_sizes_are_equal():
    r5 = root(LEAVES[:5])
    assert verify_consistency(5, 5, [], r5, r5)
    assert not verify_consistency(5, 5, [r5], r5, r5)
    assert not verify_consistency(5, 5, [], r5, root(LEAVES[:4]))


def test_verify_rejects_when_a_hash_is_not_32_bytes():
    proof = inclusion_proof(LEAVES, 5)
    good_root = root(LEAVES)
    assert verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, proof, good_root)
    assert not verify_inclusion(leaf_hash(LEAVES[5])[:31], 5, 8, proof, good_root)
    assert not verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, proof, good_root + b"\x00")
    long_last = [*proof[:2], proof[2] + b"\x00"]
    assert not verify_inclusion(leaf_hash(LEAVES[5]), 5, 8, long_last, good_root)
    cproof = consistency_proof(LEAVES, 3)
    r3 = root(LEAVES[:3])
    assert verify_consistency(3, 8, cproof, r3, good_root)
    assert not verify_consistency(3, 8, cproof, r3[:31], good_root)
    assert not verify_consistency(3, 8, [cproof[0][:31], *cproof[1:]], r3, good_root)


@pytest.mark.parametrize(
    "args",
    [
        (None, 0, 1, [], b"\x00" * 32),
        (b"\x00" * 32, -1, 1, [], b"\x00" * 32),
        (b"\x00" * 32, 0, -1, [], b"\x00" * 32),
        (b"\x00" * 32, True, 2, [b"\x00" * 32], b"\x00" * 32),
        (b"\x00" * 32, 0.0, 1, [], b"\x00" * 32),
        (b"\x00" * 32, 0, 2, b"\x00" * 32, b"\x00" * 32),
        (b"\x00" * 32, 0, 2, [None], b"\x00" * 32),
        (b"\x00" * 32, 0, 2, 42, b"\x00" * 32),
        ("00" * 32, 0, 1, [], "00" * 32),
        (b"\x00" * 32, 2**64 - 1, 2**64, [b"\x00" * 32] * 64, b"\x00" * 32),
    ],
    ids=["none-leaf", "negative-index", "negative-size", "bool-index", "float-index",
         "bytes-as-proof", "none-in-proof", "int-as-proof", "hex-strings", "huge-size"],
)
def test_verify_inclusion_returns_false_without_raising_when_input_is_malformed(args):
    assert verify_inclusion(*args) is False


@pytest.mark.parametrize(
    "args",
    [
        (None, 2, [], b"\x00" * 32, b"\x00" * 32),
        (1, 2, None, b"\x00" * 32, b"\x00" * 32),
        (1, 2, [b"\x00" * 32], None, b"\x00" * 32),
        (1, 1, [], None, None),
        (1, 1, b"", b"\x00" * 32, b"\x00" * 32),
        (-1, 2, [], b"\x00" * 32, b"\x00" * 32),
        (3, 2, [], b"\x00" * 32, b"\x00" * 32),
        (1, 2, [1, 2], b"\x00" * 32, b"\x00" * 32),
        (3, 2**64, [b"\x00" * 32] * 66, b"\x00" * 32, b"\x00" * 32),
    ],
    ids=["none-size", "none-proof", "none-root", "none-roots-equal-sizes", "bytes-as-proof",
         "negative-size", "shrinking", "ints-in-proof", "huge-size"],
)
def test_verify_consistency_returns_false_without_raising_when_input_is_malformed(args):
    assert verify_consistency(*args) is False


def test_proof_generation_raises_when_arguments_are_out_of_range():
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES, 8)
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES, -1)
    with pytest.raises(ValueError):
        inclusion_proof([], 0)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES, 0)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES, 9)
    assert consistency_proof(LEAVES, 8) == []


# --------------------------------------------------------------------------- IncrementalTree


def _generated_leaves(count: int) -> list[bytes]:
    return [f"event-{i}".encode() * (i % 5 + 1) for i in range(count)]


def test_incremental_root_equals_batch_root_when_size_is_0_to_200():
    leaves = _generated_leaves(200)
    tree = IncrementalTree()
    assert tree.size == 0
    assert tree.root() == root([])
    for n, data in enumerate(leaves, start=1):
        assert tree.append(leaf_hash(data)) == n - 1
        assert tree.size == n
        assert len(tree.frontier) == bin(n).count("1")
        assert tree.root() == root(leaves[:n]), f"size {n}"


def test_incremental_tree_matches_reference_roots_when_fed_standard_leaves():
    tree = IncrementalTree()
    for n, data in enumerate(LEAVES, start=1):
        tree.append(leaf_hash(data))
        assert tree.root().hex() == VECTORS["root_by_size_hex"][str(n)]


def test_incremental_tree_continues_identically_when_rebuilt_from_its_frontier():
    leaves = _generated_leaves(70)
    for stop in range(0, 40):
        original = IncrementalTree()
        for data in leaves[:stop]:
            original.append(leaf_hash(data))
        stored_size, stored_frontier = original.size, original.frontier
        resumed = IncrementalTree.from_frontier(stored_size, stored_frontier)
        assert resumed.size == stop
        assert resumed.frontier == stored_frontier
        assert resumed.root() == original.root()
        for data in leaves[stop:]:
            assert resumed.append(leaf_hash(data)) == original.append(leaf_hash(data))
        assert resumed.root() == original.root() == root(leaves)


def test_incremental_tree_frontier_is_a_copy_when_read():
    tree = IncrementalTree()
    tree.append(leaf_hash(b"a"))
    tree.frontier.append(b"\x00" * 32)
    assert len(tree.frontier) == 1


def test_incremental_tree_rejects_when_frontier_does_not_fit_size():
    h = leaf_hash(b"x")
    with pytest.raises(ValueError):
        IncrementalTree.from_frontier(3, [h])  # 3 = 2 + 1 needs two hashes
    with pytest.raises(ValueError):
        IncrementalTree.from_frontier(0, [h])
    with pytest.raises(ValueError):
        IncrementalTree.from_frontier(1, [h[:31]])
    with pytest.raises(ValueError):
        IncrementalTree.from_frontier(-1, [])
    with pytest.raises(ValueError):
        IncrementalTree().append(b"short")


# --------------------------------------------------------------------------- generated proofs


_RNG_SEED = 6962


def _random_inclusion_cases(count: int) -> list[tuple[int, int]]:
    rng = random.Random(_RNG_SEED)
    cases = []
    for _ in range(count):
        size = rng.randint(1, 100)
        cases.append((size, rng.randrange(size)))
    return cases


def _random_consistency_cases(count: int) -> list[tuple[int, int]]:
    rng = random.Random(_RNG_SEED + 1)
    cases = []
    for _ in range(count):
        new_size = rng.randint(1, 100)
        cases.append((rng.randint(1, new_size), new_size))
    return cases


ALL_LEAVES = _generated_leaves(100)


@pytest.mark.parametrize(
    ("size", "index"), _random_inclusion_cases(40), ids=lambda v: str(v)
)
def test_generated_inclusion_proof_verifies_until_one_byte_is_flipped(size, index):
    leaves = ALL_LEAVES[:size]
    tree_root = root(leaves)
    proof = inclusion_proof(leaves, index)
    hashed = leaf_hash(leaves[index])
    assert verify_inclusion(hashed, index, size, proof, tree_root)

    rng = random.Random(size * 1000 + index)
    for i in range(len(proof)):
        tampered = list(proof)
        tampered[i] = _flip(proof[i], rng.randrange(32))
        assert not verify_inclusion(hashed, index, size, tampered, tree_root), f"proof[{i}]"
    assert not verify_inclusion(hashed, index, size, proof, _flip(tree_root, rng.randrange(32)))
    assert not verify_inclusion(_flip(hashed, rng.randrange(32)), index, size, proof, tree_root)
    if size > 1:
        assert not verify_inclusion(hashed, (index + 1) % size, size, proof, tree_root)


@pytest.mark.parametrize(
    ("old_size", "new_size"), _random_consistency_cases(40), ids=lambda v: str(v)
)
def test_generated_consistency_proof_verifies_until_one_byte_is_flipped(old_size, new_size):
    old_root = root(ALL_LEAVES[:old_size])
    new_root = root(ALL_LEAVES[:new_size])
    proof = consistency_proof(ALL_LEAVES[:new_size], old_size)
    assert verify_consistency(old_size, new_size, proof, old_root, new_root)

    rng = random.Random(old_size * 1000 + new_size)
    for i in range(len(proof)):
        tampered = list(proof)
        tampered[i] = _flip(proof[i], rng.randrange(32))
        assert not verify_consistency(old_size, new_size, tampered, old_root, new_root), i
    bad_old_root = _flip(old_root, rng.randrange(32))
    assert not verify_consistency(old_size, new_size, proof, bad_old_root, new_root)
    bad_new_root = _flip(new_root, rng.randrange(32))
    assert not verify_consistency(old_size, new_size, proof, old_root, bad_new_root)


def test_every_generated_proof_verifies_when_tree_has_up_to_40_leaves():
    for size in range(1, 41):
        leaves = ALL_LEAVES[:size]
        tree_root = root(leaves)
        for index in range(size):
            proof = inclusion_proof(leaves, index)
            hashed = leaf_hash(leaves[index])
            assert verify_inclusion(hashed, index, size, proof, tree_root), (index, size)
        for old_size in range(1, size + 1):
            proof = consistency_proof(leaves, old_size)
            assert verify_consistency(old_size, size, proof, root(leaves[:old_size]), tree_root), (
                old_size,
                size,
            )


# --------------------------------------------------------------------------- copied alone


_STANDALONE_CHECK = textwrap.dedent(
    """
    import json, sys
    module_dir, vectors_path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, module_dir)
    before = set(sys.modules)
    import merkle
    assert merkle.__file__.startswith(module_dir), merkle.__file__
    loaded = {name.split(".")[0] for name in set(sys.modules) - before} - {"merkle"}
    foreign = sorted(loaded - set(sys.stdlib_module_names))
    assert not foreign, f"non-stdlib imports: {foreign}"

    v = json.load(open(vectors_path, encoding="utf-8"))
    h = bytes.fromhex
    leaves = [h(x) for x in v["leaves_hex"]]
    checks = 0
    for size, expected in v["root_by_size_hex"].items():
        assert merkle.root(leaves[: int(size)]).hex() == expected, size
        checks += 1
    for c in v["inclusion_proofs"]:
        proof = merkle.inclusion_proof(leaves[: c["tree_size"]], c["leaf_index"])
        assert [p.hex() for p in proof] == c["proof"], c
        i, n = c["leaf_index"], c["tree_size"]
        assert merkle.verify_inclusion(merkle.leaf_hash(leaves[i]), i, n, proof, h(c["root"])), c
        checks += 1
    for c in v["consistency_proofs"]:
        proof = merkle.consistency_proof(leaves[: c["size2"]], c["size1"])
        assert [p.hex() for p in proof] == c["proof"], c
        m, n = c["size1"], c["size2"]
        assert merkle.verify_consistency(m, n, proof, h(c["root1"]), h(c["root2"])), c
        checks += 1
    for p in v["probes"]["inclusion"]:
        got = merkle.verify_inclusion(
            h(p["leafHash"]), p["leafIdx"], p["treeSize"], [h(x) for x in p["proof"]], h(p["root"])
        )
        assert got is (not p["wantErr"]), p["file"]
        checks += 1
    for p in v["probes"]["consistency"]:
        got = merkle.verify_consistency(
            p["size1"], p["size2"], [h(x) for x in p["proof"]], h(p["root1"]), h(p["root2"])
        )
        assert got is (not p["wantErr"]), p["file"]
        checks += 1
    tree = merkle.IncrementalTree()
    for data in leaves:
        tree.append(merkle.leaf_hash(data))
    assert tree.root() == merkle.root(leaves)
    print("checks", checks)
    """
)


def test_merkle_module_is_stdlib_only_when_copied_alone(tmp_path):
    module_dir = tmp_path / "elsewhere"
    module_dir.mkdir()
    shutil.copy(merkle.__file__, module_dir / "merkle.py")
    shutil.copy(VECTORS_PATH, tmp_path / "vectors.json")
    script = tmp_path / "check.py"
    script.write_text(_STANDALONE_CHECK, encoding="utf-8")

    # -I: isolated (no PYTHON* env, no cwd/script dir on sys.path, no user site);
    # -S: no site-packages either, so neither the project nor any third-party package is importable.
    completed = subprocess.run(
        [sys.executable, "-I", "-S", str(script), str(module_dir), str(tmp_path / "vectors.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"checks {9 + 5 + 5 + 98 + 98}"
