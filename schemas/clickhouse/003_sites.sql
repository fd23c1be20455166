-- Sites. A change inserts a new row with a higher rev; readers take the row
-- with the highest rev (argMax), so no mutation is ever needed.
CREATE TABLE IF NOT EXISTS sites
(
    site       String,
    name       String,
    created_at DateTime('UTC'),
    deleted    UInt8,
    rev        UInt64
)
ENGINE = ReplacingMergeTree(rev)
ORDER BY site;
