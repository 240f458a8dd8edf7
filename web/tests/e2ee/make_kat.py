#!/usr/bin/env python3
"""Known-answer vectors for Conclave's E2EE formats, from an independent implementation.

This re-implements the constructions documented in web/src/e2ee/*.ts with Python's hashlib/hmac
and the `cryptography` package (Debian: python3-cryptography), with fixed keys and IVs, and writes
conclave_kat.ts. The TypeScript tests must open what this produces and reproduce every
deterministic value. Run: python3 tests/e2ee/make_kat.py > tests/e2ee/conclave_kat.ts
"""

import base64
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import serialization


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def fields(*items) -> bytes:
    out = b""
    for item in items:
        if isinstance(item, str):
            data = item.encode()
        elif isinstance(item, int):
            data = struct.pack(">Q", item)
        else:
            data = bytes(item)
        out += struct.pack(">I", len(data)) + data
    return out


def hkdf(ikm: bytes, info: bytes, length: int, salt: bytes = b"") -> bytes:
    prk = hmac.new(salt if salt else b"\0" * 32, ikm, hashlib.sha256).digest()
    okm, block, i = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        okm += block
        i += 1
    return okm[:length]


def raw_public(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def sframe_key_salt(base_key: bytes, kid: int):
    suite = struct.pack(">QH", kid, 4)
    key = hkdf(base_key, b"SFrame 1.0 Secret key " + suite, 16)
    salt = hkdf(base_key, b"SFrame 1.0 Secret salt " + suite, 12)
    return key, salt


def sframe_header(kid: int, ctr: int) -> bytes:
    def part(v):
        if v < 8:
            return v, b""
        n = (v.bit_length() + 7) // 8
        return 0x8 | (n - 1), v.to_bytes(n, "big")

    k, kb = part(kid)
    c, cb = part(ctr)
    return bytes([(k << 4) | c]) + kb + cb


def main():
    # Fixed identities (never use fixed keys outside tests).
    alice_ed = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    alice_x = X25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
    bob_ed = Ed25519PrivateKey.from_private_bytes(bytes(range(64, 96)))
    bob_x = X25519PrivateKey.from_private_bytes(bytes(range(96, 128)))
    a_ed, a_x, b_ed, b_x = raw_public(alice_ed), raw_public(alice_x), raw_public(bob_ed), raw_public(bob_x)

    room_id = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"[:28] + "room"
    secret = b64u(bytes(range(200, 232)))
    alice_id, bob_id = "alice-participant-id01", "bob-participant-id0001"
    alice_join, bob_join = bytes(range(140, 156)), bytes(range(160, 176))

    # Room keys and Alice's profile envelope.
    room_key = hkdf(b64u_decode(secret), fields("Conclave room v1"), 32, room_id.encode())
    membership_key = hkdf(room_key, fields("Conclave membership v1"), 32)
    profile_key = hkdf(room_key, fields("Conclave profile v1"), 16)
    pairwise_salt = hkdf(room_key, fields("Conclave pairwise salt v1"), 32)
    proof = hmac.new(membership_key, fields("Conclave membership v1", room_id, a_ed, a_x), hashlib.sha256).digest()
    inner = json.dumps({"name": "Alice"}, separators=(",", ":")).encode()
    iv = bytes(range(12))
    box = iv + AESGCM(profile_key).encrypt(iv, inner, fields("Conclave profile v1", room_id, a_ed, a_x))
    sig = alice_ed.sign(fields("Conclave profile signature v1", room_id, a_ed, a_x, alice_join, proof, box))
    envelope = json.dumps(
        {
            "v": 2, "ed": b64u(a_ed), "x": b64u(a_x), "j": b64u(alice_join), "proof": b64u(proof),
            "box": b64u(box), "sig": b64u(sig),
        },
        separators=(",", ":"),
    )

    # Alice's sender key, ratchet, KID and one protected VP8 key frame of her camera.
    material = bytes(range(16))
    ratcheted = hkdf(material, fields("Conclave ratchet v1"), 16)
    tag = struct.unpack(">I", hashlib.sha256(fields("Conclave kid v1", a_ed)).digest()[:4])[0]
    generation = 1
    kid = (tag << 8) | (generation & 0xFF)
    media_base = hkdf(ratcheted, fields("Conclave media v1", "camera"), 16)
    skey, ssalt = sframe_key_salt(media_base, kid)
    ctr = 5
    frame = bytes([0x50, 0x2A, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01]) + bytes(range(40))
    prefix = frame[:10]
    header = sframe_header(kid, ctr)
    nonce = bytearray(ssalt)
    nonce[4:] = (int.from_bytes(ssalt[4:], "big") ^ ctr).to_bytes(8, "big")
    protected = prefix + header + AESGCM(skey).encrypt(bytes(nonce), frame[10:], header + prefix)

    # Alice wraps her ratcheted sender key (generation 1) for Bob.
    shared = alice_x.exchange(bob_x.public_key())
    low, high = sorted([a_x, b_x])
    pair_key = hkdf(shared, fields("Conclave pairwise v1", low, high), 16, pairwise_salt)
    packed = struct.pack(">I", generation) + ratcheted
    wrap_iv = bytes(range(100, 112))
    wrapped = wrap_iv + AESGCM(pair_key).encrypt(
        wrap_iv, packed, fields("Conclave sender key v1", room_id, alice_id, bob_id, alice_join, bob_join)
    )
    # Bob acknowledges generation 1 to Alice.
    ack_iv = bytes(range(120, 132))
    ack = ack_iv + AESGCM(pair_key).encrypt(
        ack_iv, struct.pack(">I", generation),
        fields("Conclave key control v1", "key-ack", room_id, bob_id, alice_id, bob_join, alice_join),
    )

    # A file of 2,500 bytes in 1 KiB chunks, and a chat message from Alice carrying it.
    file_data = bytes((i * 7) & 0xFF for i in range(2500))
    file_key, file_nonce, file_id = bytes(range(16, 32)), bytes(range(8)), bytes(range(48, 64))
    chunk_size = 1024
    count = (len(file_data) + chunk_size - 1) // chunk_size
    chunks = []
    for i in range(count):
        n = file_nonce + struct.pack(">I", i)
        aad = fields("Conclave file v1", file_id, i, 1 if i == count - 1 else 0)
        chunks.append(AESGCM(file_key).encrypt(n, file_data[i * chunk_size:(i + 1) * chunk_size], aad))
    manifest = {
        "v": 1, "fileId": b64u(file_id), "name": "notes.txt", "size": len(file_data), "mime": "text/plain",
        "chunkSize": chunk_size, "chunks": count, "sha256": b64u(hashlib.sha256(file_data).digest()),
        "key": b64u(file_key), "nonce": b64u(file_nonce),
    }
    message = {"id": "m1", "ts": 1700000000000, "text": "Grüße, Bob", "expiresAt": 1700000060000, "file": manifest}
    chat_key = hkdf(ratcheted, fields("Conclave chat v1"), 16)
    counter = 1
    chat_header = fields("Conclave chat v1", room_id, alice_id, generation, counter)
    chat_iv = bytes(range(20, 32))
    chat_ct = chat_iv + AESGCM(chat_key).encrypt(chat_iv, json.dumps(message).encode(), chat_header)
    chat_sig = alice_ed.sign(chat_header + fields(chat_ct))
    chat = json.dumps(
        {"v": 1, "from": alice_id, "g": generation, "n": counter, "ct": b64u(chat_ct), "sig": b64u(chat_sig)},
        separators=(",", ":"),
    )

    code_digest = hashlib.sha512(fields("Conclave security code v2", room_id, *sorted([a_ed, b_ed]))).digest()
    code = " ".join(
        str(int.from_bytes(code_digest[5 * i:5 * i + 5], "big") % 100000).zfill(5) for i in range(12)
    )

    def private_raw(key):
        return key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    values = {
        "roomId": room_id, "secret": secret, "aliceId": alice_id, "bobId": bob_id,
        "aliceEdPrivate": b64u(private_raw(alice_ed)), "aliceEdPublic": b64u(a_ed),
        "aliceXPrivate": b64u(private_raw(alice_x)), "aliceXPublic": b64u(a_x),
        "bobEdPrivate": b64u(private_raw(bob_ed)), "bobEdPublic": b64u(b_ed),
        "bobXPrivate": b64u(private_raw(bob_x)), "bobXPublic": b64u(b_x),
        "aliceJoin": b64u(alice_join), "bobJoin": b64u(bob_join),
        "proof": b64u(proof), "profileEnvelope": envelope, "profileInner": inner.decode(),
        "senderKey": material.hex(), "ratchetedKey": ratcheted.hex(), "senderTag": tag, "kid": str(kid),
        "sframeKey": skey.hex(), "sframeSalt": ssalt.hex(), "ctr": ctr,
        "frame": frame.hex(), "protectedFrame": protected.hex(),
        "wrappedKey": wrapped.hex(), "pairwiseKey": pair_key.hex(), "keyAck": b64u(ack),
        "fileData": file_data.hex(), "fileChunks": [c.hex() for c in chunks], "chatEnvelope": chat,
        "chatText": message["text"], "securityCode": code,
    }
    print("// Generated by make_kat.py (Python hashlib/hmac + the `cryptography` package): an independent")
    print("// implementation of the formats documented in src/e2ee. Do not edit by hand.")
    print()
    print("export const KAT = " + json.dumps(values, indent=2, ensure_ascii=False) + " as const;")


main()
