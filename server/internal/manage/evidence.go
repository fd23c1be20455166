package manage

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// RecordSpan is what a site's consent log holds: how many records, the
// first and last decision, and the last day any of them is kept.
type RecordSpan struct {
	Records   uint64    `json:"records"`
	First     time.Time `json:"first_recorded,omitempty"`
	Last      time.Time `json:"last_recorded,omitempty"`
	KeptUntil time.Time `json:"kept_until,omitempty"`
}

// Evidence reads the extent of a site's consent log (ClickHouse).
type Evidence interface {
	RecordSpan(ctx context.Context, site string) (RecordSpan, error)
}

// WithEvidence lets the Manager say how many consent records a change
// concerns; without it, confirmations name no numbers.
func (m *Manager) WithEvidence(e Evidence) *Manager { m.evidence = e; return m }

// Records returns the extent of the site's consent log, or nil when the
// Manager cannot read it.
func (m *Manager) Records(ctx context.Context, site string) (*RecordSpan, error) {
	if m.evidence == nil {
		return nil, nil
	}
	s, err := m.evidence.RecordSpan(ctx, site)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// retentionChange describes shortening retention from one term to another.
// Every record keeps the term it was recorded with, so what goes sooner
// are the decisions recorded after the publish.
func (m *Manager) retentionChange(ctx context.Context, site string, from, to int) (*RetentionChange, error) {
	rc := &RetentionChange{FromMonths: from, ToMonths: to}
	var err error
	if rc.Records, err = m.Records(ctx, site); err != nil {
		return nil, err
	}
	now := m.now().UTC()
	rc.FirstGoesWas, rc.FirstGoesNow = retainUntil(now, from), retainUntil(now, to)
	return rc, nil
}

// retainUntil is consent.RetainUntil (the first day a record made at t may
// be dropped), repeated here so manage need not import the consent path.
func retainUntil(t time.Time, months int) time.Time {
	y, mo, d := t.UTC().Date()
	return time.Date(y, mo+time.Month(months), d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
}

// confirmError asks an owner to type the site's id to shorten retention.
func (rc *RetentionChange) confirmError(site string) error {
	return apierr.New(http.StatusConflict, "confirm_site", "confirm_site",
		"shortening retention from %d to %d months gives up evidence: decisions recorded from now on are deleted after %d months (the first on %s instead of %s)%s. Type the site's id (%s) to confirm",
		rc.FromMonths, rc.ToMonths, rc.ToMonths, rc.FirstGoesNow.Format(time.DateOnly), rc.FirstGoesWas.Format(time.DateOnly), rc.Records.describe(), site)
}

// describe is the log's extent in words, for a confirmation.
func (s *RecordSpan) describe() string {
	switch {
	case s == nil:
		return ""
	case s.Records == 0:
		return "; the log holds no records yet"
	}
	return "; the " + strconv.FormatUint(s.Records, 10) + " records already in the log (" + s.First.Format(time.DateOnly) + " to " +
		s.Last.Format(time.DateOnly) + ") keep their own term"
}

// RetentionShortenedBy says what publishing cfg (a rollback's version)
// would do to retention: nil unless it keeps records for less time than
// the current version.
func (m *Manager) RetentionShortenedBy(ctx context.Context, site string, cfg *siteconfig.Config) (*RetentionChange, error) {
	cur, err := m.versions.Current(ctx, site)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if cfg.Consent.RetentionMonths >= cur.Config.Consent.RetentionMonths {
		return nil, nil
	}
	return m.retentionChange(ctx, site, cur.Config.Consent.RetentionMonths, cfg.Consent.RetentionMonths)
}
