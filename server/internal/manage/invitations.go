package manage

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/mail"
)

// InvitationLifetime is how long an invitation link works.
const InvitationLifetime = 7 * 24 * time.Hour

// invitePrefix starts every invitation secret, as smt_ starts API tokens.
const invitePrefix = "smi_"

// WithMail makes invitations mailed through mailer, with links under base
// (the server's public URL). Without it, the owner passes the link on.
func (m *Manager) WithMail(mailer mail.Mailer, base string) *Manager {
	m.mailer, m.base = mailer, strings.TrimRight(base, "/")
	return m
}

// Invited is the answer to adding a person: a role change for someone who
// is a member already, otherwise an invitation and its link, shown to the
// owner this once. Whether the email has an account is not said.
type Invited struct {
	Member     *Member     `json:"member,omitempty"`
	Invitation *Invitation `json:"invitation,omitempty"`
	Link       string      `json:"link,omitempty"`
	Mailed     bool        `json:"mailed"`
	MailError  string      `json:"mail_error,omitempty"`
}

// InviteLink is where an invitation secret is accepted.
func (m *Manager) InviteLink(secret string) string { return m.base + "/admin/invitations/" + secret }

// Invite offers email a role on site. A member's role changes at once; anyone
// else gets an invitation (an earlier open one to the same email is
// withdrawn) and no role until they accept it.
func (m *Manager) Invite(ctx context.Context, p Principal, site, email string, role Role) (*Invited, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if !role.Valid() {
		return nil, apierr.New(http.StatusBadRequest, "invalid_role", "role", "role must be owner, editor or auditor")
	}
	members, err := m.st.Members(ctx, site)
	if err != nil {
		return nil, err
	}
	for _, mb := range members {
		if mb.Email == email {
			changed, err := m.setRole(ctx, p, members, mb, role)
			if err != nil {
				return nil, err
			}
			return &Invited{Member: changed}, nil
		}
	}
	open, err := m.st.Invitations(ctx, site)
	if err != nil {
		return nil, err
	}
	for _, old := range open {
		if old.Email == email {
			old.Closed = InviteWithdrawn
			if err := m.st.PutInvitation(ctx, old, p.Name()); err != nil {
				return nil, err
			}
		}
	}
	secret := invitePrefix + auth.RandomToken(32)
	now := m.now().UTC().Truncate(time.Second)
	inv := Invitation{ID: strings.ToLower(auth.RandomToken(9)), Site: site, Email: email, Role: role,
		SecretHash: auth.HashSecret(secret), InvitedBy: p.Name(), InvitedAt: now, ExpiresAt: now.Add(InvitationLifetime)}
	if err := m.st.PutInvitation(ctx, inv, ""); err != nil {
		return nil, err
	}
	out := &Invited{Invitation: &inv, Link: m.InviteLink(secret)}
	if m.mailer != nil {
		if err := m.mailInvitation(ctx, inv, out.Link); err != nil {
			m.log.Warn("invitation not mailed", "site", site, "err", err)
			out.MailError = err.Error()
		} else {
			out.Mailed = true
		}
	}
	return out, m.Audit(ctx, p, site, "member.invite", map[string]any{"email": email, "role": role, "invitation": inv.ID, "mailed": out.Mailed})
}

