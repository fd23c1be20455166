-- Tamper evidence (package ledger, docs/tamper-evidence.md). Every shipped
-- batch gets one proof: the Merkle root over its records' canonical
-- encodings, chained to the previous batch of the same instance (prev) and
-- signed with that instance's Ed25519 key. A batch shipped again after a
-- crash gets the identical proof; ReplacingMergeTree folds the copies.
CREATE TABLE IF NOT EXISTS batch_proofs
(
    batch_id   UUID,
    instance   String,
    seq        UInt64,
    format     UInt8,
    rows       UInt32,
    root       String,
    prev       String,
    key_id     String,
    signature  String,
    proved_at  DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (instance, seq);

-- Every public key that ever signed a proof, so proofs signed before a key
-- was rotated stay verifiable. Keys are hex; key_id is the first 16 bytes of
-- SHA-256 of the public key, in hex.
CREATE TABLE IF NOT EXISTS ledger_keys
(
    key_id     String,
    public_key String,
    instance   String,
    created_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY key_id;
