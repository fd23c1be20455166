package spool

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitTimeout only guards against a hang; no test depends on how fast anything is.
const waitTimeout = 20 * time.Second

func open(t testing.TB, dir string, opts Options) *Spool {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func closeSpool(t testing.TB, s *Spool) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func mustAppend(t testing.TB, s *Spool, payloads ...[]byte) Pos {
	t.Helper()
	end, err := s.Append(payloads...)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return end
}

// readAll reads every record from from on, in batches of batch records.
func readAll(t testing.TB, s *Spool, from Pos, batch int) []Record {
	t.Helper()
	var all []Record
	for {
		recs, next, err := s.Read(from, batch, 0)
		if err != nil {
			t.Fatalf("Read(%v): %v", from, err)
		}
		if len(recs) == 0 {
			return all
		}
		all = append(all, recs...)
		from = next
	}
}

func payload(i int) []byte { return fmt.Appendf(nil, "record %06d", i) }

func payloads(n int) [][]byte {
	ps := make([][]byte, n)
	for i := range ps {
		ps[i] = payload(i)
	}
	return ps
}

// checkData fails unless recs carry exactly want, in order.
func checkData(t testing.TB, recs []Record, want [][]byte) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if !bytes.Equal(r.Data, want[i]) {
			t.Fatalf("record %d at %v = %q, want %q", i, r.Pos, r.Data, want[i])
		}
		if i > 0 && !recs[i-1].Pos.Less(r.Pos) {
			t.Fatalf("record %d at %v is not after %v", i, r.Pos, recs[i-1].Pos)
		}
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	return names
}

func segName(seq uint64) string { return fmt.Sprintf("%020d%s", seq, segSuffix) }

// waitFor polls cond until it holds, failing the test at waitTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRoundTrip(t *testing.T) {
	sized := func(n int) [][]byte {
		ps := make([][]byte, n)
		for i := range ps {
			ps[i] = bytes.Repeat([]byte{byte('a' + i%26)}, i%90) // 0 to 89 bytes, empty included
		}
		return ps
	}
	tests := []struct {
		name         string
		segmentBytes int64
		payloads     [][]byte
		perAppend    int
		minSegments  int
	}{
		{"one segment", 0, sized(60), 1, 1},
		{"rolls", 100, sized(60), 1, 20},
		{"batched appends across rolls", 100, sized(60), 7, 20},
		{"records larger than a segment", 16, [][]byte{bytes.Repeat([]byte("x"), 100), []byte("y"), bytes.Repeat([]byte("z"), 50)}, 2, 3},
		{"largest record", 0, [][]byte{bytes.Repeat([]byte("m"), MaxRecordBytes), []byte("after")}, 1, 1},
	}
	reads := []struct{ max, maxBytes int }{{0, 0}, {1, 0}, {3, 0}, {0, 50}, {5, 1}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, t.TempDir(), Options{SegmentBytes: tt.segmentBytes})
			var ends []Pos
			for i := 0; i < len(tt.payloads); i += tt.perAppend {
				ends = append(ends, mustAppend(t, s, tt.payloads[i:min(i+tt.perAppend, len(tt.payloads))]...))
			}
			if got := s.End(); got != ends[len(ends)-1] {
				t.Errorf("End = %v, want the last Append's %v", got, ends[len(ends)-1])
			}
			if st := s.Stats(); st.Segments < tt.minSegments || st.Records != int64(len(tt.payloads)) {
				t.Errorf("Stats = %+v, want >= %d segments and %d records", st, tt.minSegments, len(tt.payloads))
			}
			for _, rd := range reads {
				var all []Record
				from := Pos{}
				for {
					recs, next, err := s.Read(from, rd.max, rd.maxBytes)
					if err != nil {
						t.Fatalf("Read: %v", err)
					}
					if len(recs) == 0 {
						if next != s.End() {
							t.Fatalf("read everything but next = %v, End = %v", next, s.End())
						}
						break
					}
					size := 0
					for _, r := range recs {
						size += len(r.Data)
					}
					if rd.max > 0 && len(recs) > rd.max || rd.maxBytes > 0 && len(recs) > 1 && size > rd.maxBytes {
						t.Fatalf("Read(max %d, maxBytes %d) returned %d records of %d bytes", rd.max, rd.maxBytes, len(recs), size)
					}
					all = append(all, recs...)
					from = next
				}
				checkData(t, all, tt.payloads)
				// Every record's position reads that record first.
				for i, r := range all {
					recs, _, err := s.Read(r.Pos, 1, 0)
					if err != nil || len(recs) != 1 || !bytes.Equal(recs[0].Data, tt.payloads[i]) {
						t.Fatalf("Read(%v) = %d records, %v; want record %d", r.Pos, len(recs), err, i)
					}
				}
			}
			// Each Append's end is just after its last record.
			all := readAll(t, s, Pos{}, 0)
			for i, end := range ends {
				last := all[min((i+1)*tt.perAppend, len(all))-1]
				want := Pos{last.Pos.Segment, last.Pos.Offset + int64(headerSize+len(last.Data))}
				if end != want {
					t.Errorf("Append %d returned %v, want %v", i, end, want)
				}
			}
		})
	}
}

