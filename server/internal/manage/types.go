// Package manage is what site owners, editors and auditors do, apart from
// HTTP: accounts, per-site roles, API tokens, sites, drafts, publishing,
// the audit trail and statistics. The dashboard and the JSON API (package
// admin) are two faces of the Manager here; ClickHouse implements Store.
package manage

import (
	"context"
	"errors"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// ErrNotFound is returned for a user, site, member, token or draft that does
// not exist (or was deleted).
var ErrNotFound = siteconfig.ErrNotFound

// Role is what a user or token may do on one site.
type Role string

// The roles, from most to least powerful.
const (
	Owner   Role = "owner"   // everything: configuration, members, tokens, audit trail
	Editor  Role = "editor"  // configuration: draft, publish, rollback
	Auditor Role = "auditor" // read, statistics, audit trail, exports
)

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r == Owner || r == Editor || r == Auditor }

// Roles is every role, for forms and validation messages.
var Roles = []Role{Owner, Editor, Auditor}

// Permission sets used by routes: each lists the roles that may act.
var (
	CanRead   = []Role{Owner, Editor, Auditor}
	CanEdit   = []Role{Owner, Editor}
	CanManage = []Role{Owner}
	CanAudit  = []Role{Owner, Auditor}
)

// User is an account. Email is its key, stored lowercased.
type User struct {
	Email        string
	PasswordHash string
	CreatedAt    time.Time
	Deleted      bool
}

// Member is a user's role on a site.
type Member struct {
	Site    string    `json:"-"`
	Email   string    `json:"email"`
	Role    Role      `json:"role"`
	AddedBy string    `json:"added_by"`
	AddedAt time.Time `json:"added_at"`
	Deleted bool      `json:"-"`
}

// Token is an API token of one site. Only the SHA-256 of its secret is kept.
type Token struct {
	ID         string    `json:"id"`
	Site       string    `json:"-"`
	Name       string    `json:"name"`
	Role       Role      `json:"role"`
	SecretHash string    `json:"-"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	// Member is the user whose role on the site the token was made under:
	// when they leave the site, the token stops working.
	Member  string `json:"-"`
	Revoked bool   `json:"-"`
}

// Invitation offers a role on a site to an email. It gives nothing until
// the person accepts it, signed in as that email.
type Invitation struct {
	ID         string      `json:"id"`
	Site       string      `json:"site"`
	Email      string      `json:"email"`
	Role       Role        `json:"role"`
	SecretHash string      `json:"-"`
	InvitedBy  string      `json:"invited_by"`
	InvitedAt  time.Time   `json:"invited_at"`
	ExpiresAt  time.Time   `json:"expires_at"`
	Closed     InviteState `json:"-"`
}

// InviteState is whether an invitation is open, accepted or withdrawn;
// a close is final.
type InviteState uint8

const (
	InviteOpen InviteState = iota
	InviteAccepted
	InviteWithdrawn
)

// SecondFactor is an account's TOTP secret and the hashes of its recovery
// codes.
type SecondFactor struct {
	Email         string
	ID            string
	Secret        string   // base32
	RecoveryCodes []string // SHA-256 hex of each code
	CreatedAt     time.Time
	Removed       bool
}

// SitePolicy is what a site's owners require of its members.
type SitePolicy struct {
	Site             string    `json:"-"`
	RequireTwoFactor bool      `json:"require_two_factor"`
	SetBy            string    `json:"set_by,omitempty"`
	SetAt            time.Time `json:"set_at,omitempty"`
}

// Site is a site's identity; its configuration lives in drafts and versions.
type Site struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
	Deleted   bool      `json:"-"`
}

// Draft is the configuration being edited. It may be invalid.
type Draft struct {
	Site      string
	JSON      []byte
	UpdatedBy string
	UpdatedAt time.Time
}

// VersionInfo describes a published version without its configuration.
type VersionInfo struct {
	Number      uint32    `json:"version"`
	Hash        string    `json:"sha256"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by"`
	Note        string    `json:"note"`
}

