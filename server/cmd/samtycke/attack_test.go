package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/bundle"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/demo"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// evidence is a consent log written through the ledger by instance "inst":
// three days of decisions of the demo site, the middle one (day2) exported,
// and decisions of another site in the same batches. Some of each site's
// records had a short retention that has passed and whose partitions the
// retention job dropped: their absence is legal.
type evidence struct {
	st      *clickhouse.Store
	url     string
	dir     string // the instance's data directory
	vars    map[string]string
	trusted string // samtycke log keys --out
	day2    time.Time
	// IDs of day2 records, by kind.
	withdrawals []string
	batch3      []string
	all2        []string
}

func newEvidence(t *testing.T) *evidence {
	t.Helper()
	ctx := context.Background()
	e := &evidence{url: testutil.ClickHouseURL(t), dir: t.TempDir(), day2: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}
	st, err := clickhouse.Open(ctx, e.url, testutil.Logger(t))
	if err != nil {
		testutil.ClickHouse(t) // skips or fails with the reason
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := demo.Seed(ctx, st, siteconfig.NewProvider(st, memory.New(100), time.Second, testutil.Logger(t)), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	w, err := ledger.Open(ctx, st, st, ledger.Options{Dir: e.dir, Instance: "inst", Log: testutil.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	rec := func(site string, at time.Time, retain time.Time) consent.Record {
		n++
		r := consent.Record{RecordID: uuid.New(), ConsentID: uuid.New(), EventID: formulas[n%len(formulas)], Site: site, RecordedAt: at,
			ConfigVersion: v.Number, ConfigHash: v.Hash, Lang: "sv", Categories: []string{"necessary", "statistics"},
			Granted: []bool{true, n%2 == 0}, Method: consent.MethodCustom, Source: consent.SourceBanner, PageOrigin: "https://demo.example",
			PagePath: "/", RetainUntil: retain}
		if n%8 == 3 { // n is odd for demo's records
			r.Method, r.Granted = consent.MethodWithdraw, []bool{true, false}
		}
		return r
	}
	long := e.day2.AddDate(2, 0, 0)
	short := time.Date(2026, 7, 31, 0, 0, 0, 0, time.UTC) // passed, and partition 202607 is dropped below
	var batches [][]consent.Record
	day := func(d time.Time, count int, batch int, retain func(i int) time.Time) {
		for len(batches) <= batch {
			batches = append(batches, nil)
		}
		for i := range count {
			at := d.Add(time.Duration(8*3600+i*60) * time.Second)
			batches[batch] = append(batches[batch], rec("demo", at, retain(i)), rec("other", at, short))
		}
	}
	always := func(int) time.Time { return long }
	day(e.day2.AddDate(0, 0, -1), 10, 0, always)
	day(e.day2, 20, 1, func(i int) time.Time {
		if i%7 == 3 {
			return short
		}
		return long
	})
	day(e.day2.Add(12*time.Hour), 10, 2, always)
	day(e.day2.AddDate(0, 0, 1), 10, 2, always)
	day(e.day2.AddDate(0, 0, 1).Add(12*time.Hour), 10, 3, always)
	for i, b := range batches {
		if err := w.AppendBatch(ctx, consent.NewBatch("inst", uint64(i+1), b)); err != nil {
			t.Fatal(err)
		}
		for _, r := range b {
			at := r.RecordedAt
			if r.Site != "demo" || at.Before(e.day2) || !at.Before(e.day2.AddDate(0, 0, 1)) || r.RetainUntil.Equal(short) {
				continue
			}
			e.all2 = append(e.all2, r.RecordID.String())
			if r.Method == consent.MethodWithdraw {
				e.withdrawals = append(e.withdrawals, r.RecordID.String())
			}
			if i == 2 {
				e.batch3 = append(e.batch3, r.RecordID.String())
			}
		}
	}
	// What retention does with the rows whose term has passed.
	if err := st.DropPartition(ctx, "202607"); err != nil {
		t.Fatal(err)
	}
	e.vars = map[string]string{"SAMTYCKE_CLICKHOUSE_URL": e.url, "SAMTYCKE_DATA_DIR": e.dir, "SAMTYCKE_LOG_LEVEL": "warn"}
	e.trusted = filepath.Join(t.TempDir(), "trusted.json")
	if _, stderr, err := runCLI(t, e.vars, "log", "keys", "--out", e.trusted); err != nil || !strings.Contains(stderr, "fingerprint") {
		t.Fatalf("log keys: %v %s", err, stderr)
	}
	return e
}

// export runs samtycke export of day2 against the database at dbURL (the
// instance's own data directory when onInstance).
func (e *evidence) export(t *testing.T, dbURL string, onInstance bool, site string, extra ...string) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bundle.zip")
	vars := map[string]string{"SAMTYCKE_CLICKHOUSE_URL": dbURL, "SAMTYCKE_LOG_LEVEL": "warn", "SAMTYCKE_DATA_DIR": t.TempDir()}
	if onInstance {
		vars["SAMTYCKE_DATA_DIR"] = e.dir
	}
	args := append([]string{"export", "--site", site, "--from", "2026-05-04", "--to", "2026-05-04", "--out", out}, extra...)
	_, stderr, err := runCLI(t, vars, args...)
	if err != nil {
		return "", fmt.Errorf("%w (%s)", err, strings.TrimSpace(stderr))
	}
	return out, nil
}

// verify runs samtycke verify and returns its exit code and the first line
// of what it said.
func verify(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	stdout, stderr, err := runCLI(t, nil, append([]string{"verify"}, args...)...)
	code := 0
	switch {
	case errors.Is(err, errUntrusted):
		code = 3
	case err != nil:
		code = 1
		stdout = err.Error() + "\n" + stdout
	}
	first, _, _ := strings.Cut(stdout, "\n")
	return code, first, stdout + stderr
}

// clone copies the evidence database, so that each attack has real data
// of its own to change.
func (e *evidence) clone(t *testing.T) (*clickhouse.Store, string) {
	t.Helper()
	ctx := context.Background()
	dst := testutil.ClickHouseURL(t)
	src, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	d, err := url.Parse(dst)
	if err != nil {
		t.Fatal(err)
	}
	from, to := strings.TrimPrefix(src.Path, "/"), strings.TrimPrefix(d.Path, "/")
	conn := e.st.Conn()
	if err := conn.Exec(ctx, "CREATE DATABASE "+to); err != nil {
		t.Fatal(err)
	}
	rows, err := conn.Query(ctx, "SELECT name FROM system.tables WHERE database = ? AND engine NOT LIKE '%View%' ORDER BY name", from)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if strings.HasPrefix(tb, ".inner") {
			continue
		}
		if err := conn.Exec(ctx, fmt.Sprintf("CREATE TABLE %s.%s AS %s.%s", to, tb, from, tb)); err != nil {
			t.Fatal(err)
		}
		if err := conn.Exec(ctx, fmt.Sprintf("INSERT INTO %s.%s SELECT * FROM %s.%s", to, tb, from, tb)); err != nil {
			t.Fatal(err)
		}
	}
	st, err := clickhouse.Open(ctx, dst, testutil.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, dst
}

// sql runs statements; ALTER … DELETE is waited for with the count given.
func sql(t *testing.T, st *clickhouse.Store, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	for _, s := range stmts {
		if err := st.Conn().Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	// Mutations run in the background: wait for all of them.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM system.mutations WHERE database = currentDatabase() AND is_done = 0").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("mutations did not finish")
		}
	}
}

func quoted(ids []string) string {
	return "'" + strings.Join(ids, "', '") + "'"
}

// rezip rewrites a bundle through edit and recomputes the manifest's file
// hashes, as an attacker who edits a bundle would.
func rezip(t *testing.T, path string, edit func(files map[string][]byte, m *bundle.Manifest)) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	var order []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name] = b
		order = append(order, f.Name)
	}
	zr.Close()
	var m bundle.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	edit(files, &m)
	m.Files = map[string]string{}
	for name, b := range files {
		if name != "manifest.json" {
			m.Files[name] = sha256hex(b)
		}
	}
	mb, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	files["manifest.json"] = mb
	out := filepath.Join(t.TempDir(), "edited.zip")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name := range files {
		if !contains(order, name) {
			order = append(order, name)
		}
	}
	for _, name := range order {
		b, ok := files[name]
		if !ok {
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func sha256hex(b []byte) string {
	h := sha256Sum(b)
	return hex.EncodeToString(h[:])
}

// csvLines edits records.csv line by line (the header and BOM stay).
func csvLines(files map[string][]byte, m *bundle.Manifest, edit func(lines []string) []string) {
	text := string(files["records.csv"])
	lines := strings.SplitAfter(text, "\r\n")
	lines = lines[:len(lines)-1] // the empty string after the last CRLF
	body := edit(append([]string(nil), lines[1:]...))
	files["records.csv"] = []byte(lines[0] + strings.Join(body, ""))
	m.Rows = uint64(len(body))
	if len(m.Logs) > 0 {
		m.Logs[0].Exported = uint64(len(body))
	}
}

const demoLog = "demo@inst"

func TestAttacksOnTheEvidence(t *testing.T) {
	e := newEvidence(t)
	base, err := e.export(t, e.url, true, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if code, first, all := verify(t, "--trust", e.trusted, base); code != 0 || !strings.HasSuffix(first, "verifies.") || !strings.Contains(all, "expired") {
		t.Fatalf("untouched data: exit %d\n%s", code, all)
	}
	// The expiry is real: some records of the period are gone, legally.
	if _, _, all := verify(t, "--trust", e.trusted, base); !strings.Contains(all, fmt.Sprintf("%d exported, 3 expired", len(e.all2))) {
		t.Errorf("want %d exported and 3 expired:\n%s", len(e.all2), all)
	}
	// The other site's short retention touches nothing of demo's; its own
	// bundle verifies with all of its records of the day expired.
	other, err := e.export(t, e.url, false, "other")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, all := verify(t, "--trust", e.trusted, other); code != 0 || !strings.Contains(all, "0 exported, 30 expired") {
		t.Errorf("the other site: exit %d\n%s", code, all)
	}
	if code, _, all := verify(t, base); code != 3 || !strings.Contains(all, "fingerprint") && !strings.Contains(all, "signed by:") {
		t.Errorf("without --trust: exit %d, want 3\n%s", code, all)
	}

	db := []struct {
		name   string
		attack func(t *testing.T, st *clickhouse.Store)
		want   string // in verify's message (or export's refusal)
		// onInstance exports with the instance's data directory, as the
		// server and `samtycke export` on the instance do.
		onInstance bool
	}{
		{"one record deleted", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "ALTER TABLE consent_log DELETE WHERE record_id = '"+e.all2[5]+"'")
		}, "record_id " + e.all2[5] + ", logged", false},
		{"every withdrawal of the day deleted", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "ALTER TABLE consent_log DELETE WHERE record_id IN ("+quoted(e.withdrawals)+")")
		}, "has no record in the bundle although its retention lasts: the record was deleted", false},
		{"a whole batch deleted", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "ALTER TABLE consent_log DELETE WHERE record_id IN ("+quoted(e.batch3)+")")
		}, "record_id " + e.batch3[0], false},
		{"two rows deleted and a forged one put in a place", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "INSERT INTO consent_log (record_id, consent_id, event_id, batch_id, site, recorded_at, recorded_ms, config_version, config_hash, lang, categories, granted, method, source, gpc, ua_browser, ua_os, ua_device, ip_prefix, page_origin, page_path, retain_until, log_id, leaf_index) SELECT generateUUIDv4(), consent_id, event_id, batch_id, site, recorded_at, recorded_ms, config_version, config_hash, lang, categories, [1, 1], 'accept_all', source, gpc, ua_browser, ua_os, ua_device, ip_prefix, page_origin, page_path, retain_until, log_id, (SELECT any(leaf_index) FROM consent_log WHERE record_id = '"+e.all2[2]+"') FROM consent_log WHERE record_id = '"+e.all2[4]+"'",
				"ALTER TABLE consent_log DELETE WHERE record_id IN ('"+e.all2[2]+"', '"+e.all2[3]+"')")
		}, "the record was added, or moved", false},
		{"a forged row beside a real one", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "INSERT INTO consent_log (record_id, consent_id, event_id, batch_id, site, recorded_at, recorded_ms, config_version, config_hash, lang, categories, granted, method, source, gpc, ua_browser, ua_os, ua_device, ip_prefix, page_origin, page_path, retain_until, log_id, leaf_index) SELECT generateUUIDv4(), consent_id, event_id, batch_id, site, recorded_at, recorded_ms, config_version, config_hash, lang, categories, granted, method, source, gpc, ua_browser, ua_os, ua_device, ip_prefix, page_origin, page_path, retain_until, log_id, leaf_index FROM consent_log WHERE record_id = '"+e.all2[4]+"'")
		}, "a row was inserted behind the log's back", false},
		{"a record's choice changed in place", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "INSERT INTO consent_log (record_id, consent_id, event_id, batch_id, site, recorded_at, recorded_ms, config_version, config_hash, lang, categories, granted, method, source, gpc, ua_browser, ua_os, ua_device, ip_prefix, page_origin, page_path, retain_until, log_id, leaf_index) SELECT record_id, consent_id, event_id, batch_id, site, recorded_at, recorded_ms, config_version, config_hash, lang, categories, [1, 1], method, source, gpc, ua_browser, ua_os, ua_device, ip_prefix, page_origin, page_path, retain_until, log_id, leaf_index FROM consent_log WHERE record_id = '"+e.all2[7]+"'",
				"ALTER TABLE consent_log DELETE WHERE record_id = '"+e.all2[7]+"' AND granted[2] = 0")
		}, "record_id " + e.all2[7] + "): it is not the record leaf", false},
		{"the newest leaves, rows and heads dropped (export on the instance)", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "ALTER TABLE log_leaves DELETE WHERE log_id = 'demo@inst' AND leaf_index >= 40",
				"ALTER TABLE log_heads DELETE WHERE log_id = 'demo@inst' AND tree_size > 40",
				"ALTER TABLE consent_log DELETE WHERE site = 'demo' AND leaf_index >= 40")
		}, "the log was rolled back", true},
		{"the oldest leaves dropped", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "ALTER TABLE log_leaves DELETE WHERE log_id = 'demo@inst' AND leaf_index < 10")
		}, "is not stored", false},
		{"every record of the period dropped", func(t *testing.T, st *clickhouse.Store) {
			sql(t, st, "ALTER TABLE consent_log DELETE WHERE site = 'demo' AND toDate(recorded_at) = '2026-05-04'")
		}, "has no record in the bundle although its retention lasts", false},
		{"an attacker's key and heads inserted", func(t *testing.T, st *clickhouse.Store) {
			forgeHead(t, st)
		}, "does not chain to a trusted key", false},
	}
	for _, a := range db {
		t.Run("db/"+a.name, func(t *testing.T) {
			st, dst := e.clone(t)
			a.attack(t, st)
			path, err := e.export(t, dst, a.onInstance, "demo")
			if err != nil {
				if !strings.Contains(err.Error(), a.want) {
					t.Fatalf("export refused, but not as wanted (%q): %v", a.want, err)
				}
				t.Logf("export refuses: %v", err)
				return
			}
			code, first, all := verify(t, "--trust", e.trusted, path)
			if code != 1 || !strings.Contains(all, a.want) {
				t.Fatalf("exit %d, want 1 naming %q:\n%s", code, a.want, all)
			}
			t.Logf("exit %d: %s", code, first)
		})
	}

	bundleAttacks := []struct {
		name string
		edit func(files map[string][]byte, m *bundle.Manifest)
		want string
	}{
		{"an empty leaves file added", func(f map[string][]byte, _ *bundle.Manifest) {
			f["leaves/"+uuid.NewString()+".bin"] = nil
		}, "is not a file a bundle has"},
		{"a record's choice changed", func(f map[string][]byte, m *bundle.Manifest) {
			csvLines(f, m, func(l []string) []string {
				l[3] = strings.Replace(l[3], "[true,false]", "[true,true]", 1)
				l[3] = strings.Replace(l[3], `"[""necessary"",""statistics""]","[true,false]"`, `"[""necessary"",""statistics""]","[true,true]"`, 1)
				return l
			})
		}, "line 5"},
		{"a record deleted", func(f map[string][]byte, m *bundle.Manifest) {
			csvLines(f, m, func(l []string) []string { return append(l[:6], l[7:]...) })
		}, "has no record in the bundle although its retention lasts"},
		{"a record duplicated", func(f map[string][]byte, m *bundle.Manifest) {
			csvLines(f, m, func(l []string) []string { return append(l[:6], append([]string{l[5]}, l[6:]...)...) })
		}, "records were moved or duplicated"},
		{"two records swapped", func(f map[string][]byte, m *bundle.Manifest) {
			csvLines(f, m, func(l []string) []string { l[2], l[3] = l[3], l[2]; return l })
		}, "records were moved or duplicated"},
		{"the newest leaves and records cut off", func(f map[string][]byte, m *bundle.Manifest) {
			cutLeaves(t, f, m, false)
		}, "the newest were dropped"},
		{"the oldest leaves and records cut off", func(f map[string][]byte, m *bundle.Manifest) {
			cutLeaves(t, f, m, true)
		}, "range.json"},
		{"the period widened from one day to two months", func(_ map[string][]byte, m *bundle.Manifest) {
			m.Query.From = m.Query.From.AddDate(0, -1, 0)
			m.Query.To = m.Query.To.AddDate(0, 1, 0)
		}, "is not before the period"},
		{"the manifest's counts changed", func(_ map[string][]byte, m *bundle.Manifest) {
			m.Logs[0].Expired = 0
		}, "manifest.json's counts for log demo@inst"},
		{"the log removed from the bundle", func(f map[string][]byte, m *bundle.Manifest) {
			for name := range f {
				if strings.HasPrefix(name, "logs/") {
					delete(f, name)
				}
			}
			m.Logs = nil
			csvLines(f, m, func([]string) []string { return nil })
		}, "the log was dropped"},
		{"the keys and head replaced by an attacker's", func(f map[string][]byte, _ *bundle.Manifest) {
			resignHead(t, f)
		}, "does not chain to a trusted key"},
		{"a version's texts changed", func(f map[string][]byte, _ *bundle.Manifest) {
			for name, b := range f {
				if strings.HasPrefix(name, "versions/") {
					f[name] = bytes.Replace(b, []byte("cookies"), []byte("kakor"), 1)
				}
			}
		}, "its texts were changed"},
	}
	for _, a := range bundleAttacks {
		t.Run("bundle/"+a.name, func(t *testing.T) {
			path := rezip(t, base, a.edit)
			code, first, all := verify(t, "--trust", e.trusted, path)
			if code != 1 || !strings.Contains(all, a.want) {
				t.Fatalf("exit %d, want 1 naming %q:\n%s", code, a.want, all)
			}
			t.Logf("exit %d: %s", code, first)
		})
	}
}

