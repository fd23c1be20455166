// Package spool is the durable write-ahead log that the consent ingest appends to before it
// answers 201, and that the shipper reads to load ClickHouse.
//
// # Layout
//
// The directory holds segment files named by a zero-padded sequence number
// (00000000000000000001.seg, …) and a LOCK file (flock) that keeps a second process out.
// Records are appended to the last, active segment. Once it has passed Options.SegmentBytes
// the writer fsyncs it, starts the next one and fsyncs the directory.
//
// A segment is prepared before it is needed: a file of SegmentBytes zeros, written and
// fsynced in the background under the name spare.tmp and renamed when the writer rolls to
// it. Appends then overwrite bytes that are already on disk, and fdatasync makes them
// durable without a change of size, so without a journal commit: an fsync no longer waits
// for what other programs (ClickHouse writing its parts) wrote to the same filesystem. A
// segment is therefore followed by zeros up to its file size; zeros after the last frame
// are unused space, neither torn nor corrupt. Open prepares the active segment itself, up
// to openPrepareBytes more (the segment then ends there), so that it waits for no spare;
// should a roll find none ready, the next segment grows as it is written, fsynced whole.
// Records are never rewritten: a position (Pos: segment and byte offset) stays valid until
// Release deletes its segment, which happens Options.Keep after the segment was first wholly
// released. Each record is one frame:
//
//	magic   4 bytes   FF 53 54 01 ("\xffST\x01")
//	length  uint32    little endian, at most MaxRecordBytes
//	crc     uint32    little endian, CRC-32C (Castagnoli) of the 4 length bytes and the payload
//	payload length bytes
//
// # Guarantees
//
//   - Append returns only once its records are written and fsynced. Group commit: all Appends
//     that arrive while an fsync runs share the next one; there is no batching delay.
//   - Read returns only fsynced records, in append order, each with a checked CRC.
//   - Open checks every record of every segment. A partial frame at the end of the last segment
//     (a torn write at power loss) is truncated; a corrupt record anywhere is skipped, counted and
//     logged, and the records after it are found again at the next magic whose frame checks.
//     Nothing corrupt blocks the records around it.
//   - An error from Append means its records may or may not be stored, as with any database.
//     A failed fsync is sticky: every later Append fails until the process restarts and Open
//     rechecks the files, since the kernel may already have dropped the unwritten pages.
//   - Options.MaxBytes bounds the bytes appended after the last Release position; the disk
//     holds at most two segments more (only whole segments are deleted, and the spare is
//     prepared ahead), and besides the released segments kept for Options.Keep (they no
//     longer count against the budget).
//
// The shipper keeps its own checkpoint of what ClickHouse has confirmed; Release only frees space.
package spool

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Log attribute keys.
const (
	keyDir     = "dir"
	keySegment = "segment"
	keyOffset  = "offset"
	keyBytes   = "bytes"
	keyRecords = "records"
	keyError   = "error"
)

const (
	// DefaultSegmentBytes is the segment size used when Options.SegmentBytes is 0.
	DefaultSegmentBytes = 64 << 20

	segSuffix  = ".seg"
	segNameLen = 20 + len(segSuffix)
	spareName  = "spare.tmp"
	// openPrepareBytes is how much of the active segment Open prepares (and waits for).
	openPrepareBytes = 4 << 20
)

var (
	// ErrFull is returned (wrapped) by Append when the records would take the unreleased bytes
	// past Options.MaxBytes. The ingest answers 503 with Retry-After.
	ErrFull = errors.New("spool: disk budget exceeded")
	// ErrClosed is returned by calls on a closed Spool.
	ErrClosed = errors.New("spool: closed")
	// ErrTooLarge is returned (wrapped) by Append for a payload above MaxRecordBytes.
	ErrTooLarge = errors.New("spool: record too large")
)

