// Package precompressed is a response body compressed once, with gzip and
// brotli at their best levels, so that serving it only picks bytes. gzip is
// klauspost/compress's: at its best level it writes some 0.5 % fewer bytes
// than the standard library's (51 on the demo banner, where P1 counts them). The
// banner, its item details and the cookie notice are each built once per
// published version and served many times.
package precompressed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
)

// Body is one body in three content codings.
type Body struct {
	Raw, Gzip, Brotli []byte
	// ETag is strong and differs per content coding, as RFC 9110 requires.
	ETag, ETagGzip, ETagBrotli string
}

// New compresses raw.
func New(raw []byte) (*Body, error) {
	var gz, br bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	bw := brotli.NewWriterLevel(&br, brotli.BestCompression)
	if _, err := bw.Write(raw); err != nil {
		return nil, err
	}
	if err := bw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	tag := hex.EncodeToString(sum[:12])
	return &Body{
		Raw: raw, Gzip: gz.Bytes(), Brotli: br.Bytes(),
		ETag: `"` + tag + `"`, ETagGzip: `"` + tag + `-gz"`, ETagBrotli: `"` + tag + `-br"`,
	}, nil
}

// Pick chooses the coding for an Accept-Encoding header: brotli, then gzip,
// then none. encoding is "" for none.
func (b *Body) Pick(acceptEncoding string) (body []byte, etag, encoding string) {
	switch {
	case Accepts(acceptEncoding, "br"):
		return b.Brotli, b.ETagBrotli, "br"
	case Accepts(acceptEncoding, "gzip"):
		return b.Gzip, b.ETagGzip, "gzip"
	}
	return b.Raw, b.ETag, ""
}

// Accepts reports whether an Accept-Encoding header accepts coding with a
// non-zero quality.
func Accepts(header, coding string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// Matches implements If-None-Match (weak comparison, as RFC 9110 asks).
func Matches(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