func TestAppendErrors(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	if _, err := s.Append(make([]byte, MaxRecordBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Append(too large) = %v, want ErrTooLarge", err)
	}
	if end, err := s.Append(); err != nil || end != (Pos{1, 0}) {
		t.Errorf("Append() = %v, %v; want the end, nil", end, err)
	}
	if _, _, err := s.Read(Pos{1, 1}, 0, 0); err == nil {
		t.Error("Read beyond End succeeded")
	}
	if _, _, err := s.Read(Pos{2, 0}, 0, 0); err == nil {
		t.Error("Read beyond the last segment succeeded")
	}
	if _, err := Open(dir, Options{}); err == nil {
		t.Error("a second Open of the same directory succeeded")
	}
}

func TestConcurrentAppend(t *testing.T) {
	const goroutines, each = 16, 150
	s := open(t, t.TempDir(), Options{SegmentBytes: 4 << 10})
	ends := make([][]Pos, goroutines)
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				end, err := s.Append(fmt.Appendf(nil, "%d/%d", g, i))
				if err != nil {
					errs <- err
					return
				}
				ends[g] = append(ends[g], end)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Append: %v", err)
	}
	next := make([]int, goroutines)
	for _, r := range readAll(t, s, Pos{}, 500) {
		var g, i int
		if _, err := fmt.Sscanf(string(r.Data), "%d/%d", &g, &i); err != nil {
			t.Fatalf("record %q: %v", r.Data, err)
		}
		if i != next[g] {
			t.Fatalf("goroutine %d: got record %d, want %d (lost, doubled or out of order)", g, i, next[g])
		}
		if want := (Pos{r.Pos.Segment, r.Pos.Offset + int64(headerSize+len(r.Data))}); ends[g][i] != want {
			t.Fatalf("Append %d/%d returned %v, record ends at %v", g, i, ends[g][i], want)
		}
		next[g]++
	}
	for g, n := range next {
		if n != each {
			t.Errorf("goroutine %d: %d records, want %d", g, n, each)
		}
	}
	if st := s.Stats(); st.Segments < 2 {
		t.Errorf("Stats.Segments = %d, want rolls", st.Segments)
	}
}

// gatedSync returns an OnSync that blocks the writer in its first call until gate is closed,
// so that a test can queue Appends behind a running fsync, and counts syncs and records.
func gatedSync(gate <-chan struct{}, syncs, records *atomic.Int64) func(time.Duration, int) {
	return func(_ time.Duration, n int) {
		records.Add(int64(n))
		if syncs.Add(1) == 1 {
			<-gate
		}
	}
}

func TestGroupCommit(t *testing.T) {
	const followers = 40
	gate := make(chan struct{})
	var syncs, records atomic.Int64
	s := open(t, t.TempDir(), Options{OnSync: gatedSync(gate, &syncs, &records)})
	errs := make(chan error, followers+1)
	go func() { _, err := s.Append([]byte("first")); errs <- err }()
	waitFor(t, "the first fsync", func() bool { return syncs.Load() == 1 })
	for i := range followers {
		go func() { _, err := s.Append(payload(i)); errs <- err }()
	}
	waitFor(t, "the followers to queue", func() bool { return s.Stats().Queued == followers })
	close(gate)
	for range followers + 1 {
		if err := <-errs; err != nil {
			t.Fatalf("Append: %v", err)
		}
	}
	if n := syncs.Load(); n >= followers+1 || n != 2 {
		t.Errorf("%d fsyncs for %d appends, want 2 (one for the first, one for the group)", n, followers+1)
	}
	if n := records.Load(); n != followers+1 {
		t.Errorf("OnSync reported %d records, want %d", n, followers+1)
	}
	if n := len(readAll(t, s, Pos{}, 0)); n != followers+1 {
		t.Errorf("read %d records, want %d", n, followers+1)
	}
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 200}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := payloads(40)
	for _, p := range want[:30] {
		mustAppend(t, s, p)
	}
	end := s.End()
	closeSpool(t, s)
	if _, err := s.Append([]byte("late")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}

	s = open(t, dir, opts)
	if got := s.End(); got != end {
		t.Errorf("End after reopen = %v, want %v", got, end)
	}
	rec := s.Recovery()
	if rec.Records != 30 || rec.Corrupt != 0 || rec.TornBytes != 0 || rec.Segments < 2 {
		t.Errorf("Recovery = %+v, want 30 clean records in several segments", rec)
	}
	for _, p := range want[30:] {
		mustAppend(t, s, p)
	}
	checkData(t, readAll(t, s, Pos{}, 7), want)
}