// Options configure a Spool. The zero value is usable.
type Options struct {
	// SegmentBytes: a new segment is started once the active one would grow past this size
	// (default DefaultSegmentBytes). A record larger than it gets a segment of its own.
	SegmentBytes int64
	// MaxBytes is the disk budget for unreleased data: Append returns ErrFull rather than take
	// the bytes after the last Release position beyond it. 0 means unlimited. After Open all
	// the bytes on disk count until the first Release.
	MaxBytes int64
	// Log receives recovery reports and write failures; the spool adds component=spool.
	Log *slog.Logger
	// OnSync, if set, is called after each fsync of records (not of the directory) with its
	// latency and the number of records it made durable. It runs on the writer goroutine:
	// keep it short.
	OnSync func(d time.Duration, records int)
	// OnCommit, if set, is called once the records of a group commit are fsynced, with the
	// tags of the group's AppendTagged calls in order, before any of them returns: work that
	// is worth doing once per fsync rather than once per record (signing receipts). It runs
	// on the writer goroutine, which it holds up: keep it short and never call the spool.
	OnCommit func(tags []any)
	// Keep is how long a released segment stays on disk before it is deleted: ClickHouse
	// may hold what was shipped from it only in its page cache for a while (it does not
	// fsync its parts by default), and a kept segment can be shipped again after a power
	// cut. 0 deletes released segments at once.
	Keep time.Duration
	// Now is the clock for Keep (default time.Now).
	Now func() time.Time
	// MaxGather bounds how long the writer holds a group commit for Appends announced with
	// Expect (default 2 ms); it never holds one longer than the last fsync took.
	MaxGather time.Duration
}

// Pos is the position of a record's frame: the segment's sequence number and the byte offset
// in it. Pos{} is before every record.
type Pos struct {
	Segment uint64
	Offset  int64
}

// Less reports whether p comes before q.
func (p Pos) Less(q Pos) bool {
	return p.Segment < q.Segment || p.Segment == q.Segment && p.Offset < q.Offset
}

// String formats p as segment:offset.
func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Segment, p.Offset) }

// Record is one record read from the spool.
type Record struct {
	Pos  Pos    // where the record's frame starts
	Data []byte // the payload, owned by the caller
}

// Stats are counters for metrics.
type Stats struct {
	Segments   int   // segment files on disk
	Bytes      int64 // bytes of records in them
	FileBytes  int64 // bytes of the files on disk: the records, the zeros prepared after them, the spare
	Unreleased int64 // bytes after the last Release position: what counts against MaxBytes
	Kept       int64 // bytes of released segments kept for Options.Keep
	Queued     int   // Appends waiting for the writer (the next group)
	Records    int64 // records appended since Open
	Syncs      int64 // fsyncs of records since Open
	Gathers    int64 // group commits held for announced Appends since Open
	Corrupt    int64 // corrupt records skipped since Open, those found by recovery included
	End        Pos   // as End returns it
	Released   Pos   // the highest position passed to Release
}

// Recovery reports what Open found.
type Recovery struct {
	Segments     int           // segment files scanned
	Records      int64         // valid records in them
	Bytes        int64         // bytes in them after truncation
	Corrupt      int64         // corrupt records skipped (they stay on disk; Read skips them too)
	CorruptBytes int64         // bytes of those
	TornBytes    int64         // bytes of a partial frame cut from the end of the last segment
	Elapsed      time.Duration // how long the scan took
}

// segment is one segment file as the spool knows it.
type segment struct {
	seq  uint64
	size int64 // fsynced bytes of records
	file int64 // the file's size, prepared zeros included
	// released is when Release first covered the whole segment (zero: not yet); it is
	// deleted Options.Keep later.
	released time.Time
}

// request is one Append waiting for the writer.
type request struct {
	frames []byte // the encoded frames
	tag    any    // given to OnCommit
	end    Pos
	err    error
	done   chan struct{}
}

var requests = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// Spool is a durable write-ahead log of records in a directory. Its methods are safe for
// concurrent use.
type Spool struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File

	mu        sync.Mutex
	wake      sync.Cond // signals the writer: queue not empty, or closed
	queue     []*request
	closed    bool
	err       error     // sticky write failure
	segs      []segment // ascending; the last is the active one
	notify    chan struct{}
	reserved  int64 // bytes queued but not yet fsynced
	diskBytes int64 // sum of segs[].size
	released  Pos
	relBytes  int64 // bytes before released in the first segment not wholly released
	keptBytes int64 // bytes of the segments wholly released but kept (Options.Keep)
	counted   Pos   // corrupt records before this position have been counted already
	records   int64
	syncs     int64
	gathers   int64
	corrupt   int64
	recovery  Recovery

	releaseMu sync.Mutex // one Release at a time

	// Appends announced by Expect and not yet made, and a poke for a writer that waits for
	// them (see gather).
	expected atomic.Int64
	poke     chan struct{}

	// The spare segment: its state (spare* constants), a request to the goroutine that
	// prepares it, and that goroutine's stop and exit.
	spare     atomic.Int32
	spareWant chan struct{}
	spareStop chan struct{}
	spareDone chan struct{}

	// Owned by the writer goroutine.
	f       *os.File // the active segment
	seq     uint64
	size    int64
	alloc   int64 // bytes of f known to be on disk (zeros or records): writing below needs no size change
	limit   int64 // the active segment rolls before growing past this (SegmentBytes but after Open)
	wbuf    []byte
	flushed int64 // bytes fsynced by the current commit
	tags    []any // the current commit's tags, for OnCommit
	done    chan struct{}
	synced  time.Duration // how long the last fsync of records took
	timer   *time.Timer
}

