-- The consent log: one row per decision (accept, reject, custom, withdraw,
-- GPC), never updated. Rows carry what the visitor was shown (config version
-- and its SHA-256) and nothing that identifies them beyond the random consent
-- ID they keep themselves: the IP is truncated, the user agent reduced, the
-- URL stripped of query and fragment before the row is built.
--
-- Partitioned by the month in which rows expire (recorded date + the site's
-- retention), so retention is enforced by dropping whole past partitions; this
-- works on ClickHouse 18.16, which has no TTL.
-- ReplacingMergeTree collapses only rows with the same (site, recorded_at,
-- record_id): a batch that is delivered twice after a crash. Readers that
-- must be exact use FINAL.
CREATE TABLE IF NOT EXISTS consent_log
(
    record_id      UUID,
    consent_id     UUID,
    site           LowCardinality(String),
    recorded_at    DateTime('UTC'),
    recorded_ms    UInt16,
    config_version UInt32,
    config_hash    String,
    lang           LowCardinality(String),
    categories     Array(String),
    granted        Array(UInt8),
    method         Enum8('accept_all' = 1, 'reject_all' = 2, 'custom' = 3, 'withdraw' = 4, 'gpc' = 5),
    source         Enum8('banner' = 1, 'settings' = 2, 'api' = 3),
    gpc            UInt8,
    ua_browser     LowCardinality(String),
    ua_os          LowCardinality(String),
    ua_device      LowCardinality(String),
    ip_prefix      String,
    page_origin    String,
    page_path      String,
    retain_until   Date
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(retain_until)
ORDER BY (site, recorded_at, record_id);
