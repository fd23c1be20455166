-- Facts that a later write must not undo. Accounts, memberships, tokens and
-- sites stay rows with a rev, but readers no longer take the newest row
-- whole: a deletion, a removal or a revocation is max() over every row of
-- its key (a tombstone wins over any write, also one based on an older read),
-- and fields that never change are read from the first row (argMin).
--
-- Tokens expire (expires_at, set once at creation; 0 on tokens made before
-- this migration, which the server reads as created_at + 90 days, at the
-- earliest 90 days after this release) and are backed by a member: the
-- user whose role the token was made under (member). A token whose member
-- has left the site stops working.
-- An account is one incarnation (created_at, created_ms) and a membership
-- one (added_at, added_ms): a removal is final for it, and adding the same
-- person again, even within the same second, makes a new one.
ALTER TABLE users ADD COLUMN created_ms UInt16;
ALTER TABLE site_members ADD COLUMN added_ms UInt16;

ALTER TABLE api_tokens ADD COLUMN expires_at DateTime('UTC');
ALTER TABLE api_tokens ADD COLUMN member String;

-- A token's last use, one row per touch: the touch no longer rewrites the
-- token's row, so it cannot bring a revoked token back. Read with max().
CREATE TABLE IF NOT EXISTS token_uses
(
    token_id String,
    used_at  DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (token_id, used_at);

-- Claims of a site id at creation. ClickHouse has no unique constraint, so
-- the owner made by creating a site is the claim that sorts first by
-- (claimed_at, claim), claimed_at being the ClickHouse server's clock at the
-- insert: every reader finds the same one. A shared Redis claim (SET NX)
-- keeps a second creator from getting this far in the first place.
CREATE TABLE IF NOT EXISTS site_claims
(
    site       String,
    claim      String,
    claimant   String,
    claimed_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (site, claimed_at, claim);
