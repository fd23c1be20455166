package admin_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// memStore is manage.Store in memory, for handler tests that need no
// ClickHouse (the real store is tested against ClickHouse elsewhere).
type memStore struct {
	mu        sync.Mutex
	users     map[string]manage.User
	members   map[[2]string]manage.Member
	tokens    map[string]manage.Token
	sites     map[string]manage.Site
	drafts    map[string]manage.Draft
	draftRevs map[string]uint64
	versions  map[string][]*siteconfig.Version
	events    []manage.Event
	claims    map[string]string
	invites   []manage.Invitation // every row written, as in ClickHouse
	second    memFactors
}

var _ manage.Store = (*memStore)(nil)
var _ manage.Versions = (*memStore)(nil)

func newMemStore() *memStore {
	return &memStore{users: map[string]manage.User{}, members: map[[2]string]manage.Member{}, tokens: map[string]manage.Token{},
		sites: map[string]manage.Site{}, drafts: map[string]manage.Draft{}, draftRevs: map[string]uint64{}, versions: map[string][]*siteconfig.Version{}}
}

func (m *memStore) User(_ context.Context, email string) (*manage.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[email]
	if !ok || u.Deleted {
		return nil, manage.ErrNotFound
	}
	return &u, nil
}

func (m *memStore) Users(context.Context) ([]manage.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []manage.User
	for _, u := range m.users {
		if !u.Deleted {
			out = append(out, u)
		}
	}
	return out, nil
}

func (m *memStore) PutUser(_ context.Context, u manage.User) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users[u.Email] = u
	return nil
}

func (m *memStore) memberList(keep func(manage.Member) bool) []manage.Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []manage.Member
	for _, mb := range m.members {
		if !mb.Deleted && keep(mb) {
			out = append(out, mb)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Site+out[i].Email < out[j].Site+out[j].Email })
	return out
}

func (m *memStore) Members(_ context.Context, site string) ([]manage.Member, error) {
	return m.memberList(func(mb manage.Member) bool { return mb.Site == site }), nil
}

func (m *memStore) Memberships(_ context.Context, email string) ([]manage.Member, error) {
	return m.memberList(func(mb manage.Member) bool { return mb.Email == email }), nil
}

func (m *memStore) PutMember(_ context.Context, mb manage.Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.members[[2]string{mb.Site, mb.Email}] = mb
	return nil
}

func (m *memStore) Tokens(_ context.Context, site string) ([]manage.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []manage.Token
	for _, t := range m.tokens {
		if t.Site == site && !t.Revoked {
			out = append(out, t)
		}
	}
	return out, nil
}

func (m *memStore) Token(_ context.Context, id string) (*manage.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[id]
	if !ok {
		return nil, manage.ErrNotFound
	}
	return &t, nil
}

func (m *memStore) PutToken(_ context.Context, t manage.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[t.ID] = t
	return nil
}

func (m *memStore) RevokeToken(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tokens[id]
	t.Revoked = true
	m.tokens[id] = t
	return nil
}

func (m *memStore) TouchToken(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens[id]; ok {
		t.LastUsedAt = at
		m.tokens[id] = t
	}
	return nil
}

// ClaimSite: one process, so the first claim is the one made first.
func (m *memStore) ClaimSite(_ context.Context, site, _, claimant string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.claims == nil {
		m.claims = map[string]string{}
	}
	if w, ok := m.claims[site]; ok {
		return w, nil
	}
	m.claims[site] = claimant
	return claimant, nil
}

func (m *memStore) SiteInfo(_ context.Context, id string) (*manage.Site, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sites[id]
	if !ok {
		return nil, manage.ErrNotFound
	}
	return &s, nil
}

func (m *memStore) SitesByID(_ context.Context, ids []string) ([]manage.Site, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []manage.Site
	for _, id := range ids {
		if s, ok := m.sites[id]; ok && !s.Deleted {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memStore) PutSiteInfo(_ context.Context, s manage.Site) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sites[s.ID] = s
	return nil
}

func (m *memStore) Draft(ctx context.Context, site string) (*manage.Draft, error) {
	d, _, err := m.DraftAt(ctx, site)
	return d, err
}

func (m *memStore) DraftAt(_ context.Context, site string) (*manage.Draft, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.drafts[site]
	if !ok {
		return nil, 0, manage.ErrNotFound
	}
	return &d, m.draftRevs[site], nil
}

func (m *memStore) PutDraft(ctx context.Context, d manage.Draft) error {
	return m.PutDraftAt(ctx, d, uint64(time.Now().UnixNano()))
}

func (m *memStore) PutDraftAt(_ context.Context, d manage.Draft, r uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r > m.draftRevs[d.Site] {
		m.drafts[d.Site], m.draftRevs[d.Site] = d, r
	}
	return nil
}

func (m *memStore) VersionList(_ context.Context, site string) ([]manage.VersionInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []manage.VersionInfo
	for _, v := range m.versions[site] {
		out = append([]manage.VersionInfo{{Number: v.Number, Hash: v.Hash, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy, Note: v.Note}}, out...)
	}
	return out, nil
}

func (m *memStore) AppendAudit(_ context.Context, events ...manage.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, events...)
	return nil
}

