package clickhouse_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

func TestSplitStatements(t *testing.T) {
	got := clickhouse.SplitStatements("-- a comment; with a semicolon\nCREATE TABLE a (x UInt8)\nENGINE = Memory;\n\n  -- another\nCREATE TABLE b (s String) ENGINE = Memory;\n")
	want := []string{"CREATE TABLE a (x UInt8)\nENGINE = Memory", "CREATE TABLE b (s String) ENGINE = Memory"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMigrationsAreOrderedAndIdempotentInText(t *testing.T) {
	ms, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != uint32(i+1) {
			t.Errorf("%s: numbers must run 001, 002, … without gaps", m.Name)
		}
		for _, s := range m.Statements {
			// A re-run after a half-applied file must not fail.
			if strings.HasPrefix(s, "CREATE") && !strings.Contains(s, "IF NOT EXISTS") {
				t.Errorf("%s: CREATE without IF NOT EXISTS", m.Name)
			}
			for _, banned := range []string{"TTL", "CODEC", "INDEX ", "DateTime64", "Map(", "SETTINGS allow_experimental"} {
				if strings.Contains(s, banned) {
					t.Errorf("%s: %q is outside the subset that runs on ClickHouse 18.16", m.Name, banned)
				}
			}
		}
	}
}

func TestMigrateTwiceAndRefuseNewerSchema(t *testing.T) {
	st := testutil.ClickHouse(t) // migrated once
	ctx := context.Background()
	applied, err := st.Migrate(ctx)
	if err != nil || len(applied) != 0 {
		t.Fatalf("second migrate: applied %v, err %v", applied, err)
	}
	b, err := st.Conn().PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, sha256, applied_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint32(999), "999_future.sql", "x", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer than this binary knows") {
		t.Fatalf("want refusal of a newer schema, got %v", err)
	}
}

// A file applied once must never change: the server refuses to start on it.
func TestMigrateRefusesAChangedFile(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	b, err := st.Conn().PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, sha256, applied_at)")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Append(uint32(2), "002_config_versions.sql", "0123456789abcdef", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.Send(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "002_config_versions.sql was applied") {
		t.Fatalf("want a refusal naming 002_config_versions.sql, got %v", err)
	}
}

// 18.16 has no ADD COLUMN IF NOT EXISTS: a second ADD COLUMN of the same
// column is recognised by its error, so a half-applied file can be re-run.
func TestAddColumnTwiceCountsAsDone(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, "CREATE TABLE IF NOT EXISTS t_add (a UInt8) ENGINE = MergeTree ORDER BY a"); err != nil {
		t.Fatal(err)
	}
	stmt := "ALTER TABLE t_add ADD COLUMN b String"
	if err := st.Conn().Exec(ctx, stmt); err != nil {
		t.Fatal(err)
	}
	err := st.Conn().Exec(ctx, stmt)
	if err == nil || !clickhouse.ColumnExists(stmt, err) {
		t.Fatalf("second ADD COLUMN: %v; want it recognised as done", err)
	}
	other := st.Conn().Exec(ctx, "ALTER TABLE t_add ADD COLUMN c NoSuchType")
	if other == nil || clickhouse.ColumnExists("ALTER TABLE t_add ADD COLUMN c NoSuchType", other) {
		t.Fatalf("an unrelated failure must not count as done: %v", other)
	}
}

type column struct{ table, name, typ string }

func columns18(t *testing.T, st *clickhouse.Store) []column {
	rows, err := st.Conn().Query(context.Background(),
		"SELECT table, name, type FROM system.columns WHERE database = ? ORDER BY table, name", st.Database())
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// TestSchemaMatchesCurrentClickHouse compares the tables the migrations make
// on this server (18.16 here) with those chdb (a current ClickHouse engine)
// made from the same files in `make test` (.ci/chdb-replay.cjs).
func TestSchemaMatchesCurrentClickHouse(t *testing.T) {
	path := os.Getenv("SAMTYCKE_CHDB_COLUMNS")
	if path == "" {
		if os.Getenv("SAMTYCKE_TEST_SERVICES") == "required" {
			t.Fatal("SAMTYCKE_CHDB_COLUMNS is not set: make test replays the migrations through chdb first")
		}
		t.Skip("SAMTYCKE_CHDB_COLUMNS not set (make test sets it)")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var chdb []column
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) == 3 && p[0] != "schema_migrations" {
			chdb = append(chdb, column{p[0], p[1], p[2]})
		}
	}
	if len(chdb) == 0 {
		t.Fatalf("%s holds no columns", path)
	}
	var here []column
	for _, c := range columns18(t, testutil.ClickHouse(t)) {
		if c.table != "schema_migrations" {
			here = append(here, c)
		}
	}
	if !slices.Equal(here, chdb) {
		t.Fatalf("schemas differ\nthis server: %v\nchdb:        %v", here, chdb)
	}
}