// writeRecords appends n records to a new spool in dir and closes it, returning the records
// as read back (with their positions).
func writeRecords(t *testing.T, dir string, opts Options, n int) []Record {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range payloads(n) {
		mustAppend(t, s, p)
	}
	recs := readAll(t, s, Pos{}, 0)
	closeSpool(t, s)
	return recs
}

func without(recs []Record, i int) [][]byte {
	var out [][]byte
	for j, r := range recs {
		if j != i {
			out = append(out, r.Data)
		}
	}
	return out
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestTornTail(t *testing.T) {
	const n = 10
	frame := int64(headerSize + len(payload(0)))
	tests := []struct {
		name string
		cut  func(start int64) int64 // the new size of the last segment, given its last frame's start
		kept int
	}{
		{"one byte of the last frame", func(start int64) int64 { return start + 1 }, n - 1},
		{"inside the last header", func(start int64) int64 { return start + 6 }, n - 1},
		{"inside the last payload", func(start int64) int64 { return start + headerSize + 3 }, n - 1},
		{"one byte short", func(start int64) int64 { return start + frame - 1 }, n - 1},
	}
	for _, segmentBytes := range []int64{0, 5 * frame} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/segment %d", tt.name, segmentBytes), func(t *testing.T) {
				dir := t.TempDir()
				recs := writeRecords(t, dir, Options{SegmentBytes: segmentBytes}, n)
				last := recs[n-1].Pos
				path := filepath.Join(dir, segName(last.Segment))
				if err := os.Truncate(path, tt.cut(last.Offset)); err != nil {
					t.Fatal(err)
				}
				torn := tt.cut(last.Offset) - last.Offset // the partial last frame
				if tt.kept == n {
					torn -= frame // only what follows the last frame
				}

				s := open(t, dir, Options{SegmentBytes: segmentBytes})
				if rec := s.Recovery(); rec.TornBytes != torn || rec.Corrupt != 0 || rec.Records != int64(tt.kept) {
					t.Errorf("Recovery = %+v, want %d torn bytes, %d records, none corrupt", rec, torn, tt.kept)
				}
				wantSize := last.Offset
				if tt.kept == n {
					wantSize = last.Offset + frame
				}
				// Cut, and prepared again: zeros follow the last whole frame.
				if data, err := os.ReadFile(path); err != nil {
					t.Fatal(err)
				} else if int64(len(data)) < wantSize || !allZero(data[wantSize:]) {
					t.Errorf("last segment is %d bytes, want the torn frame gone after its first %d", len(data), wantSize)
				}
				mustAppend(t, s, []byte("after recovery"))
				want := append(without(recs, n)[:tt.kept], []byte("after recovery"))
				checkData(t, readAll(t, s, Pos{}, 3), want)
				if st := s.Stats(); st.Corrupt != 0 {
					t.Errorf("Stats.Corrupt = %d, want 0", st.Corrupt)
				}
			})
		}
	}
}

