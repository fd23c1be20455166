package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// SiteInfo returns a site, deleted or not.
func (s *Store) SiteInfo(ctx context.Context, id string) (*manage.Site, error) {
	site := &manage.Site{ID: id}
	var deleted uint8
	// A deletion is final (max), whatever a rename that read the site before
	// it writes afterwards.
	err := s.conn.QueryRow(ctx, `SELECT argMax(name, rev), min(created_at), max(deleted)
		FROM sites WHERE site = ? GROUP BY site`, id).Scan(&site.Name, &site.CreatedAt, &deleted)
	if errors.Is(err, errNoRows) {
		return nil, manage.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", id, err)
	}
	site.Deleted = deleted == 1
	return site, nil
}

// SitesByID returns those of ids that exist, by id.
func (s *Store) SitesByID(ctx context.Context, ids []string) ([]manage.Site, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.conn.Query(ctx, `SELECT site, argMax(name, rev), min(created_at), max(deleted) AS d
		FROM sites WHERE site IN (`+marks(len(ids))+`) GROUP BY site HAVING d = 0 ORDER BY site`, args...)
	if err != nil {
		return nil, fmt.Errorf("sites: %w", err)
	}
	defer rows.Close()
	var out []manage.Site
	for rows.Next() {
		var st manage.Site
		var d uint8
		if err := rows.Scan(&st.ID, &st.Name, &st.CreatedAt, &d); err != nil {
			return nil, fmt.Errorf("sites: %w", err)
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// PutSiteInfo creates, renames or (Deleted) deletes a site. Its consent log
// stays until its retention ends.
func (s *Store) PutSiteInfo(ctx context.Context, st manage.Site) error {
	err := s.insertOne(ctx, "INSERT INTO sites (site, name, created_at, deleted, rev)",
		st.ID, st.Name, st.CreatedAt.UTC(), b2u(st.Deleted), rev())
	if err != nil {
		return fmt.Errorf("put site %s: %w", st.ID, err)
	}
	return nil
}

// Draft returns the site's draft.
func (s *Store) Draft(ctx context.Context, site string) (*manage.Draft, error) {
	d, _, err := s.DraftAt(ctx, site)
	return d, err
}

// DraftAt returns the site's draft and its revision (the newest row's rev).
func (s *Store) DraftAt(ctx context.Context, site string) (*manage.Draft, uint64, error) {
	d := &manage.Draft{Site: site}
	var js string
	var r uint64
	err := s.conn.QueryRow(ctx, `SELECT argMax(config, rev), argMax(updated_by, rev), argMax(updated_at, rev), max(rev)
		FROM site_drafts WHERE site = ? GROUP BY site`, site).Scan(&js, &d.UpdatedBy, &d.UpdatedAt, &r)
	if errors.Is(err, errNoRows) {
		return nil, 0, manage.ErrNotFound
	}
	if err != nil {
		return nil, 0, fmt.Errorf("draft %s: %w", site, err)
	}
	d.JSON = []byte(js)
	return d, r, nil
}

// PutDraft saves the site's draft.
func (s *Store) PutDraft(ctx context.Context, d manage.Draft) error {
	return s.PutDraftAt(ctx, d, rev())
}

// PutDraftAt saves the site's draft as revision r, which must be above
// the current one (the newest rev wins).
func (s *Store) PutDraftAt(ctx context.Context, d manage.Draft, r uint64) error {
	err := s.insertOne(ctx, "INSERT INTO site_drafts (site, config, updated_by, updated_at, rev)",
		d.Site, string(d.JSON), d.UpdatedBy, d.UpdatedAt.UTC(), r)
	if err != nil {
		return fmt.Errorf("put draft %s: %w", d.Site, err)
	}
	return nil
}

// VersionList lists a site's published versions, newest first.
func (s *Store) VersionList(ctx context.Context, site string) ([]manage.VersionInfo, error) {
	// Versions are immutable; if a race ever wrote two rows for one number,
	// the first published wins, as in Version.
	rows, err := s.conn.Query(ctx, `SELECT version, argMin(sha256, (published_at, published_ms)),
		min(published_at), argMin(published_ms, (published_at, published_ms)),
		argMin(published_by, (published_at, published_ms)), argMin(note, (published_at, published_ms))
		FROM config_versions WHERE site = ? GROUP BY version ORDER BY version DESC`, site)
	if err != nil {
		return nil, fmt.Errorf("versions of %s: %w", site, err)
	}
	defer rows.Close()
	var out []manage.VersionInfo
	for rows.Next() {
		var v manage.VersionInfo
		var ms uint16
		if err := rows.Scan(&v.Number, &v.Hash, &v.PublishedAt, &ms, &v.PublishedBy, &v.Note); err != nil {
			return nil, fmt.Errorf("versions of %s: %w", site, err)
		}
		v.PublishedAt = v.PublishedAt.UTC().Add(time.Duration(ms) * time.Millisecond)
		out = append(out, v)
	}
	return out, rows.Err()
}

// AppendAudit appends events to the audit trail in one batch.
func (s *Store) AppendAudit(ctx context.Context, events ...manage.Event) error {
	if len(events) == 0 {
		return nil
	}
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO audit_log (at, at_ms, site, actor, action, details)")
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	for _, e := range events {
		at := e.At.UTC()
		if err := b.Append(at.Truncate(time.Second), uint16(at.Nanosecond()/1e6), e.Site, e.Actor, e.Action, e.Details); err != nil {
			b.Abort()
			return fmt.Errorf("append audit: %w", err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// Audit reads the audit trail, newest first.
func (s *Store) Audit(ctx context.Context, q manage.AuditQuery) ([]manage.Event, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if len(q.Members) > 0 {
		// Sign-ins and sign-outs belong to no site: a site's trail shows its
		// members', each from the time they joined it.
		var who []string
		args = append(args, q.Site)
		for _, m := range q.Members {
			who = append(who, "(actor = ? AND at >= ?)")
			args = append(args, m.Email, m.Since.UTC().Truncate(time.Second))
		}
		where = append(where, "(site = ? OR (site = '' AND action LIKE 'log%' AND ("+strings.Join(who, " OR ")+")))")
	} else {
		add("site = ?", q.Site)
	}
	if q.Actor != "" {
		add("actor = ?", q.Actor)
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if !q.From.IsZero() {
		add("at >= ?", q.From.UTC())
	}
	if !q.To.IsZero() {
		add("at < ?", q.To.UTC())
	}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.conn.Query(ctx, `SELECT at, at_ms, site, actor, action, details FROM audit_log WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(" ORDER BY at DESC, at_ms DESC LIMIT %d", limit), args...)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var out []manage.Event
	for rows.Next() {
		var e manage.Event
		var ms uint16
		if err := rows.Scan(&e.At, &ms, &e.Site, &e.Actor, &e.Action, &e.Details); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		e.At = e.At.UTC().Add(time.Duration(ms) * time.Millisecond)
		out = append(out, e)
	}
	return out, rows.Err()
}
