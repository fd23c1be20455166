package spool

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// benchRecord is about the size of a spooled consent record.
var benchRecord = make([]byte, 320)

const (
	benchWriters = 64  // concurrent requests, as under load
	benchAppends = 100 // per writer and iteration, so that -benchtime 1x still measures something
)

// BenchmarkAppendParallel measures durable appends from many goroutines with group commit. Each
// iteration is benchWriters*benchAppends appends; compare appends/s with BenchmarkFsyncEach.
func BenchmarkAppendParallel(b *testing.B) {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		for range benchWriters {
			wg.Go(func() {
				for range benchAppends {
					if _, err := s.Append(benchRecord); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	report(b, time.Since(start), s.Stats().Records, s.Stats().Syncs)
}

// BenchmarkFsyncEach is the reference without group commit: write one record, fsync, repeat.
func BenchmarkFsyncEach(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "each"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	frame := appendFrame(nil, benchRecord)
	var n int64
	start := time.Now()
	for b.Loop() {
		for range benchAppends {
			if _, err := f.Write(frame); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			n++
		}
	}
	report(b, time.Since(start), n, n)
}

func report(b *testing.B, d time.Duration, appends, syncs int64) {
	b.ReportMetric(float64(appends)/d.Seconds(), "appends/s")
	b.ReportMetric(float64(syncs)/d.Seconds(), "fsyncs/s")
	b.ReportMetric(float64(appends)/float64(b.N), "appends/op")
	b.ReportMetric(0, "ns/op") // an op is a batch of appends; the rates above are what matter
}
