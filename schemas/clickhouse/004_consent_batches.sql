-- The shipper moves records from each instance's spool to consent_log in
-- batches. Every row names its batch, and every shipped batch gets a row in
-- consent_batches once its rows are in: the manifest that lets a re-shipped
-- batch be recognised after a crash (and, later, proofs be built per batch).
--
-- event_id is the decision's idempotency key (the banner's event_id or an
-- Idempotency-Key header; empty when the client sent none).
--
-- ADD COLUMN has no IF NOT EXISTS on ClickHouse 18.16; the migration runner
-- (and .ci/chdb-replay.cjs) treat "column already exists" (code 44 on 18.16,
-- 15 on current releases) of an ADD COLUMN as done, so the file stays safe to
-- re-run.
ALTER TABLE consent_log ADD COLUMN event_id String AFTER consent_id;
ALTER TABLE consent_log ADD COLUMN batch_id UUID;

CREATE TABLE IF NOT EXISTS consent_batches
(
    batch_id          UUID,
    instance          String,
    seq               UInt64,
    rows              UInt32,
    first_recorded_at DateTime('UTC'),
    last_recorded_at  DateTime('UTC'),
    shipped_at        DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (instance, seq);
