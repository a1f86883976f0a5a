"""RFC 9162 section 2.1 (= RFC 6962 section 2.1) Merkle trees: roots, proofs and their verification.

This is the Merkle tree of Certificate Transparency, as used by transparency logs (Trillian,
Sigstore Rekor, Go checksum database, ...). Given an ordered list of ``n`` leaves
``D[n] = {d(0), ..., d(n-1)}`` the Merkle Tree Hash (MTH) is::

    MTH({})       = SHA-256()                                   (the empty string)
    MTH({d(0)})   = SHA-256(0x00 || d(0))                       (leaf hash)
    MTH(D[n])     = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) (node hash)

where ``k`` is the largest power of two strictly smaller than ``n``. The 0x00 / 0x01 prefixes
separate leaves from interior nodes (second-preimage protection).

Byte conventions:

* every hash is 32 raw bytes (a SHA-256 digest), never hex;
* ``leaves`` passed to :func:`root`, :func:`inclusion_proof` and :func:`consistency_proof` are
  the raw leaf *data*; they are hashed here with :func:`leaf_hash`;
* :func:`verify_inclusion` and :class:`IncrementalTree` take a *leaf hash*, not leaf data;
* proofs are lists of 32-byte hashes ordered from the leaves towards the root, exactly the
  ``inclusion_path`` / ``consistency_path`` arrays of RFC 9162 section 2.1.3 and 2.1.4;
* leaf indexes are 0-based.

Verification follows RFC 9162 section 2.1.3.2 and 2.1.4.2 step by step, with the input checks of
the transparency-dev reference verifier (github.com/transparency-dev/merkle, ``proof/verify.go``):
``index >= size`` fails, a proof of the wrong length fails, a consistency proof from size 0
fails, equal sizes need an empty proof and equal roots, hashes must be 32 bytes (except that,
as in the reference, the two roots of an equal-size consistency check are only compared). The
verify functions return ``False`` on any invalid input and never raise.

This module uses only the Python standard library (``hashlib``) and imports nothing else from
the project it lives in: a third party can copy this single file into another project to check
the proofs independently.
"""

from __future__ import annotations

import hashlib

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only; nothing beyond hashlib is imported at run time
    from collections.abc import Sequence

__all__ = [
    "IncrementalTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

_HASH_SIZE = 32
_EMPTY_ROOT = hashlib.sha256(b"").digest()


# --------------------------------------------------------------------------- hashing


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)`` of raw leaf data."""
    return hashlib.sha256(b"\x00" + bytes(data)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(b"\x01" + bytes(left) + bytes(right)).digest()


# --------------------------------------------------------------------------- private helpers


def _split(n: int) -> int:
    """Return ``k``, the largest power of two strictly smaller than ``n`` (requires ``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """Return MTH of the leaves whose hashes are ``hashes[lo:hi]`` (requires ``lo < hi``).

    Works on index ranges rather than slices, so it costs O(hi - lo) hashes and recursion
    depth O(log(hi - lo)).
    """
    n = hi - lo
    if n == 1:
        return hashes[lo]
    k = _split(n)
    return node_hash(_mth(hashes, lo, lo + k), _mth(hashes, lo + k, hi))


def _path(m: int, hashes: Sequence[bytes], lo: int, hi: int) -> list[bytes]:
    """RFC 9162 section 2.1.3.1 ``PATH(m, D[lo:hi])``; ``m`` is relative to ``lo``."""
    n = hi - lo
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(m, hashes, lo, lo + k), _mth(hashes, lo + k, hi)]
    return [*_path(m - k, hashes, lo + k, hi), _mth(hashes, lo, lo + k)]


def _subproof(m: int, hashes: Sequence[bytes], lo: int, hi: int, b: bool) -> list[bytes]:
    """RFC 9162 section 2.1.4.1 ``SUBPROOF(m, D[lo:hi], b)``; ``m`` is relative to ``lo``."""
    n = hi - lo
    if m == n:
        return [] if b else [_mth(hashes, lo, hi)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes, lo, lo + k, b), _mth(hashes, lo + k, hi)]
    return [*_subproof(m - k, hashes, lo + k, hi, False), _mth(hashes, lo, lo + k)]


