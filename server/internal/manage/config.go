package manage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// DraftView is a draft with what the editor shows about it.
type DraftView struct {
	Config json.RawMessage `json:"config"`
	// Revision names this state of the draft (the API's ETag); a save
	// based on another revision is refused (StaleDraftError). A string:
	// revisions exceed what a JavaScript number holds exactly.
	Revision  string               `json:"revision"`
	UpdatedBy string               `json:"updated_by"`
	UpdatedAt time.Time            `json:"updated_at"`
	Problems  []siteconfig.Problem `json:"problems"`
	Valid     bool                 `json:"valid"`
	// Published is the current version's number, 0 before the first publish.
	Published uint32 `json:"published_version"`
}

// draftStore keeps each draft with its revision, the newest row's rev: a
// store that has drafts has these too (Store's Draft and PutDraft are
// DraftAt without the revision and PutDraftAt at the clock's).
type draftStore interface {
	DraftAt(ctx context.Context, site string) (*Draft, uint64, error)
	PutDraftAt(ctx context.Context, d Draft, rev uint64) error
}

func (m *Manager) drafts() (draftStore, error) {
	ds, ok := m.st.(draftStore)
	if !ok {
		return nil, fmt.Errorf("manage: the store %T keeps no draft revisions", m.st)
	}
	return ds, nil
}

// Draft returns the site's draft: the one being edited, else the current
// published version (revision 0: no draft was saved yet).
func (m *Manager) Draft(ctx context.Context, site string) (*DraftView, error) {
	ds, err := m.drafts()
	if err != nil {
		return nil, err
	}
	d, rev, err := ds.DraftAt(ctx, site)
	cur, cerr := m.versions.Current(ctx, site)
	if cerr != nil && !IsNotFound(cerr) {
		return nil, cerr
	}
	if IsNotFound(err) && cur != nil {
		d, rev, err = &Draft{Site: site, JSON: cur.JSON, UpdatedBy: cur.PublishedBy, UpdatedAt: cur.PublishedAt}, 0, nil
	}
	if err != nil {
		return nil, err
	}
	v := &DraftView{Config: d.JSON, Revision: strconv.FormatUint(rev, 10), UpdatedBy: d.UpdatedBy, UpdatedAt: d.UpdatedAt}
	v.Problems = Problems(d.JSON)
	v.Valid = len(v.Problems) == 0
	if cur != nil {
		v.Published = cur.Number
	}
	return v, nil
}

// Problems validates a configuration and returns what is wrong, or nothing.
func Problems(js []byte) []siteconfig.Problem {
	_, err := siteconfig.Parse(js)
	var ie *siteconfig.InvalidError
	if errors.As(err, &ie) {
		return ie.Problems
	}
	if err != nil {
		return []siteconfig.Problem{{Field: "", Message: err.Error()}}
	}
	return []siteconfig.Problem{}
}

// LenientConfig decodes a possibly invalid draft for display and preview:
// the shape must be right, the rules need not hold.
func LenientConfig(js []byte) (*siteconfig.Config, error) {
	var c siteconfig.Config
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, apierr.New(http.StatusBadRequest, "invalid_json", "", "the configuration does not have the shape of a site configuration: %v", err)
	}
	if c.Texts == nil {
		c.Texts = map[string]siteconfig.Texts{}
	}
	return &c, nil
}

// maxDraft bounds a draft; the schema's own limits are far below it.
const maxDraft = 512 << 10

// AnyRevision as the base of a save replaces the draft whatever its
// revision (If-Match: *): a deliberate overwrite.
const AnyRevision = "*"

// StaleDraftError is a save based on a revision that is no longer the
// draft's: someone saved in between. Nothing was saved; Current is the
// draft now.
type StaleDraftError struct {
	Base    string
	Current *DraftView
}

func (e *StaleDraftError) Error() string {
	return fmt.Sprintf("the draft was saved by %s at %s (revision %s) after revision %s, which this save was based on; nothing was saved",
		e.Current.UpdatedBy, e.Current.UpdatedAt.UTC().Format("2006-01-02 15:04:05 UTC"), e.Current.Revision, e.Base)
}

// ErrDraftSaveInProgress: another save of the draft holds the revision this
// one is based on and has not landed yet.
var ErrDraftSaveInProgress = apierr.New(http.StatusConflict, "draft_save_in_progress", "",
	"another save of this draft is under way; try again in a moment")

