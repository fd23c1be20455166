-- Published site configurations. A version is written once and never changed:
-- config holds the exact canonical JSON whose SHA-256 is sha256, texts in every
-- language included, so an export shows what each visitor was told.
CREATE TABLE IF NOT EXISTS config_versions
(
    site         String,
    version      UInt32,
    config       String,
    sha256       String,
    published_at DateTime('UTC'),
    published_ms UInt16,
    published_by String,
    note         String
)
ENGINE = MergeTree
ORDER BY (site, version);
