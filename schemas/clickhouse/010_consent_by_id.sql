-- The consent log ordered by consent ID, so that one visitor's history is a
-- primary-key range read at any log size. It holds only the key of each row
-- in consent_log (whose sort key starts (site, recorded_at)); lookups read
-- the rows themselves from there, so retention, which drops consent_log
-- partitions and deletes its rows, needs nothing here: an entry whose row
-- is gone finds nothing. Partitioned like consent_log, so old entries can be
-- dropped the same way.
CREATE TABLE IF NOT EXISTS consent_by_id
(
    site         String,
    consent_id   UUID,
    recorded_at  DateTime('UTC'),
    record_id    UUID,
    retain_until Date
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(retain_until)
ORDER BY (site, consent_id, recorded_at, record_id);

-- Rows that existed before this migration, once (only into an empty table,
-- so re-running an interrupted migration copies nothing twice).
INSERT INTO consent_by_id (site, consent_id, recorded_at, record_id, retain_until)
SELECT CAST(site AS String), consent_id, recorded_at, record_id, retain_until
FROM consent_log
WHERE (SELECT count() FROM consent_by_id) = 0;

CREATE MATERIALIZED VIEW IF NOT EXISTS consent_by_id_mv TO consent_by_id
AS SELECT CAST(site AS String) AS site, consent_id, recorded_at, record_id, retain_until
FROM consent_log;
