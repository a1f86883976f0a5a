"""domain.ledger.ed25519 against RFC 8032 section 7.1 and, byte for byte, against the `cryptography` library.

Provenance of the vectors (copied, never typed from memory):
* TEST 1, 2, 3: RFC 8032 section 7.1, as laid out (16-byte lines) in the RFC's own text; the same
  hex appears in several independent public test suites that quote the RFC.
* TEST 1024: RFC 8032 section 7.1, from a byte-for-byte paste of the RFC text
  (github.com/coreyleavitt/sello, tests/vectors/rfc8032_test1024_raw.txt), page breaks removed.
Every vector is also re-derived with `cryptography` in `test_cryptography_agrees_with_rfc_vector`,
so a transcription slip could not pass unnoticed.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.ledger import ed25519

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493


def _hex(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


RFC8032_VECTORS = {
    "TEST 1": dict(
        secret_key=_hex("""
            9d61b19deffd5a60ba844af492ec2cc4
            4449c5697b326919703bac031cae7f60"""),
        public_key=_hex("""
            d75a980182b10ab7d54bfed3c964073a
            0ee172f3daa62325af021a68f707511a"""),
        message=b"",
        signature=_hex("""
            e5564300c360ac729086e2cc806e828a
            84877f1eb8e5d974d873e06522490155
            5fb8821590a33bacc61e39701cf9b46b
            d25bf5f0595bbe24655141438e7a100b"""),
    ),
    "TEST 2": dict(
        secret_key=_hex("""
            4ccd089b28ff96da9db6c346ec114e0f
            5b8a319f35aba624da8cf6ed4fb8a6fb"""),
        public_key=_hex("""
            3d4017c3e843895a92b70aa74d1b7ebc
            9c982ccf2ec4968cc0cd55f12af4660c"""),
        message=_hex("72"),
        signature=_hex("""
            92a009a9f0d4cab8720e820b5f642540
            a2b27b5416503f8fb3762223ebdb69da
            085ac1e43e15996e458f3613d0f11d8c
            387b2eaeb4302aeeb00d291612bb0c00"""),
    ),
    "TEST 3": dict(
        secret_key=_hex("""
            c5aa8df43f9f837bedb7442f31dcb7b1
            66d38535076f094b85ce3a2e0b4458f7"""),
        public_key=_hex("""
            fc51cd8e6218a1a38da47ed00230f058
            0816ed13ba3303ac5deb911548908025"""),
        message=_hex("af82"),
        signature=_hex("""
            6291d657deec24024827e69c3abe01a3
            0ce548a284743a445e3680d7db5ac3ac
            18ff9b538d16f290ae67f760984dc659
            4a7c15e9716ed28dc027beceea1ec40a"""),
    ),
    "TEST 1024": dict(
        secret_key=_hex("""
            f5e5767cf153319517630f226876b86c
            8160cc583bc013744c6bf255f5cc0ee5"""),
        public_key=_hex("""
            278117fc144c72340f67d0f2316e8386
            ceffbf2b2428c9c51fef7c597f1d426e"""),
        message=_hex("""
            08b8b2b733424243760fe426a4b54908
            632110a66c2f6591eabd3345e3e4eb98
            fa6e264bf09efe12ee50f8f54e9f77b1
            e355f6c50544e23fb1433ddf73be84d8
            79de7c0046dc4996d9e773f4bc9efe57
            38829adb26c81b37c93a1b270b20329d
            658675fc6ea534e0810a4432826bf58c
            941efb65d57a338bbd2e26640f89ffbc
            1a858efcb8550ee3a5e1998bd177e93a
            7363c344fe6b199ee5d02e82d522c4fe
            ba15452f80288a821a579116ec6dad2b
            3b310da903401aa62100ab5d1a36553e
            06203b33890cc9b832f79ef80560ccb9
            a39ce767967ed628c6ad573cb116dbef
            efd75499da96bd68a8a97b928a8bbc10
            3b6621fcde2beca1231d206be6cd9ec7
            aff6f6c94fcd7204ed3455c68c83f4a4
            1da4af2b74ef5c53f1d8ac70bdcb7ed1
            85ce81bd84359d44254d95629e9855a9
            4a7c1958d1f8ada5d0532ed8a5aa3fb2
            d17ba70eb6248e594e1a2297acbbb39d
            502f1a8c6eb6f1ce22b3de1a1f40cc24
            554119a831a9aad6079cad88425de6bd
            e1a9187ebb6092cf67bf2b13fd65f270
            88d78b7e883c8759d2c4f5c65adb7553
            878ad575f9fad878e80a0c9ba63bcbcc
            2732e69485bbc9c90bfbd62481d9089b
            eccf80cfe2df16a2cf65bd92dd597b07
            07e0917af48bbb75fed413d238f5555a
            7a569d80c3414a8d0859dc65a46128ba
            b27af87a71314f318c782b23ebfe808b
            82b0ce26401d2e22f04d83d1255dc51a
            ddd3b75a2b1ae0784504df543af8969b
            e3ea7082ff7fc9888c144da2af58429e
            c96031dbcad3dad9af0dcbaaaf268cb8
            fcffead94f3c7ca495e056a9b47acdb7
            51fb73e666c6c655ade8297297d07ad1
            ba5e43f1bca32301651339e22904cc8c
            42f58c30c04aafdb038dda0847dd988d
            cda6f3bfd15c4b4c4525004aa06eeff8
            ca61783aacec57fb3d1f92b0fe2fd1a8
            5f6724517b65e614ad6808d6f6ee34df
            f7310fdc82aebfd904b01e1dc54b2927
            094b2db68d6f903b68401adebf5a7e08
            d78ff4ef5d63653a65040cf9bfd4aca7
            984a74d37145986780fc0b16ac451649
            de6188a7dbdf191f64b5fc5e2ab47b57
            f7f7276cd419c17a3ca8e1b939ae49e4
            88acba6b965610b5480109c8b17b80e1
            b7b750dfc7598d5d5011fd2dcc5600a3
            2ef5b52a1ecc820e308aa342721aac09
            43bf6686b64b2579376504ccc493d97e
            6aed3fb0f9cd71a43dd497f01f17c0e2
            cb3797aa2a2f256656168e6c496afc5f
            b93246f6b1116398a346f1a641f3b041
            e989f7914f90cc2c7fff357876e506b5
            0d334ba77c225bc307ba537152f3f161
            0e4eafe595f6d9d90d11faa933a15ef1
            369546868a7f3a45a96768d40fd9d034
            12c091c6315cf4fde7cb68606937380d
            b2eaaa707b4c4185c32eddcdd306705e
            4dc1ffc872eeee475a64dfac86aba41c
            0618983f8741c5ef68d3a101e8a3b8ca
            c60c905c15fc910840b94c00a0b9d0"""),
        signature=_hex("""
            0aab4c900501b3e24d7cdf4663326a3a
            87df5e4843b2cbdb67cbf6e460fec350
            aa5371b1508f9f4528ecea23c436d94b
            5e8fcd4f681e30a6ac00a9704a188a03"""),
    ),
}

VECTOR_IDS = list(RFC8032_VECTORS)
SEED, PUBLIC, MESSAGE, SIGNATURE = (RFC8032_VECTORS["TEST 3"][k] for k in
                                    ("secret_key", "public_key", "message", "signature"))


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def _is_square(value: int) -> bool:
    return pow(value % P, (P - 1) // 2, P) in (0, 1)


# --------------------------------------------------------------------------- RFC 8032 vectors


def test_the_1024_vector_message_is_1023_bytes_when_copied_from_the_rfc() -> None:
    assert len(RFC8032_VECTORS["TEST 1024"]["message"]) == 1023


@pytest.mark.parametrize("name", VECTOR_IDS)
def test_public_key_matches_rfc_when_derived_from_the_vector_seed(name: str) -> None:
    vector = RFC8032_VECTORS[name]
    assert ed25519.public_key(vector["secret_key"]) == vector["public_key"]


@pytest.mark.parametrize("name", VECTOR_IDS)
def test_signature_matches_rfc_when_signing_the_vector_message(name: str) -> None:
    vector = RFC8032_VECTORS[name]
    assert ed25519.sign(vector["secret_key"], vector["message"]) == vector["signature"]


@pytest.mark.parametrize("name", VECTOR_IDS)
def test_verify_accepts_when_given_the_rfc_vector(name: str) -> None:
    vector = RFC8032_VECTORS[name]
    assert ed25519.verify(vector["public_key"], vector["message"], vector["signature"])


@pytest.mark.parametrize("name", VECTOR_IDS)
def test_cryptography_agrees_with_rfc_vector_when_given_the_same_seed(name: str) -> None:
    vector = RFC8032_VECTORS[name]
    private = Ed25519PrivateKey.from_private_bytes(vector["secret_key"])
    assert _raw_public(private) == vector["public_key"]
    assert private.sign(vector["message"]) == vector["signature"]


# --------------------------------------------------------------------------- cryptography cross-check

_RNG = random.Random(8032)
RANDOM_CASES = [(_RNG.randbytes(32), _RNG.randbytes(_RNG.choice([0, 1, 31, 64, 65, 200, 1000])))
                for _ in range(50)]


@pytest.mark.parametrize(("seed", "message"), RANDOM_CASES, ids=[f"case{i}" for i in range(50)])
def test_keys_and_signatures_equal_cryptography_when_seed_and_message_are_random(
    seed: bytes, message: bytes,
) -> None:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    theirs_public = _raw_public(private)
    theirs = private.sign(message)

    ours_public = ed25519.public_key(seed)
    ours = ed25519.sign(seed, message)

    assert ours_public == theirs_public
    assert ours == theirs  # Ed25519 is deterministic
    assert ed25519.verify(ours_public, message, theirs)
    Ed25519PublicKey.from_public_bytes(ours_public).verify(ours, message)  # raises if invalid
    assert not ed25519.verify(ours_public, message + b"x", theirs)


# --------------------------------------------------------------------------- rejections


@pytest.mark.parametrize("bit", range(0, 512, 7))
def test_verify_rejects_when_one_signature_bit_is_flipped(bit: int) -> None:
    assert not ed25519.verify(PUBLIC, MESSAGE, _flip(SIGNATURE, bit))


@pytest.mark.parametrize("bit", range(16))
def test_verify_rejects_when_one_message_bit_is_flipped(bit: int) -> None:
    assert not ed25519.verify(PUBLIC, _flip(MESSAGE, bit), SIGNATURE)


@pytest.mark.parametrize("bit", range(0, 256, 5))
def test_verify_rejects_when_one_public_key_bit_is_flipped(bit: int) -> None:
    assert not ed25519.verify(_flip(PUBLIC, bit), MESSAGE, SIGNATURE)


def test_verify_rejects_when_the_signature_is_by_another_key() -> None:
    other = RFC8032_VECTORS["TEST 2"]["public_key"]
    assert not ed25519.verify(other, MESSAGE, SIGNATURE)


@pytest.mark.parametrize(
    ("public_key", "signature"),
    [
        (PUBLIC[:31], SIGNATURE),
        (PUBLIC + b"\x00", SIGNATURE),
        (b"", SIGNATURE),
        (PUBLIC, SIGNATURE[:63]),
        (PUBLIC, SIGNATURE + b"\x00"),
        (PUBLIC, b""),
    ],
    ids=["key31", "key33", "key0", "sig63", "sig65", "sig0"],
)
def test_verify_returns_false_when_a_length_is_wrong(public_key: bytes, signature: bytes) -> None:
    assert ed25519.verify(public_key, MESSAGE, signature) is False


@pytest.mark.parametrize(
    ("public_key", "message", "signature"),
    [(None, MESSAGE, SIGNATURE), (PUBLIC, "af82", SIGNATURE), (PUBLIC, MESSAGE, 64),
     (32, MESSAGE, SIGNATURE)],
    ids=["key-none", "message-str", "signature-int", "key-int"],
)
def test_verify_returns_false_when_an_argument_is_not_bytes(
    public_key: object, message: object, signature: object,
) -> None:
    assert ed25519.verify(public_key, message, signature) is False  # type: ignore[arg-type]


def test_verify_rejects_when_s_is_replaced_by_s_plus_l() -> None:
    s = int.from_bytes(SIGNATURE[32:], "little")
    malleated = SIGNATURE[:32] + (s + L).to_bytes(32, "little")
    assert not ed25519.verify(PUBLIC, MESSAGE, malleated)
    # cryptography (OpenSSL) rejects it too: the same strictness.
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(PUBLIC).verify(malleated, MESSAGE)


def test_verify_rejects_when_s_is_all_ones() -> None:
    assert not ed25519.verify(PUBLIC, MESSAGE, SIGNATURE[:32] + b"\xff" * 32)


# The identity point (x, y) = (0, 1) is a valid, small-order public key under RFC 8032, and
# (R, S) = (identity, 0) satisfies [S]B = R + [k]A for every message. So a decoder that accepted
# another spelling of the identity would accept this signature: the two tests below fail only if
# decoding itself is lax (RFC 8032 section 5.1.3 steps 1 and 4).
IDENTITY = (1).to_bytes(32, "little")
IDENTITY_SIGNATURE = IDENTITY + bytes(32)


def test_verify_accepts_when_the_public_key_is_the_canonical_identity() -> None:
    assert ed25519.verify(IDENTITY, b"any message", IDENTITY_SIGNATURE)


def test_verify_rejects_when_the_public_key_y_is_not_canonical() -> None:
    # y = p + 1 spells y = 1 non-canonically; RFC 8032 says decoding fails. (OpenSSL and Go
    # accept it; see the module docstring.)
    encoded = (P + 1).to_bytes(32, "little")
    assert not ed25519.verify(encoded, b"any message", IDENTITY_SIGNATURE)


def test_verify_rejects_when_the_public_key_is_negative_zero_x() -> None:
    # y = 1 gives x = 0; with the sign bit set RFC 8032 section 5.1.3 step 4 rejects it.
    encoded = (1 | (1 << 255)).to_bytes(32, "little")
    assert not ed25519.verify(encoded, b"any message", IDENTITY_SIGNATURE)


def test_verify_rejects_when_the_public_key_is_not_on_the_curve() -> None:
    d = -121665 * pow(121666, P - 2, P) % P
    y = next(y for y in range(2, 1000)
             if not _is_square((y * y - 1) * pow(d * y * y + 1, P - 2, P)))
    assert not ed25519.verify(y.to_bytes(32, "little"), MESSAGE, SIGNATURE)


@pytest.mark.parametrize("seed", [b"", b"\x00" * 31, b"\x00" * 33], ids=["0", "31", "33"])
def test_sign_raises_value_error_when_the_seed_is_not_32_bytes(seed: bytes) -> None:
    with pytest.raises(ValueError):
        ed25519.sign(seed, b"m")
    with pytest.raises(ValueError):
        ed25519.public_key(seed)


def test_sign_accepts_bytearray_when_given_seed_and_message() -> None:
    assert ed25519.sign(bytearray(SEED), bytearray(MESSAGE)) == SIGNATURE


# --------------------------------------------------------------------------- imports
# (its speed is measured by `registre bench ledger`, never asserted against the wall clock)


def test_module_imports_only_hashlib_when_parsed() -> None:
    source = Path(ed25519.__file__).read_text(encoding="utf-8")
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert imported == {"__future__", "hashlib"}