// Event is one entry of the audit trail.
type Event struct {
	At      time.Time `json:"at"`
	Site    string    `json:"site"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Details string    `json:"details"` // JSON object
}

// AuditQuery filters the audit trail. Zero values match everything.
type AuditQuery struct {
	Site string
	// Members' sign-ins (recorded without a site) are included when their
	// emails are listed here, each from the time they joined the site.
	Members  []MemberSince
	Actor    string
	Action   string
	From, To time.Time // [From, To)
	Limit    int
}

// MemberSince is a member's email and when they joined the site.
type MemberSince struct {
	Email string
	Since time.Time
}

// Store is the system of record for everything in this package.
type Store interface {
	User(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context) ([]User, error)
	PutUser(ctx context.Context, u User) error

	// Members and Memberships list live memberships. A membership is one
	// (site, email, AddedAt): a role change keeps AddedAt, a removal
	// (Deleted) of it is final, and only a new acceptance (a later AddedAt)
	// makes the person a member again.
	Members(ctx context.Context, site string) ([]Member, error)
	Memberships(ctx context.Context, email string) ([]Member, error)
	PutMember(ctx context.Context, m Member) error

	// Invitations lists a site's open invitations (expired ones too);
	// InvitationBySecret finds one by its secret's hash, closed or not.
	// PutInvitation writes one; a write with Closed set closes it for good.
	Invitations(ctx context.Context, site string) ([]Invitation, error)
	InvitationBySecret(ctx context.Context, secretHash string) (*Invitation, error)
	PutInvitation(ctx context.Context, inv Invitation, closedBy string) error

	// SecondFactor is email's current factor (ErrNotFound: none);
	// PutSecondFactor adds one, or with Removed removes it for good.
	// RecoveryCodesUsed lists the hashes of a factor's used codes.
	SecondFactor(ctx context.Context, email string) (*SecondFactor, error)
	// WithSecondFactor is which of emails have a second factor, in one read.
	WithSecondFactor(ctx context.Context, emails []string) (map[string]bool, error)
	PutSecondFactor(ctx context.Context, f SecondFactor) error
	RecoveryCodesUsed(ctx context.Context, email, factorID string) ([]string, error)
	UseRecoveryCode(ctx context.Context, email, factorID, codeHash string, at time.Time) error
	// SitePolicy is a site's newest policy (the zero policy without one).
	SitePolicy(ctx context.Context, site string) (*SitePolicy, error)
	PutSitePolicy(ctx context.Context, p SitePolicy) error

	// Tokens lists a site's tokens that are not revoked (expired ones too).
	Tokens(ctx context.Context, site string) ([]Token, error)
	Token(ctx context.Context, id string) (*Token, error)
	// PutToken creates a token; RevokeToken is final; TouchToken notes a use.
	PutToken(ctx context.Context, t Token) error
	RevokeToken(ctx context.Context, id string) error
	TouchToken(ctx context.Context, id string, at time.Time) error

	// SiteInfo returns a site, deleted ones included (Deleted set, final).
	SiteInfo(ctx context.Context, id string) (*Site, error)
	SitesByID(ctx context.Context, ids []string) ([]Site, error)
	PutSiteInfo(ctx context.Context, s Site) error
	// ClaimSite records claimant's claim of a new site id and returns the
	// claimant that every reader takes as the site's creator.
	ClaimSite(ctx context.Context, site, claim, claimant string) (winner string, err error)

	Draft(ctx context.Context, site string) (*Draft, error)
	PutDraft(ctx context.Context, d Draft) error

	VersionList(ctx context.Context, site string) ([]VersionInfo, error)

	AppendAudit(ctx context.Context, events ...Event) error
	Audit(ctx context.Context, q AuditQuery) ([]Event, error)

	Stats(ctx context.Context, q StatsQuery) (*Stats, error)
}

// Versions is the published-versions provider (siteconfig.Provider).
type Versions interface {
	Current(ctx context.Context, site string) (*siteconfig.Version, error)
	Get(ctx context.Context, site string, n uint32) (*siteconfig.Version, error)
	Publish(ctx context.Context, site string, cfg *siteconfig.Config, by, note string) (*siteconfig.Version, bool, error)
	// Unpublish stops serving a deleted site's banner and taking its consents.
	Unpublish(ctx context.Context, site string) error
}

// IsNotFound reports whether err means "does not exist".
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
