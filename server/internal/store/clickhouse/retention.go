package clickhouse

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// retained are the tables that hold a row, or the key of one, of each
// decision, and so share its retention: consent_log, and consent_by_id, whose
// consent IDs and times must not outlive the rows they point to. Both are
// partitioned by the month of retain_until and keep recorded_at. The index
// goes first: the job finds its work in consent_log, so a run that fails half
// way leaves that for the next run to find.
var retained = []string{"consent_by_id", "consent_log"}

// ExpiredPartitions lists the partitions of the retained tables whose every
// row may be dropped on day: they are partitioned by the month of
// retain_until, so every partition of a month before day's month has expired.
func (s *Store) ExpiredPartitions(ctx context.Context, day time.Time) ([]string, error) {
	rows, err := s.conn.Query(ctx, `SELECT DISTINCT partition FROM system.parts
		WHERE database = ? AND table IN (?, ?) AND active ORDER BY partition`, s.database, retained[0], retained[1])
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

// DropPartition drops one partition (YYYYMM) of every retained table; a
// table without it is left as it is.
func (s *Store) DropPartition(ctx context.Context, partition string) error {
	n, err := strconv.Atoi(partition)
	if err != nil || n < 197001 || n > 999912 {
		return fmt.Errorf("drop partition: %q is not a YYYYMM partition", partition)
	}
	for _, table := range retained {
		// 18.16 takes the partition of a UInt32 key as an unquoted number.
		// No ON CLUSTER: ZooKeeper carries the drop to every replica of a
		// Replicated table, also to one that is down now.
		if err := s.conn.Exec(ctx, "ALTER TABLE "+table+" DROP PARTITION "+strconv.Itoa(n)); err != nil {
			return fmt.Errorf("drop partition %d of %s: %w", n, table, err)
		}
	}
	return nil
}
