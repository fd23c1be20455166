-- Daily counts of the consent log for the dashboard's statistics, kept up to
-- date by materialised views on every insert into consent_log, so a query
-- over a period reads days, not decisions. SummingMergeTree adds rows with
-- the same key up when parts merge; readers still sum() over the key.
-- CAST, not toString: on 18.16 toString keeps LowCardinality, which the
-- String columns refuse.
-- Rows that existed before this migration are counted once, below (only
-- into empty tables, so re-running an interrupted migration counts nothing twice).
CREATE TABLE IF NOT EXISTS consent_daily
(
    site      String,
    day       Date,
    method    String,
    lang      String,
    ua_device String,
    gpc       UInt8,
    decisions UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, day, method, lang, ua_device, gpc);

-- One row per category and decision, for the opt-in rate per category.
CREATE TABLE IF NOT EXISTS consent_daily_categories
(
    site      String,
    day       Date,
    category  String,
    grants    UInt64,
    decisions UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (site, day, category);

INSERT INTO consent_daily (site, day, method, lang, ua_device, gpc, decisions)
SELECT CAST(site AS String), toDate(recorded_at), toString(method), CAST(lang AS String), CAST(ua_device AS String), gpc, count()
FROM consent_log
WHERE (SELECT count() FROM consent_daily) = 0
GROUP BY site, toDate(recorded_at), toString(method), CAST(lang AS String), CAST(ua_device AS String), gpc;

INSERT INTO consent_daily_categories (site, day, category, grants, decisions)
SELECT CAST(site AS String), toDate(recorded_at), category, sum(g), count()
FROM consent_log
ARRAY JOIN categories AS category, granted AS g
WHERE (SELECT count() FROM consent_daily_categories) = 0
GROUP BY site, toDate(recorded_at), category;

CREATE MATERIALIZED VIEW IF NOT EXISTS consent_daily_mv TO consent_daily
AS SELECT CAST(site AS String) AS site, toDate(recorded_at) AS day, toString(method) AS method, CAST(lang AS String) AS lang,
    CAST(ua_device AS String) AS ua_device, gpc, count() AS decisions
FROM consent_log
GROUP BY site, day, method, lang, ua_device, gpc;

CREATE MATERIALIZED VIEW IF NOT EXISTS consent_daily_categories_mv TO consent_daily_categories
AS SELECT CAST(site AS String) AS site, toDate(recorded_at) AS day, category, toUInt64(sum(g)) AS grants, count() AS decisions
FROM consent_log
ARRAY JOIN categories AS category, granted AS g
GROUP BY site, day, category;
