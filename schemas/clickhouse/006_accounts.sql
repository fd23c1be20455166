-- Accounts, site memberships and API tokens. These rows change (a password,
-- a role, a revocation): each change inserts a new row with a higher rev and
-- readers take the newest per key with argMax, as sites does, so no mutation
-- is ever needed and the history stays in the table until a merge.
CREATE TABLE IF NOT EXISTS users
(
    email         String,
    password_hash String,
    created_at    DateTime('UTC'),
    deleted       UInt8,
    rev           UInt64
)
ENGINE = ReplacingMergeTree(rev)
ORDER BY email;

-- One row per (site, user): role is owner, editor or auditor.
CREATE TABLE IF NOT EXISTS site_members
(
    site       String,
    email      String,
    role       String,
    added_by   String,
    added_at   DateTime('UTC'),
    deleted    UInt8,
    rev        UInt64
)
ENGINE = ReplacingMergeTree(rev)
ORDER BY (site, email);

-- API tokens: only the SHA-256 of the secret is kept (the secret is shown
-- once). A token belongs to one site and carries one role.
CREATE TABLE IF NOT EXISTS api_tokens
(
    token_id     String,
    site         String,
    name         String,
    role         String,
    secret_hash  String,
    created_by   String,
    created_at   DateTime('UTC'),
    last_used_at DateTime('UTC'),
    revoked      UInt8,
    rev          UInt64
)
ENGINE = ReplacingMergeTree(rev)
ORDER BY token_id;
