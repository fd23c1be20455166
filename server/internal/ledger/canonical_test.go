package ledger

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// The hand-written encoding of plain rows is byte for byte encoding/json's
// (HTML escaping off), which defines the canonical form, for plain rows and
// for rows with anything a string can hold.
func TestRowEncodeIsEncodingJSONs(t *testing.T) {
	reference := func(r Row) []byte {
		if r.Categories == nil {
			r.Categories = []string{}
		}
		if r.Granted == nil {
			r.Granted = []bool{}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Z", "0", "/", " ", "~", "<", ">", "&", "'", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f",
		"å", "ä", "ö", "\u2028", "\u2029", "\xff", "😀", "=", "%2F"}
	str := func(plain bool) string {
		var b []byte
		for range rng.IntN(12) {
			p := pieces[rng.IntN(len(pieces))]
			if plain && !plainString(p) {
				continue
			}
			b = append(b, p...)
		}
		return string(b)
	}
	for i := range 5000 {
		plain := i%2 == 0
		r := Row{RecordID: str(plain), ConsentID: str(plain), EventID: str(plain), Site: str(plain), RecordedAt: str(plain),
			ConfigVersion: rng.Uint32(), ConfigHash: str(plain), Lang: str(plain), Method: str(plain), Source: str(plain),
			GPC: rng.IntN(2) == 0, UABrowser: str(plain), UAOS: str(plain), UADevice: str(plain), IPPrefix: str(plain),
			PageOrigin: str(plain), PagePath: str(plain), RetainUntil: str(plain)}
		for range rng.IntN(5) {
			r.Categories = append(r.Categories, str(plain))
			r.Granted = append(r.Granted, rng.IntN(2) == 0)
		}
		if i%7 == 0 {
			r.Categories, r.Granted = nil, nil
		}
		if got, want := r.Encode(), reference(r); !bytes.Equal(got, want) {
			t.Fatalf("row %d (plain %v):\n got %s\nwant %s", i, r.plain(), got, want)
		}
	}
}