// cutLeaves removes the first or last leaves of the period from the
// bundle, with their records, and shifts range.json to match.
func cutLeaves(t *testing.T, f map[string][]byte, m *bundle.Manifest, oldest bool) {
	t.Helper()
	dir := bundle.LogDir(demoLog)
	var rf bundle.RangeFile
	if err := json.Unmarshal(f[dir+"range.json"], &rf); err != nil {
		t.Fatal(err)
	}
	leaves := f[dir+"leaves.bin"]
	var entries [][]byte
	for len(leaves) > 0 {
		n := int(leaves[0])<<8 | int(leaves[1])
		entries, leaves = append(entries, leaves[:2+n]), leaves[2+n:]
	}
	const cut = 5
	if oldest {
		entries = entries[cut:]
		rf.Begin += cut
		m.Logs[0].Begin += cut
		csvLines(f, m, func(l []string) []string { return l[cut-1:] })
	} else {
		entries = entries[:len(entries)-cut]
		rf.End -= cut
		m.Logs[0].End -= cut
		csvLines(f, m, func(l []string) []string { return l[:len(l)-cut+1] })
	}
	f[dir+"leaves.bin"] = bytes.Join(entries, nil)
	b, err := json.Marshal(rf)
	if err != nil {
		t.Fatal(err)
	}
	f[dir+"range.json"] = b
}

