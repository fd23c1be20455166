package manage

import (
	"context"
	"net/http"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
)

// Members lists a site's members.
func (m *Manager) Members(ctx context.Context, site string) ([]Member, error) {
	return m.st.Members(ctx, site)
}

// PutMember gives email a role on site. An unknown email gets an account
// when a password is given (the owner passes it on); otherwise it is an
// error. The last owner cannot be demoted.
func (m *Manager) PutMember(ctx context.Context, p Principal, site, email string, role Role, password string) (*Member, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, apierr.New(http.StatusBadRequest, "invalid_role", "role", "role must be owner, editor or auditor")
	}
	if _, err := m.st.User(ctx, email); IsNotFound(err) {
		if password == "" {
			return nil, apierr.New(http.StatusUnprocessableEntity, "unknown_user", "email",
				"%s has no account yet: give an initial password to create one", email)
		}
		if err := m.AddUser(ctx, p, email, password); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	members, err := m.st.Members(ctx, site)
	if err != nil {
		return nil, err
	}
	if role != Owner && isLastOwner(members, email) {
		return nil, apierr.New(http.StatusConflict, "last_owner", "role", "a site keeps at least one owner")
	}
	mb := Member{Site: site, Email: email, Role: role, AddedBy: p.Name(), AddedAt: m.now().UTC()}
	if err := m.st.PutMember(ctx, mb); err != nil {
		return nil, err
	}
	return &mb, m.Audit(ctx, p, site, "member.put", map[string]any{"email": email, "role": role})
}

func isLastOwner(members []Member, email string) bool {
	owners, is := 0, false
	for _, mb := range members {
		if mb.Role == Owner {
			owners++
			is = is || mb.Email == email
		}
	}
	return is && owners == 1
}

// RemoveMember takes email's role on site away.
func (m *Manager) RemoveMember(ctx context.Context, p Principal, site, email string) error {
	email, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	members, err := m.st.Members(ctx, site)
	if err != nil {
		return err
	}
	var found *Member
	for i := range members {
		if members[i].Email == email {
			found = &members[i]
		}
	}
	if found == nil {
		return apierr.New(http.StatusNotFound, "not_found", "email", "%s is not a member of this site", email)
	}
	if isLastOwner(members, email) {
		return apierr.New(http.StatusConflict, "last_owner", "email", "a site keeps at least one owner")
	}
	found.Deleted = true
	if err := m.st.PutMember(ctx, *found); err != nil {
		return err
	}
	return m.Audit(ctx, p, site, "member.remove", map[string]any{"email": email})
}

// Tokens lists a site's live API tokens.
func (m *Manager) Tokens(ctx context.Context, site string) ([]Token, error) {
	return m.st.Tokens(ctx, site)
}

// CreateToken makes an API token for site and returns it with its secret,
// which is shown this once and stored only as a hash.
func (m *Manager) CreateToken(ctx context.Context, p Principal, site, name string, role Role) (*Token, string, error) {
	if name == "" || len(name) > 100 {
		return nil, "", apierr.New(http.StatusBadRequest, "invalid_name", "name", "a token needs a name of at most 100 characters")
	}
	if !role.Valid() {
		return nil, "", apierr.New(http.StatusBadRequest, "invalid_role", "role", "role must be owner, editor or auditor")
	}
	id, secret, hash := auth.NewAPIToken()
	t := Token{ID: id, Site: site, Name: name, Role: role, SecretHash: hash, CreatedBy: p.Name(), CreatedAt: m.now().UTC()}
	if err := m.st.PutToken(ctx, t); err != nil {
		return nil, "", err
	}
	return &t, secret, m.Audit(ctx, p, site, "token.create", map[string]any{"id": id, "name": name, "role": role})
}

// RevokeToken revokes one of site's tokens.
func (m *Manager) RevokeToken(ctx context.Context, p Principal, site, id string) error {
	t, err := m.st.Token(ctx, id)
	if err != nil || t.Site != site || t.Revoked {
		return apierr.New(http.StatusNotFound, "not_found", "", "no such token")
	}
	t.Revoked = true
	if err := m.st.PutToken(ctx, *t); err != nil {
		return err
	}
	return m.Audit(ctx, p, site, "token.revoke", map[string]any{"id": id, "name": t.Name})
}

// touchEvery bounds the writes for a token's last-used time.
const touchEvery = 5 * time.Minute

// Authenticate returns the live token whose secret this is.
func (m *Manager) Authenticate(ctx context.Context, secret string) (*Token, error) {
	id, ok := auth.ParseAPIToken(secret)
	if !ok {
		return nil, ErrNotFound
	}
	t, err := m.st.Token(ctx, id)
	if err != nil {
		return nil, err
	}
	if t.Revoked || !auth.CheckSecret(t.SecretHash, secret) {
		return nil, ErrNotFound
	}
	if now := m.now(); now.Sub(t.LastUsedAt) > touchEvery {
		t.LastUsedAt = now.UTC()
		if err := m.st.PutToken(ctx, *t); err != nil {
			m.log.Warn("token last-used time not recorded", "token", t.ID, "err", err)
		}
	}
	return t, nil
}
