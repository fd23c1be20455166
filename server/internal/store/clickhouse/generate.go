package clickhouse

import (
	"context"
	"fmt"
	"time"
)

// GenerateConsents fills the consent log of site with n made-up decisions
// spread over days days from from, in one INSERT … SELECT that ClickHouse
// runs itself (the materialised views count them as they arrive). It is for
// benchmarks and screenshots; the rows are plausible, not real: a mix of
// methods, languages and devices over the demo site's four categories.
func (s *Store) GenerateConsents(ctx context.Context, site string, n uint64, from time.Time, days int) error {
	if days < 1 {
		return fmt.Errorf("generate consents: days must be positive")
	}
	// In chunks: one statement must finish within the connection's read timeout.
	const chunk = 1_000_000
	for first := uint64(0); first < n; first += chunk {
		q := fmt.Sprintf(`INSERT INTO consent_log (record_id, consent_id, site, recorded_at, recorded_ms, config_version,
		config_hash, lang, categories, granted, method, source, gpc, ua_browser, ua_os, ua_device, ip_prefix,
		page_origin, page_path, retain_until)
	SELECT generateUUIDv4(), generateUUIDv4(), ?, toDateTime(%d + (intHash64(n) %% %d) * 86400 + intHash32(n) %% 86400, 'UTC'),
		toUInt16(n %% 1000), 1, '', if(n %% 3 = 0, 'en', 'sv'),
		['necessary', 'preferences', 'statistics', 'marketing'],
		multiIf(n %% 10 < 5, [1, 1, 1, 1], n %% 10 < 8, [1, 0, 0, 0], n %% 10 = 8, [1, 1, toUInt8(intHash32(n) %% 2), 0], [1, 0, 0, 0]),
		multiIf(n %% 10 < 5, 'accept_all', n %% 10 < 8, 'reject_all', n %% 10 = 8, 'custom', n %% 20 = 9, 'withdraw', 'gpc'),
		'banner', toUInt8(n %% 20 = 19), 'Chrome 140', 'Windows',
		['desktop', 'mobile', 'tablet'][n %% 3 + 1], '192.0.2.0/24', 'https://example.se', '/',
		toDate('2100-01-01')
	FROM (SELECT number + %d AS n FROM system.numbers LIMIT %d)`, from.UTC().Truncate(24*time.Hour).Unix(), days, first, min(chunk, n-first))
		if err := s.conn.Exec(ctx, q, site); err != nil {
			return fmt.Errorf("generate consents: %w", err)
		}
	}
	return nil
}