// SaveDraft stores js as the draft over whatever the draft is now: a later
// save of someone else is replaced, not merged. Saves that come from a
// read of the draft use SaveDraftAt with that read's revision, or
// UpdateDraft, so that they cannot undo a change they never saw.
func (m *Manager) SaveDraft(ctx context.Context, p Principal, site string, js []byte) (*DraftView, error) {
	return m.SaveDraftAt(ctx, p, site, AnyRevision, js)
}

// UpdateDraft changes the draft with change, which gets the draft's
// configuration and returns the new one: a read-modify-write that is done
// again on the newer draft when someone saves in between.
func (m *Manager) UpdateDraft(ctx context.Context, p Principal, site string, change func(config []byte) ([]byte, error)) (*DraftView, error) {
	for attempt := 0; ; attempt++ {
		d, err := m.Draft(ctx, site)
		if err != nil {
			return nil, err
		}
		js, err := change(d.Config)
		if err != nil {
			return nil, err
		}
		v, err := m.SaveDraftAt(ctx, p, site, d.Revision, js)
		var stale *StaleDraftError
		if (errors.As(err, &stale) || errors.Is(err, ErrDraftSaveInProgress)) && attempt < 4 {
			continue
		}
		return v, err
	}
}

// SaveDraftAt stores a new draft, valid or not (work in progress), as long
// as it has the shape of a configuration, and returns its problems. base is
// the revision the save was made from (or AnyRevision); when the draft has
// another revision now, nothing is saved and the error is a
// *StaleDraftError with the draft as it is.
func (m *Manager) SaveDraftAt(ctx context.Context, p Principal, site, base string, js []byte) (*DraftView, error) {
	want, err := parseRevision(base)
	if err != nil {
		return nil, err
	}
	if len(js) > maxDraft {
		return nil, apierr.New(http.StatusRequestEntityTooLarge, "body_too_large", "", "a configuration is at most %d KiB", maxDraft>>10)
	}
	c, err := LenientConfig(js)
	if err != nil {
		return nil, err
	}
	// Stored in the canonical form, so a draft that equals the published
	// version has the same bytes.
	canonical, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	by, now := p.Name(), m.now().UTC()
	prev, rev, err := m.writeDraft(ctx, site, want, Draft{Site: site, JSON: canonical, UpdatedBy: by, UpdatedAt: now})
	if err != nil {
		return nil, err
	}
	if prev != nil && bytes.Equal(prev.JSON, canonical) {
		// Nothing changed: the draft keeps its revision and its author.
		by, now = prev.UpdatedBy, prev.UpdatedAt
	} else {
		var changes []Change
		if prev != nil {
			changes = Diff(prev.JSON, canonical)
		}
		if err := m.Audit(ctx, p, site, "draft.save", map[string]any{"changed": changedPaths(changes), "revision": strconv.FormatUint(rev, 10)}); err != nil {
			return nil, err
		}
	}
	v := &DraftView{Config: canonical, Revision: strconv.FormatUint(rev, 10), UpdatedBy: by, UpdatedAt: now, Problems: Problems(canonical)}
	v.Valid = len(v.Problems) == 0
	if cur, err := m.versions.Current(ctx, site); err == nil {
		v.Published = cur.Number
	}
	return v, nil
}

// parseRevision reads a save's base revision; nil is AnyRevision.
func parseRevision(s string) (*uint64, error) {
	if s == AnyRevision {
		return nil, nil
	}
	r, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return nil, apierr.New(http.StatusBadRequest, "invalid_revision", "revision",
			"%q is not a revision of a draft: send the revision (ETag) the draft had when you read it, or * to replace it whatever it is", s)
	}
	return &r, nil
}

// draftClaimTTL is how long the claim of a revision's successor lasts: far
// longer than one save's insert, so a rival save meets the claim until the
// winner's row is in ClickHouse, where the revision check sees it.
const draftClaimTTL = 30 * time.Second

