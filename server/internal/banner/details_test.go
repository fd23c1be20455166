package banner

import (
	"encoding/json"
	"strings"
	"testing"
)

// The details carry every item in the visitor's language, and the inlined
// configuration only what the first load needs.
func TestDetailsAndPublicConfig(t *testing.T) {
	b, err := New("http://x")
	if err != nil {
		t.Fatal(err)
	}
	v := demoVersion(t)
	a, err := b.Details(v, "en")
	if err != nil {
		t.Fatal(err)
	}
	var d Details
	if err := json.Unmarshal(a.Raw, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Items) != len(v.Config.Items) || d.Descriptions["statistics"] == "" || !strings.Contains(d.Justification, "2022:482") {
		t.Fatalf("details %+v", d)
	}
	ide := d.Items[len(d.Items)-1]
	if ide.Name != "IDE" || ide.Rows[1] != [2]string{"Party", "Third party (doubleclick.net)"} || ide.Rows[3] != [2]string{"Duration", "13 months"} ||
		ide.Rows[5] != [2]string{"Third-country transfer", "Yes: US (EU-US Data Privacy Framework)"} {
		t.Errorf("IDE: %+v", ide.Rows)
	}
	if other, err := b.Details(v, "xx"); err != nil || string(other.Raw) == string(a.Raw) {
		t.Error("an unknown language must fall back to the default (sv), not English")
	}
	pub := b.PublicConfig(v)
	if pub.Fingerprint != v.Config.Fingerprint() || pub.Details != "http://x/b/demo/1/details.json" {
		t.Errorf("public config: %+v", pub)
	}
	for _, it := range pub.Items {
		if it.Category == "necessary" || it.Name == "IDE" || it.Name == "tr" {
			t.Errorf("%s cannot be erased by the banner and must not be inlined", it.Name)
		}
	}
}
