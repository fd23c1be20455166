package clickhouse

import (
	"context"
	"fmt"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// RecordSpan counts a site's consent records and gives the first and last
// decision and the last day one is kept: what a person gives up evidence
// of, in a confirmation, and on the owner's overview. Without FINAL: a
// batch shipped twice counts twice until its parts merge (rare), and FINAL
// made it 37 times slower (7 s instead of 0.19 s for 9M records on 18.16).
func (s *Store) RecordSpan(ctx context.Context, site string) (manage.RecordSpan, error) {
	var (
		n           uint64
		first, last time.Time
		until       time.Time
	)
	if err := s.conn.QueryRow(ctx, `SELECT count(), min(recorded_at), max(recorded_at), max(retain_until)
		FROM consent_log WHERE site = ?`, site).Scan(&n, &first, &last, &until); err != nil {
		return manage.RecordSpan{}, fmt.Errorf("record span of %s: %w", site, err)
	}
	if n == 0 {
		return manage.RecordSpan{}, nil
	}
	return manage.RecordSpan{Records: n, First: first.UTC(), Last: last.UTC(), KeptUntil: until.UTC()}, nil
}
