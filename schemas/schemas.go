// Package schemas embeds the ClickHouse migrations and the site
// configuration JSON Schema, so that the server binary carries them.
package schemas

import "embed"

// ClickHouse holds clickhouse/NNN_name.sql, applied in name order.
//
//go:embed clickhouse/*.sql
var ClickHouse embed.FS

// SiteConfig is the JSON Schema every site configuration is validated against.
//
//go:embed site-config.schema.json
var SiteConfig []byte
