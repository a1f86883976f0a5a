"""Ed25519 signatures (RFC 8032 section 5.1) in pure, standard-library Python.

Ed25519 is EdDSA over the twisted Edwards curve ``-x^2 + y^2 = 1 + d*x^2*y^2`` modulo
``p = 2^255 - 19``, with SHA-512 as its hash. Keys and signatures use the RFC 8032 encodings:

* a *seed* (the RFC's "private key") is 32 random bytes;
* a *public key* is the 32-byte encoding of ``A = [s]B``, where ``s`` is the clamped first half
  of ``SHA-512(seed)`` and ``B`` the base point (section 5.1.5);
* a *signature* is 64 bytes ``R || S``: the encoding of the point ``R = [r]B`` and the
  little-endian scalar ``S = (r + k*s) mod L``, with ``r = SHA-512(prefix || M) mod L`` and
  ``k = SHA-512(R || A || M) mod L`` (section 5.1.6).

:func:`verify` follows section 5.1.7. It rejects anything of the wrong length, a public key
that does not decode to a curve point (including ``y >= p`` and "negative zero" ``x``), and a
non-canonical ``S >= L`` (which closes the ``S + L`` malleability). It then checks the
cofactorless equation ``[S]B = R + [k]A`` -- which RFC 8032 section 5.1.7 allows in place of the
cofactored one -- by encoding ``[S]B - [k]A`` and comparing it with the 32 bytes of ``R``, as Go's
``crypto/ed25519`` and OpenSSL do. It returns ``False`` on every failure and never raises.
One deliberate difference from those two: they accept a public key whose ``y`` is spelled
non-canonically (``y >= p``) or whose ``x`` is a "negative zero"; this module rejects both, as
RFC 8032 section 5.1.3 requires. Honest keys are always canonical, so this only matters for
crafted keys.

Why this module exists: the ledger signs its checkpoints in production with the ``cryptography``
library (constant-time, audited C). This file exists so that *verification* can be read, audited
and copied by a third party with nothing but Python: it imports only :mod:`hashlib` and nothing
else from the project, and can be dropped into any other code base. Its :func:`sign` is correct
(the tests compare it byte for byte with ``cryptography`` and the RFC 8032 vectors) but it is
**not constant-time**; use it for tests and reference, not to hold a production key.

Implementation notes: points are kept in extended homogeneous coordinates ``(X, Y, Z, T)`` with
``x = X/Z``, ``y = Y/Z``, ``x*y = T/Z`` (Hisil, Wong, Carter, Dawson 2008), using the complete
addition formula of RFC 8032 section 5.1.4 and the dedicated doubling formula for ``a = -1``.
Multiples of the base point come from a table of ``j * 16^i * B`` built on first use; other
points are multiplied with a 4-bit fixed window. A signature or a verification costs a few
milliseconds on CPython.
"""

from __future__ import annotations

import hashlib

__all__ = ["public_key", "sign", "verify"]

# --------------------------------------------------------------------------- curve constants

_P = 2**255 - 19  # the field prime
_L = 2**252 + 27742317777372353535851937790883648493  # order of the base point (RFC "L")
_D = -121665 * pow(121666, _P - 2, _P) % _P  # curve constant d = -121665/121666
_D2 = 2 * _D % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)  # a square root of -1 modulo p

_IDENTITY = (0, 1, 1, 0)

_SEED_SIZE = 32
_PUBLIC_KEY_SIZE = 32
_SIGNATURE_SIZE = 64


# --------------------------------------------------------------------------- point arithmetic