func (m *Manager) mailInvitation(ctx context.Context, inv Invitation, link string) error {
	name := inv.Site
	if s, err := m.st.SiteInfo(ctx, inv.Site); err == nil && s.Name != "" {
		name = s.Name
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	subject := fmt.Sprintf("Inbjudan till %s i Samtycke / Invitation to %s", name, name)
	body := fmt.Sprintf(`Hej!

%[1]s har bjudit in dig som %[2]s för %[3]s (%[4]s) i Samtycke.
Öppna länken för att tacka ja. Den gäller till %[5]s.

%[1]s has invited you as %[6]s of %[3]s (%[4]s) in Samtycke.
Open the link to accept. It works until %[5]s.

%[7]s

Om du inte väntade dig det här kan du strunta i det. / If you did not expect this, ignore it.
`, inv.InvitedBy, swedishRole(inv.Role), name, inv.Site, inv.ExpiresAt.Format("2006-01-02 15:04 MST"), inv.Role, link)
	return m.mailer.Send(ctx, inv.Email, subject, body)
}

func swedishRole(r Role) string {
	switch r {
	case Owner:
		return "ägare"
	case Editor:
		return "redaktör"
	default:
		return "granskare"
	}
}

// Invitations lists a site's open invitations.
func (m *Manager) Invitations(ctx context.Context, site string) ([]Invitation, error) {
	return m.st.Invitations(ctx, site)
}

// WithdrawInvitation closes one of site's open invitations.
func (m *Manager) WithdrawInvitation(ctx context.Context, p Principal, site, id string) error {
	open, err := m.st.Invitations(ctx, site)
	if err != nil {
		return err
	}
	for _, inv := range open {
		if inv.ID == id {
			inv.Closed = InviteWithdrawn
			if err := m.st.PutInvitation(ctx, inv, p.Name()); err != nil {
				return err
			}
			return m.Audit(ctx, p, site, "member.invite_withdrawn", map[string]any{"email": inv.Email, "invitation": id})
		}
	}
	return apierr.New(http.StatusNotFound, "not_found", "id", "no open invitation %q", id)
}

var (
	errNoInvitation = apierr.New(http.StatusNotFound, "unknown_invitation", "",
		"this invitation link is not valid: it was withdrawn, used already, or mistyped")
	errInviteExpired = apierr.New(http.StatusGone, "invitation_expired", "",
		"this invitation has expired: ask the site's owner for a new one")
)

// Invitation returns the open, unexpired invitation behind a link's secret.
func (m *Manager) Invitation(ctx context.Context, secret string) (*Invitation, error) {
	if !strings.HasPrefix(secret, invitePrefix) || len(secret) > 100 {
		return nil, errNoInvitation
	}
	inv, err := m.st.InvitationBySecret(ctx, auth.HashSecret(secret))
	if IsNotFound(err) {
		return nil, errNoInvitation
	}
	if err != nil {
		return nil, err
	}
	if inv.Closed != InviteOpen {
		return nil, errNoInvitation
	}
	if !m.now().Before(inv.ExpiresAt) {
		return nil, errInviteExpired
	}
	return inv, nil
}

// AcceptInvitation makes the signed-in person a member as invited. It works
// once, and only for the invited email.
func (m *Manager) AcceptInvitation(ctx context.Context, p Principal, secret string) (*Member, error) {
	if p.Token != nil {
		return nil, apierr.New(http.StatusForbidden, "forbidden", "", "an invitation is accepted by a person, signed in")
	}
	inv, err := m.Invitation(ctx, secret)
	if err != nil {
		return nil, err
	}
	if inv.Email != p.Email {
		return nil, apierr.New(http.StatusForbidden, "wrong_account", "",
			"this invitation is for %s: sign in with that address to accept it", inv.Email)
	}
	if m.claims != nil {
		// Two tabs or instances accepting at once make one membership.
		if held, err := m.claims.SetNX(ctx, "invite-accept:"+inv.ID, []byte(p.Email), InvitationLifetime); err != nil {
			return nil, err
		} else if held != nil {
			return nil, errNoInvitation
		}
	}
	inv.Closed = InviteAccepted
	if err := m.st.PutInvitation(ctx, *inv, p.Email); err != nil {
		return nil, err
	}
	members, err := m.st.Members(ctx, inv.Site)
	if err != nil {
		return nil, err
	}
	mb := Member{Site: inv.Site, Email: p.Email, Role: inv.Role, AddedBy: inv.InvitedBy, AddedAt: m.now().UTC()}
	for _, old := range members {
		if old.Email == p.Email {
			// Became a member meanwhile (another invitation): the role changes.
			mb.AddedAt, mb.AddedBy = old.AddedAt, old.AddedBy
		}
	}
	if err := m.st.PutMember(ctx, mb); err != nil {
		return nil, err
	}
	return &mb, m.Audit(ctx, p, inv.Site, "member.join", map[string]any{"role": inv.Role, "invitation": inv.ID, "invited_by": inv.InvitedBy})
}

// AcceptAsNewAccount creates the invited email's account with password and
// accepts the invitation with it: the link is the proof of the address. An
// email that has an account signs in instead.
func (m *Manager) AcceptAsNewAccount(ctx context.Context, secret, password, ip string) (*auth.Session, *Member, error) {
	inv, err := m.Invitation(ctx, secret)
	if err != nil {
		return nil, nil, err
	}
	if _, err := m.st.User(ctx, inv.Email); err == nil {
		return nil, nil, apierr.New(http.StatusConflict, "user_exists", "email", "%s has an account: sign in to accept", inv.Email)
	} else if !IsNotFound(err) {
		return nil, nil, err
	}
	if err := m.AddUser(ctx, Principal{Email: "invitation:" + inv.ID}, inv.Email, password); err != nil {
		return nil, nil, err
	}
	if m.sessions == nil {
		return nil, nil, fmt.Errorf("accept invitation: no session store")
	}
	sess, err := m.sessions.Create(ctx, inv.Email)
	if err != nil {
		return nil, nil, err
	}
	mb, err := m.AcceptInvitation(ctx, Principal{Email: inv.Email}, secret)
	if err != nil {
		return nil, nil, err
	}
	return sess, mb, m.Audit(ctx, Principal{Email: inv.Email}, "", "login", map[string]any{"ip": ip, "via": "invitation"})
}
