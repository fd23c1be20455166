-- Second factors (TOTP, RFC 6238) and the owners' requirement of them.
--
-- A factor is written once when its owner confirms it with a first code,
-- with the SHA-256 of its ten recovery codes; removing it is a later row
-- (removed read with max(), final). The account's current factor is its
-- newest one not removed. Plain MergeTrees: no merge ever drops a row.
CREATE TABLE IF NOT EXISTS second_factors
(
    email          String,
    factor_id      String,
    secret         String,
    recovery_codes Array(String),
    created_at     DateTime('UTC'),
    removed        UInt8,
    rev            UInt64
)
ENGINE = MergeTree
ORDER BY (email, factor_id, rev);

-- A recovery code works once: its use is a row here (and a Redis claim
-- against two uses at the same moment).
CREATE TABLE IF NOT EXISTS recovery_code_uses
(
    email     String,
    factor_id String,
    code_hash String,
    used_at   DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (email, factor_id, code_hash);

-- A site's security policy, set by its owners: require_two_factor keeps
-- members who signed in without a second factor out of the site (API
-- tokens are not people and are unaffected). The newest row wins.
CREATE TABLE IF NOT EXISTS site_policies
(
    site               String,
    require_two_factor UInt8,
    set_by             String,
    set_at             DateTime('UTC'),
    rev                UInt64
)
ENGINE = MergeTree
ORDER BY (site, rev);
