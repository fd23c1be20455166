package manage

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/mail"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Manager carries out what owners, editors and auditors ask for, checks what
// the request alone cannot (the last owner stays, a draft must be valid to
// publish), and writes each change to the audit trail. Who may call what is
// decided by the caller's role (RoleOn), checked at the HTTP edge.
type Manager struct {
	st       Store
	claims   Claims
	versions Versions
	evidence Evidence // nil: confirmations name no record counts
	sessions *auth.Sessions
	limit    *auth.LoginLimit
	mailer   mail.Mailer
	base     string // the public URL, for links in mail
	log      *slog.Logger
	now      func() time.Time
}

// Claims is a shared set-once store (Redis SET NX; process memory without
// Redis): cache.Cache's SetNX.
type Claims interface {
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (existing []byte, err error)
}

// New returns a Manager. sessions and limit may be nil for tools that do
// not log anyone in (the CLI).
func New(st Store, versions Versions, sessions *auth.Sessions, limit *auth.LoginLimit, log *slog.Logger) *Manager {
	return &Manager{st: st, versions: versions, sessions: sessions, limit: limit,
		log: log.With("component", "manage"), now: time.Now}
}

// WithClaims makes site creation claim ids in c first, so that two
// creators of one id on different instances rarely both get as far as
// ClickHouse (where the first claim wins in any case).
func (m *Manager) WithClaims(c Claims) *Manager { m.claims = c; return m }

// AddedBySiteCreation is the added_by of the membership that creating a
// site gives its creator; it counts only for the site's winning claim.
const AddedBySiteCreation = "site.create"

// Principal is who acts: a signed-in user, or an API token.
type Principal struct {
	Email string // a user; empty for a token
	Token *Token // an API token; nil for a user
}

// Name identifies the principal in the audit trail and in published_by.
func (p Principal) Name() string {
	if p.Token != nil {
		return "token:" + p.Token.ID + " (" + p.Token.Name + ")"
	}
	return p.Email
}

var (
	// ErrBadLogin is a wrong email or password (which one is not said).
	ErrBadLogin = apierr.New(http.StatusUnauthorized, "bad_login", "", "wrong email or password")
	// ErrTooManyLogins is the login limit's code; each answer says how long
	// to wait.
	ErrTooManyLogins = apierr.New(http.StatusTooManyRequests, "too_many_attempts", "", "too many failed sign-ins: wait, then try again")
)

// NormalizeEmail lowercases and trims an address and checks its shape.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || len(e) > 254 || strings.ContainsAny(e, " \t\r\n<>\"") {
		return "", apierr.New(http.StatusBadRequest, "invalid_email", "email", "%q is not an email address", email)
	}
	return e, nil
}

// Audit appends one event to the audit trail. Exports and lookups (another
// part of the dashboard) log themselves through it. details is marshalled
// to a JSON object.
func (m *Manager) Audit(ctx context.Context, p Principal, site, action string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if details == nil {
		b = []byte("{}")
	}
	return m.st.AppendAudit(ctx, Event{At: m.now().UTC(), Site: site, Actor: p.Name(), Action: action, Details: string(b)})
}

// AuditTrail reads a site's audit trail, with its members' sign-ins.
func (m *Manager) AuditTrail(ctx context.Context, q AuditQuery) ([]Event, error) {
	ms, err := m.st.Members(ctx, q.Site)
	if err != nil {
		return nil, err
	}
	q.Members = nil
	for _, mb := range ms {
		q.Members = append(q.Members, MemberSince{Email: mb.Email, Since: mb.AddedAt})
	}
	return m.st.Audit(ctx, q)
}

// RoleOn returns the principal's role on site, or ErrNotFound when it has
// none: a user or token of another site learns nothing, not even whether
// the site exists.
func (m *Manager) RoleOn(ctx context.Context, p Principal, site string) (Role, error) {
	if p.Token != nil {
		if p.Token.Site != site {
			return "", ErrNotFound
		}
		if _, err := m.Site(ctx, site); err != nil {
			return "", err
		}
		return p.Token.Role, nil
	}
	ms, err := m.st.Memberships(ctx, p.Email)
	if err != nil {
		return "", err
	}
	for _, mb := range ms {
		if mb.Site == site {
			if _, err := m.Site(ctx, site); err != nil {
				return "", err
			}
			return mb.Role, nil
		}
	}
	return "", ErrNotFound
}

// SiteRole is a site with the principal's role on it.
type SiteRole struct {
	Site
	Role Role `json:"role"`
}

// Sites lists the sites the principal may see.
func (m *Manager) Sites(ctx context.Context, p Principal) ([]SiteRole, error) {
	roles := map[string]Role{}
	if p.Token != nil {
		roles[p.Token.Site] = p.Token.Role
	} else {
		ms, err := m.st.Memberships(ctx, p.Email)
		if err != nil {
			return nil, err
		}
		for _, mb := range ms {
			roles[mb.Site] = mb.Role
		}
	}
	ids := make([]string, 0, len(roles))
	for id := range roles {
		ids = append(ids, id)
	}
	sites, err := m.st.SitesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]SiteRole, len(sites))
	for i, s := range sites {
		out[i] = SiteRole{s, roles[s.ID]}
	}
	return out, nil
}

