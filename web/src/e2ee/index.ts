// Conclave end-to-end encryption: the cryptographic core. Pure TypeScript on WebCrypto
// (Ed25519, X25519, HKDF-SHA256, HMAC-SHA256, AES-GCM); no DOM, no network, no I/O. The server
// relays opaque strings and encrypted frames and never holds a key.
//
// Key hierarchy
//
//   room secret (URL fragment, >= 128 bits, never sent anywhere)
//   └─ roomKey = HKDF(secret, salt = roomId, "Conclave room v1")                     membership.ts
//      ├─ membershipKey = HKDF(roomKey, "Conclave membership v1")      HMAC-SHA256
//      │    proof = HMAC(membershipKey, roomId, Ed25519 pub, X25519 pub)
//      ├─ profileKey = HKDF(roomKey, "Conclave profile v1")            AES-GCM-128: names, profiles
//      └─ pairwiseSalt = HKDF(roomKey, "Conclave pairwise salt v1")
//
//   identity, fresh for every join (private keys non-extractable), join nonce (16 B)   keys.ts
//   ├─ Ed25519: signs the profile envelope (with the join nonce) and chat messages; the security
//   │           code is over these keys
//   └─ X25519:  pairwise keys
//        pairKey = HKDF(X25519(mine, theirs), salt = pairwiseSalt,
//                       "Conclave pairwise v1" || lower pub || higher pub)           AES-GCM-128
//        carries sender keys: AAD = ("Conclave sender key v1", roomId, from, to, both join nonces)
//        and key-acks / key-requests: AAD = ("Conclave key control v1", kind, roomId, from, to,
//        both join nonces)
//
//   sender key (16 random bytes + generation), one per member                          keys.ts
//   ├─ on a join: every sender ratchets, next = HKDF(key, "Conclave ratchet v1"), generation + 1;
//   │             the newcomer gets only the current key (pairwise)
//   ├─ on a leave: every sender makes a fresh random key, generation + 1, and sends it pairwise
//   │             to the remaining members (switching after acks or a timeout; then a keyframe);
//   │             receivers ratchet nobody's key until its fresh key arrived (KeyRing)
//   ├─ media: base_key(source) = HKDF(key, "Conclave media v1" || source)            media.ts
//   │         SFrame RFC 9605, suite AES_128_GCM_SHA256_128, KID = senderTag << 8 | generation & 0xff
//   │         senderTag = first 32 bits of SHA-256("Conclave kid v1" || Ed25519 pub)  sframe.ts
//   │         frame = clear codec bytes (VP8 P-bit byte / key frame header, Opus TOC)
//   │                 || SFrame header || ciphertext+tag, clear bytes authenticated as metadata
//   └─ chat: chatKey = HKDF(key, "Conclave chat v1"), AES-GCM-128, signed with Ed25519  chat.ts
//            files: random per-file key, 64 KiB chunks, AAD = (fileId, index, isLast);
//            manifest (key, SHA-256) inside a chat message                                files.ts
//
//   security code = 12 x 5 digits of SHA-512("Conclave security code v2", roomId,
//                   sorted Ed25519 pubs of all members)                             security_code.ts
//
// All MAC, signature, AAD and HKDF-info inputs are encodeFields(...): each field a 4-byte length
// and its bytes, the first field a "Conclave <purpose> v1" label (util.ts LABELS), so no input
// of one purpose can be read as another's.
//
// What the server sees: the opaque profile envelope (public keys, proof, encrypted profile,
// signature), wrapped sender keys, chat envelopes (sender, generation, counter, ciphertext,
// signature), and media frames whose clear bytes are the codec bytes above plus the SFrame header
// (sender tag, generation low byte, frame counter).

export * from './util';
export * from './sframe';
export * from './keys';
export * from './media';
export * from './membership';
export * from './chat';
export * from './files';
export * from './security_code';
