package clickhouse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/scan"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// ScanSummary is one stored scan, without its full report.
type ScanSummary struct {
	ID            uuid.UUID
	Site          string
	StartedAt     time.Time
	Duration      time.Duration
	ConfigVersion uint32
	StartURLs     []string
	Pages         uint16
	BannerFound   bool
	Undeclared    uint32
	PreConsent    uint32
	Unseen        uint32
	Limits        []string
}

// SaveScan stores a scanner report: its summary row, one row per item and
// host, and the report itself as JSON.
func (s *Store) SaveScan(ctx context.Context, r *scan.Report) error {
	id, err := uuid.Parse(r.ID)
	if err != nil {
		return fmt.Errorf("save scan: id: %w", err)
	}
	js, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("save scan: %w", err)
	}
	at := r.StartedAt.UTC().Truncate(time.Second)
	b, err := s.conn.PrepareBatch(ctx, `INSERT INTO scan_reports (scan_id, site, started_at, duration_ms, config_version, config_hash,
		start_urls, pages, banner_found, undeclared, pre_consent, unseen, limits, report)`)
	if err != nil {
		return fmt.Errorf("save scan: %w", err)
	}
	if err := b.Append(id, r.Site, at, uint32(r.DurationMS), r.ConfigVersion, r.ConfigHash, r.StartURLs, uint16(len(r.Pages)),
		boolToUint8(r.BannerFound), uint32(r.Counts[scan.Undeclared]), uint32(r.Counts[scan.PreConsent]), uint32(r.Counts[scan.Unseen]),
		r.Limits, string(js)); err != nil {
		b.Abort()
		return fmt.Errorf("save scan: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("save scan %s: %w", r.ID, err)
	}

	items, err := s.conn.PrepareBatch(ctx, `INSERT INTO scan_items (scan_id, site, started_at, kind, name, domain, category,
		before_consent, after_consent, findings)`)
	if err != nil {
		return fmt.Errorf("save scan items: %w", err)
	}
	add := func(kind, name, domain, category string, before, after bool, findings []string) error {
		if findings == nil {
			findings = []string{}
		}
		return items.Append(id, r.Site, at, kind, name, domain, category, boolToUint8(before), boolToUint8(after), findings)
	}
	for _, o := range r.Items {
		cat := ""
		if o.Declared != nil {
			cat = o.Declared.Category
		}
		if err := add(o.Type, o.Name, o.Domain, cat, o.BeforeConsent, o.AfterConsent, o.Findings); err != nil {
			items.Abort()
			return fmt.Errorf("save scan items: %w", err)
		}
	}
	for _, t := range r.ThirdParties {
		if err := add("host", t.Host, t.Host, t.Category, t.BeforeConsent, t.AfterConsent, t.Findings); err != nil {
			items.Abort()
			return fmt.Errorf("save scan items: %w", err)
		}
	}
	for _, d := range r.Unseen {
		if err := add(d.Type, d.Name, d.Domain, d.Category, false, false, []string{scan.Unseen}); err != nil {
			items.Abort()
			return fmt.Errorf("save scan items: %w", err)
		}
	}
	if err := items.Send(); err != nil {
		return fmt.Errorf("save scan items %s: %w", r.ID, err)
	}
	return nil
}

// Scans lists a site's newest scans, newest first.
func (s *Store) Scans(ctx context.Context, site string, limit int) ([]ScanSummary, error) {
	rows, err := s.conn.Query(ctx, `SELECT scan_id, site, started_at, duration_ms, config_version, start_urls, pages, banner_found,
		undeclared, pre_consent, unseen, limits FROM scan_reports WHERE site = ? ORDER BY started_at DESC LIMIT ?`, site, uint64(limit))
	if err != nil {
		return nil, fmt.Errorf("scans of %s: %w", site, err)
	}
	defer rows.Close()
	var out []ScanSummary
	for rows.Next() {
		var x ScanSummary
		var ms uint32
		var banner uint8
		if err := rows.Scan(&x.ID, &x.Site, &x.StartedAt, &ms, &x.ConfigVersion, &x.StartURLs, &x.Pages, &banner,
			&x.Undeclared, &x.PreConsent, &x.Unseen, &x.Limits); err != nil {
			return nil, fmt.Errorf("scans of %s: %w", site, err)
		}
		x.Duration, x.BannerFound = time.Duration(ms)*time.Millisecond, banner == 1
		out = append(out, x)
	}
	return out, rows.Err()
}

// ScanReport returns the JSON report of one of a site's scans.
func (s *Store) ScanReport(ctx context.Context, site string, id uuid.UUID) ([]byte, error) {
	var js string
	err := s.conn.QueryRow(ctx, "SELECT report FROM scan_reports WHERE site = ? AND scan_id = ? LIMIT 1", site, id).Scan(&js)
	if errors.Is(err, errNoRows) {
		return nil, siteconfig.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", id, err)
	}
	return []byte(js), nil
}