// Site returns a site that is not deleted.
func (m *Manager) Site(ctx context.Context, id string) (*Site, error) {
	s, err := m.st.SiteInfo(ctx, id)
	if err == nil && s.Deleted {
		return nil, ErrNotFound
	}
	return s, err
}

//go:embed newsite.json
var newSiteJSON []byte

// CreateSite creates a site with a starting draft and makes the creator its
// owner. Only users create sites: a token belongs to one site already.
func (m *Manager) CreateSite(ctx context.Context, p Principal, id, name string, origins []string) (*Site, error) {
	if p.Token != nil {
		return nil, apierr.New(http.StatusForbidden, "forbidden", "", "API tokens belong to one site and cannot create sites")
	}
	if !siteconfig.ValidSiteID(id) {
		return nil, apierr.New(http.StatusBadRequest, "invalid_site_id", "id", "a site id is 1-63 lowercase letters, digits and hyphens, starting with a letter or digit")
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, apierr.New(http.StatusBadRequest, "invalid_name", "name", "a site needs a name of at most 200 characters")
	}
	// Ids of deleted sites stay taken: their consent log is still there.
	if _, err := m.st.SiteInfo(ctx, id); err == nil {
		return nil, apierr.New(http.StatusConflict, "site_exists", "id", "the id %q is taken", id)
	} else if !IsNotFound(err) {
		return nil, err
	}
	cfg, err := m.starterConfig(name, origins)
	if err != nil {
		return nil, err
	}
	taken := apierr.New(http.StatusConflict, "site_exists", "id", "the id %q is taken", id)
	claim := auth.RandomToken(12)
	if m.claims != nil {
		// Kept for a day: by then the site's rows answer the check above.
		if held, err := m.claims.SetNX(ctx, "site-claim:"+id, []byte(claim), 24*time.Hour); err != nil {
			return nil, err
		} else if held != nil {
			return nil, taken
		}
	}
	if winner, err := m.st.ClaimSite(ctx, id, claim, p.Email); err != nil {
		return nil, err
	} else if winner != p.Email {
		return nil, taken
	}
	now := m.now().UTC()
	site := Site{ID: id, Name: name, CreatedAt: now}
	if err := m.st.PutSiteInfo(ctx, site); err != nil {
		return nil, err
	}
	if err := m.st.PutMember(ctx, Member{Site: id, Email: p.Email, Role: Owner, AddedBy: AddedBySiteCreation, AddedAt: now}); err != nil {
		return nil, err
	}
	if err := m.st.PutDraft(ctx, Draft{Site: id, JSON: cfg, UpdatedBy: p.Name(), UpdatedAt: now}); err != nil {
		return nil, err
	}
	return &site, m.Audit(ctx, p, id, "site.create", map[string]any{"name": name, "allowed_origins": origins})
}

func (m *Manager) starterConfig(name string, origins []string) ([]byte, error) {
	var c siteconfig.Config
	if err := json.Unmarshal(newSiteJSON, &c); err != nil {
		return nil, fmt.Errorf("starter configuration: %w", err)
	}
	c.Name, c.Controller.Name = name, name
	starterDescriptions(&c)
	c.AllowedOrigins = []string{}
	for _, o := range origins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			c.AllowedOrigins = append(c.AllowedOrigins, o)
		}
	}
	return json.Marshal(&c)
}

// DeleteSite hides a site from everyone and stops serving its banner and
// taking its consents (404 unknown_site). Its consent log stays until its
// retention ends, and its id is not given out again.
func (m *Manager) DeleteSite(ctx context.Context, p Principal, id string) error {
	site, err := m.Site(ctx, id)
	if err != nil {
		return err
	}
	site.Deleted = true
	if err := m.st.PutSiteInfo(ctx, *site); err != nil {
		return err
	}
	// The site is deleted now: ClickHouse names no current version for it.
	// Caches that still do are dropped, or else checked within minutes.
	if err := m.versions.Unpublish(ctx, id); err != nil {
		m.log.Error("deleted site still cached; other instances may serve its banner until they next check the shared pointer (within 5 minutes)", "site", id, "err", err)
	}
	details := map[string]any{"name": site.Name}
	// What the log held: it stays until each record's term ends.
	if span, err := m.Records(ctx, id); err != nil {
		m.log.Error("site deleted; its consent log could not be counted for the audit trail", "site", id, "err", err)
	} else if span != nil {
		details["records"], details["first_recorded"], details["last_recorded"], details["kept_until"] = span.Records, span.First, span.Last, span.KeptUntil
	}
	return m.Audit(ctx, p, id, "site.delete", details)
}