// Open recovers the spool in dir, creating the directory if needed: it scans every segment,
// checks every record's CRC, truncates a torn tail of the last segment, and reports corrupt
// records (in the log and in Recovery), which are skipped without blocking the records before
// or after them. A directory in use by another Spool is refused.
func Open(dir string, opts Options) (*Spool, error) {
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxGather <= 0 {
		opts.MaxGather = 2 * time.Millisecond
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "spool")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{dir: dir, opts: opts, log: log, lock: lock, notify: make(chan struct{}), done: make(chan struct{}),
		poke: make(chan struct{}, 1), spareWant: make(chan struct{}, 1), spareStop: make(chan struct{}),
		spareDone: make(chan struct{})}
	s.wake.L = &s.mu
	if err := s.recover(); err != nil {
		if s.f != nil {
			s.f.Close()
		}
		unlockDir(lock)
		return nil, err
	}
	go s.run()
	go s.prepare()
	return s, nil
}

// States of the spare segment.
const (
	spareNone      int32 = iota // nothing prepared; the writer asks for one when it appends
	sparePreparing              // being written
	spareReady                  // spare.tmp holds SegmentBytes fsynced zeros
	spareFailed                 // preparing failed; asked again at the next roll
)

// wantSpare asks for a spare segment unless one is ready or on its way; the writer calls it
// when it appends, so that a spool only read (the CLI) writes none.
func (s *Spool) wantSpare() {
	if s.spare.CompareAndSwap(spareNone, sparePreparing) {
		s.spareWant <- struct{}{} // room for one: nothing else sends while preparing
	}
}

// prepare is the goroutine that writes spare segments when asked.
func (s *Spool) prepare() {
	defer close(s.spareDone)
	for {
		select {
		case <-s.spareStop:
			return
		case <-s.spareWant:
		}
		err := s.writeSpare()
		switch {
		case err == nil:
			s.spare.Store(spareReady)
		case errors.Is(err, ErrClosed):
			return
		default:
			s.spare.Store(spareFailed)
			s.log.Warn("spool: cannot prepare the next segment; records go to a growing one", keyError, err)
		}
	}
}

