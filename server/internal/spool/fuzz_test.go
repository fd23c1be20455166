package spool

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

func FuzzFrame(f *testing.F) {
	f.Add(appendFrame(nil, []byte(`{"site":"demo"}`)))
	f.Add(appendFrame(nil, nil))
	f.Add(appendFrame(nil, []byte("x"))[:7])
	f.Add([]byte("\xffST\x01\xff\xff\xff\xff\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, n := decodeFrame(b); n > 0 {
			if enc := appendFrame(nil, p); !bytes.Equal(enc, b[:n]) {
				t.Fatalf("decoded %q from %x, which re-encodes as %x", p, b[:n], enc)
			}
		}
		// Any bytes as a payload survive a round trip.
		p, n := decodeFrame(appendFrame(nil, b))
		if n != headerSize+len(b) || !bytes.Equal(p, b) {
			t.Fatalf("round trip of %x = %x (%d bytes)", b, p, n)
		}
	})
}

// FuzzRecover opens a spool whose only segment holds arbitrary bytes: Open and Read never
// panic, every record returned is a frame with a correct CRC at its position, and the spool
// takes and returns new records afterwards.
func FuzzRecover(f *testing.F) {
	var good []byte
	for _, p := range payloads(5) {
		good = appendFrame(good, p)
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	flipped := bytes.Clone(good)
	flipped[40] ^= 0x20
	f.Add(flipped)
	f.Add(append(bytes.Repeat([]byte{0}, 100), good...))
	f.Add(append(append(bytes.Clone(good[:30]), magic[:]...), good...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, segName(1))
		if err := os.WriteFile(path, data, 0o640); err != nil {
			t.Fatal(err)
		}
		s := open(t, dir, Options{SegmentBytes: 1 << 10})
		recs := readAll(t, s, Pos{}, 3)
		disk, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		// Recovery may cut a tail and prepare zeros after what it kept, nothing else.
		kept := 0
		for kept < len(disk) && kept < len(data) && disk[kept] == data[kept] {
			kept++
		}
		if !allZero(disk[kept:]) {
			t.Fatal("recovery changed bytes instead of only cutting the tail")
		}
		for _, r := range recs {
			if r.Pos.Segment != 1 || r.Pos.Offset+headerSize+int64(len(r.Data)) > int64(len(disk)) {
				t.Fatalf("record at %v (%d bytes) lies outside the segment", r.Pos, len(r.Data))
			}
			fr := disk[r.Pos.Offset:]
			n := binary.LittleEndian.Uint32(fr[4:8])
			crc := crc32.Update(crc32.Checksum(fr[4:8], castagnoli), castagnoli, r.Data)
			if !bytes.Equal(fr[:4], magic[:]) || int(n) != len(r.Data) ||
				crc != binary.LittleEndian.Uint32(fr[8:12]) || !bytes.Equal(fr[headerSize:headerSize+n], r.Data) {
				t.Fatalf("record at %v is not a valid frame on disk", r.Pos)
			}
		}
		if rec := s.Recovery(); rec.Records != int64(len(recs)) {
			t.Fatalf("Recovery counted %d records, Read returned %d", rec.Records, len(recs))
		}
		mustAppend(t, s, []byte("new"))
		all := readAll(t, s, Pos{}, 0)
		if len(all) != len(recs)+1 || string(all[len(all)-1].Data) != "new" {
			t.Fatalf("after recovery, read %d records ending %q; want %d ending \"new\"", len(all), all[len(all)-1].Data, len(recs)+1)
		}
	})
}

// TestFindMagicAcrossWindows puts a frame start on and around the border of two read windows.
func TestFindMagicAcrossWindows(t *testing.T) {
	for p := int64(readChunk - 5); p <= readChunk+1; p++ {
		data := make([]byte, readChunk+64)
		copy(data[p:], magic[:])
		r := segReader{f: bytes.NewReader(data), limit: int64(len(data))}
		got, err := r.findMagic(1)
		if err != nil || got != p {
			t.Errorf("magic at %d: findMagic = %d, %v", p, got, err)
		}
	}
}
