-- Invitations to a site. Adding a person makes an invitation, not a member:
-- they get a role only when they accept it, signed in as the invited email.
-- Only the SHA-256 of the link's secret is kept. An invitation is written
-- once; closing it (accepted or withdrawn) is a later row with the same
-- fields, and closed is read with max(), so a close is final. A plain
-- MergeTree: no merge ever drops a row, whatever the writers' clocks.
CREATE TABLE IF NOT EXISTS invitations
(
    invite_id   String,
    site        String,
    email       String,
    role        String,
    secret_hash String,
    invited_by  String,
    invited_at  DateTime('UTC'),
    expires_at  DateTime('UTC'),
    -- 0 open, 1 accepted, 2 withdrawn
    closed      UInt8,
    closed_by   String,
    rev         UInt64
)
ENGINE = MergeTree
ORDER BY (invite_id, rev);