func testRecord(site string, cfgHash string) consent.Record {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return consent.Record{
		RecordID: uuid.Must(uuid.NewV7()), ConsentID: uuid.New(), Site: site, RecordedAt: now,
		ConfigVersion: 1, ConfigHash: cfgHash, Lang: "sv",
		Categories: []string{"necessary", "statistics"}, Granted: []bool{true, false},
		Method: consent.MethodCustom, Source: consent.SourceSettings, GPC: true,
		UA:       consent.UserAgent{Browser: "Firefox 133", OS: "Linux", Device: "desktop"},
		IPPrefix: "203.0.113.0/24", PageOrigin: "https://shop.example", PagePath: "/p",
		RetainUntil: consent.RetainUntil(now, 24),
	}
}

func TestAppendWritesEveryColumn(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	var table []string
	for _, c := range columns18(t, st) {
		if c.table == "consent_log" {
			table = append(table, c.name)
		}
	}
	insert := clickhouse.ConsentColumnNames()
	slices.Sort(insert)
	if !slices.Equal(insert, table) {
		t.Fatalf("INSERT columns %v\ndiffer from table columns %v", insert, table)
	}
	want := testRecord("s1", strings.Repeat("ab", 32))
	want.EventID = "0190b3c4-7d2e-7a6b-9c1d-2e3f4a5b6c7d"
	batch := consent.NewBatch("instance-a", 7, []consent.Record{want, testRecord("s1", "x")})
	if err := st.AppendBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	var (
		n                                          uint64
		consentID, batchID                         uuid.UUID
		eventID                                    string
		at                                         time.Time
		ms                                         uint16
		hash, method, source, ip, origin, path, ua string
		cats                                       []string
		granted                                    []uint8
		gpc                                        uint8
		retain                                     time.Time
	)
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM consent_log").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v", n, err)
	}
	err := st.Conn().QueryRow(ctx, `SELECT consent_id, recorded_at, recorded_ms, config_hash, toString(method), toString(source),
		ip_prefix, page_origin, page_path, concat(ua_browser, '|', ua_os, '|', ua_device), categories, granted, gpc, retain_until,
		event_id, batch_id FROM consent_log WHERE record_id = ?`, want.RecordID).
		Scan(&consentID, &at, &ms, &hash, &method, &source, &ip, &origin, &path, &ua, &cats, &granted, &gpc, &retain, &eventID, &batchID)
	if err != nil {
		t.Fatal(err)
	}
	gotAt := at.Add(time.Duration(ms) * time.Millisecond)
	if consentID != want.ConsentID || !gotAt.Equal(want.RecordedAt) || hash != want.ConfigHash || method != "custom" ||
		source != "settings" || ip != want.IPPrefix || origin != want.PageOrigin || path != "/p" ||
		ua != "Firefox 133|Linux|desktop" || !slices.Equal(cats, want.Categories) || !slices.Equal(granted, []uint8{1, 0}) ||
		gpc != 1 || retain.Format(time.DateOnly) != want.RetainUntil.Format(time.DateOnly) || eventID != want.EventID || batchID != batch.ID {
		t.Fatalf("row differs from record:\n got %v %v %s %s %s %s %s %s %s %v %v %d %v %s %s\nwant %+v in batch %s",
			consentID, gotAt, method, source, ip, origin, path, ua, hash, cats, granted, gpc, retain, eventID, batchID, want, batch.ID)
	}
}

// A batch shipped again (the shipper crashed before it saved its position)
// leaves one copy of every row, on 18.16 as on current ClickHouse.
func TestAppendBatchTwiceLeavesOneCopy(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	recs := []consent.Record{testRecord("s1", "h"), testRecord("s2", "h"), testRecord("s1", "h")}
	b := consent.NewBatch("instance-a", 1, recs)
	for range 2 {
		if err := st.AppendBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// A copy that reached ClickHouse only in part is completed, and the
	// duplicates are folded by the table engine.
	b2 := consent.NewBatch("instance-a", 2, []consent.Record{testRecord("s1", "h"), testRecord("s1", "h")})
	partial := b2
	partial.Records = b2.Records[:1]
	if err := st.AppendBatch(ctx, partial); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendBatch(ctx, b2); err != nil {
		t.Fatal(err)
	}
	var raw, final uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM consent_log").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != 5+1 {
		t.Fatalf("%d rows stored; want 6 (a whole batch is never re-inserted, a partial one is completed)", raw)
	}
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM consent_log FINAL").Scan(&final); err != nil {
		t.Fatal(err)
	}
	if final != 5 {
		t.Fatalf("%d rows with FINAL, want 5", final)
	}
	var batches uint64
	if err := st.Conn().QueryRow(ctx, "SELECT uniqExact(batch_id) FROM consent_batches").Scan(&batches); err != nil || batches != 2 {
		t.Fatalf("%d batches in the manifest, %v; want 2", batches, err)
	}
}