func TestFlippedByte(t *testing.T) {
	const n, victim = 12, 5
	frame := headerSize + len(payload(0))
	tests := []struct {
		name   string
		offset int  // in the victim's frame
		xor    byte // applied to that byte
	}{
		{"magic", 0, 0x01},
		{"length, smaller", 4, 0x01},
		{"length, larger", 4, 0x10},
		{"length, beyond the maximum", 7, 0x80},
		{"crc", 9, 0x40},
		{"payload", headerSize + 3, 0x01},
		{"last payload byte", frame - 1, 0xFF},
	}
	segmentBytes := []struct {
		name string
		size int64
	}{
		{"one segment", 0},
		{"sealed segment", int64(3 * frame)},
		{"active segment", int64((victim + 3) * frame)}, // victim in the last segment, not at its end
	}
	for _, sb := range segmentBytes {
		for _, tt := range tests {
			t.Run(sb.name+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				opts := Options{SegmentBytes: sb.size}
				recs := writeRecords(t, dir, opts, n)
				at := recs[victim].Pos
				path := filepath.Join(dir, segName(at.Segment))
				data, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				data[at.Offset+int64(tt.offset)] ^= tt.xor
				if err := os.WriteFile(path, data, 0o640); err != nil {
					t.Fatal(err)
				}

				s := open(t, dir, opts)
				rec := s.Recovery()
				if rec.Corrupt != 1 || rec.Records != n-1 || rec.TornBytes != 0 || rec.CorruptBytes != int64(frame) {
					t.Errorf("Recovery = %+v, want 1 corrupt record of %d bytes, %d records, nothing torn", rec, frame, n-1)
				}
				if got := fileSize(t, path); got != int64(len(data)) {
					t.Errorf("segment size %d after recovery, want %d: nothing is cut", got, len(data))
				}
				want := without(recs, victim)
				for range 2 { // a second pass must not count the record again
					checkData(t, readAll(t, s, Pos{}, 2), want)
				}
				// Reading from the corrupt record's position skips it.
				got, _, err := s.Read(at, 1, 0)
				if err != nil || len(got) != 1 || !bytes.Equal(got[0].Data, recs[victim+1].Data) {
					t.Errorf("Read(%v) = %v, %v; want record %d", at, got, err, victim+1)
				}
				if st := s.Stats(); st.Corrupt != 1 {
					t.Errorf("Stats.Corrupt = %d, want 1", st.Corrupt)
				}
			})
		}
	}
}

// TestCorruptionFoundByRead covers a record damaged after Open: Read skips and counts it once.
func TestCorruptionFoundByRead(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	for _, p := range payloads(5) {
		mustAppend(t, s, p)
	}
	recs := readAll(t, s, Pos{}, 0)
	f, err := os.OpenFile(filepath.Join(dir, segName(1)), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{'#'}, recs[2].Pos.Offset+headerSize); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		checkData(t, readAll(t, s, Pos{}, 0), without(recs, 2))
	}
	if st := s.Stats(); st.Corrupt != 1 {
		t.Errorf("Stats.Corrupt = %d, want 1", st.Corrupt)
	}
}

func TestEmptySegments(t *testing.T) {
	segment := func(ps ...[]byte) []byte {
		var b []byte
		for _, p := range ps {
			b = appendFrame(b, p)
		}
		return b
	}
	tests := []struct {
		name     string
		files    map[uint64][]byte
		want     [][]byte
		activeSq uint64
	}{
		{"only an empty segment", map[uint64][]byte{1: nil}, nil, 1},
		{"empty first, middle and last", map[uint64][]byte{
			3: nil, 4: segment([]byte("a"), []byte("b")), 5: nil, 6: segment([]byte("c")), 7: nil,
		}, [][]byte{[]byte("a"), []byte("b"), []byte("c")}, 7},
		{"gap in the numbers", map[uint64][]byte{2: segment([]byte("a")), 9: segment([]byte("b"))},
			[][]byte{[]byte("a"), []byte("b")}, 9},
		{"no segment", map[uint64][]byte{}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for seq, data := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, segName(seq)), data, 0o640); err != nil {
					t.Fatal(err)
				}
			}
			// Files that are not segments are left alone.
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o640); err != nil {
				t.Fatal(err)
			}
			s := open(t, dir, Options{})
			if rec := s.Recovery(); rec.Corrupt != 0 || rec.TornBytes != 0 || rec.Records != int64(len(tt.want)) {
				t.Errorf("Recovery = %+v, want %d clean records", rec, len(tt.want))
			}
			checkData(t, readAll(t, s, Pos{}, 0), tt.want)
			end := mustAppend(t, s, []byte("new"))
			if end.Segment != tt.activeSq {
				t.Errorf("appended to segment %d, want the last one, %d", end.Segment, tt.activeSq)
			}
			checkData(t, readAll(t, s, Pos{}, 1), append(tt.want, []byte("new")))
		})
	}
}