// writeDraft saves d over revision want (nil: over any), unless d equals
// the draft. It returns the draft it replaced (nil when there was none) and
// the revision now. Two saves over one revision, on any instance: the one
// that claims the revision's successor in the shared store (Redis SET NX on
// draft-next:SITE:REV) writes, the other gets a *StaleDraftError once the
// winner's row is readable.
func (m *Manager) writeDraft(ctx context.Context, site string, want *uint64, d Draft) (*Draft, uint64, error) {
	ds, err := m.drafts()
	if err != nil {
		return nil, 0, err
	}
	for attempt := 0; ; attempt++ {
		prev, cur, err := ds.DraftAt(ctx, site)
		if IsNotFound(err) {
			prev, cur, err = nil, 0, nil
		}
		if err != nil {
			return nil, 0, err
		}
		if want != nil && cur != *want {
			return nil, 0, m.stale(ctx, site, *want)
		}
		if prev != nil && bytes.Equal(prev.JSON, d.JSON) {
			return prev, cur, nil
		}
		next := max(cur+1, uint64(m.now().UnixNano()))
		won := true
		if m.claims != nil {
			held, err := m.claims.SetNX(ctx, "draft-next:"+site+":"+strconv.FormatUint(cur, 10), []byte(strconv.FormatUint(next, 10)), draftClaimTTL)
			if err != nil {
				return nil, 0, err
			}
			won = held == nil
		}
		if won {
			// The claim of an older save may have lapsed before this one
			// reached it: the revision must still be cur.
			if _, again, err := ds.DraftAt(ctx, site); err != nil && !IsNotFound(err) {
				return nil, 0, err
			} else if again != cur {
				won = false
			}
		}
		if won {
			return prev, next, ds.PutDraftAt(ctx, d, next)
		}
		// Someone else saves over cur: wait until their row is readable.
		if err := m.awaitDraftPast(ctx, ds, site, cur); err != nil {
			return nil, 0, err
		}
		if want != nil {
			return nil, 0, m.stale(ctx, site, *want)
		}
		if attempt >= 4 {
			return nil, 0, ErrDraftSaveInProgress
		}
	}
}

// awaitDraftPast polls until the draft's revision is past rev (the
// claimant's insert landed), for at most two seconds.
func (m *Manager) awaitDraftPast(ctx context.Context, ds draftStore, site string, rev uint64) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		if _, r, err := ds.DraftAt(ctx, site); err != nil && !IsNotFound(err) {
			return err
		} else if r != rev {
			return nil
		}
		if time.Now().After(deadline) {
			return ErrDraftSaveInProgress
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func (m *Manager) stale(ctx context.Context, site string, base uint64) error {
	cur, err := m.Draft(ctx, site)
	if err != nil {
		return err
	}
	return &StaleDraftError{Base: strconv.FormatUint(base, 10), Current: cur}
}

func changedPaths(cs []Change) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Path)
	}
	if len(out) > 50 {
		out = append(out[:50], fmt.Sprintf("… %d more", len(out)-50))
	}
	return out
}

// Preview is what publishing the draft would change.
type Preview struct {
	Current *VersionInfo `json:"current"` // nil before the first publish
	Changes []Change     `json:"changes"`
	// Diff is Changes as a person reads them (a summary on a first publish).
	Diff *ReadableDiff `json:"diff"`
	// Reprompt: the consent-relevant content changed, so visitors who chose
	// under the current version will be asked again.
	Reprompt bool                 `json:"reprompt"`
	Problems []siteconfig.Problem `json:"problems"`
	// RetentionShortened is set when the draft keeps consent records for
	// fewer months than the current version: older records would be
	// deleted, so only an owner may publish it.
	RetentionShortened *RetentionChange `json:"retention_shortened,omitempty"`
}

// RetentionChange is a change of consent.retention_months, with what the
// consent log holds (nil when the Manager cannot read it).
type RetentionChange struct {
	FromMonths int         `json:"from_months"`
	ToMonths   int         `json:"to_months"`
	Records    *RecordSpan `json:"records,omitempty"`
	// Dates at which the first decision recorded after publishing goes,
	// under the current retention and under the draft's.
	FirstGoesWas time.Time `json:"first_deleted_was"`
	FirstGoesNow time.Time `json:"first_deleted_now"`
}