// writeSpare writes SegmentBytes zeros to spare.tmp and fsyncs it.
func (s *Spool) writeSpare() error {
	path := filepath.Join(s.dir, spareName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	zeros := make([]byte, min(s.opts.SegmentBytes, 1<<20))
	for off := int64(0); off < s.opts.SegmentBytes && err == nil; off += int64(len(zeros)) {
		select {
		case <-s.spareStop:
			err = ErrClosed
		default:
			_, err = f.Write(zeros[:min(int64(len(zeros)), s.opts.SegmentBytes-off)])
		}
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// recover scans the segments and opens the active one.
func (s *Spool) recover() error {
	start := time.Now()
	seqs, err := listSegments(s.dir)
	if err != nil {
		return err
	}
	// A spare left by an earlier process may be incomplete.
	if err := os.Remove(filepath.Join(s.dir, spareName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	rec := &s.recovery
	var alloc int64
	for i, seq := range seqs {
		last := i == len(seqs)-1
		size, fileSize, err := s.recoverSegment(seq, last)
		if err != nil {
			return err
		}
		s.segs = append(s.segs, segment{seq: seq, size: size, file: fileSize})
		s.diskBytes += size
		alloc = fileSize
	}
	if len(s.segs) == 0 {
		if err := s.createSegment(1); err != nil {
			return err
		}
		s.segs = append(s.segs, segment{seq: 1})
	} else {
		a := s.segs[len(s.segs)-1]
		f, err := os.OpenFile(s.path(a.seq), os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.f, s.seq, s.size, s.alloc, s.limit = f, a.seq, a.size, alloc, s.opts.SegmentBytes
	}
	if err := s.prepareActive(); err != nil {
		// A full disk must not keep the spool from opening: the segment grows as written.
		s.limit = s.opts.SegmentBytes
		s.log.Warn("spool: cannot prepare the active segment; it grows as written", keyError, err)
	}
	s.segs[len(s.segs)-1].file = s.alloc
	s.counted = s.end()
	rec.Segments, rec.Bytes, rec.Elapsed = len(seqs), s.diskBytes, time.Since(start)
	s.corrupt = rec.Corrupt
	s.log.Info("spool recovered", keyDir, s.dir, "segments", rec.Segments, keyRecords, rec.Records,
		keyBytes, rec.Bytes, "corrupt", rec.Corrupt, "torn_bytes", rec.TornBytes, "elapsed", rec.Elapsed)
	return nil
}

// prepareActive ends the active segment where its prepared zeros end, or, if none follow its
// records, writes and fsyncs openPrepareBytes of them (not past SegmentBytes) and ends it there.
func (s *Spool) prepareActive() error {
	if s.alloc > s.size {
		s.limit = min(s.opts.SegmentBytes, s.alloc)
		return nil
	}
	s.limit = min(s.opts.SegmentBytes, s.size+openPrepareBytes)
	if s.alloc >= s.limit {
		return nil
	}
	if _, err := s.f.WriteAt(make([]byte, s.limit-s.alloc), s.alloc); err != nil {
		return fmt.Errorf("spool: prepare segment %d: %w", s.seq, err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("spool: prepare segment %d: %w", s.seq, err)
	}
	s.alloc = s.limit
	return nil
}

// recoverSegment checks every frame of one segment and returns the end of its records and its
// file size, after truncating a torn tail if it is the last one. Zeros after the last frame are
// the unused rest of a prepared segment.
func (s *Spool) recoverSegment(seq uint64, last bool) (end, fileSize int64, err error) {
	path := s.path(seq)
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("spool: %w", err)
	}
	size := fi.Size()
	r := segReader{f: f, limit: size}
	for off := int64(0); ; {
		at, p, sk, err := r.next(off)
		if err != nil && err != io.EOF {
			return 0, 0, err
		}
		if sk.bytes > 0 && err == io.EOF {
			zero, zerr := r.zeros(off)
			if zerr != nil {
				return 0, 0, zerr
			}
			if zero {
				return off, size, nil
			}
		}
		if sk.bytes > 0 && err == io.EOF && last {
			if err := truncate(path, off); err != nil {
				return 0, 0, err
			}
			s.recovery.TornBytes += sk.bytes
			s.log.Warn("spool: torn tail truncated", keySegment, seq, keyOffset, off, keyBytes, sk.bytes)
			return off, off, nil
		}
		if sk.bytes > 0 {
			s.recovery.Corrupt += sk.records
			s.recovery.CorruptBytes += sk.bytes
			s.log.Warn("spool: corrupt records skipped", keySegment, seq, keyOffset, off,
				keyBytes, sk.bytes, keyRecords, sk.records)
		}
		if err == io.EOF {
			return size, size, nil
		}
		s.recovery.Records++
		off = at + headerSize + int64(len(p))
	}
}

// truncate cuts the file at path to size and fsyncs it.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	err = f.Truncate(size)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: truncate %s: %w", path, err)
	}
	return nil
}

// listSegments returns the sequence numbers of the segment files in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if len(name) != segNameLen || !strings.HasSuffix(name, segSuffix) || !e.Type().IsRegular() {
			continue
		}
		seq, err := strconv.ParseUint(name[:20], 10, 64)
		if err != nil || seq == 0 {
			continue
		}
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	return seqs, nil
}

func (s *Spool) path(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, segSuffix))
}

