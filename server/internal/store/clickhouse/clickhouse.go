// Package clickhouse is the system of record: the consent log, published
// configuration versions and sites, in ClickHouse over the native protocol.
//
// Everything here must run on Debian's ClickHouse 18.16 and on current
// releases (see docs in ENVIRONMENT.md): inserts always go through batches
// with an explicit column list, never INSERT … VALUES through Exec.
package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Store is a connection pool to one ClickHouse database.
type Store struct {
	conn     driver.Conn
	database string
	log      *slog.Logger
	// legacy is true on ClickHouse before 19, which needs
	// allow_experimental_low_cardinality_type to create LowCardinality columns.
	legacy bool
	// cluster, when set, makes DDL run ON CLUSTER with Replicated engines
	// (see cluster.go).
	cluster string
}

var dbNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Open connects to rawURL (clickhouse://user:pass@host:port[,host:port…]/database[?cluster=NAME]),
// creating the database when it does not exist yet. Every other parameter
// of the URL is a ClickHouse setting sent with each query (log_queries=1).
func Open(ctx context.Context, rawURL string, log *slog.Logger) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("clickhouse: parse URL: %w", err)
	}
	db := strings.Trim(u.Path, "/")
	if db == "" {
		db = "default"
	}
	if !dbNameRe.MatchString(db) {
		return nil, fmt.Errorf("clickhouse: %q is not a valid database name", db)
	}
	cluster := u.Query().Get("cluster")
	if cluster != "" && !dbNameRe.MatchString(cluster) {
		return nil, fmt.Errorf("clickhouse: %q is not a valid cluster name", cluster)
	}
	settings, err := urlSettings(u.Query())
	if err != nil {
		return nil, err
	}
	opts := func(database string) *ch.Options {
		pass, _ := u.User.Password()
		user := u.User.Username()
		if user == "" {
			user = "default"
		}
		return &ch.Options{
			Addr:             strings.Split(u.Host, ","),
			Protocol:         ch.Native, // HTTP does not work against 18.16
			Auth:             ch.Auth{Database: database, Username: user, Password: pass},
			DialTimeout:      3 * time.Second,
			ReadTimeout:      60 * time.Second,
			MaxOpenConns:     16,
			MaxIdleConns:     4,
			ConnMaxLifetime:  time.Hour,
			ConnOpenStrategy: ch.ConnOpenInOrder,
			Settings:         settings,
		}
	}
	// The database must exist before a connection can select it.
	boot, err := ch.Open(opts("default"))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s: %w", u.Host, err)
	}
	defer boot.Close()
	// An existing database is left alone: on a cluster, CREATE DATABASE ON
	// CLUSTER would wait for every node, and a start must not wait for a
	// replica that is down.
	var exists uint64
	if err := boot.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", db).Scan(&exists); err != nil {
		return nil, fmt.Errorf("clickhouse: look for database %s: %w", db, err)
	}
	if exists == 0 {
		createDB, createCtx := "CREATE DATABASE IF NOT EXISTS "+db, ctx
		if cluster != "" {
			createDB += " ON CLUSTER " + cluster
			createCtx = ddlContext(ctx, false)
		}
		if err := boot.Exec(createCtx, createDB); err != nil {
			return nil, fmt.Errorf("clickhouse: create database %s: %w", db, err)
		}
	}
	replicas := 0
	if cluster != "" {
		var n, shards uint64
		if err := boot.QueryRow(ctx, "SELECT countIf(shard_num = 1), uniqExact(shard_num) FROM system.clusters WHERE cluster = ?", cluster).Scan(&n, &shards); err != nil {
			return nil, fmt.Errorf("clickhouse: read cluster %s: %w", cluster, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("clickhouse: %s has no cluster %q in its remote_servers", u.Host, cluster)
		}
		// No Distributed tables: on several shards each would hold only
		// the rows written to it, and every read would miss the others.
		if shards > 1 {
			return nil, fmt.Errorf("clickhouse: cluster %q has %d shards; Samtycke supports one shard with every node a replica", cluster, shards)
		}
		replicas = int(n)
	}
	conn, err := ch.Open(opts(db))
	if err != nil {
		return nil, fmt.Errorf("clickhouse: open %s/%s: %w", u.Host, db, err)
	}
	sv, err := conn.ServerVersion()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("clickhouse: server version: %w", err)
	}
	s := &Store{conn: conn, database: db, log: log.With("component", "clickhouse"), legacy: sv.Version.Major < 19, cluster: cluster}
	if replicas > 0 {
		s.conn = newQuorumConn(conn, replicas)
	}
	s.log.Info("connected", "addr", u.Host, "database", db, "server", sv.Version.String(), "cluster", cluster, "replicas", replicas)
	return s, nil
}

var settingNameRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,99}$`)

// urlSettings reads the URL's parameters but cluster as ClickHouse
// settings. Only whole numbers and true/false: 18.16's revision of the
// protocol sends settings as numbers, and the client refuses others.
func urlSettings(q url.Values) (ch.Settings, error) {
	set := ch.Settings{}
	for name, vs := range q {
		if name == "cluster" {
			continue
		}
		if !settingNameRe.MatchString(name) || len(vs) != 1 {
			return nil, fmt.Errorf("clickhouse: URL parameter %q: want cluster=NAME or one ClickHouse setting such as log_queries=1", name)
		}
		switch v := vs[0]; v {
		case "true", "false":
			set[name] = v == "true"
		default:
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("clickhouse: URL setting %s=%q: want a whole number or true/false", name, v)
			}
			set[name] = n
		}
	}
	return set, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.conn.Close() }

// Ping checks that the server answers.
func (s *Store) Ping(ctx context.Context) error { return s.conn.Ping(ctx) }

// Database is the name of the database in use.
func (s *Store) Database() string { return s.database }

// Conn exposes the driver connection for tests and tools.
func (s *Store) Conn() driver.Conn { return s.conn }
