package clickhouse

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// errNoRows is what QueryRow's Scan returns when nothing matched.
var errNoRows = sql.ErrNoRows

// Site is a site's identity.
type Site struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// PutSite creates or renames a site. Each write is a new row with a higher
// rev; the newest row wins.
func (s *Store) PutSite(ctx context.Context, site Site) error {
	b, err := s.conn.PrepareBatch(ctx, "INSERT INTO sites (site, name, created_at, deleted, rev)")
	if err != nil {
		return fmt.Errorf("put site: %w", err)
	}
	if err := b.Append(site.ID, site.Name, site.CreatedAt.UTC(), uint8(0), uint64(time.Now().UnixNano())); err != nil {
		b.Abort()
		return fmt.Errorf("put site: %w", err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("put site %s: %w", site.ID, err)
	}
	return nil
}

// Site returns a site that exists and is not deleted.
func (s *Store) Site(ctx context.Context, id string) (*Site, error) {
	site := &Site{ID: id}
	var deleted uint8
	err := s.conn.QueryRow(ctx, `SELECT argMax(name, rev), min(created_at), max(deleted)
		FROM sites WHERE site = ? GROUP BY site`, id).Scan(&site.Name, &site.CreatedAt, &deleted)
	if errors.Is(err, errNoRows) || (err == nil && deleted == 1) {
		return nil, siteconfig.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("site %s: %w", id, err)
	}
	return site, nil
}
