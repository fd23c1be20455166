package clickhouse

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// Stats reads a site's statistics for a period from the daily aggregates
// (consent_daily*, kept by materialised views), so its cost grows with the
// number of days, not of decisions.
func (s *Store) Stats(ctx context.Context, q manage.StatsQuery) (*manage.Stats, error) {
	from, to := q.From.UTC().Truncate(24*time.Hour), q.To.UTC().Truncate(24*time.Hour)
	st := &manage.Stats{From: from, To: to}
	rows, err := s.conn.Query(ctx, `SELECT day, method, lang, ua_device, gpc, sum(decisions)
		FROM consent_daily WHERE site = ? AND day >= toDate(?) AND day <= toDate(?)
		GROUP BY day, method, lang, ua_device, gpc ORDER BY day`, q.Site, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("stats %s: %w", q.Site, err)
	}
	defer rows.Close()
	days := map[string]*manage.DayStats{} // by YYYY-MM-DD: time.Time keys compare locations too
	methods, langs, devices := map[string]uint64{}, map[string]uint64{}, map[string]uint64{}
	for rows.Next() {
		var day time.Time
		var method, lang, device string
		var gpc uint8
		var n uint64
		if err := rows.Scan(&day, &method, &lang, &device, &gpc, &n); err != nil {
			return nil, fmt.Errorf("stats %s: %w", q.Site, err)
		}
		key := day.Format(time.DateOnly)
		d := days[key]
		if d == nil {
			d = &manage.DayStats{Day: day.UTC(), Methods: map[string]uint64{}}
			days[key] = d
		}
		d.Decisions += n
		d.Methods[method] += n
		methods[method] += n
		langs[lang] += n
		devices[device] += n
		st.Total += n
		if gpc == 1 {
			st.GPC += n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats %s: %w", q.Site, err)
	}
	// Every day of the period, with zeros, so charts have no gaps.
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		if ds := days[d.Format(time.DateOnly)]; ds != nil {
			st.Days = append(st.Days, *ds)
		} else {
			st.Days = append(st.Days, manage.DayStats{Day: d, Methods: map[string]uint64{}})
		}
	}
	st.Methods = counts(methods, st.Total, manage.Methods)
	st.Languages = counts(langs, st.Total, nil)
	st.Devices = counts(devices, st.Total, nil)

	crow, err := s.conn.Query(ctx, `SELECT category, sum(grants), sum(decisions)
		FROM consent_daily_categories WHERE site = ? AND day >= toDate(?) AND day <= toDate(?)
		GROUP BY category`, q.Site, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("stats %s: %w", q.Site, err)
	}
	defer crow.Close()
	for crow.Next() {
		var c manage.OptInStats
		if err := crow.Scan(&c.Category, &c.Granted, &c.Decisions); err != nil {
			return nil, fmt.Errorf("stats %s: %w", q.Site, err)
		}
		if c.Decisions > 0 {
			c.Rate = float64(c.Granted) / float64(c.Decisions)
		}
		st.Categories = append(st.Categories, c)
	}
	sort.Slice(st.Categories, func(i, j int) bool { return st.Categories[i].Category < st.Categories[j].Category })
	return st, crow.Err()
}

// counts turns a map into shares of total: the keys of order first (zeros
// included), then the others by count.
func counts(m map[string]uint64, total uint64, order []string) []manage.Count {
	var out []manage.Count
	seen := map[string]bool{}
	share := func(n uint64) float64 {
		if total == 0 {
			return 0
		}
		return float64(n) / float64(total)
	}
	for _, k := range order {
		out = append(out, manage.Count{Key: k, N: m[k], Share: share(m[k])})
		seen[k] = true
	}
	var rest []manage.Count
	for k, n := range m {
		if !seen[k] {
			rest = append(rest, manage.Count{Key: k, N: n, Share: share(n)})
		}
	}
	sort.Slice(rest, func(i, j int) bool {
		return rest[i].N > rest[j].N || (rest[i].N == rest[j].N && rest[i].Key < rest[j].Key)
	})
	return append(out, rest...)
}