// createSegment makes segment seq the writer's active file, fsyncing the directory: the spare
// renamed if one is ready, else a new empty file.
func (s *Spool) createSegment(seq uint64) error {
	path, alloc := s.path(seq), int64(0)
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: segment %s exists already (%v)", path, err)
	}
	if s.spare.Load() == spareReady {
		if err := os.Rename(filepath.Join(s.dir, spareName), path); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.spare.Store(spareNone)
		alloc = s.opts.SegmentBytes
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		return err
	}
	s.f, s.seq, s.size, s.alloc, s.limit = f, seq, 0, alloc, s.opts.SegmentBytes
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("spool: fsync %s: %w", dir, err)
	}
	return nil
}

// Append writes the payloads as records and returns once they are fsynced, with the Pos just
// after the last of them. Concurrent Appends share fsyncs (group commit). The payloads are
// copied. It fails with ErrTooLarge, ErrFull or ErrClosed (all wrapped) without writing anything.
func (s *Spool) Append(payloads ...[]byte) (Pos, error) { return s.AppendTagged(nil, payloads...) }

// AppendTagged is Append with a tag that Options.OnCommit sees once the payloads are durable,
// before AppendTagged returns.
func (s *Spool) AppendTagged(tag any, payloads ...[]byte) (Pos, error) {
	return s.append(tag, false, payloads)
}

// AppendExpected is AppendTagged for a caller that announced it with Expect: the announcement
// ends once the payloads are queued for the writer (or refused).
func (s *Spool) AppendExpected(tag any, payloads ...[]byte) (Pos, error) {
	return s.append(tag, true, payloads)
}

func (s *Spool) append(tag any, announced bool, payloads [][]byte) (Pos, error) {
	// The announcement ends once the request is queued, so that a writer gathering for it
	// always sees it either announced or queued; or here, when it is refused.
	defer func() {
		if announced {
			s.Withdraw()
		}
	}()
	size := 0
	for _, p := range payloads {
		if len(p) > MaxRecordBytes {
			return Pos{}, fmt.Errorf("%w: %d bytes (max %d)", ErrTooLarge, len(p), MaxRecordBytes)
		}
		size += headerSize + len(p)
	}
	r := requests.Get().(*request)
	r.frames = r.frames[:0]
	for _, p := range payloads {
		r.frames = appendFrame(r.frames, p)
	}
	r.end, r.err, r.tag = Pos{}, nil, tag

	s.mu.Lock()
	var err error
	switch {
	case s.closed:
		err = ErrClosed
	case s.err != nil:
		err = s.err
	case s.opts.MaxBytes > 0 && s.unreleased()+s.reserved+int64(size) > s.opts.MaxBytes:
		err = fmt.Errorf("%w: %d bytes unreleased, budget %d", ErrFull, s.unreleased()+s.reserved, s.opts.MaxBytes)
	case size == 0:
		r.end = s.end()
	}
	if err != nil || size == 0 {
		s.mu.Unlock()
		end := r.end
		requests.Put(r)
		return end, err
	}
	s.reserved += int64(size)
	s.queue = append(s.queue, r)
	s.wake.Signal()
	s.mu.Unlock()
	if announced {
		s.Withdraw() // before waiting for the fsync, which may wait for it
		announced = false
	} else {
		s.nudge()
	}

	<-r.done
	end, err := r.end, r.err
	r.tag = nil
	if cap(r.frames) > 64<<10 {
		r.frames = nil // don't let the pool keep big buffers
	}
	requests.Put(r)
	return end, err
}

// Expect announces an Append the caller will make shortly, once some work of its own is done
// (a round trip to another server, say); the caller then makes it with AppendExpected, or
// calls Withdraw instead. While announced Appends have not arrived, the writer holds a group commit
// for them, at most as long as an fsync takes (and Options.MaxGather): under load, groups are
// then larger and each record's share of the fsync (and of OnCommit) smaller, at the price of
// at most one more fsync's time of latency. Nothing announced, the writer never waits.
func (s *Spool) Expect() { s.expected.Add(1) }

// Withdraw ends an announcement made with Expect, for a caller that will not append.
func (s *Spool) Withdraw() {
	s.expected.Add(-1)
	s.nudge()
}

// nudge wakes a writer that gathers a group.
func (s *Spool) nudge() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// gather holds the group in the queue while announced Appends are on their way, until they
// are queued, the time is up or the spool closes; s.mu is held, and released while it waits.
func (s *Spool) gather() {
	wait := min(s.synced, s.opts.MaxGather)
	if s.expected.Load() <= 0 || wait <= 0 || s.closed {
		return
	}
	s.gathers++
	if s.timer == nil {
		s.timer = time.NewTimer(wait)
	} else {
		s.timer.Reset(wait)
	}
	defer s.timer.Stop()
	for s.expected.Load() > 0 && !s.closed {
		s.mu.Unlock()
		select {
		case <-s.poke:
			s.mu.Lock()
		case <-s.timer.C:
			s.mu.Lock()
			return
		}
	}
}

