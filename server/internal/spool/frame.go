package spool

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

const (
	// MaxRecordBytes is the largest payload a record may carry. It bounds what a corrupt length
	// field can make recovery read, and is far above a consent record (a few hundred bytes).
	MaxRecordBytes = 1 << 20

	headerSize = 12        // magic + length + CRC
	readChunk  = 256 << 10 // bytes read from a segment at a time
)

// magic starts every frame so that recovery can find the next record after a corrupt one.
// 0xFF and 0x01 never occur in JSON text (0xFF is not UTF-8; control characters must be
// escaped), so a JSON payload cannot contain a false frame start.
var magic = [4]byte{0xFF, 'S', 'T', 0x01}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends the frame of payload to dst: magic, length (uint32 LE), CRC-32C of the
// length bytes and the payload (uint32 LE), payload.
func appendFrame(dst, payload []byte) []byte {
	var h [headerSize]byte
	copy(h[:4], magic[:])
	binary.LittleEndian.PutUint32(h[4:8], uint32(len(payload)))
	crc := crc32.Update(crc32.Checksum(h[4:8], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(h[8:12], crc)
	return append(append(dst, h[:]...), payload...)
}

// frameLen returns the size of the frame whose header starts h (at least headerSize bytes),
// or -1 if h does not start with the magic or claims a payload above MaxRecordBytes.
func frameLen(h []byte) int {
	if !bytes.Equal(h[:4], magic[:]) {
		return -1
	}
	n := binary.LittleEndian.Uint32(h[4:8])
	if n > MaxRecordBytes {
		return -1
	}
	return headerSize + int(n)
}

// decodeFrame decodes the frame at the start of b. It returns the payload (aliasing b) and the
// frame's size, or n == 0 if b does not start with a complete frame whose CRC checks.
func decodeFrame(b []byte) (payload []byte, n int) {
	if len(b) < headerSize {
		return nil, 0
	}
	n = frameLen(b)
	if n < 0 || len(b) < n {
		return nil, 0
	}
	crc := crc32.Update(crc32.Checksum(b[4:8], castagnoli), castagnoli, b[headerSize:n])
	if crc != binary.LittleEndian.Uint32(b[8:12]) {
		return nil, 0
	}
	return b[headerSize:n], n
}

// skip describes bytes passed over between two valid frames (or before the end).
type skip struct {
	bytes   int64
	records int64 // frame starts (magic) that failed to decode; at least 1 for a corrupt span
}

// segReader reads the frames of one segment up to limit, through a reused buffer.
type segReader struct {
	f     io.ReaderAt
	limit int64
	buf   []byte
	start int64 // segment offset of buf[0]
}

// window returns the bytes [off, off+n) of the segment, fewer if limit comes first. The slice
// is valid until the next call.
func (r *segReader) window(off int64, n int) ([]byte, error) {
	if rem := r.limit - off; int64(n) > rem {
		n = int(rem)
	}
	if off >= r.start && off+int64(n) <= r.start+int64(len(r.buf)) {
		i := off - r.start
		return r.buf[i : i+int64(n)], nil
	}
	size := max(n, readChunk)
	if rem := r.limit - off; int64(size) > rem {
		size = int(rem)
	}
	if cap(r.buf) < size {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	m, err := r.f.ReadAt(r.buf, off)
	if m < size {
		r.buf = r.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF // the file is shorter than the spool knows it to be
		}
		return nil, fmt.Errorf("spool: read at %d: %w", off, err)
	}
	r.start = off
	return r.buf[:n], nil
}

// frameAt returns the payload of the valid frame at off (valid until the next call), or
// ok == false; hasMagic tells whether a frame start was there at all.
func (r *segReader) frameAt(off int64) (payload []byte, ok, hasMagic bool, err error) {
	h, err := r.window(off, headerSize)
	if err != nil || len(h) < len(magic) {
		return nil, false, false, err
	}
	hasMagic = bytes.Equal(h[:len(magic)], magic[:])
	if len(h) < headerSize {
		return nil, false, hasMagic, nil
	}
	n := frameLen(h)
	if n < 0 {
		return nil, false, hasMagic, nil
	}
	f, err := r.window(off, n)
	if err != nil {
		return nil, false, hasMagic, err
	}
	payload, m := decodeFrame(f)
	return payload, m > 0, hasMagic, nil
}

// findMagic returns the offset of the next magic at or after off, or limit.
func (r *segReader) findMagic(off int64) (int64, error) {
	for off < r.limit {
		w, err := r.window(off, readChunk)
		if err != nil {
			return 0, err
		}
		if i := bytes.Index(w, magic[:]); i >= 0 {
			return off + int64(i), nil
		}
		if off+int64(len(w)) >= r.limit {
			break
		}
		off += int64(len(w) - (len(magic) - 1)) // a magic may straddle two windows
	}
	return r.limit, nil
}

// next returns the first valid frame at or after off: its offset and payload (valid until the
// next call), and what was skipped before it. When no valid frame remains before limit it
// returns io.EOF, with the trailing bytes as skipped.
func (r *segReader) next(off int64) (at int64, payload []byte, sk skip, err error) {
	for at = off; at < r.limit; {
		p, ok, hasMagic, err := r.frameAt(at)
		if err != nil {
			return at, nil, sk, err
		}
		if ok {
			sk.bytes = at - off
			if sk.bytes > 0 && sk.records == 0 {
				sk.records = 1 // the frame start itself was damaged
			}
			return at, p, sk, nil
		}
		if hasMagic {
			sk.records++
		}
		if at, err = r.findMagic(at + 1); err != nil {
			return at, nil, sk, err
		}
	}
	sk.bytes = r.limit - off
	if sk.bytes > 0 && sk.records == 0 {
		sk.records = 1
	}
	return r.limit, nil, sk, io.EOF
}

// zeros reports whether every byte from off to limit is zero: the unused rest of a prepared
// segment.
func (r *segReader) zeros(off int64) (bool, error) {
	for off < r.limit {
		w, err := r.window(off, readChunk)
		if err != nil {
			return false, err
		}
		for _, c := range w {
			if c != 0 {
				return false, nil
			}
		}
		off += int64(len(w))
	}
	return true, nil
}
