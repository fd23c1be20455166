package consent

import (
	"net/netip"
	"reflect"
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