func TestLargeSegment(t *testing.T) {
	const n, batch = 100_000, 1000
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := payloads(n)
	for i := 0; i < n; i += batch {
		mustAppend(t, s, want[i:i+batch]...)
	}
	closeSpool(t, s)

	// Damage one record in the middle, so recovery has to resync inside the big segment.
	s = open(t, dir, Options{})
	at := readAll(t, s, Pos{}, 10_000)[n/2].Pos
	segments := s.Recovery().Segments
	closeSpool(t, s)
	path := filepath.Join(dir, segName(at.Segment))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[at.Offset+headerSize] ^= 0xFF
	if err := os.WriteFile(path, data, 0o640); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir, Options{})
	if rec := s.Recovery(); rec.Segments != segments || rec.Records != n-1 || rec.Corrupt != 1 || rec.TornBytes != 0 {
		t.Errorf("Recovery = %+v, want %d records and 1 corrupt in %d segments", rec, n-1, segments)
	}
	want = append(want[:n/2:n/2], want[n/2+1:]...)
	checkData(t, readAll(t, s, Pos{}, 10_000), want)
}

func TestRelease(t *testing.T) {
	dir := t.TempDir()
	frame := int64(headerSize + len(payload(0)))
	s := open(t, dir, Options{SegmentBytes: 3 * frame}) // 3 records per segment
	want := payloads(10)
	for _, p := range want {
		mustAppend(t, s, p)
	}
	if got := segmentFiles(t, dir); len(got) != 4 {
		t.Fatalf("segments %v, want 4", got)
	}
	recs, next, err := s.Read(Pos{}, 5, 0)
	if err != nil {
		t.Fatal(err)
	}
	if next != (Pos{2, 2 * frame}) || len(recs) != 5 {
		t.Fatalf("Read 5 = %d records, next %v", len(recs), next)
	}

	steps := []struct {
		name    string
		pos     Pos
		files   []uint64
		from    Pos // reading from here
		records int // finds this many records
	}{
		{"nothing before the start", Pos{}, []uint64{1, 2, 3, 4}, Pos{}, 10},
		{"inside segment 1", Pos{1, frame}, []uint64{1, 2, 3, 4}, Pos{}, 10},
		{"inside segment 2", next, []uint64{2, 3, 4}, Pos{}, 7},
		{"again", next, []uint64{2, 3, 4}, next, 5},
		{"backwards", Pos{1, 0}, []uint64{2, 3, 4}, Pos{}, 7},
		{"end of sealed segment 2", Pos{2, 3 * frame}, []uint64{3, 4}, Pos{2, frame}, 4},
		{"start of segment 4", Pos{4, 0}, []uint64{4}, Pos{}, 1},
		{"the end: the active segment stays", s.End(), []uint64{4}, Pos{}, 1},
	}
	for _, st := range steps {
		if err := s.Release(st.pos); err != nil {
			t.Fatalf("%s: Release(%v): %v", st.name, st.pos, err)
		}
		var files []string
		for _, seq := range st.files {
			files = append(files, segName(seq))
		}
		if got := segmentFiles(t, dir); fmt.Sprint(got) != fmt.Sprint(files) {
			t.Fatalf("%s: segments %v, want %v", st.name, got, files)
		}
		if got := readAll(t, s, st.from, 0); len(got) != st.records {
			t.Fatalf("%s: read %d records from %v, want %d", st.name, len(got), st.from, st.records)
		}
	}
	if st := s.Stats(); st.Segments != 1 || st.Unreleased != 0 || st.Bytes != frame {
		t.Errorf("Stats = %+v, want 1 segment of %d bytes, none unreleased", st, frame)
	}
	if err := s.Release(Pos{4, 2 * frame}); err == nil {
		t.Error("Release beyond End succeeded")
	}
}

