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

// PutMember gives email a role on site at once, without an invitation: for
// operators (the CLI) and the bootstrap owner. An unknown email gets an
// account when a password is given; otherwise it is an error. People in the
// dashboard and the API invite instead (Invite). The last owner cannot be
// demoted.
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
	mb := Member{Site: site, Email: email, AddedBy: p.Name(), AddedAt: m.now().UTC()}
	for _, old := range members {
		if old.Email == email {
			mb = old
		}
	}
	return m.setRole(ctx, p, members, mb, role)
}

// setRole writes mb with role. A role change is a change of this
// membership, not a new one (mb keeps its AddedAt): a removal of it that
// lands meanwhile stays final.
func (m *Manager) setRole(ctx context.Context, p Principal, members []Member, mb Member, role Role) (*Member, error) {
	if mb.Role == Owner && role != Owner {
		var err error
		if err = m.lockOwners(ctx, mb.Site); err != nil {
			return nil, err
		}
		if members, err = m.st.Members(ctx, mb.Site); err != nil {
			return nil, err
		}
	}
	if role != Owner && isLastOwner(members, mb.Email) {
		return nil, apierr.New(http.StatusConflict, "last_owner", "role", "a site keeps at least one owner")
	}
	mb.Role = role
	if err := m.st.PutMember(ctx, mb); err != nil {
		return nil, err
	}
	return &mb, m.Audit(ctx, p, mb.Site, "member.put", map[string]any{"email": mb.Email, "role": role})
}

// lockOwners serialises the changes that take an owner away from a site,
// across instances: two owners removing each other at the same moment
// would otherwise both see another owner left, and leave none. The claim
// is not released but lapses after ownersChangeGap: such changes are rare,
// and one within the gap is asked to wait.
func (m *Manager) lockOwners(ctx context.Context, site string) error {
	if m.claims == nil {
		return nil
	}
	held, err := m.claims.SetNX(ctx, "owners-change:"+site, []byte(auth.RandomToken(12)), ownersChangeGap)
	if err != nil {
		return err
	}
	if held != nil {
		return apierr.New(http.StatusConflict, "owners_changing", "",
			"this site's owners changed a moment ago: look at the members again and retry in %d seconds", int(ownersChangeGap.Seconds()))
	}
	return nil
}

// ownersChangeGap is how long a change that takes an owner away holds off
// the next one.
const ownersChangeGap = 10 * time.Second

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
	if found.Role == Owner {
		if err := m.lockOwners(ctx, site); err != nil {
			return err
		}
		if members, err = m.st.Members(ctx, site); err != nil {
			return err
		}
	}
	if isLastOwner(members, email) {
		return apierr.New(http.StatusConflict, "last_owner", "email", "a site keeps at least one owner")
	}
	found.Deleted = true
	if err := m.st.PutMember(ctx, *found); err != nil {
		return err
	}
	if err := m.revokeTokensOf(ctx, p, site, email); err != nil {
		return err
	}
	return m.Audit(ctx, p, site, "member.remove", map[string]any{"email": email})
}

// revokeTokensOf revokes the site's tokens made under email's role. (A
// token made meanwhile is refused all the same: Authenticate checks that
// its member is still one.)
func (m *Manager) revokeTokensOf(ctx context.Context, p Principal, site, email string) error {
	ts, err := m.st.Tokens(ctx, site)
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.Member != email {
			continue
		}
		if err := m.st.RevokeToken(ctx, t.ID); err != nil {
			return err
		}
		if err := m.Audit(ctx, p, site, "token.revoke", map[string]any{"id": t.ID, "name": t.Name, "reason": "member removed"}); err != nil {
			return err
		}
	}
	return nil
}

// Tokens lists a site's live API tokens.
func (m *Manager) Tokens(ctx context.Context, site string) ([]Token, error) {
	return m.st.Tokens(ctx, site)
}

// TokenLifetime is how long an API token works unless asked otherwise;
// MaxTokenLifetime is the longest a token may be given.
const (
	TokenLifetime    = 90 * 24 * time.Hour
	MaxTokenLifetime = 366 * 24 * time.Hour
)

// CreateToken makes an API token for site and returns it with its secret,
// which is shown this once and stored only as a hash. It expires after
// lifetime (0: TokenLifetime). A token is backed by the member whose role it
// was made under (for a token made by a token, that token's member).
func (m *Manager) CreateToken(ctx context.Context, p Principal, site, name string, role Role, lifetime ...time.Duration) (*Token, string, error) {
	if name == "" || len(name) > 100 {
		return nil, "", apierr.New(http.StatusBadRequest, "invalid_name", "name", "a token needs a name of at most 100 characters")
	}
	if !role.Valid() {
		return nil, "", apierr.New(http.StatusBadRequest, "invalid_role", "role", "role must be owner, editor or auditor")
	}
	life := TokenLifetime
	if len(lifetime) > 0 && lifetime[0] != 0 {
		life = lifetime[0]
	}
	if life < time.Hour || life > MaxTokenLifetime {
		return nil, "", apierr.New(http.StatusBadRequest, "invalid_expiry", "expires_in_days", "a token lives from 1 to 366 days")
	}
	member := p.Email
	if p.Token != nil {
		member = p.Token.Member
	}
	id, secret, hash := auth.NewAPIToken()
	now := m.now().UTC()
	t := Token{ID: id, Site: site, Name: name, Role: role, SecretHash: hash, CreatedBy: p.Name(), CreatedAt: now,
		ExpiresAt: now.Add(life).Truncate(time.Second), Member: member}
	if err := m.st.PutToken(ctx, t); err != nil {
		return nil, "", err
	}
	return &t, secret, m.Audit(ctx, p, site, "token.create", map[string]any{"id": id, "name": name, "role": role, "expires_at": t.ExpiresAt})
}

// RevokeToken revokes one of site's tokens.
func (m *Manager) RevokeToken(ctx context.Context, p Principal, site, id string) error {
	t, err := m.st.Token(ctx, id)
	if err != nil || t.Site != site || t.Revoked {
		return apierr.New(http.StatusNotFound, "not_found", "", "no such token")
	}
	if err := m.st.RevokeToken(ctx, id); err != nil {
		return err
	}
	return m.Audit(ctx, p, site, "token.revoke", map[string]any{"id": id, "name": t.Name})
}

// touchEvery bounds the writes for a token's last-used time.
const touchEvery = 5 * time.Minute

// Authenticate returns the live token whose secret this is: not revoked,
// not expired, and its member still a member of its site.
func (m *Manager) Authenticate(ctx context.Context, secret string) (*Token, error) {
	id, ok := auth.ParseAPIToken(secret)
	if !ok {
		return nil, ErrNotFound
	}
	t, err := m.st.Token(ctx, id)
	if err != nil {
		return nil, err
	}
	now := m.now()
	if t.Revoked || !auth.CheckSecret(t.SecretHash, secret) || !now.Before(t.ExpiresAt) {
		return nil, ErrNotFound
	}
	if t.Member != "" {
		if _, err := m.RoleOn(ctx, Principal{Email: t.Member}, t.Site); IsNotFound(err) {
			return nil, ErrNotFound
		} else if err != nil {
			return nil, err
		}
	}
	if now.Sub(t.LastUsedAt) > touchEvery {
		// Its own table: a touch never rewrites the token, so it cannot
		// undo a revocation that lands meanwhile.
		if err := m.st.TouchToken(ctx, t.ID, now); err != nil {
			m.log.Warn("token last-used time not recorded", "token", t.ID, "err", err)
		}
	}
	return t, nil
}
