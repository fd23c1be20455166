package clickhouse_test

import (
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

func TestOnCluster(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"CREATE TABLE IF NOT EXISTS sites\n(\n    site String\n)\nENGINE = ReplacingMergeTree(rev)\nORDER BY site",
			"CREATE TABLE IF NOT EXISTS sites ON CLUSTER c1\n(\n    site String\n)\nENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/sites', '{replica}', rev)\nORDER BY site"},
		{"CREATE TABLE IF NOT EXISTS consent_log (x UInt8) ENGINE = ReplacingMergeTree PARTITION BY x ORDER BY x",
			"CREATE TABLE IF NOT EXISTS consent_log ON CLUSTER c1 (x UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/consent_log', '{replica}') PARTITION BY x ORDER BY x"},
		{"CREATE TABLE IF NOT EXISTS v (x UInt8) ENGINE = MergeTree ORDER BY x",
			"CREATE TABLE IF NOT EXISTS v ON CLUSTER c1 (x UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/v', '{replica}') ORDER BY x"},
		{"ALTER TABLE consent_log ADD COLUMN event_id String", "ALTER TABLE consent_log ON CLUSTER c1 ADD COLUMN event_id String"},
		{"ALTER TABLE consent_log DROP PARTITION 202401", "ALTER TABLE consent_log ON CLUSTER c1 DROP PARTITION 202401"},
	} {
		if got := clickhouse.OnCluster(tt.in, "c1"); got != tt.want {
			t.Errorf("got\n%s\nwant\n%s", got, tt.want)
		}
		if got := clickhouse.OnCluster(tt.in, ""); got != tt.in {
			t.Errorf("without a cluster the statement must stay as it is: %s", got)
		}
	}
	// Every embedded migration rewrites to replicated, clustered DDL.
	ms, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		for _, s := range m.Statements {
			if strings.HasPrefix(s, "INSERT") {
				continue // data, not DDL: it reaches the replicas through replication
			}
			got := clickhouse.OnCluster(s, "c1")
			if !strings.Contains(got, " ON CLUSTER c1") {
				t.Errorf("%s: not ON CLUSTER: %s", m.Name, got)
			}
			if strings.Contains(got, "MergeTree") && !strings.Contains(got, "Replicated") {
				t.Errorf("%s: not replicated: %s", m.Name, got)
			}
		}
	}
}

// 18.16 qualifies only a materialised view's own name: its TO and FROM
// tables must name the database, or a DDL worker running in another one
// answers "default.consent_log doesn't exist".
func TestQualifyViews(t *testing.T) {
	ms, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	views := 0
	for _, m := range ms {
		for _, s := range m.Statements {
			got := clickhouse.QualifyViews(s, "db1")
			if !strings.HasPrefix(s, "CREATE MATERIALIZED VIEW") {
				if got != s {
					t.Errorf("%s: not a view, but rewritten: %s", m.Name, got)
				}
				continue
			}
			views++
			for _, kw := range []string{" TO ", "FROM "} {
				i := strings.Index(got, kw)
				if i < 0 || !strings.HasPrefix(got[i+len(kw):], "db1.") {
					t.Errorf("%s: %q table not qualified: %s", m.Name, kw, got)
				}
			}
			if c := clickhouse.OnCluster(got, "c1"); !strings.Contains(c, " ON CLUSTER c1 TO db1.") {
				t.Errorf("%s: %s", m.Name, c)
			}
		}
	}
	if views != 3 {
		t.Errorf("%d materialised views in the migrations, want 3", views)
	}
	if got := clickhouse.QualifyViews("CREATE MATERIALIZED VIEW IF NOT EXISTS v TO x.t AS SELECT a FROM x.s", "db1"); got != "CREATE MATERIALIZED VIEW IF NOT EXISTS v TO x.t AS SELECT a FROM x.s" {
		t.Errorf("a qualified name was qualified again: %s", got)
	}
}

// The evidence a batch writes goes in with insert_quorum; nothing else does.
func TestQuorumInsert(t *testing.T) {
	for q, want := range map[string]bool{
		"INSERT INTO consent_log (record_id, consent_id)": true,
		"INSERT INTO consent_batches (batch_id)":          true,
		"INSERT INTO log_leaves (log_id)":                 true,
		"INSERT INTO log_nodes (log_id)":                  true,
		"INSERT INTO log_heads (log_id)":                  true,
		"INSERT INTO consent_log_x (a)":                   false,
		"INSERT INTO sites (site)":                        false,
		"INSERT INTO schema_migrations (version)":         false,
		"SELECT count() FROM consent_log":                 false,
	} {
		if got := clickhouse.QuorumInsert(q); got != want {
			t.Errorf("%s: quorum %v, want %v", q, got, want)
		}
	}
	if clickhouse.DDLTaskTimout >= 60 {
		t.Errorf("ON CLUSTER wait %d s is not below the connection's 60 s read timeout", clickhouse.DDLTaskTimout)
	}
}

// A start sends the fsync settings only to tables without them: on a
// cluster every such ALTER is ON CLUSTER and waits for the other nodes.
// engine_full as current releases write it after MODIFY SETTING (seen on
// chdb); 18.16 has no such settings.
func TestFsyncPending(t *testing.T) {
	set := []string{"fsync_after_insert = 1", "fsync_part_directory = 1"}
	for engine, want := range map[string]bool{
		"ReplicatedReplacingMergeTree('/p', '{replica}') ORDER BY x SETTINGS index_granularity = 8192":                                                   true,
		"ReplicatedReplacingMergeTree('/p', '{replica}') ORDER BY x SETTINGS index_granularity = 8192, fsync_after_insert = 1":                           true,
		"ReplicatedReplacingMergeTree('/p', '{replica}') ORDER BY x SETTINGS index_granularity = 8192, fsync_after_insert = 1, fsync_part_directory = 1": false,
		"ReplacingMergeTree ORDER BY x SETTINGS fsync_part_directory = 1, fsync_after_insert = 1, index_granularity = 8192":                              false,
		"": true, // not there: the ALTER names it
	} {
		if got := clickhouse.FsyncPending(engine, set); got != want {
			t.Errorf("%q: pending %v, want %v", engine, got, want)
		}
	}
}