// run is the writer goroutine: it takes every queued Append as one group (gathered while
// announced ones come), writes and fsyncs them together, and repeats. Appends that arrive
// meanwhile form the next group.
func (s *Spool) run() {
	defer close(s.done)
	var group []*request
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.wake.Wait()
		}
		if len(s.queue) == 0 { // closed and drained
			s.mu.Unlock()
			return
		}
		s.gather()
		group, s.queue = s.queue, group[:0]
		s.mu.Unlock()
		s.commit(group)
		clear(group)
	}
}

// commit makes the group durable and answers every request in it.
func (s *Spool) commit(group []*request) {
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	s.flushed = 0
	if err == nil {
		err = s.write(group)
	}
	var total int64
	for _, r := range group {
		total += int64(len(r.frames))
	}
	s.mu.Lock()
	s.reserved -= total - s.flushed // flush released the rest
	s.mu.Unlock()
	if err == nil && s.opts.OnCommit != nil {
		s.tags = s.tags[:0]
		for _, r := range group {
			if r.tag != nil {
				s.tags = append(s.tags, r.tag)
			}
		}
		if len(s.tags) > 0 {
			s.opts.OnCommit(s.tags)
		}
		clear(s.tags)
	}
	for _, r := range group {
		if err != nil {
			r.err = err
		}
		r.done <- struct{}{}
	}
}

// write writes the group's frames, rolling to a new segment where the active one is full.
func (s *Spool) write(group []*request) error {
	s.wbuf = s.wbuf[:0]
	records := 0
	s.wantSpare()
	for _, r := range group {
		for b := r.frames; len(b) > 0; {
			n := frameLen(b)
			if pending := s.size + int64(len(s.wbuf)); pending > 0 && pending+int64(n) > s.limit {
				if err := s.flush(records); err != nil {
					return err
				}
				records = 0
				if err := s.roll(); err != nil {
					return err
				}
			}
			s.wbuf = append(s.wbuf, b[:n]...)
			records++
			b = b[n:]
		}
		r.end = Pos{s.seq, s.size + int64(len(s.wbuf))}
	}
	return s.flush(records)
}

// flush writes and fsyncs s.wbuf, then publishes the new end to readers.
func (s *Spool) flush(records int) error {
	if len(s.wbuf) == 0 {
		return nil
	}
	n := int64(len(s.wbuf))
	if _, err := s.f.WriteAt(s.wbuf, s.size); err != nil {
		// Cut a partial write so that the segment still ends with a whole frame (disk full);
		// the prepared rest goes with it.
		if terr := s.f.Truncate(s.size); terr != nil {
			return s.fail(fmt.Errorf("spool: write segment %d: %w (truncate: %v)", s.seq, err, terr))
		}
		s.alloc = min(s.alloc, s.size)
		s.mu.Lock()
		s.segs[len(s.segs)-1].file = s.alloc
		s.mu.Unlock()
		s.log.Error("spool: write failed", keySegment, s.seq, keyError, err)
		return fmt.Errorf("spool: write segment %d: %w", s.seq, err)
	}
	start := time.Now()
	sync := datasync
	if s.size+n > s.alloc {
		sync = (*os.File).Sync // the file grew: its size must be durable too
	}
	if err := sync(s.f); err != nil {
		return s.fail(fmt.Errorf("spool: fsync segment %d: %w", s.seq, err))
	}
	s.alloc = max(s.alloc, s.size+n)
	d := time.Since(start)
	s.synced = d
	s.size += n
	s.flushed += n
	s.wbuf = s.wbuf[:0]

	s.mu.Lock()
	s.segs[len(s.segs)-1].size = s.size
	s.segs[len(s.segs)-1].file = s.alloc
	s.diskBytes += n
	s.reserved -= n
	s.records += int64(records)
	s.syncs++
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	if s.opts.OnSync != nil {
		s.opts.OnSync(d, records)
	}
	return nil
}