def _is_size(value: object) -> bool:
    """True for a non-negative ``int`` (``bool`` excluded)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_bytes(value: object) -> bool:
    return isinstance(value, (bytes, bytearray))


def _is_hash(value: object) -> bool:
    return isinstance(value, (bytes, bytearray)) and len(value) == _HASH_SIZE


def _as_hash_list(proof: object) -> list[bytes] | None:
    """Return ``proof`` as a list of 32-byte ``bytes``, or None if it is not one."""
    if isinstance(proof, (bytes, bytearray, memoryview, str)):
        return None  # a single byte string is not a list of hashes
    try:
        items = list(proof)  # type: ignore[call-overload]
    except Exception:
        return None
    if not all(_is_hash(item) for item in items):
        return None
    return [bytes(item) for item in items]


def _inclusion_proof_length(index: int, size: int) -> int:
    """Length of the inclusion proof of leaf ``index`` in a tree of ``size`` (``index < size``).

    ``inner`` levels lie below the point where the paths to ``index`` and ``size - 1`` fork;
    above it, one hash per set bit of the remaining index (the reference's decompInclProof).
    """
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner + border


def _consistency_proof_length(old_size: int, new_size: int) -> int:
    """Length of the consistency proof between sizes ``0 < old_size < new_size``."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    inner = (((old_size - 1) ^ (new_size - 1)).bit_length()) - shift
    border = bin((old_size - 1) >> (inner + shift)).count("1")
    start = 0 if old_size == 1 << shift else 1  # old_size a power of two: old root is implied
    return start + inner + border


# --------------------------------------------------------------------------- roots and proofs


def root(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 section 2.1.1) of ``leaves`` (raw leaf data).

    The empty tree's root is ``SHA-256("")``. Costs O(n) hashes.
    """
    if len(leaves) == 0:
        return _EMPTY_ROOT
    hashes = [leaf_hash(d) for d in leaves]
    return _mth(hashes, 0, len(hashes))


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """Return the inclusion proof (audit path) of leaf ``index`` in the tree of ``leaves``.

    ``leaves`` are raw leaf data; ``index`` is 0-based. This is ``PATH(index, D[n])`` of
    RFC 9162 section 2.1.3.1, ordered from the leaf's sibling up to the root's child.
    Costs O(n) hashes. Raises ``ValueError`` unless ``0 <= index < len(leaves)``.
    """
    n = len(leaves)
    if not _is_size(index) or index >= n:
        raise ValueError(f"leaf index {index!r} is out of range for a tree of size {n}")
    hashes = [leaf_hash(d) for d in leaves]
    return _path(index, hashes, 0, n)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """Return the proof that the tree of the first ``old_size`` leaves is a prefix of ``leaves``.

    This is ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)`` of RFC 9162 section 2.1.4.1 with
    ``m = old_size`` and ``n = len(leaves)``; the proof for ``old_size == n`` is empty.
    Costs O(n) hashes. Raises ``ValueError`` unless ``0 < old_size <= len(leaves)``: a proof
    from the empty tree is meaningless, and verifiers reject it.
    """
    n = len(leaves)
    if not _is_size(old_size) or old_size == 0 or old_size > n:
        raise ValueError(f"old size {old_size!r} must satisfy 0 < old_size <= {n}")
    if old_size == n:
        return []
    hashes = [leaf_hash(d) for d in leaves]
    return _subproof(old_size, hashes, 0, n, True)


# --------------------------------------------------------------------------- verification


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    ``leaf_hash`` is the leaf's hash (see :func:`leaf_hash`), not its data. Implements
    RFC 9162 section 2.1.3.2. Returns False, never raises, on any invalid input: an index
    outside ``0 <= index < size``, a proof of the wrong length, or a hash that is not 32 bytes.
    """
    if not (_is_size(index) and _is_size(size)) or index >= size:
        return False
    if not (_is_hash(leaf_hash) and _is_hash(root)):
        return False
    path = _as_hash_list(proof)
    if path is None or len(path) != _inclusion_proof_length(index, size):
        return False

    # RFC 9162 section 2.1.3.2, steps 2 to 5.
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == bytes(root)


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bool:
    """Check that the tree of ``new_size`` leaves with ``new_root`` extends the one of ``old_size``.

    Implements RFC 9162 section 2.1.4.2, preceded by the reference verifier's checks: fails
    if ``old_size > new_size`` or ``old_size == 0`` (a proof from the empty tree proves
    nothing); for ``old_size == new_size`` the proof must be empty and the roots byte-for-byte
    equal. Otherwise the proof must have the expected length and every hash must be 32 bytes.
    Returns False, never raises, on any invalid input.

    For equal sizes the roots are only compared, not length-checked, exactly as the
    reference verifier does (its test vectors accept two equal 12-byte "roots" at size 1):
    the claim "a tree is consistent with itself" carries no cryptographic content.
    """
    if not (_is_size(old_size) and _is_size(new_size)):
        return False
    if old_size > new_size or old_size == 0:
        return False
    if old_size == new_size:
        if not (_is_bytes(old_root) and _is_bytes(new_root)):
            return False
        path = _as_hash_list(proof)
        return path == [] and bytes(old_root) == bytes(new_root)
    if not (_is_hash(old_root) and _is_hash(new_root)):
        return False
    path = _as_hash_list(proof)
    if path is None or len(path) != _consistency_proof_length(old_size, new_size):
        return False

    # RFC 9162 section 2.1.4.2.
    # 1. An empty consistency_path fails.
    if not path:
        return False
    # 2. If first is an exact power of 2, prepend first_hash to consistency_path.
    if old_size & (old_size - 1) == 0:
        path = [bytes(old_root), *path]
    # 3. Set fn to first - 1 and sn to second - 1.
    fn, sn = old_size - 1, new_size - 1
    # 4. If LSB(fn) is set, right-shift fn and sn equally until LSB(fn) is not set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. Set both fr and sr to the first value of consistency_path.
    fr = sr = path[0]
    # 6. For each subsequent value c in consistency_path:
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7. fr must equal first_hash, sr must equal second_hash, and sn must be 0.
    return sn == 0 and fr == bytes(old_root) and sr == bytes(new_root)