func TestBudget(t *testing.T) {
	frame := int64(headerSize + len(payload(0)))
	s := open(t, t.TempDir(), Options{MaxBytes: 5 * frame, SegmentBytes: 2 * frame})
	for i := range 4 {
		mustAppend(t, s, payload(i))
	}
	end := s.End()
	if _, err := s.Append(payload(4), payload(5)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append of 2 with room for 1 = %v, want ErrFull", err)
	}
	if s.End() != end {
		t.Fatal("a refused Append wrote something")
	}
	mustAppend(t, s, payload(4))
	if _, err := s.Append(payload(5)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append past the budget = %v, want ErrFull", err)
	}
	if st := s.Stats(); st.Unreleased != 5*frame {
		t.Errorf("Stats.Unreleased = %d, want %d", st.Unreleased, 5*frame)
	}

	recs, next, err := s.Read(Pos{}, 3, 0)
	if err != nil || len(recs) != 3 {
		t.Fatalf("Read: %d records, %v", len(recs), err)
	}
	if err := s.Release(next); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Unreleased != 2*frame {
		t.Errorf("Stats.Unreleased after Release = %d, want %d", st.Unreleased, 2*frame)
	}
	for i := 5; i < 8; i++ {
		mustAppend(t, s, payload(i))
	}
	if _, err := s.Append(payload(8)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append past the budget again = %v, want ErrFull", err)
	}
	// Releasing everything, inside the active segment too, frees the whole budget.
	if err := s.Release(s.End()); err != nil {
		t.Fatal(err)
	}
	for i := 8; i < 13; i++ {
		mustAppend(t, s, payload(i))
	}
	checkData(t, readAll(t, s, s.Stats().Released, 0), payloads(13)[8:])
}

func TestNotify(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ch := s.Notify()
	select {
	case <-ch:
		t.Fatal("Notify fired before any Append")
	default:
	}
	mustAppend(t, s, []byte("wake up"))
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatal("Notify did not fire after Append")
	}
	ch = s.Notify()
	select {
	case <-ch:
		t.Fatal("a fresh Notify channel is already closed")
	default:
	}
	closeSpool(t, s)
	select {
	case <-ch:
	case <-time.After(waitTimeout):
		t.Fatal("Notify did not fire on Close")
	}
}

func TestCloseWithAppendsInFlight(t *testing.T) {
	t.Run("queued appends are flushed", func(t *testing.T) {
		const queued = 20
		dir := t.TempDir()
		gate := make(chan struct{})
		var syncs, records atomic.Int64
		s, err := Open(dir, Options{OnSync: gatedSync(gate, &syncs, &records)})
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, queued+1)
		go func() { _, err := s.Append([]byte("first")); errs <- err }()
		waitFor(t, "the first fsync", func() bool { return syncs.Load() == 1 })
		for i := range queued {
			go func() { _, err := s.Append(payload(i)); errs <- err }()
		}
		waitFor(t, "the appends to queue", func() bool { return s.Stats().Queued == queued })
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		waitFor(t, "Close to begin", func() bool {
			_, _, err := s.Read(Pos{}, 1, 0) // unlike Append, Read does not queue
			return errors.Is(err, ErrClosed)
		})
		if _, err := s.Append([]byte("late")); !errors.Is(err, ErrClosed) {
			t.Errorf("Append during Close = %v, want ErrClosed", err)
		}
		close(gate)
		for range queued + 1 {
			if err := <-errs; err != nil {
				t.Errorf("queued Append: %v", err)
			}
		}
		if err := <-closed; err != nil {
			t.Fatalf("Close: %v", err)
		}
		s = open(t, dir, Options{})
		if got := readAll(t, s, Pos{}, 0); len(got) != queued+1 {
			t.Errorf("%d records after reopen, want %d", len(got), queued+1)
		}
	})
	t.Run("racing appends succeed or get ErrClosed", func(t *testing.T) {
		dir := t.TempDir()
		s, err := Open(dir, Options{SegmentBytes: 1 << 10})
		if err != nil {
			t.Fatal(err)
		}
		var acked sync.Map
		var wg sync.WaitGroup
		bad := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					p := fmt.Sprintf("%d/%d", g, i)
					_, err := s.Append([]byte(p))
					if errors.Is(err, ErrClosed) {
						return
					}
					if err != nil {
						bad <- err
						return
					}
					acked.Store(p, true)
				}
			})
		}
		waitFor(t, "some appends", func() bool { return s.Stats().Records >= 50 })
		closeSpool(t, s)
		wg.Wait()
		close(bad)
		for err := range bad {
			t.Fatalf("Append during Close: %v", err)
		}
		s = open(t, dir, Options{})
		found := map[string]bool{}
		for _, r := range readAll(t, s, Pos{}, 0) {
			found[string(r.Data)] = true
		}
		acked.Range(func(k, _ any) bool {
			if !found[k.(string)] {
				t.Errorf("acknowledged record %s lost", k)
			}
			return true
		})
	})
}