// roll starts the next segment; the active one has been fsynced by flush.
func (s *Spool) roll() error {
	old := s.f
	if err := s.createSegment(s.seq + 1); err != nil {
		// Not knowing whether the directory entry is durable, stop writing.
		return s.fail(err)
	}
	if err := old.Close(); err != nil {
		s.log.Warn("spool: close sealed segment", keySegment, s.seq-1, keyError, err)
	}
	s.spare.CompareAndSwap(spareFailed, spareNone) // try again for the next one
	s.wantSpare()
	s.mu.Lock()
	s.segs = append(s.segs, segment{seq: s.seq, file: s.alloc})
	s.mu.Unlock()
	return nil
}

// fail makes err sticky: the state of the active segment on disk is unknown.
func (s *Spool) fail(err error) error {
	s.log.Error("spool: writes stopped until restart", keyError, err)
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	return err
}

// end returns the position after the last fsynced record; s.mu must be held.
func (s *Spool) end() Pos {
	a := s.segs[len(s.segs)-1]
	return Pos{a.seq, a.size}
}

// End returns the position after the last fsynced record.
func (s *Spool) End() Pos {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end()
}

// Notify returns a channel that is closed once records beyond what is fsynced now have been
// fsynced, or the spool is closed. Take it before a Read that finds nothing new, then wait on
// it, so that no wake-up is missed.
func (s *Spool) Notify() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify
}

// Read returns up to max records (max <= 0: no limit) starting at from, in order across
// segments, with at most maxBytes of payload (maxBytes <= 0: no limit) but at least one record,
// and the position to read from next. Only fsynced records are returned. Corrupt records are
// skipped (and counted in Stats once). Reading from a position in a segment that Release
// deleted starts at the next segment; a position beyond End is an error.
func (s *Spool) Read(from Pos, max int, maxBytes int) (recs []Record, next Pos, err error) {
	var arena []byte
	var ends []int
	next = from
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, from, ErrClosed
		}
		i := sort.Search(len(s.segs), func(i int) bool { return s.segs[i].seq >= next.Segment })
		if i == len(s.segs) {
			end := s.end()
			s.mu.Unlock()
			return nil, from, fmt.Errorf("spool: read from %v beyond end %v", from, end)
		}
		seg, sealed := s.segs[i], i < len(s.segs)-1
		s.mu.Unlock()

		if seg.seq != next.Segment {
			next = Pos{seg.seq, 0}
		}
		if next.Offset > seg.size {
			return nil, from, fmt.Errorf("spool: read from %v beyond end of segment (%d bytes)", from, seg.size)
		}
		var full bool
		if next.Offset < seg.size {
			next.Offset, full, err = s.readSegment(seg, next.Offset, max, maxBytes, &recs, &arena, &ends)
			if errors.Is(err, os.ErrNotExist) { // released meanwhile: it was shipped
				err, full = nil, false
			}
			if err != nil {
				return nil, from, err
			}
		}
		if full || !sealed {
			break
		}
		next = Pos{seg.seq + 1, 0}
	}
	for i := range recs {
		start := 0
		if i > 0 {
			start = ends[i-1]
		}
		recs[i].Data = arena[start:ends[i]:ends[i]]
	}
	return recs, next, nil
}