# --------------------------------------------------------------------------- append-only tree


class IncrementalTree:
    """An append-only Merkle tree that keeps only its right-edge frontier.

    The frontier is the list of the roots of the perfect subtrees that make up the tree, from
    the leftmost (largest) to the rightmost (smallest): one 32-byte hash per set bit of
    ``size``, so a tree of 13 = 8 + 4 + 1 leaves has a frontier of 3 hashes. ``append`` costs
    O(log n) hashes and ``root`` O(log n); the leaves themselves are not kept.

    Persist ``(tree.size, tree.frontier)`` and rebuild with :meth:`from_frontier`.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self) -> None:
        """Create an empty tree (size 0, root ``SHA-256("")``)."""
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> IncrementalTree:
        """Rebuild a tree from a stored ``size`` and ``frontier`` (see :attr:`frontier`).

        Raises ``ValueError`` if ``size`` is negative or ``frontier`` does not hold exactly one
        32-byte hash per set bit of ``size``.
        """
        if not _is_size(size):
            raise ValueError(f"size must be a non-negative int, not {size!r}")
        hashes = _as_hash_list(frontier)
        if hashes is None:
            raise ValueError("frontier must be a sequence of 32-byte hashes")
        expected = bin(size).count("1")
        if len(hashes) != expected:
            raise ValueError(
                f"a tree of size {size} has a frontier of {expected} hashes, not {len(hashes)}"
            )
        tree = cls()
        tree._size = size
        tree._frontier = hashes
        return tree

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    @property
    def frontier(self) -> list[bytes]:
        """A copy of the perfect-subtree roots, leftmost (largest) first."""
        return list(self._frontier)

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf by its 32-byte leaf hash and return its 0-based index.

        Raises ``ValueError`` if ``leaf_hash`` is not 32 bytes.
        """
        if not _is_hash(leaf_hash):
            raise ValueError("leaf_hash must be 32 bytes")
        index = self._size
        h = bytes(leaf_hash)
        s = index
        while s & 1:  # each trailing 1 bit of the old size is a subtree of equal height to merge
            h = node_hash(self._frontier.pop(), h)
            s >>= 1
        self._frontier.append(h)
        self._size = index + 1
        return index

    def root(self) -> bytes:
        """Return the Merkle Tree Hash of all leaves appended so far."""
        if not self._frontier:
            return _EMPTY_ROOT
        r = self._frontier[-1]
        for h in reversed(self._frontier[:-1]):
            r = node_hash(h, r)
        return r
