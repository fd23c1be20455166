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