func (m *memStore) Audit(_ context.Context, q manage.AuditQuery) ([]manage.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []manage.Event
	for i := len(m.events) - 1; i >= 0; i-- {
		e := m.events[i]
		member := e.Site == "" && strings.HasPrefix(e.Action, "log") && slices.ContainsFunc(q.Members, func(ms manage.MemberSince) bool {
			return ms.Email == e.Actor && !e.At.Before(ms.Since)
		})
		if (e.Site == q.Site || member) && (q.Action == "" || e.Action == q.Action) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) Stats(_ context.Context, q manage.StatsQuery) (*manage.Stats, error) {
	return &manage.Stats{From: q.From, To: q.To}, nil
}

// The published versions, as siteconfig.Publisher would keep them.

func (m *memStore) Current(_ context.Context, site string) (*siteconfig.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[site]
	if len(vs) == 0 || m.sites[site].Deleted {
		return nil, siteconfig.ErrNotFound
	}
	return vs[len(vs)-1], nil
}

func (m *memStore) Get(_ context.Context, site string, n uint32) (*siteconfig.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[site]
	if n == 0 || int(n) > len(vs) {
		return nil, siteconfig.ErrNotFound
	}
	return vs[n-1], nil
}

func (m *memStore) Publish(_ context.Context, site string, cfg *siteconfig.Config, by, note string) (*siteconfig.Version, bool, error) {
	js, err := cfg.Canonical()
	if err != nil {
		return nil, false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	vs := m.versions[site]
	h := siteconfig.Hash(js)
	if len(vs) > 0 && vs[len(vs)-1].Hash == h {
		return vs[len(vs)-1], false, nil
	}
	v := &siteconfig.Version{Site: site, Number: uint32(len(vs) + 1), Hash: h, JSON: js, Config: cfg,
		PublishedAt: time.Now().UTC(), PublishedBy: by, Note: note}
	m.versions[site] = append(vs, v)
	return v, true, nil
}

// Unpublish has nothing to forget: Current reads the site's deleted flag.
func (m *memStore) Unpublish(context.Context, string) error { return nil }

func (m *memStore) Invitations(_ context.Context, site string) ([]manage.Invitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []manage.Invitation
	for _, inv := range m.invitationsLocked() {
		if inv.Site == site && inv.Closed == manage.InviteOpen {
			out = append(out, inv)
		}
	}
	return out, nil
}

func (m *memStore) InvitationBySecret(_ context.Context, hash string) (*manage.Invitation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, inv := range m.invitationsLocked() {
		if inv.SecretHash == hash {
			return &inv, nil
		}
	}
	return nil, manage.ErrNotFound
}

// invitationsLocked folds the rows as the ClickHouse store does: the first
// row's fields, the highest close.
func (m *memStore) invitationsLocked() []manage.Invitation {
	var out []manage.Invitation
	at := map[string]int{}
	for _, inv := range m.invites {
		if i, ok := at[inv.ID]; ok {
			out[i].Closed = max(out[i].Closed, inv.Closed)
			continue
		}
		at[inv.ID] = len(out)
		out = append(out, inv)
	}
	return out
}

func (m *memStore) PutInvitation(_ context.Context, inv manage.Invitation, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.invites = append(m.invites, inv)
	return nil
}

// Second factors and site policies, as the ClickHouse store keeps them.
type memFactors struct {
	mu       sync.Mutex
	factors  []manage.SecondFactor
	used     map[string][]string
	policies map[string]manage.SitePolicy
}

func (m *memStore) fx() *memFactors {
	f := &m.second
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used == nil {
		f.used, f.policies = map[string][]string{}, map[string]manage.SitePolicy{}
	}
	return f
}

func (m *memStore) SecondFactor(_ context.Context, email string) (*manage.SecondFactor, error) {
	f := m.fx()
	f.mu.Lock()
	defer f.mu.Unlock()
	removed := map[string]bool{}
	for _, x := range f.factors {
		if x.Removed {
			removed[x.ID] = true
		}
	}
	for i := len(f.factors) - 1; i >= 0; i-- {
		if x := f.factors[i]; x.Email == email && !x.Removed && !removed[x.ID] {
			return &x, nil
		}
	}
	return nil, manage.ErrNotFound
}

func (m *memStore) WithSecondFactor(ctx context.Context, emails []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, e := range emails {
		if _, err := m.SecondFactor(ctx, e); err == nil {
			out[e] = true
		}
	}
	return out, nil
}

func (m *memStore) PutSecondFactor(_ context.Context, x manage.SecondFactor) error {
	f := m.fx()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.factors = append(f.factors, x)
	return nil
}

func (m *memStore) RecoveryCodesUsed(_ context.Context, email, id string) ([]string, error) {
	f := m.fx()
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.used[email+"|"+id]), nil
}

func (m *memStore) UseRecoveryCode(_ context.Context, email, id, h string, _ time.Time) error {
	f := m.fx()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.used[email+"|"+id] = append(f.used[email+"|"+id], h)
	return nil
}

func (m *memStore) SitePolicy(_ context.Context, site string) (*manage.SitePolicy, error) {
	f := m.fx()
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.policies[site]
	p.Site = site
	return &p, nil
}

func (m *memStore) PutSitePolicy(_ context.Context, p manage.SitePolicy) error {
	f := m.fx()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.policies[p.Site] = p
	return nil
}
