package service_test

// Durability on real processes: a power cut that takes ClickHouse's newest
// parts with it, and a batch ClickHouse refuses for good.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/shipper"
	"github.com/samtycke/samtycke/server/internal/spool"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// postConsents posts n decisions from 8 workers and returns their event ids.
func postConsents(t *testing.T, base string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	next := make(chan string)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				body := fmt.Sprintf(`{"site":"demo","consent_id":%q,"event_id":%q,"config_version":1,`+
					`"choices":{"necessary":true,"preferences":true,"statistics":false,"marketing":false},`+
					`"method":"custom","lang":"sv","url":"https://shop.example/p"}`, uuid.NewString(), id)
				res, err := http.Post(base+"/v1/consents", "application/json", strings.NewReader(body))
				if err != nil {
					errs <- err
					continue
				}
				res.Body.Close()
				if res.StatusCode != 201 {
					errs <- fmt.Errorf("status %d", res.StatusCode)
				}
			}
		}()
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("posting a decision: %v", err)
	}
	return ids
}

// scrape reads one sample from a Prometheus text page: url is /metrics of
// the public listener (with the test token) or of SAMTYCKE_METRICS_LISTEN.
func scrape(t *testing.T, url, name string) float64 {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, res.StatusCode)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("%s has no %s", url, name)
	return 0
}

func waitMetric(t *testing.T, url, name string, want float64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		got := scrape(t, url, name)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %v after 30 s, want %v", name, got, want)
		}
	}
}

// evidence counts, without FINAL (a copy too many shows), what a batch
// writes: rows and distinct event ids in consent_log, rows of the view
// consent_by_id, leaves and distinct record ids in log_leaves, heads, and
// batch manifests.
type evidence struct {
	Rows, Events, ByID, Leaves, LeafRecords, Heads, Manifests uint64
}

func (e evidence) String() string {
	return fmt.Sprintf("consent_log %d rows (%d event ids), consent_by_id %d, log_leaves %d (%d record ids), log_heads %d, consent_batches %d",
		e.Rows, e.Events, e.ByID, e.Leaves, e.LeafRecords, e.Heads, e.Manifests)
}

