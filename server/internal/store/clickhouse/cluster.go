package clickhouse

import (
	"regexp"
	"strings"
)

// A ClickHouse cluster is an option of the URL:
// clickhouse://host1:9000,host2:9000/samtycke?cluster=NAME. Then every
// table is created ON CLUSTER NAME with a Replicated* engine (one shard,
// every node a replica: consent volumes never need sharding), so each
// instance may write to any node and a node can be lost. Migrations, schema
// changes and retention run ON CLUSTER too. The cluster (remote_servers
// and a ZooKeeper or ClickHouse Keeper) is the operator's to configure.

var (
	createRe = regexp.MustCompile(`^(CREATE (?:TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS (\w+))`)
	alterRe  = regexp.MustCompile(`^(ALTER TABLE (\w+))`)
	engineRe = regexp.MustCompile(`ENGINE = (Replacing|Summing|Aggregating)?MergeTree(\(([^)]*)\))?`)
)

// onCluster rewrites one DDL statement for cluster; with no cluster it is
// returned as it is.
func onCluster(stmt, cluster string) string {
	if cluster == "" {
		return stmt
	}
	if m := createRe.FindStringSubmatch(stmt); m != nil {
		table := m[2]
		stmt = strings.Replace(stmt, m[1], m[1]+" ON CLUSTER "+cluster, 1)
		return engineRe.ReplaceAllStringFunc(stmt, func(e string) string {
			em := engineRe.FindStringSubmatch(e)
			args := "'/clickhouse/tables/{shard}/{database}/" + table + "', '{replica}'"
			if em[3] != "" {
				args += ", " + em[3]
			}
			return "ENGINE = Replicated" + em[1] + "MergeTree(" + args + ")"
		})
	}
	if m := alterRe.FindStringSubmatch(stmt); m != nil {
		return strings.Replace(stmt, m[1], m[1]+" ON CLUSTER "+cluster, 1)
	}
	return stmt
}
