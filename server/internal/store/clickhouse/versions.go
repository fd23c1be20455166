package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

var _ siteconfig.Source = (*Store)(nil)

// LatestVersion returns the number of the site's newest published version,
// deleted site or not: the next one is numbered after it.
func (s *Store) LatestVersion(ctx context.Context, site string) (uint32, error) {
	return s.newestVersion(ctx, site, false)
}

// CurrentVersion returns the number of the newest version a site serves:
// its newest published one, unless the site has been deleted. A deleted
// site serves nothing (ErrNotFound), though its versions stay for the
// records that name them.
func (s *Store) CurrentVersion(ctx context.Context, site string) (uint32, error) {
	return s.newestVersion(ctx, site, true)
}

func (s *Store) newestVersion(ctx context.Context, site string, live bool) (uint32, error) {
	q, args := "SELECT max(version), count() FROM config_versions WHERE site = ?", []any{site}
	if live {
		q += " AND site NOT IN (SELECT site FROM sites WHERE site = ? GROUP BY site HAVING argMax(deleted, rev) = 1)"
		args = append(args, site)
	}
	var n uint32
	var count uint64
	if err := s.conn.QueryRow(ctx, q, args...).Scan(&n, &count); err != nil {
		return 0, fmt.Errorf("newest version of %s: %w", site, err)
	}
	if count == 0 {
		return 0, siteconfig.ErrNotFound
	}
	return n, nil
}

// Version loads one published version. Versions are immutable; if a race
// ever wrote two rows for one number, the first published wins everywhere.
func (s *Store) Version(ctx context.Context, site string, n uint32) (*siteconfig.Version, error) {
	v := &siteconfig.Version{Site: site, Number: n}
	var js string
	var ms uint16
	err := s.conn.QueryRow(ctx, `SELECT config, sha256, published_at, published_ms, published_by, note
		FROM config_versions WHERE site = ? AND version = ?
		ORDER BY published_at, published_ms LIMIT 1`, site, n).
		Scan(&js, &v.Hash, &v.PublishedAt, &ms, &v.PublishedBy, &v.Note)
	if errors.Is(err, errNoRows) {
		return nil, siteconfig.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("version %s/%d: %w", site, n, err)
	}
	v.PublishedAt = v.PublishedAt.UTC().Add(time.Duration(ms) * time.Millisecond)
	v.JSON = []byte(js)
	if v.Hash != siteconfig.Hash(v.JSON) {
		return nil, fmt.Errorf("version %s/%d: stored hash does not match its configuration", site, n)
	}
	if v.Config, err = siteconfig.Published(v.JSON); err != nil {
		return nil, fmt.Errorf("version %s/%d: %w", site, n, err)
	}
	return v, nil
}

// InsertVersion writes a new published version. The caller chooses the
// number (siteconfig.Publish does, under a lock).
func (s *Store) InsertVersion(ctx context.Context, v *siteconfig.Version) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO config_versions (site, version, config, sha256, published_at, published_ms, published_by, note)")
	if err != nil {
		return fmt.Errorf("insert version: %w", err)
	}
	at := v.PublishedAt.UTC()
	if err := b.Append(v.Site, v.Number, string(v.JSON), v.Hash, at.Truncate(time.Second), uint16(at.Nanosecond()/1e6), v.PublishedBy, v.Note); err != nil {
		b.Abort()
		return fmt.Errorf("insert version: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("insert version %s/%d: %w", v.Site, v.Number, err)
	}
	return nil
}