func countEvidence(t *testing.T, st *clickhouse.Store) evidence {
	t.Helper()
	ctx := context.Background()
	var e evidence
	for _, q := range []struct {
		sql  string
		dest []any
	}{
		{"SELECT count(), uniqExact(event_id) FROM consent_log", []any{&e.Rows, &e.Events}},
		{"SELECT count() FROM consent_by_id", []any{&e.ByID}},
		{"SELECT count(), uniqExact(record_id) FROM log_leaves", []any{&e.Leaves, &e.LeafRecords}},
		{"SELECT count() FROM log_heads", []any{&e.Heads}},
		{"SELECT count() FROM consent_batches", []any{&e.Manifests}},
	} {
		if err := st.Conn().QueryRow(ctx, q.sql).Scan(q.dest...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return e
}

// eventCounts is how often each of ids is in consent_log.
func eventCounts(t *testing.T, st *clickhouse.Store, ids []string) map[int]int {
	t.Helper()
	rows, err := st.Conn().Query(context.Background(), "SELECT event_id, count() FROM consent_log GROUP BY event_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	in := map[string]uint64{}
	for rows.Next() {
		var id string
		var n uint64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		in[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	hist := map[int]int{}
	for _, id := range ids {
		hist[int(in[id])]++
	}
	return hist
}

type part struct{ table, name, path string }

// activeParts lists the data parts of the database's tables.
func activeParts(t *testing.T, st *clickhouse.Store) map[string]part {
	t.Helper()
	rows, err := st.Conn().Query(context.Background(), "SELECT table, name, path FROM system.parts WHERE database = currentDatabase() AND active")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]part{}
	for rows.Next() {
		var p part
		if err := rows.Scan(&p.table, &p.name, &p.path); err != nil {
			t.Fatal(err)
		}
		out[p.table+"/"+p.name] = p
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// stopMerges keeps ClickHouse from merging (which would fold copies and
// hide a duplicate, or mix old rows into a new part) and waits for merges
// under way to end.
func stopMerges(t *testing.T, st *clickhouse.Store) {
	t.Helper()
	ctx := context.Background()
	if err := st.Conn().Exec(ctx, "SYSTEM STOP MERGES"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.merges").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("merges still running 20 s after SYSTEM STOP MERGES")
		}
	}
}

func openStore(t *testing.T, url string) *clickhouse.Store {
	t.Helper()
	st, err := clickhouse.Open(context.Background(), url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// losePower stops ClickHouse, deletes the parts it would not have written
// to disk yet, and starts it again.
func losePower(t *testing.T, ch *testutil.Proc, gone []part) {
	t.Helper()
	ch.Stop()
	for _, p := range gone {
		if !strings.Contains(p.path, "/data/") {
			t.Fatalf("part path %q is not in a data directory", p.path)
		}
		if err := os.RemoveAll(p.path); err != nil {
			t.Fatal(err)
		}
	}
	ch.Start()
}

// A power cut takes ClickHouse's newest parts with it (18.16 never fsyncs
// them): the parts of a confirmed batch are deleted from ClickHouse's data
// directory while it is stopped, and samtycke is killed with -9. At the
// restart it ships the batches it confirmed within SAMTYCKE_SPOOL_KEEP
// again: every row, leaf and head is back, once; the batch before it, which
// ClickHouse kept, is not stored twice.
func TestPowerLossAfterConfirm(t *testing.T) {
	chURL, ch := testutil.PrivateClickHouse(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	base := "http://" + listen
	data := t.TempDir()
	srv := testutil.Samtycke(t, listen, serverEnv(chURL, testutil.RedisURL(), data, listen)...)
	srv.Start()
	st := openStore(t, chURL)

	kept := postConsents(t, base, 200)
	waitMetric(t, base+"/metrics", "samtycke_shipper_rows_total", 200)
	stopMerges(t, st)
	old := activeParts(t, st)
	lost := postConsents(t, base, 300)
	waitMetric(t, base+"/metrics", "samtycke_shipper_rows_total", 500)
	batches := scrape(t, base+"/metrics", "samtycke_shipper_batches_total")
	before := countEvidence(t, st)
	if before.Rows != 500 || before.Events != 500 || before.Leaves != 500 {
		t.Fatalf("before the power cut: %v", before)
	}

	var gone []part
	tables := map[string]int{}
	for key, p := range activeParts(t, st) {
		if _, ok := old[key]; !ok {
			gone = append(gone, p)
			tables[p.table]++
		}
	}
	for _, tbl := range []string{"consent_log", "consent_by_id", "log_leaves", "log_heads", "consent_batches"} {
		if tables[tbl] == 0 {
			t.Fatalf("the second batch wrote no part to %s (new parts: %v)", tbl, tables)
		}
	}
	// The cut: samtycke dies, ClickHouse stops, and the parts it had not
	// written are gone. 18.16 has no ALTER TABLE … DROP PART or DETACH PART
	// (syntax errors, code 62) and DETACH PARTITION takes the older batch's
	// rows along, so the part folders go while it is stopped.
	srv.Kill()
	losePower(t, ch, gone)
	st = openStore(t, chURL)
	stopMerges(t, st)
	after := countEvidence(t, st)
	if after.Rows != 200 || after.Leaves != 200 {
		t.Fatalf("after deleting the second batch's parts: %v", after)
	}

	srv.Start() // listens once the replay is done
	restarted := countEvidence(t, st)
	t.Logf("before the power cut: %v", before)
	t.Logf("after the lost parts (%d parts in %d tables): %v", len(gone), len(tables), after)
	t.Logf("after the restart: %v", restarted)
	if restarted != before {
		t.Errorf("after the restart: %v; want as before the power cut: %v", restarted, before)
	}
	if h := eventCounts(t, st, kept); h[1] != len(kept) {
		t.Errorf("decisions of the batch ClickHouse kept, by copies in consent_log: %v", h)
	}
	if h := eventCounts(t, st, lost); h[1] != len(lost) {
		t.Errorf("decisions of the batch ClickHouse lost, by copies in consent_log: %v", h)
	}
	if got := scrape(t, base+"/metrics", "samtycke_shipper_replayed_total"); got != batches {
		t.Errorf("samtycke_shipper_replayed_total %v, want the %v batches confirmed before the kill", got, batches)
	}
	if s := readyStatus(t, base); s != "ready" {
		t.Errorf("/readyz after the restart: %s", s)
	}
	// The logs go on from where they were.
	postConsents(t, base, 10)
	waitMetric(t, base+"/metrics", "samtycke_shipper_rows_total", 10)
	e := countEvidence(t, st)
	if e.Rows != 510 || e.Events != 510 || e.Leaves != 510 || e.LeafRecords != 510 {
		t.Errorf("after 10 more: %v", e)
	}
	t.Logf("after 10 more: %v", e)

	// And an auditor's bundle of the day verifies: every leaf has its row.
	cli := func(args ...string) (stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(testutil.Binary(t), args...)
		cmd.Env = append(os.Environ(), "SAMTYCKE_DATA_DIR="+data, "SAMTYCKE_CLICKHOUSE_URL="+chURL, "SAMTYCKE_LOG_LEVEL=warn")
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("samtycke %v: %v\n%s%s", args, err, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	dir := t.TempDir()
	trusted, bundle := filepath.Join(dir, "trusted.json"), filepath.Join(dir, "bundle.zip")
	cli("log", "keys", "--out", trusted)
	day := time.Now().UTC().Format(time.DateOnly)
	if _, stderr := cli("export", "--site", "demo", "--from", day, "--to", day, "--format", "ndjson", "--out", bundle); !strings.Contains(stderr, "510 records of") {
		t.Errorf("export after the restart: %s", stderr)
	}
	if out, _ := cli("verify", "--trust", trusted, bundle); !strings.Contains(strings.SplitN(out, "\n", 2)[0], " verifies.") {
		t.Errorf("verify of the export after the restart:\n%s", out)
	}
}

// A record ClickHouse refuses for good (a method its Enum8 lacks; the
// ingest never writes one, so it is put in the spool before the start)
// does not block shipping: its batch goes to the quarantine, counted in
// samtycke_shipper_quarantined_total, /readyz says degraded, and the next
// decision reaches ClickHouse. Once the table takes the value, `samtycke
// spool quarantine retry` stores it at its place in the evidence log.
func TestPoisonBatchQuarantined(t *testing.T) {
	chURL := testutil.ClickHouseURL(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	base := "http://" + listen
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", testutil.FreePort(t))
	data := t.TempDir()
	spoolDir := filepath.Join(data, "spool")
	sp, err := spool.Open(spoolDir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	poison := consent.Record{RecordID: uuid.Must(uuid.NewV7()), ConsentID: uuid.New(), EventID: uuid.NewString(), Site: "demo",
		RecordedAt: now, ConfigVersion: 1, ConfigHash: "h", Lang: "sv", Categories: []string{"necessary"}, Granted: []bool{true},
		Method: "bogus", Source: consent.SourceBanner, PageOrigin: "https://shop.example", PagePath: "/", RetainUntil: consent.RetainUntil(now, 24)}
	if _, err := sp.Append(poison.Encode()); err != nil {
		t.Fatal(err)
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	env := append(serverEnv(chURL, testutil.RedisURL(), data, listen), "SAMTYCKE_METRICS_LISTEN="+strings.TrimSuffix(strings.TrimPrefix(metricsURL, "http://"), "/metrics"))
	srv := testutil.Samtycke(t, listen, env...)
	srv.Start()
	st := openStore(t, chURL)

	waitMetric(t, metricsURL, "samtycke_shipper_quarantined_total", 1)
	qs, err := shipper.ListQuarantine(spoolDir)
	if err != nil || len(qs) != 1 || len(qs[0].Records) != 1 || !strings.Contains(qs[0].Error, `unknown element "bogus"`) {
		t.Fatalf("quarantine: %+v %v", qs, err)
	}
	if s := readyStatus(t, base); s != "degraded" {
		t.Errorf("/readyz with a batch in the quarantine: %s, want degraded", s)
	}
	next := postConsents(t, base, 1)
	for deadline := time.Now().Add(20 * time.Second); eventCounts(t, st, next)[1] != 1; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the decision after the refused batch is not in ClickHouse after 20 s")
		}
	}
	t.Logf("quarantined: batch %d, %d record, error %q; the next decision is in ClickHouse once; samtycke_shipper_quarantined_total %v; /readyz %s",
		qs[0].Seq, len(qs[0].Records), qs[0].Error, scrape(t, metricsURL, "samtycke_shipper_quarantined_total"), "degraded")

	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(testutil.Binary(t), args...)
		cmd.Env = append(os.Environ(), "SAMTYCKE_DATA_DIR="+data)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("samtycke %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := cli("spool", "quarantine", "list"); !strings.Contains(out, `unknown element "bogus"`) || !strings.Contains(out, shipper.QuarantineFile(qs[0].Seq)) {
		t.Errorf("quarantine list:\n%s", out)
	}
	var line struct {
		RecordID string `json:"record_id"`
		LogID    string `json:"log_id"`
		Leaf     uint64 `json:"leaf_index"`
	}
	if err := json.Unmarshal([]byte(cli("spool", "quarantine", "export")), &line); err != nil || line.RecordID != poison.RecordID.String() || line.LogID == "" {
		t.Fatalf("quarantine export: %+v %v", line, err)
	}

	// The operator lets the table take the value and sends the batch back,
	// with the server running.
	if err := st.Conn().Exec(context.Background(), "ALTER TABLE consent_log MODIFY COLUMN method Enum8('accept_all' = 1, 'reject_all' = 2, 'custom' = 3, 'withdraw' = 4, 'gpc' = 5, 'bogus' = 6)"); err != nil {
		t.Fatal(err)
	}
	cli("spool", "quarantine", "retry", strconv.FormatUint(qs[0].Seq, 10))
	waitMetric(t, metricsURL, "samtycke_shipper_retried_total", 1)
	var logID string
	var leaf uint64
	if err := st.Conn().QueryRow(context.Background(), "SELECT log_id, leaf_index FROM consent_log WHERE record_id = ?", poison.RecordID).Scan(&logID, &leaf); err != nil {
		t.Fatalf("the retried record is not in consent_log: %v", err)
	}
	var leafRecord uuid.UUID
	if err := st.Conn().QueryRow(context.Background(), "SELECT record_id FROM log_leaves WHERE log_id = ? AND leaf_index = ?", logID, leaf).Scan(&leafRecord); err != nil || leafRecord != poison.RecordID ||
		logID != line.LogID || leaf != line.Leaf {
		t.Errorf("the retried row is at %s/%d (exported at %s/%d), whose leaf is record %s (%v); want %s", logID, leaf, line.LogID, line.Leaf, leafRecord, err, poison.RecordID)
	}
	if s := readyStatus(t, base); s != "ready" {
		t.Errorf("/readyz with the quarantine empty again: %s", s)
	}
}

// ClickHouse loses power while samtycke keeps running: the parts of a
// confirmed batch are gone when it comes back. The running instance sees
// the restart (ClickHouse's start time) and ships its kept batches again:
// every row, leaf and head is back, once, without a restart of samtycke.
func TestClickHouseRestartUnderARunningInstance(t *testing.T) {
	chURL, ch := testutil.PrivateClickHouse(t)
	listen := fmt.Sprintf("127.0.0.1:%d", testutil.FreePort(t))
	base := "http://" + listen
	srv := testutil.Samtycke(t, listen, serverEnv(chURL, testutil.RedisURL(), t.TempDir(), listen)...)
	srv.Start()
	st := openStore(t, chURL)

	postConsents(t, base, 100)
	waitMetric(t, base+"/metrics", "samtycke_shipper_rows_total", 100)
	stopMerges(t, st)
	old := activeParts(t, st)
	lost := postConsents(t, base, 150)
	waitMetric(t, base+"/metrics", "samtycke_shipper_rows_total", 250)
	before := countEvidence(t, st)

	var gone []part
	for key, p := range activeParts(t, st) {
		if _, ok := old[key]; !ok {
			gone = append(gone, p)
		}
	}
	losePower(t, ch, gone)
	st = openStore(t, chURL)
	stopMerges(t, st)
	after := countEvidence(t, st)
	if after.Rows != 100 {
		t.Fatalf("after deleting the second batch's parts: %v", after)
	}
	deadline := time.Now().Add(90 * time.Second)
	for countEvidence(t, st) != before {
		if time.Now().After(deadline) {
			t.Fatalf("90 s after ClickHouse came back: %v; want as before the power cut: %v", countEvidence(t, st), before)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("before the cut: %v; after the lost parts (%d): %v; back: %v", before, len(gone), after, countEvidence(t, st))
	if h := eventCounts(t, st, lost); h[1] != len(lost) {
		t.Errorf("decisions of the lost batch, by copies in consent_log: %v", h)
	}
	if got := scrape(t, base+"/metrics", "samtycke_shipper_replayed_total"); got < 1 {
		t.Errorf("samtycke_shipper_replayed_total %v after a ClickHouse restart", got)
	}
}