// PublishPreview compares the draft with the current version.
func (m *Manager) PublishPreview(ctx context.Context, site string) (*Preview, error) {
	d, err := m.Draft(ctx, site)
	if err != nil {
		return nil, err
	}
	pv := &Preview{Problems: d.Problems, Changes: []Change{}}
	draft, err := LenientConfig(d.Config)
	if err != nil {
		return nil, err
	}
	cur, err := m.versions.Current(ctx, site)
	switch {
	case IsNotFound(err):
		pv.Changes, pv.Reprompt = Diff([]byte("{}"), d.Config), true
		pv.Diff = ReadDiff(nil, d.Config)
	case err != nil:
		return nil, err
	default:
		pv.Current = &VersionInfo{cur.Number, cur.Hash, cur.PublishedAt, cur.PublishedBy, cur.Note}
		pv.Changes = Diff(cur.JSON, d.Config)
		pv.Diff = ReadDiff(cur.JSON, d.Config)
		pv.Reprompt = cur.Config.Fingerprint() != draft.Fingerprint()
		if draft.Consent.RetentionMonths < cur.Config.Consent.RetentionMonths {
			if pv.RetentionShortened, err = m.retentionChange(ctx, site, cur.Config.Consent.RetentionMonths, draft.Consent.RetentionMonths); err != nil {
				return nil, err
			}
		}
	}
	return pv, nil
}

// Publish makes the draft a new immutable version. An invalid draft is
// refused with the validator's problems (422); a draft equal to the current
// version publishes nothing (changed false).
func (m *Manager) Publish(ctx context.Context, p Principal, site, note string) (*siteconfig.Version, bool, error) {
	return m.PublishWith(ctx, p, site, PublishOptions{Note: note})
}

// PublishOptions are what a person confirms when publishing.
type PublishOptions struct {
	Note string
	// ConfirmSite is the site's id, typed by an owner who shortens the
	// retention of consent records.
	ConfirmSite string
	// ReplaceDraft lets a rollback replace a draft with unpublished changes.
	ReplaceDraft bool
}

// PublishWith is Publish with the confirmations a publish may need.
func (m *Manager) PublishWith(ctx context.Context, p Principal, site string, o PublishOptions) (*siteconfig.Version, bool, error) {
	d, err := m.Draft(ctx, site)
	if err != nil {
		return nil, false, err
	}
	return m.publish(ctx, p, site, d.Config, o, "publish", nil)
}

// Rollback publishes version n's configuration again, as a new version, and
// makes it the draft, whatever the draft holds.
func (m *Manager) Rollback(ctx context.Context, p Principal, site string, n uint32, note string) (*siteconfig.Version, bool, error) {
	return m.RollbackWith(ctx, p, site, n, PublishOptions{Note: note, ReplaceDraft: true})
}

// ErrDraftNotPublished refuses a rollback that would replace unpublished
// changes in the draft without ReplaceDraft.
var ErrDraftNotPublished = apierr.New(http.StatusConflict, "draft_not_published", "replace_draft",
	"the draft has changes that are not published; a rollback replaces them. Review them on the version's page (or GET the draft) and confirm with replace_draft")

// RollbackWith is Rollback that refuses to replace a draft holding
// unpublished changes unless o.ReplaceDraft.
func (m *Manager) RollbackWith(ctx context.Context, p Principal, site string, n uint32, o PublishOptions) (*siteconfig.Version, bool, error) {
	old, err := m.versions.Get(ctx, site, n)
	if err != nil {
		return nil, false, err
	}
	if !o.ReplaceDraft {
		unpublished, err := m.DraftUnpublished(ctx, site)
		if err != nil {
			return nil, false, err
		}
		if unpublished {
			return nil, false, ErrDraftNotPublished
		}
	}
	if o.Note == "" {
		o.Note = fmt.Sprintf("rollback to version %d", n)
	}
	return m.publish(ctx, p, site, old.JSON, o, "rollback", map[string]any{"from_version": n})
}

// DraftUnpublished reports whether the draft differs from the current
// version (always, before the first publish): work a rollback replaces.
func (m *Manager) DraftUnpublished(ctx context.Context, site string) (bool, error) {
	d, err := m.Draft(ctx, site)
	if err != nil {
		return false, err
	}
	cur, err := m.versions.Current(ctx, site)
	if IsNotFound(err) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return len(Diff(cur.JSON, d.Config)) > 0, nil
}

