package notice

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// wording is the notice's own text in one language, read from lang/xx.json.
// The legal statements (SPEC §4 item 19) live in Sections; notice_test.go
// checks each of them. Texts name what they take in braces: {site},
// {controller}, {version}, {effective}, {sha256}, {withdraw}, {reject_all},
// {lifetime}, {retention}, {email}, {privacy_policy}; a paragraph or link
// with "when" appears only when that holds (see holds in sections).
type wording struct {
	Title          string               `json:"title"`
	Session        string               `json:"session"`
	Persistent     string               `json:"persistent"`
	BasisNecessary string               `json:"basis_necessary"`
	BasisConsent   string               `json:"basis_consent"`
	NotStated      string               `json:"not_stated"`
	NoThirdParty   string               `json:"no_third_party"`
	NoTransfer     string               `json:"no_transfer"`
	Transfer       string               `json:"transfer"` // {countries}, {safeguard}
	And            string               `json:"and"`
	OrgNumber      string               `json:"org_number"` // {number}
	Types          map[string]string    `json:"types"`
	Parties        map[string]string    `json:"parties"`
	Units          map[string][2]string `json:"units"` // singular, plural
	Months         [12]string           `json:"months"`
	Countries      map[string]string    `json:"countries"` // the usual destinations; others show their ISO code
	UI             UI                   `json:"ui"`
	Sections       []sectionText        `json:"sections"`
}

type sectionText struct {
	ID         string      `json:"id"`
	Title      string      `json:"title"`
	Paragraphs []paragraph `json:"paragraphs"`
	Links      []linkText  `json:"links"`
}

// paragraph is a text, or {"text": …, "when": …} for one that depends on the site.
type paragraph struct {
	Text string `json:"text"`
	When string `json:"when"`
}

func (p *paragraph) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &p.Text)
	}
	type plain paragraph
	return json.Unmarshal(b, (*plain)(p))
}

type linkText struct {
	Text string `json:"text"`
	URL  string `json:"url"`
	When string `json:"when"`
}

// UI holds the labels of the page around the text.
type UI struct {
	Skip, Language, Contents, Version, Effective, Necessary, WithConsent, Why string
	ColName, ColType, ColProvider, ColPurpose, ColLifetime, ColTransfer       string
	Collects, Access, Justification, Party, Domain                            string
	Change, ConsentID, ChosenOn, NoItems, Earlier, NoEarlier, Print, NoScript string
	CtrlName, CtrlOrg, CtrlAddress, CtrlEmail, CtrlPhone, CtrlDPO, CtrlPolicy string
}

//go:embed lang/*.json
var langFiles embed.FS

var text = loadText()

// loadText reads every language of the notice; a file that does not decode
// fails the start (notice_test.go checks the files).
func loadText() map[string]*wording {
	out := map[string]*wording{}
	for _, l := range Languages {
		raw, err := langFiles.ReadFile("lang/" + l + ".json")
		if err != nil {
			panic("notice: " + err.Error())
		}
		w := &wording{}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(w); err != nil {
			panic(fmt.Sprintf("notice: lang/%s.json: %v", l, err))
		}
		out[l] = w
	}
	return out
}

// sections fills in the notice's sections for one document.
func (w *wording) sections(d *Document, c *siteconfig.Config) []Section {
	ctrl := d.Controller.Name
	if d.Controller.OrgNumber != "" {
		ctrl += strings.ReplaceAll(w.OrgNumber, "{number}", d.Controller.OrgNumber)
	}
	tx, ok := c.Texts[d.Lang]
	if !ok {
		tx = c.Texts["en"]
	}
	// One pass, so that a site's own text containing "{email}" stays as it is.
	fill := strings.NewReplacer("{site}", d.SiteName, "{controller}", ctrl, "{version}", strconv.FormatUint(uint64(d.Version), 10),
		"{effective}", d.EffectiveText, "{sha256}", d.SHA256, "{withdraw}", tx.Withdraw, "{reject_all}", tx.RejectAll,
		"{lifetime}", d.Consent.LifetimeText, "{retention}", d.Consent.RetentionText, "{email}", d.Controller.Email,
		"{privacy_policy}", d.Controller.PrivacyPolicyURL).Replace
	holds := map[string]bool{"": true, "transfers": anyTransfer(d),
		"privacy_policy": d.Controller.PrivacyPolicyURL != "",
		"dpo":            d.Controller.DPOEmail != "", "no_dpo": d.Controller.DPOEmail == "",
		"earlier": len(d.EarlierVersions) > 0, "no_earlier": len(d.EarlierVersions) == 0}
	out := make([]Section, 0, len(w.Sections))
	for _, st := range w.Sections {
		s := Section{ID: st.ID, Title: fill(st.Title), Paragraphs: []string{}}
		for _, p := range st.Paragraphs {
			if holds[p.When] {
				s.Paragraphs = append(s.Paragraphs, fill(p.Text))
			}
		}
		for _, l := range st.Links {
			if holds[l.When] {
				s.Links = append(s.Links, Link{fill(l.Text), fill(l.URL)})
			}
		}
		out = append(out, s)
	}
	return out
}