// OnCommit sees the tags of each group commit once its records are fsynced,
// before the Appends return, and only tagged Appends.
func TestOnCommitSeesEachGroupsTags(t *testing.T) {
	type slot struct{ commit int64 }
	var commits atomic.Int64
	var durable atomic.Int64 // records fsynced, as OnSync reports them
	var s *Spool
	s = open(t, t.TempDir(), Options{
		OnSync: func(_ time.Duration, records int) { durable.Add(int64(records)) },
		OnCommit: func(tags []any) {
			n := commits.Add(1)
			for _, tag := range tags {
				sl := tag.(*slot)
				if sl.commit != 0 {
					t.Errorf("a tag seen by two commits")
				}
				sl.commit = n
			}
			if got := s.Stats().Records; got < int64(len(tags)) {
				t.Errorf("OnCommit with %d tags before they are durable (%d records)", len(tags), got)
			}
		},
	})
	const writers = 32
	slots := make([]slot, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%4 == 0 { // untagged: not in any commit's tags
				if _, err := s.Append([]byte("untagged")); err != nil {
					t.Error(err)
				}
				return
			}
			if _, err := s.AppendTagged(&slots[i], []byte(fmt.Sprint("tagged ", i))); err != nil {
				t.Error(err)
			}
			if slots[i].commit == 0 {
				t.Errorf("AppendTagged %d returned before OnCommit saw its tag", i)
			}
		}()
	}
	wg.Wait()
	for i := range slots {
		if i%4 == 0 && slots[i].commit != 0 {
			t.Errorf("untagged Append %d reached OnCommit", i)
		}
	}
	if c, st := commits.Load(), s.Stats(); c == 0 || c > st.Syncs {
		t.Errorf("%d commits for %d fsyncs", c, st.Syncs)
	}
	if durable.Load() != writers {
		t.Errorf("%d records durable, want %d", durable.Load(), writers)
	}
}

// Released segments stay for Options.Keep, outside the budget, so that what was shipped
// from them can be shipped again; a later Release deletes them.
func TestReleaseKeep(t *testing.T) {
	dir := t.TempDir()
	frame := int64(headerSize + len(payload(0)))
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := open(t, dir, Options{SegmentBytes: 3 * frame, MaxBytes: 7 * frame, Keep: time.Minute, Now: clock})
	for _, p := range payloads(7) { // segments 1, 2 full, 3 holds one
		mustAppend(t, s, p)
	}
	if err := s.Release(Pos{2, 3 * frame}); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); len(got) != 3 {
		t.Fatalf("segments right after Release: %v, want all 3 kept", got)
	}
	if st := s.Stats(); st.Unreleased != frame || st.Kept != 6*frame {
		t.Fatalf("Stats = %+v, want %d unreleased and %d kept", st, frame, 6*frame)
	}
	// Kept bytes are outside the budget.
	for _, p := range payloads(12)[7:] {
		mustAppend(t, s, p)
	}
	checkData(t, readAll(t, s, Pos{}, 0), payloads(12))
	advance(59 * time.Second)
	if err := s.Release(Pos{3, 0}); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); len(got) != 4 {
		t.Fatalf("segments before Keep has passed: %v, want 4", got)
	}
	advance(time.Second)
	if err := s.Release(Pos{2, 3 * frame}); err != nil { // an older position deletes what is due
		t.Fatal(err)
	}
	if got, want := segmentFiles(t, dir), []string{segName(3), segName(4)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("segments once Keep has passed: %v, want %v", got, want)
	}
	if st := s.Stats(); st.Kept != 0 || st.Unreleased != 6*frame {
		t.Fatalf("Stats = %+v", st)
	}
}

