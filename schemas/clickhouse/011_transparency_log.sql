-- The evidence log (package ledger, docs/tamper-evidence.md): one Merkle
-- tree per site and instance, RFC 9162's hashing. It supersedes the batch
-- proofs of 009, which are no longer written.
--
-- Every record shipped is a leaf of its log; consent_log says where.
ALTER TABLE consent_log ADD COLUMN log_id String;
ALTER TABLE consent_log ADD COLUMN leaf_index UInt64;

-- Leaves outlive the records (retention drops consent_log's partitions,
-- never these rows), so a record's legal absence stays provable from its
-- leaf: leaf_data commits to its site, log time, retain_until and hash.
-- time_ms (the log time, also inside leaf_data) and recorded_at are there to
-- be searched: exports find a period's leaves by time_ms and its records by
-- recorded_at, the sort key of consent_log.
CREATE TABLE IF NOT EXISTS log_leaves
(
    log_id      String,
    leaf_index  UInt64,
    leaf_data   String,
    leaf_hash   String,
    record_id   UUID,
    time_ms     UInt64,
    recorded_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (log_id, leaf_index);

-- Interior nodes of each tree (level >= 1; level 0 is log_leaves.leaf_hash),
-- every perfect subtree once complete: proofs are read from here, and
-- checked against signed heads by whoever uses them.
CREATE TABLE IF NOT EXISTS log_nodes
(
    log_id String,
    level  UInt8,
    idx    UInt64,
    hash   String
)
ENGINE = ReplacingMergeTree
ORDER BY (log_id, level, idx);

-- Signed tree heads: after every batch for each log it touched, and again
-- for a log whose newest head grows old. batch_seq is the instance's batch
-- that made the head (0 for a re-signed one), so an instance that crashed
-- after storing a batch's heads does not append that batch twice.
CREATE TABLE IF NOT EXISTS log_heads
(
    log_id       String,
    instance     String,
    tree_size    UInt64,
    root_hash    String,
    timestamp_ms UInt64,
    key_id       String,
    signature    String,
    batch_seq    UInt64
)
ENGINE = ReplacingMergeTree
ORDER BY (log_id, tree_size, timestamp_ms);

-- Keys are published with their own signature over their instance, and a
-- rotated key with the transition its predecessor signed (JSON).
ALTER TABLE ledger_keys ADD COLUMN signature String;
ALTER TABLE ledger_keys ADD COLUMN transition String;
