package clickhouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"

	"github.com/samtycke/samtycke/schemas"
)

// Migration is one schemas/clickhouse/NNN_name.sql file.
type Migration struct {
	Version    uint32
	Name       string
	SHA256     string
	Statements []string
}

// Migrations reads the embedded migration files in order.
func Migrations() ([]Migration, error) { return readMigrations(schemas.ClickHouse, "clickhouse") }

func readMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil || len(num) != 3 {
			return nil, fmt.Errorf("migration %s: name must be NNN_name.sql", name)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		m := Migration{Version: uint32(v), Name: name, SHA256: hex.EncodeToString(sum[:]), Statements: SplitStatements(string(b))}
		if len(out) > 0 && out[len(out)-1].Version == m.Version {
			return nil, fmt.Errorf("migrations %s and %s share a number", out[len(out)-1].Name, name)
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SplitStatements splits a migration file into statements: full-line "--"
// comments are dropped and a ";" at the end of a line ends a statement.
// ClickHouse 18.16 takes one statement per query. .ci/chdb-replay.cjs splits
// the same way.
func SplitStatements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			if s := strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"); strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

var addColumnRe = regexp.MustCompile(`(?i)^ALTER TABLE \S+ ADD COLUMN `)

// columnExists reports whether err is ClickHouse refusing an ADD COLUMN
// because the column is there already: a re-run of a migration interrupted
// after that statement. 18.16 has no ADD COLUMN IF NOT EXISTS; it answers
// code 44, current releases 15 (DUPLICATE_COLUMN).
func columnExists(stmt string, err error) bool {
	var ex *ch.Exception
	return addColumnRe.MatchString(stmt) && errors.As(err, &ex) && (ex.Code == 44 || ex.Code == 15)
}

const migrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version    UInt32,
    name       String,
    sha256     String,
    applied_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY version`

var errNoMigrationsTable = errors.New("no schema_migrations table")

// appliedMigrations reads schema_migrations: version → SHA-256 of the file
// as applied, and the newest version. It sends no DDL, so a start whose
// schema is current runs no ON CLUSTER statement.
func (s *Store) appliedMigrations(ctx context.Context) (map[uint32]string, uint32, error) {
	var n uint64
	if err := s.conn.QueryRow(ctx, "SELECT count() FROM system.tables WHERE database = ? AND name = 'schema_migrations'", s.database).Scan(&n); err != nil {
		return nil, 0, fmt.Errorf("migrate: look for schema_migrations: %w", err)
	}
	if n == 0 {
		return nil, 0, errNoMigrationsTable
	}
	done := map[uint32]string{}
	rows, err := s.conn.Query(ctx, "SELECT version, argMax(sha256, applied_at) FROM schema_migrations GROUP BY version")
	if err != nil {
		return nil, 0, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	defer rows.Close()
	var newest uint32
	for rows.Next() {
		var v uint32
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, 0, fmt.Errorf("migrate: read schema_migrations: %w", err)
		}
		done[v] = sum
		newest = max(newest, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	return done, newest, nil
}

// ddlTaskTimeout bounds how long an ON CLUSTER statement waits for every
// node (18.16's default is 180 s, past the connection's read timeout): a
// node that is down then fails the statement with its name, and runs it
// from the DDL queue once it is back.
const ddlTaskTimeout = 30

// ddlContext carries the settings of schema statements: the LowCardinality
// flag on 18.16 (the DDL worker of a cluster takes it from its own profile,
// see README), and the ON CLUSTER wait.
func ddlContext(ctx context.Context, legacy bool) context.Context {
	set := ch.Settings{"distributed_ddl_task_timeout": ddlTaskTimeout}
	if legacy {
		set["allow_experimental_low_cardinality_type"] = 1
	}
	return ch.Context(ctx, ch.WithSettings(set))
}

// Migrate applies every migration not yet recorded, in order. Statements use
// IF NOT EXISTS, so a run interrupted half-way is finished by the next one.
// With nothing to apply it sends no DDL at all.
// It refuses to run on a schema newer than this binary knows.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	ddlCtx := ddlContext(ctx, s.legacy)
	done, newest, err := s.appliedMigrations(ctx)
	if errors.Is(err, errNoMigrationsTable) {
		if err := s.conn.Exec(ddlCtx, onCluster(migrationsDDL, s.cluster)); err != nil {
			return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
		}
		done, err = map[uint32]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	if known := all[len(all)-1].Version; newest > known {
		return nil, fmt.Errorf("migrate: database %s has schema version %d, newer than this binary knows (%d): upgrade samtycke", s.database, newest, known)
	}
	// An applied file must not have changed: the database was built from the
	// text that was applied, and a new text would silently never run.
	for _, m := range all {
		if sum, ok := done[m.Version]; ok && sum != m.SHA256 {
			return nil, fmt.Errorf("migrate: %s was applied to database %s with SHA-256 %.12s…, but this binary's file has %.12s…: "+
				"an applied migration must never change; put the change in a new migration file", m.Name, s.database, sum, m.SHA256)
		}
	}
	for _, m := range all {
		if _, ok := done[m.Version]; ok {
			continue
		}
		for i, stmt := range m.Statements {
			if err := s.conn.Exec(ddlCtx, onCluster(qualifyViews(stmt, s.database), s.cluster)); err != nil && !columnExists(stmt, err) {
				return applied, fmt.Errorf("migrate: %s statement %d: %w", m.Name, i+1, err)
			}
		}
		b, err := s.conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, sha256, applied_at)")
		if err != nil {
			return applied, fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		if err := b.Append(m.Version, m.Name, m.SHA256, time.Now().UTC()); err != nil {
			b.Abort()
			return applied, fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		if err := b.Send(); err != nil {
			return applied, fmt.Errorf("migrate: record %s: %w", m.Name, err)
		}
		applied = append(applied, m.Name)
		s.log.Info("migration applied", "name", m.Name)
	}
	return applied, nil
}