// An Append announced with Expect shares the group commit of those queued just before it:
// the writer holds the group until the announced Append is queued. One that never comes
// holds it only briefly, and unannounced Appends are never held.
func TestGatherWaitsForAnnouncedAppends(t *testing.T) {
	var groups [][]any
	var mu sync.Mutex
	s := open(t, t.TempDir(), Options{MaxGather: time.Minute, OnCommit: func(tags []any) {
		mu.Lock()
		groups = append(groups, slices.Clone(tags))
		mu.Unlock()
	}})
	mustAppend(t, s, []byte("unannounced"))
	if st := s.Stats(); st.Gathers != 0 {
		t.Fatalf("%d gathers with nothing announced", st.Gathers)
	}
	// The hold is bounded by the last fsync's duration too: make that long, so that only the
	// announced Append's arrival can end this one.
	s.mu.Lock()
	s.synced = time.Minute
	s.mu.Unlock()
	s.Expect()
	s.Expect()
	errs := make(chan error, 2)
	go func() { _, err := s.AppendExpected("a", []byte("a")); errs <- err }()
	waitFor(t, "the writer to hold the group for the announced Append", func() bool { return s.Stats().Gathers == 1 })
	go func() { _, err := s.AppendExpected("b", []byte("b")); errs <- err }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	got := fmt.Sprint(groups)
	mu.Unlock()
	if got != "[[a b]]" {
		t.Errorf("commits saw the tags %s, want [[a b]]: one group", got)
	}
	if st := s.Stats(); st.Syncs != 2 {
		t.Errorf("%d fsyncs, want 2 (the unannounced Append, then a and b together)", st.Syncs)
	}

	// An announced Append that never comes: the writer lets the group go after at most the
	// last fsync's duration (here a real, short one).
	s.Expect()
	s.Expect()
	if _, err := s.AppendExpected(nil, []byte("c")); err != nil {
		t.Fatal(err)
	}
	s.Withdraw()
	s.Expect()
	if _, err := s.AppendExpected(nil, make([]byte, MaxRecordBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a too large record: %v", err)
	}
	if n := s.expected.Load(); n != 0 {
		t.Errorf("%d Appends still announced after each was made, withdrawn or refused", n)
	}
	if st := s.Stats(); st.Gathers != 2 || st.Syncs != 3 {
		t.Errorf("gathers %d, fsyncs %d; want 2 and 3", st.Gathers, st.Syncs)
	}
}

// Segments are written over prepared zeros, so an fsync changes no file size: Open prepares
// the active segment, a spare is prepared for the next one while it fills, and zeros after
// the last record are unused space to recovery, in the active segment and in sealed ones.
func TestPreparedSegments(t *testing.T) {
	dir := t.TempDir()
	frame := int64(headerSize + len(payload(0)))
	const segment = 64 << 10
	s := open(t, dir, Options{SegmentBytes: segment})
	first := filepath.Join(dir, segName(1))
	if got := fileSize(t, first); got != segment {
		t.Fatalf("a new spool's segment is %d bytes, want it prepared to %d", got, segment)
	}
	mustAppend(t, s, payload(0))
	spare := filepath.Join(dir, spareName)
	waitFor(t, "the spare segment", func() bool {
		fi, err := os.Stat(spare)
		return err == nil && fi.Size() == segment && s.spare.Load() == spareReady
	})
	perSegment := int(segment / frame)
	for i := 1; i < perSegment; i++ {
		mustAppend(t, s, payload(i))
	}
	if got := fileSize(t, first); got != segment {
		t.Errorf("after filling it, segment 1 is %d bytes, want %d: appends must not grow it", got, segment)
	}
	end := mustAppend(t, s, payload(perSegment))
	if end.Segment != 2 {
		t.Fatalf("record %d went to %v, want segment 2", perSegment, end)
	}
	if got := fileSize(t, filepath.Join(dir, segName(2))); got != segment {
		t.Errorf("segment 2 is %d bytes, want the spare's %d", got, segment)
	}
	waitFor(t, "the next spare", func() bool { return s.spare.Load() == spareReady })
	if st := s.Stats(); st.FileBytes != 3*segment || st.Bytes != int64(perSegment+1)*frame {
		t.Errorf("Stats: %d bytes of records in %d bytes of files, want %d in %d (two segments and the spare)",
			st.Bytes, st.FileBytes, int64(perSegment+1)*frame, 3*segment)
	}
	closeSpool(t, s)
	if _, err := os.Stat(spare); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("spare after Close: %v, want it removed", err)
	}

	s = open(t, dir, Options{SegmentBytes: segment})
	if rec := s.Recovery(); rec.Records != int64(perSegment+1) || rec.Corrupt != 0 || rec.TornBytes != 0 {
		t.Errorf("Recovery = %+v, want %d clean records: zeros after them are no damage", rec, perSegment+1)
	}
	if got := s.End(); got != end {
		t.Errorf("End after reopen = %v, want %v (the end of the records, not of the file)", got, end)
	}
	mustAppend(t, s, []byte("after reopen"))
	checkData(t, readAll(t, s, Pos{}, 5), append(payloads(perSegment+1), []byte("after reopen")))
	if got := fileSize(t, filepath.Join(dir, segName(2))); got != segment {
		t.Errorf("segment 2 is %d bytes after reopen and an append, want %d", got, segment)
	}
}