// attackerKey is a key nobody trusts, published as inst's.
func attackerKey(t *testing.T) (ed25519.PrivateKey, ledger.PublicKey) {
	t.Helper()
	dir := t.TempDir()
	k, err := ledger.LoadKey(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := os.ReadFile(filepath.Join(dir, ledger.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := hex.DecodeString(strings.TrimSpace(string(seed)))
	if err != nil {
		t.Fatal(err)
	}
	return ed25519.NewKeyFromSeed(s), k.Published("inst", time.Now())
}

func signHead(priv ed25519.PrivateKey, pub ledger.PublicKey, h *ledger.Head) {
	h.KeyID = pub.ID
	h.Signature = hex.EncodeToString(ed25519.Sign(priv, h.Message()))
}

// forgeHead publishes an attacker's key in ClickHouse and a head it signed
// over a log with one more (forged) leaf.
func forgeHead(t *testing.T, st *clickhouse.Store) {
	t.Helper()
	ctx := context.Background()
	priv, pub := attackerKey(t)
	if err := st.PutKey(ctx, pub); err != nil {
		t.Fatal(err)
	}
	h, err := st.NewestHead(ctx, demoLog)
	if err != nil {
		t.Fatal(err)
	}
	var root [32]byte
	if _, err := rand.Read(root[:]); err != nil {
		t.Fatal(err)
	}
	forged := ledger.Head{Log: demoLog, Size: h.Size, Root: hex.EncodeToString(root[:]), Timestamp: h.Timestamp + 1000}
	signHead(priv, pub, &forged)
	if err := st.AppendHeads(ctx, []ledger.Head{forged}, 0); err != nil {
		t.Fatal(err)
	}
}

// resignHead replaces a bundle's keys with an attacker's and re-signs the
// head with it.
func resignHead(t *testing.T, f map[string][]byte) {
	t.Helper()
	priv, pub := attackerKey(t)
	name := bundle.LogDir(demoLog) + "head.json"
	var h ledger.Head
	if err := json.Unmarshal(f[name], &h); err != nil {
		t.Fatal(err)
	}
	signHead(priv, pub, &h)
	var err error
	if f[name], err = json.Marshal(h); err != nil {
		t.Fatal(err)
	}
	if f["keys.json"], err = json.Marshal(ledger.KeysDoc{Keys: []ledger.PublicKey{pub}}); err != nil {
		t.Fatal(err)
	}
}

// A restart after an attacker put their own key and a forged head into
// ClickHouse refuses to continue the log, and one after the newest head
// was deleted restores it; saved heads catch a log cut short later.
func TestRestartAndSavedHeads(t *testing.T) {
	e := newEvidence(t)
	ctx := context.Background()
	forgeHead(t, e.st)
	_, err := ledger.Open(ctx, e.st, e.st, ledger.Options{Dir: e.dir, Instance: "inst", Log: testutil.Logger(t)})
	if !errors.Is(err, ledger.ErrLogExists) || !strings.Contains(err.Error(), "log demo@inst: ClickHouse's newest head is not signed by this instance's keys") {
		t.Fatalf("a forged head at start: %v", err)
	}
	sql(t, e.st, "ALTER TABLE log_heads DELETE WHERE key_id != '"+mustKeyID(t, e.dir)+"'")
	if _, err := ledger.Open(ctx, e.st, e.st, ledger.Options{Dir: e.dir, Instance: "inst", Log: testutil.Logger(t)}); err != nil {
		t.Fatal(err)
	}
	// An auditor saves the heads (here: an earlier bundle), the log is
	// cut short in ClickHouse, and a later export from another machine
	// looks complete by itself, but not beside the saved heads.
	old, err := e.export(t, e.url, false, "demo")
	if err != nil {
		t.Fatal(err)
	}
	st, dst := e.clone(t)
	sql(t, st, "ALTER TABLE log_leaves DELETE WHERE log_id = 'demo@inst' AND leaf_index >= 45",
		"ALTER TABLE log_heads DELETE WHERE log_id = 'demo@inst' AND tree_size > 45")
	cut, err := e.export(t, dst, false, "demo")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, all := verify(t, "--trust", e.trusted, cut); code != 1 && !strings.Contains(all, "ends inside the period") {
		t.Errorf("a log cut short, alone: exit %d and no claim about its end:\n%s", code, all)
	}
	if code, _, all := verify(t, "--trust", e.trusted, "--since", old, cut); code != 1 || !strings.Contains(all, "rolled back") {
		t.Errorf("a log cut short, beside the saved heads: exit %d\n%s", code, all)
	}
	if code, _, all := verify(t, "--trust", e.trusted, "--since", old, old); code != 0 {
		t.Errorf("a bundle beside its own heads: exit %d\n%s", code, all)
	}
}

func mustKeyID(t *testing.T, dir string) string {
	t.Helper()
	k, err := ledger.LoadKey(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	return k.ID
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
