-- Reports of `samtycke scan`, for the dashboard. scan_reports has one row per
-- scan: its summary and the whole report as JSON (what the CLI printed with
-- --json). scan_items has one row per item or third-party host seen, and per
-- declared item never seen, so findings can be queried across scans without
-- JSON functions (ClickHouse 18.16 has none). Rows are written once; old
-- scans are dropped by month partition like the consent log.
CREATE TABLE IF NOT EXISTS scan_reports
(
    scan_id        UUID,
    site           LowCardinality(String),
    started_at     DateTime('UTC'),
    duration_ms    UInt32,
    config_version UInt32,
    config_hash    String,
    start_urls     Array(String),
    pages          UInt16,
    banner_found   UInt8,
    undeclared     UInt32,
    pre_consent    UInt32,
    unseen         UInt32,
    limits         Array(String),
    report         String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (site, started_at, scan_id);

CREATE TABLE IF NOT EXISTS scan_items
(
    scan_id        UUID,
    site           LowCardinality(String),
    started_at     DateTime('UTC'),
    kind           Enum8('cookie' = 1, 'local_storage' = 2, 'session_storage' = 3, 'indexeddb' = 4, 'pixel' = 5, 'host' = 6),
    name           String,
    domain         String,
    category       LowCardinality(String),
    before_consent UInt8,
    after_consent  UInt8,
    findings       Array(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(started_at)
ORDER BY (site, started_at, scan_id, kind, name);