func (m *Manager) publish(ctx context.Context, p Principal, site string, js []byte, o PublishOptions, action string, details map[string]any) (*siteconfig.Version, bool, error) {
	note := o.Note
	if len(note) > 500 {
		return nil, false, apierr.New(http.StatusBadRequest, "invalid_note", "note", "a note is at most 500 characters")
	}
	cfg, err := siteconfig.Parse(js)
	var ie *siteconfig.InvalidError
	if errors.As(err, &ie) {
		return nil, false, &InvalidDraftError{ie.Problems}
	}
	if err != nil {
		return nil, false, err
	}
	// Shorter retention deletes consent records at the next retention run:
	// evidence only an owner may give up.
	shortened := map[string]any(nil)
	if cur, err := m.versions.Current(ctx, site); err == nil && cfg.Consent.RetentionMonths < cur.Config.Consent.RetentionMonths {
		role, err := m.RoleOn(ctx, p, site)
		if err != nil {
			return nil, false, err
		}
		if role != Owner {
			return nil, false, apierr.New(http.StatusForbidden, "owner_only", "/consent/retention_months",
				"only an owner may shorten how long consent records are kept (from %d to %d months): older records would be deleted. Ask an owner to publish this, or keep %d months",
				cur.Config.Consent.RetentionMonths, cfg.Consent.RetentionMonths, cur.Config.Consent.RetentionMonths)
		}
		rc, err := m.retentionChange(ctx, site, cur.Config.Consent.RetentionMonths, cfg.Consent.RetentionMonths)
		if err != nil {
			return nil, false, err
		}
		if o.ConfirmSite != site {
			return nil, false, rc.confirmError(site)
		}
		shortened = map[string]any{"from_months": rc.FromMonths, "to_months": rc.ToMonths}
		if rc.Records != nil {
			shortened["records"] = rc.Records.Records
			if rc.Records.Records > 0 {
				shortened["first_recorded"], shortened["last_recorded"] = rc.Records.First, rc.Records.Last
			}
		}
	} else if err != nil && !IsNotFound(err) {
		return nil, false, err
	}
	v, changed, err := m.versions.Publish(ctx, site, cfg, p.Name(), note)
	if errors.Is(err, siteconfig.ErrBusy) {
		return nil, false, apierr.New(http.StatusConflict, "publish_in_progress", "", "another publish of this site is in progress; try again")
	}
	if err != nil {
		return nil, false, err
	}
	if action == "rollback" {
		// Over whatever the draft is now: the rollback page asked first.
		if _, _, err := m.writeDraft(ctx, site, nil, Draft{Site: site, JSON: v.JSON, UpdatedBy: p.Name(), UpdatedAt: m.now().UTC()}); err != nil {
			return nil, false, err
		}
	}
	if !changed {
		return v, false, nil
	}
	if details == nil {
		details = map[string]any{}
	}
	details["version"], details["sha256"], details["note"] = v.Number, v.Hash, note
	if shortened != nil {
		details["retention_shortened"] = shortened
	}
	return v, true, m.Audit(ctx, p, site, action, details)
}

// InvalidDraftError is a refused publish: the draft breaks these rules.
type InvalidDraftError struct{ Problems []siteconfig.Problem }

func (e *InvalidDraftError) Error() string {
	return fmt.Sprintf("the draft has %d problems", len(e.Problems))
}

// Versions lists the site's published versions, newest first.
func (m *Manager) Versions(ctx context.Context, site string) ([]VersionInfo, error) {
	return m.st.VersionList(ctx, site)
}

// Version returns one published version.
func (m *Manager) Version(ctx context.Context, site string, n uint32) (*siteconfig.Version, error) {
	return m.versions.Get(ctx, site, n)
}

// Stats returns the site's statistics for the days [from, to]; at most two
// years at a time.
func (m *Manager) Stats(ctx context.Context, site string, from, to time.Time) (*Stats, error) {
	if to.Before(from) {
		return nil, apierr.New(http.StatusBadRequest, "invalid_period", "to", "to is before from")
	}
	if to.Sub(from) > 2*366*24*time.Hour {
		return nil, apierr.New(http.StatusBadRequest, "invalid_period", "from", "a period is at most two years")
	}
	return m.st.Stats(ctx, StatsQuery{Site: site, From: from, To: to})
}
