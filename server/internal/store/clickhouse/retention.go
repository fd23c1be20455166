package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// ExpiredPartitions lists the consent_log partitions whose every row may be
// dropped on day: the table is partitioned by the month of retain_until, so
// every partition of a month before day's month has expired.
func (s *Store) ExpiredPartitions(ctx context.Context, day time.Time) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT partition FROM system.parts
		WHERE database = ? AND table = 'consent_log' AND active ORDER BY partition`, s.database)
	if err != nil {
		return nil, fmt.Errorf("expired partitions: %w", err)
	}
	defer rows.Close()
	current := day.UTC().Year()*100 + int(day.UTC().Month())
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("expired partitions: %w", err)
		}
		if n, err := strconv.Atoi(p); err == nil && n < current {
			out = append(out, p)
		}
	}
	return out, rows.Err()
}

// DropPartition drops one consent_log partition (YYYYMM).
func (s *Store) DropPartition(ctx context.Context, partition string) error {
	n, err := strconv.Atoi(partition)
	if err != nil || n < 197001 || n > 999912 {
		return fmt.Errorf("drop partition: %q is not a YYYYMM partition", partition)
	}
	// 18.16 takes the partition of a UInt32 key as an unquoted number.
	if err := s.conn.Exec(ctx, onCluster("ALTER TABLE consent_log DROP PARTITION "+strconv.Itoa(n), s.cluster)); err != nil {
		return fmt.Errorf("drop partition %d: %w", n, err)
	}
	return nil
}

// LoggedSites lists the sites that have rows in the consent log.
func (s *Store) LoggedSites(ctx context.Context) ([]string, error) {
	rows, err := s.conn.Query(ctx, "SELECT DISTINCT site FROM consent_log ORDER BY site")
	if err != nil {
		return nil, fmt.Errorf("logged sites: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var site string
		if err := rows.Scan(&site); err != nil {
			return nil, fmt.Errorf("logged sites: %w", err)
		}
		out = append(out, site)
	}
	return out, rows.Err()
}

// DeleteRecordedBefore deletes a site's records made before cutoff that
// their own retention would keep after today: what a shortened retention
// asks for (rows already due go with their partition). It counts first, so
// the costly mutation runs only when needed, and returns how many rows it
// deletes. The mutation completes in the background.
func (s *Store) DeleteRecordedBefore(ctx context.Context, site string, cutoff, today time.Time) (uint64, error) {
	var n uint64
	cutoff = cutoff.UTC().Truncate(time.Second)
	if err := s.conn.QueryRow(ctx, `SELECT count() FROM consent_log WHERE site = ? AND recorded_at < ? AND retain_until > toDate(?)`,
		site, cutoff, today.UTC()).Scan(&n); err != nil {
		return 0, fmt.Errorf("retention of %s: %w", site, err)
	}
	if n == 0 {
		return 0, nil
	}
	if err := s.conn.Exec(ctx, onCluster("ALTER TABLE consent_log DELETE WHERE site = ? AND recorded_at < ?", s.cluster), site, cutoff); err != nil {
		return 0, fmt.Errorf("retention of %s: delete: %w", site, err)
	}
	return n, nil
}
