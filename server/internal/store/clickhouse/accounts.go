package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
)

var _ manage.Store = (*Store)(nil)

// rev orders the rows of one key: the newest write wins in argMax reads.
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

// User returns an account that exists.
func (s *Store) User(ctx context.Context, email string) (*manage.User, error) {
	u := &manage.User{Email: email}
	var deleted uint8
	err := s.conn.QueryRow(ctx, `SELECT argMax(password_hash, rev), argMax(created_at, rev), argMax(deleted, rev)
		FROM users WHERE email = ? GROUP BY email`, email).Scan(&u.PasswordHash, &u.CreatedAt, &deleted)
	if errors.Is(err, errNoRows) || (err == nil && deleted == 1) {
		return nil, manage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("user: %w", err)
	}
	return u, nil
}

// Users lists the accounts that exist, by email.
func (s *Store) Users(ctx context.Context) ([]manage.User, error) {
	rows, err := s.conn.Query(ctx, `SELECT email, argMax(created_at, rev) AS c, argMax(deleted, rev) AS d
		FROM users GROUP BY email HAVING d = 0 ORDER BY email`)
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

// PutUser creates, changes or (Deleted) removes an account.
func (s *Store) PutUser(ctx context.Context, u manage.User) error {
	err := s.insertOne(ctx, "INSERT INTO users (email, password_hash, created_at, deleted, rev)",
		u.Email, u.PasswordHash, u.CreatedAt.UTC(), b2u(u.Deleted), rev())
	if err != nil {
		return fmt.Errorf("put user: %w", err)
	}
	return nil
}

const memberCols = `site, email, argMax(role, rev), argMax(added_by, rev), argMax(added_at, rev), argMax(deleted, rev) AS d`

func (s *Store) members(ctx context.Context, where string, arg string) ([]manage.Member, error) {
	rows, err := s.conn.Query(ctx, `SELECT `+memberCols+` FROM site_members WHERE `+where+
		` GROUP BY site, email HAVING d = 0 ORDER BY site, email`, arg)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []manage.Member
	for rows.Next() {
		var m manage.Member
		var role string
		var d uint8
		if err := rows.Scan(&m.Site, &m.Email, &role, &m.AddedBy, &m.AddedAt, &d); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		m.Role = manage.Role(role)
		out = append(out, m)
	}
	return out, rows.Err()
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
	err := s.insertOne(ctx, "INSERT INTO site_members (site, email, role, added_by, added_at, deleted, rev)",
		m.Site, m.Email, string(m.Role), m.AddedBy, m.AddedAt.UTC(), b2u(m.Deleted), rev())
	if err != nil {
		return fmt.Errorf("put member: %w", err)
	}
	return nil
}

const tokenCols = `token_id, argMax(site, rev), argMax(name, rev), argMax(role, rev), argMax(secret_hash, rev),
	argMax(created_by, rev), argMax(created_at, rev), max(last_used_at), argMax(revoked, rev) AS r`

func scanTokens(rows interface {
	Next() bool
	Scan(...any) error
}) ([]manage.Token, error) {
	var out []manage.Token
	for rows.Next() {
		var t manage.Token
		var role string
		var r uint8
		if err := rows.Scan(&t.ID, &t.Site, &t.Name, &role, &t.SecretHash, &t.CreatedBy, &t.CreatedAt, &t.LastUsedAt, &r); err != nil {
			return nil, err
		}
		t.Role, t.Revoked = manage.Role(role), r == 1
		if t.LastUsedAt.Unix() <= 0 {
			t.LastUsedAt = time.Time{} // never used
		}
		out = append(out, t)
	}
	return out, nil
}

// Tokens lists a site's tokens that are not revoked.
func (s *Store) Tokens(ctx context.Context, site string) ([]manage.Token, error) {
	rows, err := s.conn.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens
		WHERE token_id IN (SELECT token_id FROM api_tokens WHERE site = ?)
		GROUP BY token_id HAVING r = 0 ORDER BY argMax(created_at, rev), token_id`, site)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	defer rows.Close()
	out, err := scanTokens(rows)
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	return out, rows.Err()
}

// Token returns a token by id, revoked or not.
func (s *Store) Token(ctx context.Context, id string) (*manage.Token, error) {
	rows, err := s.conn.Query(ctx, `SELECT `+tokenCols+` FROM api_tokens WHERE token_id = ? GROUP BY token_id`, id)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	defer rows.Close()
	out, err := scanTokens(rows)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if len(out) == 0 {
		return nil, manage.ErrNotFound
	}
	return &out[0], rows.Err()
}

// PutToken creates, touches (LastUsedAt) or revokes a token.
func (s *Store) PutToken(ctx context.Context, t manage.Token) error {
	err := s.insertOne(ctx, `INSERT INTO api_tokens (token_id, site, name, role, secret_hash, created_by,
		created_at, last_used_at, revoked, rev)`, t.ID, t.Site, t.Name, string(t.Role), t.SecretHash, t.CreatedBy,
		t.CreatedAt.UTC(), orEpoch(t.LastUsedAt), b2u(t.Revoked), rev())
	if err != nil {
		return fmt.Errorf("put token: %w", err)
	}
	return nil
}

// orEpoch stores "never" as the epoch: DateTime cannot hold Go's zero time.
func orEpoch(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC()
}