def _add(p1: tuple[int, int, int, int], p2: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """P1 + P2, the complete formula of RFC 8032 section 5.1.4 ("add-2008-hwcd-3")."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * _D2 * t2 % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _double(p1: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """2 * P1 for a = -1 ("dbl-2008-hwcd"); does not need T1."""
    x1, y1, z1, _ = p1
    a = x1 * x1 % _P
    b = y1 * y1 % _P
    c = 2 * z1 * z1 % _P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _negate(p1: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x1, y1, z1, t1 = p1
    return (-x1 % _P, y1, z1, -t1 % _P)


def _multiply(scalar: int, point: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """[scalar]point for any point, with a 4-bit fixed window (not constant-time)."""
    table = [_IDENTITY, point]
    for _ in range(14):
        table.append(_add(table[-1], point))
    result = _IDENTITY
    for shift in range(4 * ((scalar.bit_length() + 3) // 4) - 4, -1, -4):
        result = _double(_double(_double(_double(result))))
        nibble = (scalar >> shift) & 15
        if nibble:
            result = _add(result, table[nibble])
    return result


_BASE_TABLE: list[list[tuple[int, int, int, int]]] = []


def _base_table() -> list[list[tuple[int, int, int, int]]]:
    """table[i][j] = [j * 16^i]B for i < 64, j < 16, built once on first use."""
    if not _BASE_TABLE:
        row_base = _BASE
        for _ in range(64):
            row = [_IDENTITY, row_base]
            for _ in range(14):
                row.append(_add(row[-1], row_base))
            _BASE_TABLE.append(row)
            row_base = _add(row[15], row_base)  # 16 * row_base
    return _BASE_TABLE


def _multiply_base(scalar: int) -> tuple[int, int, int, int]:
    """[scalar]B for 0 <= scalar < 2^256, one table lookup and one addition per nibble."""
    result = _IDENTITY
    for row in _base_table():
        nibble = scalar & 15
        if nibble:
            result = _add(result, row[nibble])
        scalar >>= 4
    return result


# --------------------------------------------------------------------------- encodings


def _encode_point(point: tuple[int, int, int, int]) -> bytes:
    """RFC 8032 section 5.1.2: y little-endian, the low bit of x in the top bit."""
    x, y, z, _ = point
    z_inverse = pow(z, _P - 2, _P)
    x = x * z_inverse % _P
    y = y * z_inverse % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _recover_x(y: int, sign: int) -> int | None:
    """RFC 8032 section 5.1.3 steps 2-4: the x of sign ``sign`` with (x, y) on the curve."""
    if y >= _P:
        return None
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    vxx = v * x * x % _P
    if vxx == u:
        pass
    elif vxx == (-u) % _P:
        x = x * _SQRT_M1 % _P
    else:
        return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = _P - x
    return x


def _decode_point(encoded: bytes) -> tuple[int, int, int, int] | None:
    """RFC 8032 section 5.1.3; None if ``encoded`` is not a canonical curve point."""
    if len(encoded) != 32:
        return None
    value = int.from_bytes(encoded, "little")
    sign = value >> 255
    y = value & ((1 << 255) - 1)
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


_BASE_Y = 4 * pow(5, _P - 2, _P) % _P
_BASE_X = _recover_x(_BASE_Y, 0) or 0  # always found: B is on the curve (x is even, non-zero)
_BASE = (_BASE_X, _BASE_Y, 1, _BASE_X * _BASE_Y % _P)


# --------------------------------------------------------------------------- keys and signatures


def _sha512_scalar(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % _L


def _expand_seed(seed: bytes) -> tuple[int, bytes]:
    """RFC 8032 section 5.1.5: the clamped secret scalar and the 32-byte nonce prefix."""
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != _SEED_SIZE:
        raise ValueError(f"an Ed25519 seed is {_SEED_SIZE} bytes")
    digest = hashlib.sha512(bytes(seed)).digest()
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8  # clear the 3 low bits and the top bit
    scalar |= 1 << 254  # set the second-highest bit
    return scalar, digest[32:]


def public_key(seed: bytes) -> bytes:
    """The 32-byte public key of a 32-byte seed (RFC 8032 section 5.1.5)."""
    scalar, _ = _expand_seed(seed)
    return _encode_point(_multiply_base(scalar))


def sign(seed: bytes, message: bytes) -> bytes:
    """The 64-byte signature of ``message`` by ``seed`` (RFC 8032 section 5.1.6); deterministic.

    Not constant-time: meant for tests and as a reference, not for production keys.
    """
    scalar, prefix = _expand_seed(seed)
    message = bytes(message)
    encoded_a = _encode_point(_multiply_base(scalar))
    r = _sha512_scalar(prefix, message)
    encoded_r = _encode_point(_multiply_base(r))
    k = _sha512_scalar(encoded_r, encoded_a, message)
    s = (r + k * scalar) % _L
    return encoded_r + s.to_bytes(32, "little")


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` is a valid signature of ``message`` by ``public_key``.

    RFC 8032 section 5.1.7 with the cofactorless check. False (never an exception) on wrong
    types or lengths, an undecodable public key, ``S >= L`` or a signature that does not verify.
    """
    if not all(isinstance(v, (bytes, bytearray, memoryview)) for v in (public_key, message, signature)):
        return False
    public_key, message, signature = bytes(public_key), bytes(message), bytes(signature)
    if len(public_key) != _PUBLIC_KEY_SIZE or len(signature) != _SIGNATURE_SIZE:
        return False
    point_a = _decode_point(public_key)
    if point_a is None:
        return False
    encoded_r = signature[:32]
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    k = _sha512_scalar(encoded_r, public_key, message)
    # R' = [S]B - [k]A must encode to exactly the R bytes of the signature.
    candidate = _add(_multiply_base(s), _multiply(k, _negate(point_a)))
    return _encode_point(candidate) == encoded_r
