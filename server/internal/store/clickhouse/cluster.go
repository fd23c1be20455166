package clickhouse

import (
	"context"
	"regexp"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// A ClickHouse cluster is an option of the URL:
// clickhouse://host1:9000,host2:9000/samtycke?cluster=NAME. Then every
// table is created ON CLUSTER NAME with a Replicated* engine (one shard,
// every node a replica: consent volumes never need sharding), so each
// instance may write to any node and a node can be lost.
//
// Schema work ON CLUSTER waits for every node, so it runs only when there is
// some: a start whose schema is current sends no ON CLUSTER statement and
// starts while a replica is down. Retention drops partitions of Replicated
// tables, which ZooKeeper carries to every replica (also to one that is down
// now), so it needs no ON CLUSTER either. The evidence a shipped batch
// writes is inserted with insert_quorum = every replica, so a confirmed
// batch is on all of them. The cluster (remote_servers, macros, a ZooKeeper
// or ClickHouse Keeper, and a distributed_ddl profile) is the operator's.

var (
	createRe = regexp.MustCompile(`^(CREATE (?:TABLE|MATERIALIZED VIEW|VIEW) IF NOT EXISTS (\w+))`)
	alterRe  = regexp.MustCompile(`^(ALTER TABLE (\w+))`)
	engineRe = regexp.MustCompile(`ENGINE = (Replacing|Summing|Aggregating)?MergeTree(\(([^)]*)\))?`)
	// A view's source and target: 18.16 qualifies only the view's own name
	// with the query's database, and a DDL worker runs it in another.
	viewTablesRe = regexp.MustCompile(`\b(TO|FROM) (\w+)\b([^.]|$)`)
)

// qualifyViews names database in the TO and FROM tables of a materialised
// view; other statements are returned as they are.
func qualifyViews(stmt, database string) string {
	if !strings.HasPrefix(stmt, "CREATE MATERIALIZED VIEW") {
		return stmt
	}
	return viewTablesRe.ReplaceAllString(stmt, "$1 "+database+".$2$3")
}

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

// quorumTables are the tables a shipped batch writes: its rows, its
// manifest and its evidence-log entries.
var quorumTables = []string{"consent_log", "consent_batches", "log_leaves", "log_nodes", "log_heads"}

// quorumInsertTimeoutMs bounds how long a quorum insert waits for the other
// replicas (18.16's default is 10 minutes): well below the connection's read
// timeout, so the shipper hears of a lost replica and retries the batch.
const quorumInsertTimeoutMs = 15_000

// quorumConn inserts into quorumTables with insert_quorum = replicas. A
// batch that misses its quorum fails and is shipped again; the copy already
// on one replica makes the retry a deduplicated block there.
type quorumConn struct {
	driver.Conn
	settings ch.Settings
}

func newQuorumConn(conn driver.Conn, replicas int) *quorumConn {
	return &quorumConn{Conn: conn, settings: ch.Settings{"insert_quorum": replicas, "insert_quorum_timeout": quorumInsertTimeoutMs}}
}

func (c *quorumConn) PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error) {
	if quorumInsert(query) {
		ctx = ch.Context(ctx, ch.WithSettings(c.settings))
	}
	return c.Conn.PrepareBatch(ctx, query, opts...)
}

func quorumInsert(query string) bool {
	for _, t := range quorumTables {
		if rest, ok := strings.CutPrefix(query, "INSERT INTO "+t); ok && (rest == "" || rest[0] == ' ' || rest[0] == '(') {
			return true
		}
	}
	return false
}