func TestVersionsAndSites(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	p := siteconfig.NewProvider(st, nil, time.Minute, testutil.Logger(t))
	if _, err := st.LatestVersion(ctx, "demo"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("latest of unknown site: %v", err)
	}
	v1, err := demo.Seed(ctx, st, p, "http://127.0.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	if v1.Number != 1 {
		t.Fatalf("first version is %d", v1.Number)
	}
	again, err := demo.Seed(ctx, st, p, "http://127.0.0.1:8080")
	if err != nil || again.Number != 1 || again.Hash != v1.Hash {
		t.Fatalf("seeding again must change nothing: %v %v", again, err)
	}
	got, err := st.Version(ctx, "demo", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != siteconfig.Hash(got.JSON) || got.Hash != v1.Hash || len(got.Config.Categories) != 4 || got.PublishedBy != "seed" {
		t.Fatalf("version read back differs: %+v", got)
	}
	if _, err := st.Version(ctx, "demo", 2); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("version 2: %v", err)
	}
	site, err := st.Site(ctx, "demo")
	if err != nil || site.Name != "Demobutiken" {
		t.Fatalf("site: %+v %v", site, err)
	}
	if _, err := st.Site(ctx, "nope"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("unknown site: %v", err)
	}

	// A deleted site serves no version, but keeps its versions and their numbers.
	if n, err := st.CurrentVersion(ctx, "demo"); err != nil || n != 1 {
		t.Fatalf("current version of the live site: %d, %v", n, err)
	}
	if _, err := st.CurrentVersion(ctx, "nope"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("current version of an unknown site: %v", err)
	}
	if err := st.PutSiteInfo(ctx, manage.Site{ID: "demo", Name: site.Name, CreatedAt: site.CreatedAt, Deleted: true}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.CurrentVersion(ctx, "demo"); !errors.Is(err, siteconfig.ErrNotFound) {
		t.Fatalf("current version of the deleted site: %d, %v; want ErrNotFound", n, err)
	}
	if n, err := st.LatestVersion(ctx, "demo"); err != nil || n != 1 {
		t.Fatalf("latest version of the deleted site: %d, %v; want 1", n, err)
	}
}

// A row read for an export is cut into exactly its fields, whatever they
// hold; a damaged one is an error, never a panic.
func TestSplitFields(t *testing.T) {
	var a, b, c string
	fields := []*string{&a, &b, &c}
	if err := clickhouse.SplitFields("3:1:23:,:,0:", fields); err != nil || a != "1:2" || b != ",:," || c != "" {
		t.Fatalf("got %q %q %q, %v", a, b, c, err)
	}
	if err := clickhouse.SplitFields("2:å1:x0:", fields); err != nil || a != "å" || b != "x" || c != "" {
		t.Fatalf("got %q %q %q, %v", a, b, c, err)
	}
	for _, bad := range []string{"", "1:a", "1:a1:b1:c1:d", "9:abc", "-1:a1:b1:c", "x:a1:b1:c", "1:a1:b1c", "1:a1:b:1:c"} {
		if err := clickhouse.SplitFields(bad, fields); err == nil {
			t.Errorf("%q: cut into %q %q %q", bad, a, b, c)
		}
	}
}

// Rows ClickHouse can never store come back as a RefusedError (the shipper
// quarantines the batch); a retry would fail the same way for ever.
func TestAppendRefusesRowsThatCannotBeStored(t *testing.T) {
	st := testutil.ClickHouse(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		spoil func(r *consent.Record)
	}{
		// The daily statistics view ARRAY JOINs the two (code 190).
		{"categories and grants of different lengths", func(r *consent.Record) { r.Granted = r.Granted[:1] }},
		{"a method the Enum lacks", func(r *consent.Record) { r.Method = "bogus" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := testRecord("s1", "h")
			tt.spoil(&bad)
			err := st.AppendBatch(ctx, consent.NewBatch("instance-r", uint64(i+1), []consent.Record{testRecord("s1", "h"), bad}))
			var refused *consent.RefusedError
			if !errors.As(err, &refused) {
				t.Fatalf("AppendBatch = %v, want a RefusedError", err)
			}
		})
	}
}

// The URL's parameters but cluster are ClickHouse settings of every query;
// a malformed one, or one ClickHouse does not know, fails Open.
func TestURLSettings(t *testing.T) {
	base := testutil.ClickHouseURL(t)
	ctx := context.Background()
	st, err := clickhouse.Open(ctx, base+"?max_execution_time=33&log_queries=1&use_uncompressed_cache=true", testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, want := range map[string]string{"max_execution_time": "33", "log_queries": "1", "use_uncompressed_cache": "1"} {
		var got string
		if err := st.Conn().QueryRow(ctx, "SELECT value FROM system.settings WHERE name = ?", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	for query, want := range map[string]string{
		"?max_execution_time=soon":     `max_execution_time="soon": want a whole number`,
		"?max_execution_time=-1":       `max_execution_time="-1": want a whole number`,
		"?Max-Time=1":                  `URL parameter "Max-Time"`,
		"?log_queries=1&log_queries=0": `URL parameter "log_queries"`,
		"?no_such_setting_here=1":      "no_such_setting_here",
	} {
		st, err := clickhouse.Open(ctx, base+query, testutil.Logger(t))
		if err == nil {
			st.Close()
			t.Errorf("%s: opened", query)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want it to say %q", query, err, want)
		}
	}
}
