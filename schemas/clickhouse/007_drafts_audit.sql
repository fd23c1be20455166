-- The configuration being edited, one per site. A draft may be invalid (work
-- in progress); publishing validates it. Each save is a new row (newest rev
-- wins), so a draft survives restarts and logouts.
CREATE TABLE IF NOT EXISTS site_drafts
(
    site       String,
    config     String,
    updated_by String,
    updated_at DateTime('UTC'),
    rev        UInt64
)
ENGINE = ReplacingMergeTree(rev)
ORDER BY site;

-- The audit trail: who did what to which site, append-only. Logins and
-- account changes that concern no site have site = ''.
CREATE TABLE IF NOT EXISTS audit_log
(
    at      DateTime('UTC'),
    at_ms   UInt16,
    site    String,
    actor   String,
    action  String,
    details String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (site, at, at_ms);
