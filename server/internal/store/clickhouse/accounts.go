package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
)

var _ manage.Store = (*Store)(nil)

// rev orders the rows of one key: the newest write wins in argMax reads of
// what may change (a password, a role, a name). What must not be undone (a
// deletion, a revocation) is read with max() instead, and what never
// changes with argMin (the first row).
func rev() uint64 { return uint64(time.Now().UnixNano()) }

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// insertOne appends one row through a batch with an explicit column list
// (the only insert that works on 18.16 and current releases alike).
func (s *Store) insertOne(ctx context.Context, insert string, row ...any) error {
	b, err := s.conn.PrepareBatch(ctx, insert)
	if err != nil {
		return err
	}
	if err := b.Append(row...); err != nil {
		b.Abort()
		return err
	}
	return b.Send()
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func anys(xs []string) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

// An account is an incarnation: its created_at. Changes to it (a password)
// keep created_at; its removal is final for that incarnation (max(deleted)),
// so a password change that read the account before it was removed cannot
// bring it back. Adding the email again later makes a new incarnation.
const userIncarnations = `SELECT email, (created_at, created_ms) AS inc, argMax(password_hash, rev) AS ph, max(deleted) AS d
	FROM users WHERE %s GROUP BY email, created_at, created_ms`

// User returns an account that exists.
func (s *Store) User(ctx context.Context, email string) (*manage.User, error) {
	u := &manage.User{Email: email}
	var deleted uint8
	var ms uint16
	err := s.conn.QueryRow(ctx, `SELECT argMax(ph, inc), max(inc).1, max(inc).2, argMax(d, inc)
		FROM (`+fmt.Sprintf(userIncarnations, "email = ?")+`)`, email).Scan(&u.PasswordHash, &u.CreatedAt, &ms, &deleted)
	if errors.Is(err, errNoRows) || (err == nil && (deleted == 1 || u.CreatedAt.Unix() <= 0)) {
		return nil, manage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("user: %w", err)
	}
	u.CreatedAt = u.CreatedAt.UTC().Add(time.Duration(ms) * time.Millisecond)
	return u, nil
}

// Users lists the accounts that exist, by email.
func (s *Store) Users(ctx context.Context) ([]manage.User, error) {
	rows, err := s.conn.Query(ctx, `SELECT email, max(inc).1 AS c, argMax(d, inc) AS dd
		FROM (`+fmt.Sprintf(userIncarnations, "1")+`) GROUP BY email HAVING dd = 0 ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	defer rows.Close()
	var out []manage.User
	for rows.Next() {
		var u manage.User
		var d uint8
		if err := rows.Scan(&u.Email, &u.CreatedAt, &d); err != nil {
			return nil, fmt.Errorf("users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// PutUser creates (a new CreatedAt), changes or (Deleted) removes an account.
func (s *Store) PutUser(ctx context.Context, u manage.User) error {
	err := s.insertOne(ctx, "INSERT INTO users (email, password_hash, created_at, created_ms, deleted, rev)",
		u.Email, u.PasswordHash, u.CreatedAt.UTC().Truncate(time.Second), millis(u.CreatedAt), b2u(u.Deleted), rev())
	if err != nil {
		return fmt.Errorf("put user: %w", err)
	}
	return nil
}

// A membership is (site, email, added_at): role changes keep added_at, a
// removal is final for it (max(deleted)), and the newest one per person
// counts. So a role change racing a removal cannot undo the removal.
//
// A membership written by creating a site (added_by "site.create") counts
// only for the site's winning claim (ClaimSite): two people who created the
// same site at once do not both become its owner.
const memberIncarnations = `SELECT site, email, (added_at, added_ms) AS inc, argMax(role, rev) AS rl, argMin(added_by, rev) AS ab, max(deleted) AS d
	FROM site_members WHERE %s GROUP BY site, email, added_at, added_ms`

func (s *Store) members(ctx context.Context, where string, arg string) ([]manage.Member, error) {
	rows, err := s.conn.Query(ctx, `SELECT site, email, argMax(rl, inc), argMax(ab, inc), max(inc).1, max(inc).2, argMax(d, inc) AS dd
		FROM (`+fmt.Sprintf(memberIncarnations, where)+`) GROUP BY site, email HAVING dd = 0 ORDER BY site, email`, arg)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []manage.Member
	var created []string
	for rows.Next() {
		var m manage.Member
		var role string
		var d uint8
		var ms uint16
		if err := rows.Scan(&m.Site, &m.Email, &role, &m.AddedBy, &m.AddedAt, &ms, &d); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		m.Role, m.AddedAt = manage.Role(role), m.AddedAt.UTC().Add(time.Duration(ms)*time.Millisecond)
		if m.AddedBy == manage.AddedBySiteCreation {
			created = append(created, m.Site)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	if len(created) == 0 {
		return out, nil
	}
	winners, err := s.claimWinners(ctx, created)
	if err != nil {
		return nil, err
	}
	kept := out[:0]
	for _, m := range out {
		if m.AddedBy != manage.AddedBySiteCreation || winners[m.Site] == m.Email {
			kept = append(kept, m)
		}
	}
	return kept, nil
}

// Members lists a site's members.
func (s *Store) Members(ctx context.Context, site string) ([]manage.Member, error) {
	return s.members(ctx, "site = ?", site)
}

// Memberships lists a user's roles on every site.
func (s *Store) Memberships(ctx context.Context, email string) ([]manage.Member, error) {
	return s.members(ctx, "email = ?", email)
}

// PutMember adds, changes or (Deleted) removes a membership.
func (s *Store) PutMember(ctx context.Context, m manage.Member) error {
	err := s.insertOne(ctx, "INSERT INTO site_members (site, email, role, added_by, added_at, added_ms, deleted, rev)",
		m.Site, m.Email, string(m.Role), m.AddedBy, m.AddedAt.UTC().Truncate(time.Second), millis(m.AddedAt), b2u(m.Deleted), rev())
	if err != nil {
		return fmt.Errorf("put member: %w", err)
	}
	return nil
}

// Fields written once at creation come from the first row (argMin), so a
// revocation row needs only the id, and nothing can rewrite them.
const tokenCols = `token_id, argMin(site, rev), argMin(name, rev), argMin(role, rev), argMin(secret_hash, rev),
	argMin(created_by, rev), argMin(created_at, rev), argMin(expires_at, rev), argMin(member, rev), max(revoked) AS r`

// legacyTokenExpiry is the earliest expiry of a token made before tokens
// had one: created_at + 90 days, but not before 90 days after the release
// that brought expiry, so that no working integration breaks on upgrade.
var legacyTokenExpiry = time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC)

func (s *Store) scanTokens(ctx context.Context, query string, args ...any) ([]manage.Token, error) {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []manage.Token
	for rows.Next() {
		var t manage.Token
		var role string
		var r uint8
		if err := rows.Scan(&t.ID, &t.Site, &t.Name, &role, &t.SecretHash, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &t.Member, &r); err != nil {
			return nil, err
		}
		t.Role, t.Revoked = manage.Role(role), r == 1
		t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
		if t.ExpiresAt.Unix() <= 0 {
			t.ExpiresAt = t.CreatedAt.AddDate(0, 0, 90)
			if t.ExpiresAt.Before(legacyTokenExpiry) {
				t.ExpiresAt = legacyTokenExpiry
			}
		}
		if t.Member == "" && !strings.HasPrefix(t.CreatedBy, "token:") {
			t.Member = t.CreatedBy
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]string, len(out))
	for i, t := range out {
		ids[i] = t.ID
	}
	used := map[string]time.Time{}
	urows, err := s.conn.Query(ctx, `SELECT token_id, max(used_at) FROM token_uses WHERE token_id IN (`+marks(len(ids))+`) GROUP BY token_id`, anys(ids)...)
	if err != nil {
		return nil, err
	}
	defer urows.Close()
	for urows.Next() {
		var id string
		var at time.Time
		if err := urows.Scan(&id, &at); err != nil {
			return nil, err
		}
		used[id] = at.UTC()
	}
	if err := urows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].LastUsedAt = used[out[i].ID]
	}
	return out, nil
}

// Tokens lists a site's tokens that are not revoked.
func (s *Store) Tokens(ctx context.Context, site string) ([]manage.Token, error) {
	out, err := s.scanTokens(ctx, `SELECT `+tokenCols+` FROM api_tokens
		WHERE token_id IN (SELECT token_id FROM api_tokens WHERE site = ?)
		GROUP BY token_id HAVING r = 0 ORDER BY argMin(created_at, rev), token_id`, site)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return out, nil
}

// Token returns a token by id, revoked or not.
func (s *Store) Token(ctx context.Context, id string) (*manage.Token, error) {
	out, err := s.scanTokens(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE token_id = ? GROUP BY token_id`, id)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if len(out) == 0 {
		return nil, manage.ErrNotFound
	}
	return &out[0], nil
}

// PutToken creates a token.
func (s *Store) PutToken(ctx context.Context, t manage.Token) error {
	err := s.insertOne(ctx, `INSERT INTO api_tokens (token_id, site, name, role, secret_hash, created_by,
		created_at, last_used_at, revoked, rev, expires_at, member)`, t.ID, t.Site, t.Name, string(t.Role), t.SecretHash, t.CreatedBy,
		t.CreatedAt.UTC(), time.Unix(0, 0).UTC(), b2u(t.Revoked), rev(), t.ExpiresAt.UTC(), t.Member)
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// RevokeToken revokes a token for good: max(revoked) outlasts every row.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	epoch := time.Unix(0, 0).UTC()
	err := s.insertOne(ctx, `INSERT INTO api_tokens (token_id, site, name, role, secret_hash, created_by,
		created_at, last_used_at, revoked, rev, expires_at, member)`, id, "", "", "", "", "", epoch, epoch, uint8(1), rev(), epoch, "")
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// TouchToken records a use of a token in a table of its own.
func (s *Store) TouchToken(ctx context.Context, id string, at time.Time) error {
	if err := s.insertOne(ctx, "INSERT INTO token_uses (token_id, used_at)", id, at.UTC()); err != nil {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

// ClaimSite records a claim of a new site id, stamped with the ClickHouse
// server's clock, and returns the claimant of the first claim by
// (claimed_at, claim). A claim inserted later never sorts before one that a
// reader has already seen, unless two land in the same second, where the
// random claim decides the same way for every reader.
func (s *Store) ClaimSite(ctx context.Context, site, claim, claimant string) (string, error) {
	if err := s.conn.Exec(ctx, `INSERT INTO site_claims (site, claim, claimant, claimed_at) SELECT ?, ?, ?, now()`,
		site, claim, claimant); err != nil {
		return "", fmt.Errorf("claim site %s: %w", site, err)
	}
	w, err := s.claimWinners(ctx, []string{site})
	if err != nil {
		return "", err
	}
	return w[site], nil
}

func (s *Store) claimWinners(ctx context.Context, sites []string) (map[string]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT site, argMin(claimant, (claimed_at, claim)) FROM site_claims
		WHERE site IN (`+marks(len(sites))+`) GROUP BY site`, anys(sites)...)
	if err != nil {
		return nil, fmt.Errorf("site claims: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var site, who string
		if err := rows.Scan(&site, &who); err != nil {
			return nil, fmt.Errorf("site claims: %w", err)
		}
		out[site] = who
	}
	return out, rows.Err()
}

func millis(t time.Time) uint16 { return uint16(t.Nanosecond() / 1e6) }

// An invitation's fields are written once (argMin); closed is final (max).
const inviteCols = `invite_id, argMin(site, rev), argMin(email, rev), argMin(role, rev), argMin(secret_hash, rev),
	argMin(invited_by, rev), argMin(invited_at, rev), argMin(expires_at, rev), max(closed) AS cl`

func (s *Store) scanInvitations(ctx context.Context, query string, args ...any) ([]manage.Invitation, error) {
	rows, err := s.conn.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	defer rows.Close()
	var out []manage.Invitation
	for rows.Next() {
		var inv manage.Invitation
		var role string
		var closed uint8
		if err := rows.Scan(&inv.ID, &inv.Site, &inv.Email, &role, &inv.SecretHash, &inv.InvitedBy,
			&inv.InvitedAt, &inv.ExpiresAt, &closed); err != nil {
			return nil, fmt.Errorf("invitations: %w", err)
		}
		inv.Role, inv.Closed = manage.Role(role), manage.InviteState(closed)
		inv.InvitedAt, inv.ExpiresAt = inv.InvitedAt.UTC(), inv.ExpiresAt.UTC()
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("invitations: %w", err)
	}
	return out, nil
}

// Invitations lists a site's open invitations, oldest first.
func (s *Store) Invitations(ctx context.Context, site string) ([]manage.Invitation, error) {
	return s.scanInvitations(ctx, `SELECT `+inviteCols+` FROM invitations
		WHERE invite_id IN (SELECT invite_id FROM invitations WHERE site = ?)
		GROUP BY invite_id HAVING cl = 0 ORDER BY argMin(invited_at, rev), invite_id`, site)
}

// InvitationBySecret finds an invitation by the hash of its link's secret.
func (s *Store) InvitationBySecret(ctx context.Context, secretHash string) (*manage.Invitation, error) {
	out, err := s.scanInvitations(ctx, `SELECT `+inviteCols+` FROM invitations
		WHERE invite_id IN (SELECT invite_id FROM invitations WHERE secret_hash = ?) GROUP BY invite_id`, secretHash)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, manage.ErrNotFound
	}
	return &out[0], nil
}

// PutInvitation writes an invitation; with Closed set, the row closes it.
func (s *Store) PutInvitation(ctx context.Context, inv manage.Invitation, closedBy string) error {
	err := s.insertOne(ctx, `INSERT INTO invitations (invite_id, site, email, role, secret_hash, invited_by,
		invited_at, expires_at, closed, closed_by, rev)`, inv.ID, inv.Site, inv.Email, string(inv.Role), inv.SecretHash,
		inv.InvitedBy, inv.InvitedAt.UTC(), inv.ExpiresAt.UTC(), uint8(inv.Closed), closedBy, rev())
	if err != nil {
		return fmt.Errorf("put invitation: %w", err)
	}
	return nil
}

// SecondFactor is email's newest factor that is not removed. A removal is
// final for its factor (max(removed)).
func (s *Store) SecondFactor(ctx context.Context, email string) (*manage.SecondFactor, error) {
	f := &manage.SecondFactor{Email: email}
	var n uint64
	err := s.conn.QueryRow(ctx, `SELECT argMax(factor_id, c), argMax(secret, c), argMax(codes, c), max(c), count()
		FROM (SELECT factor_id, argMin(secret, rev) AS secret, argMin(recovery_codes, rev) AS codes, argMin(created_at, rev) AS c, max(removed) AS r
			FROM second_factors WHERE email = ? GROUP BY factor_id HAVING r = 0)`, email).Scan(&f.ID, &f.Secret, &f.RecoveryCodes, &f.CreatedAt, &n)
	if errors.Is(err, errNoRows) || (err == nil && n == 0) {
		return nil, manage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("second factor: %w", err)
	}
	f.CreatedAt = f.CreatedAt.UTC()
	return f, nil
}

// WithSecondFactor is which of emails have a factor that is not removed.
func (s *Store) WithSecondFactor(ctx context.Context, emails []string) (map[string]bool, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT email FROM (SELECT email, factor_id, max(removed) AS r
		FROM second_factors WHERE email IN (`+marks(len(emails))+`) GROUP BY email, factor_id HAVING r = 0)`, anys(emails)...)
	if err != nil {
		return nil, fmt.Errorf("second factors: %w", err)
	}
	defer rows.Close()
	out := make(map[string]bool, len(emails))
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("second factors: %w", err)
		}
		out[e] = true
	}
	return out, rows.Err()
}

// PutSecondFactor writes a factor, or with Removed, its removal.
func (s *Store) PutSecondFactor(ctx context.Context, f manage.SecondFactor) error {
	codes := f.RecoveryCodes
	if codes == nil {
		codes = []string{}
	}
	err := s.insertOne(ctx, "INSERT INTO second_factors (email, factor_id, secret, recovery_codes, created_at, removed, rev)",
		f.Email, f.ID, f.Secret, codes, f.CreatedAt.UTC(), b2u(f.Removed), rev())
	if err != nil {
		return fmt.Errorf("put second factor: %w", err)
	}
	return nil
}

// RecoveryCodesUsed lists the hashes of a factor's used recovery codes.
func (s *Store) RecoveryCodesUsed(ctx context.Context, email, factorID string) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT code_hash FROM recovery_code_uses WHERE email = ? AND factor_id = ?`, email, factorID)
	if err != nil {
		return nil, fmt.Errorf("recovery codes: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("recovery codes: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// UseRecoveryCode records a recovery code's use.
func (s *Store) UseRecoveryCode(ctx context.Context, email, factorID, codeHash string, at time.Time) error {
	if err := s.insertOne(ctx, "INSERT INTO recovery_code_uses (email, factor_id, code_hash, used_at)", email, factorID, codeHash, at.UTC()); err != nil {
		return fmt.Errorf("use recovery code: %w", err)
	}
	return nil
}

// SitePolicy is the site's newest policy row, or the zero policy.
func (s *Store) SitePolicy(ctx context.Context, site string) (*manage.SitePolicy, error) {
	p := &manage.SitePolicy{Site: site}
	var req uint8
	var n uint64
	err := s.conn.QueryRow(ctx, `SELECT argMax(require_two_factor, rev), argMax(set_by, rev), argMax(set_at, rev), count()
		FROM site_policies WHERE site = ?`, site).Scan(&req, &p.SetBy, &p.SetAt, &n)
	if errors.Is(err, errNoRows) || (err == nil && n == 0) {
		return &manage.SitePolicy{Site: site}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("site policy: %w", err)
	}
	p.RequireTwoFactor, p.SetAt = req == 1, p.SetAt.UTC()
	return p, nil
}

// PutSitePolicy writes a site's policy.
func (s *Store) PutSitePolicy(ctx context.Context, p manage.SitePolicy) error {
	err := s.insertOne(ctx, "INSERT INTO site_policies (site, require_two_factor, set_by, set_at, rev)",
		p.Site, b2u(p.RequireTwoFactor), p.SetBy, p.SetAt.UTC(), rev())
	if err != nil {
		return fmt.Errorf("put site policy: %w", err)
	}
	return nil
}
