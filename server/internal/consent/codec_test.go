package consent

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

func sampleRecord(t testing.TB) Record {
	r, err := Decode([]byte(validBody))
	if err != nil {
		t.Fatal(err)
	}
	r.Choices = map[string]bool{"necessary": true, "marketing": false, "statistics": true}
	r.EventID = "0190b3c4-7d2e-7a6b-9c1d-2e3f4a5b6c7d"
	return NewRecord(r, testVersion(), Client{IP: netip.MustParseAddr("2001:db8:1:2::7"), UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", GPC: true},
		uuid.Must(uuid.NewV7()), time.Date(2026, 11, 22, 23, 59, 59, 987654321, time.UTC))
}

func TestRecordRoundTrip(t *testing.T) {
	rec := sampleRecord(t)
	got, err := DecodeRecord(rec.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rec) {
		t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", got, rec)
	}
}

func TestDecodeRecordRefuses(t *testing.T) {
	for name, b := range map[string]string{
		"empty":      ``,
		"not json":   `xyz`,
		"old format": `{"v":0}`,
		"incomplete": `{"v":1,"ru":"2028-01-01"}`,
		"bad date":   `{"v":1,"ru":"tomorrow"}`,
		"uneven":     `{"v":1,"id":"0190b3c4-7d2e-7a6b-9c1d-2e3f4a5b6c7d","cid":"0190b3c4-7d2e-4a6b-9c1d-2e3f4a5b6c7d","s":"demo","at":1,"cv":1,"c":["necessary"],"g":[true,false],"m":"custom","ru":"2028-01-01"}`,
	} {
		if _, err := DecodeRecord([]byte(b)); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

// FuzzDecodeRecord: any bytes decode to an error or to a record that
// encodes back to a record equal to itself; never a panic.
func FuzzDecodeRecord(f *testing.F) {
	seed := sampleRecord(f)
	f.Add(seed.Encode())
	f.Add([]byte(`{"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := DecodeRecord(b)
		if err != nil {
			return
		}
		again, err := DecodeRecord(rec.Encode())
		if err != nil {
			t.Fatalf("re-decoding an encoded record: %v", err)
		}
		if !reflect.DeepEqual(again, rec) {
			t.Fatalf("unstable round trip:\n%+v\n%+v", again, rec)
		}
	})
}

// Encode writes exactly what encoding/json writes for the spooled form,
// whether it takes the hand-written path or not: spools written by earlier
// releases and by this one read alike.
func TestEncodeAsEncodingJSON(t *testing.T) {
	base := sampleRecord(t)
	if _, ok := base.appendPlain(nil); !ok {
		t.Error("the sample record is not written by hand")
	}
	variants := map[string]func(r *Record){
		"sample":           func(*Record) {},
		"no event id":      func(r *Record) { r.EventID = "" },
		"no gpc":           func(r *Record) { r.GPC = false },
		"quote in path":    func(r *Record) { r.PagePath = `/a"b` },
		"backslash":        func(r *Record) { r.Lang = `s\v` },
		"html characters":  func(r *Record) { r.PagePath = "/a?b=<c>&d" },
		"non-ascii":        func(r *Record) { r.PagePath = "/köp/åäö" },
		"invalid utf-8":    func(r *Record) { r.UA.Device = "\xff\xfe" },
		"control":          func(r *Record) { r.UA.OS = "a\tb\x7f" },
		"nil categories":   func(r *Record) { r.Categories, r.Granted = nil, nil },
		"empty categories": func(r *Record) { r.Categories, r.Granted = []string{}, []bool{} },
		"category quoted":  func(r *Record) { r.Categories = []string{`x"`, "y", "z"} },
		"empty strings":    func(r *Record) { r.ConfigHash, r.Source, r.IPPrefix, r.PageOrigin, r.PagePath = "", "", "", "", "" },
	}
	for name, change := range variants {
		r := base
		r.Categories, r.Granted = slices.Clone(base.Categories), slices.Clone(base.Granted)
		change(&r)
		want, err := json.Marshal(spooled{codecVersion, r.RecordID, r.ConsentID, r.EventID, r.Site, r.RecordedAt.UnixMilli(),
			r.ConfigVersion, r.ConfigHash, r.Lang, r.Categories, r.Granted, r.Method, r.Source, r.GPC,
			[3]string{r.UA.Browser, r.UA.OS, r.UA.Device}, r.IPPrefix, r.PageOrigin, r.PagePath, r.RetainUntil.Format(time.DateOnly)})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Encode(); string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// The hand-written reader takes what Encode writes for plain strings, and
// whatever it takes it reads as encoding/json does: checked on every prefix
// of a record and on every byte of it replaced by a few others.
func TestDecodePlainAsEncodingJSON(t *testing.T) {
	rec := sampleRecord(t)
	b := rec.Encode()
	if _, ok := decodePlain(b); !ok {
		t.Fatalf("the sample record is not read by hand: %s", b)
	}
	rec.GPC, rec.EventID = false, ""
	if _, ok := decodePlain(rec.Encode()); !ok {
		t.Fatal("a record without GPC and event id is not read by hand")
	}
	agree := func(in []byte) {
		got, ok := decodePlain(in)
		if !ok {
			return
		}
		var want spooled
		if err := json.Unmarshal(in, &want); err != nil {
			t.Fatalf("read by hand, refused by encoding/json (%v): %s", err, in)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s\nby hand       %+v\nencoding/json %+v", in, got, want)
		}
	}
	for i := range len(b) + 1 {
		agree(b[:i])
	}
	for i := range b {
		for _, c := range []byte(`"\,:[]{}0 -9aAe` + "\x00\x7f\xc3") {
			m := slices.Clone(b)
			m[i] = c
			agree(m)
		}
	}
}