// readSegment appends the records of seg from off to *recs (payloads to *arena) until the end
// of the segment or a limit; full reports a limit. It returns the offset to go on from.
func (s *Spool) readSegment(seg segment, off int64, max, maxBytes int, recs *[]Record, arena *[]byte, ends *[]int) (int64, bool, error) {
	f, err := os.Open(s.path(seg.seq))
	if err != nil {
		return off, false, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	r := segReader{f: f, limit: seg.size}
	for off < seg.size {
		if max > 0 && len(*recs) >= max {
			return off, true, nil
		}
		at, p, sk, err := r.next(off)
		if sk.bytes > 0 {
			s.noteCorrupt(Pos{seg.seq, off}, sk)
		}
		if err == io.EOF { // trailing corrupt bytes of a sealed segment
			return seg.size, false, nil
		}
		if err != nil {
			return off, false, err
		}
		if maxBytes > 0 && len(*recs) > 0 && len(*arena)+len(p) > maxBytes {
			return at, true, nil
		}
		*recs = append(*recs, Record{Pos: Pos{seg.seq, at}})
		*arena = append(*arena, p...)
		*ends = append(*ends, len(*arena))
		off = at + headerSize + int64(len(p))
	}
	return off, false, nil
}

// noteCorrupt counts and logs a corrupt span found by Read, unless recovery or an earlier
// Read did already.
func (s *Spool) noteCorrupt(at Pos, sk skip) {
	s.mu.Lock()
	fresh := !at.Less(s.counted)
	if fresh {
		s.corrupt += sk.records
		s.counted = Pos{at.Segment, at.Offset + sk.bytes}
	}
	s.mu.Unlock()
	if fresh {
		s.log.Warn("spool: corrupt records skipped", keySegment, at.Segment, keyOffset, at.Offset,
			keyBytes, sk.bytes, keyRecords, sk.records)
	}
}

// Release tells the spool that every record before pos has been shipped: their bytes leave
// the budget, and the segments that lie wholly before pos are deleted (and the directory
// fsynced) once they have been released for Options.Keep — by this call or a later one, so
// calling it again with the same position deletes what has been kept long enough. It never
// deletes the active segment nor anything at or after pos. A position before an earlier one
// counts as the earlier one; one beyond End is an error.
func (s *Spool) Release(pos Pos) error {
	s.releaseMu.Lock()
	defer s.releaseMu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	if end := s.end(); end.Less(pos) {
		s.mu.Unlock()
		return fmt.Errorf("spool: release %v beyond end %v", pos, end)
	}
	if s.released.Less(pos) {
		s.released = pos
	}
	pos = s.released
	now := s.opts.Now()
	whole := 0 // segments wholly before pos
	for ; whole < len(s.segs)-1; whole++ {
		g := &s.segs[whole]
		if g.seq > pos.Segment || g.seq == pos.Segment && pos.Offset < g.size {
			break
		}
		if g.released.IsZero() {
			g.released = now
		}
	}
	i := 0
	for ; i < whole && !now.Before(s.segs[i].released.Add(s.opts.Keep)); i++ {
		s.diskBytes -= s.segs[i].size
	}
	drop := append([]segment(nil), s.segs[:i]...)
	s.segs = append(s.segs[:0], s.segs[i:]...)
	s.keptBytes = 0
	for _, g := range s.segs[:whole-i] {
		s.keptBytes += g.size
	}
	s.relBytes = 0
	if s.segs[whole-i].seq == pos.Segment {
		s.relBytes = pos.Offset
	}
	s.mu.Unlock()

	if len(drop) == 0 {
		return nil
	}
	var errs []error
	for _, g := range drop {
		if err := os.Remove(s.path(g.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := syncDir(s.dir); err != nil {
		errs = append(errs, err)
	}
	s.log.Debug("spool: segments released", "through", drop[len(drop)-1].seq, "count", len(drop))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("spool: release: %w", err)
	}
	return nil
}

// unreleased is the bytes that count against the budget; s.mu must be held.
func (s *Spool) unreleased() int64 { return s.diskBytes - s.keptBytes - s.relBytes }

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := int64(0)
	for _, g := range s.segs {
		files += g.file
	}
	if s.spare.Load() == spareReady {
		files += s.opts.SegmentBytes
	}
	return Stats{
		Segments:   len(s.segs),
		Bytes:      s.diskBytes,
		FileBytes:  files,
		Unreleased: s.unreleased(),
		Kept:       s.keptBytes,
		Queued:     len(s.queue),
		Records:    s.records,
		Syncs:      s.syncs,
		Gathers:    s.gathers,
		Corrupt:    s.corrupt,
		End:        s.end(),
		Released:   s.released,
	}
}

// Recovery returns what Open found.
func (s *Spool) Recovery() Recovery {
	return s.recovery // written only before Open returns
}

// Close waits for the queued Appends to be fsynced (later ones get ErrClosed), closes the
// files and closes the Notify channel. Calling it again does nothing.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.wake.Broadcast()
	s.mu.Unlock()
	s.nudge()
	<-s.done
	close(s.spareStop)
	<-s.spareDone
	err := s.f.Close()
	if rerr := os.Remove(filepath.Join(s.dir, spareName)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	s.mu.Lock()
	close(s.notify)
	s.mu.Unlock()
	if uerr := unlockDir(s.lock); err == nil {
		err = uerr
	}
	if err != nil {
		return fmt.Errorf("spool: close: %w", err)
	}
	return nil
}
