// Package notice renders a site's cookie notice from one published,
// immutable configuration version: an HTML page, the same content as JSON
// (schemas/cookie-notice.schema.json), and an embeddable declaration (self-
// contained markup plus a stylesheet) that the banner shows inside a site's
// own privacy page. Rendering is deterministic: the same version and
// language always give the same bytes, so every version stays retrievable
// exactly as it was published.
//
// The notice says what Swedish law and Planet49 require (SPEC §4 items
// 19–20), in Swedish and English; other configured languages get the
// English text.
package notice

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Languages are those the notice's own text is written in.
var Languages = []string{"sv", "en"}

// pick returns the notice language used for lang.
func pick(lang string) string {
	if lang == "sv" {
		return "sv"
	}
	return "en"
}

// For returns the language a notice requested in lang is written in: lang
// itself for Swedish and English, English for any other language a site
// configures (the notice's legal text exists in those two only, and one
// page is never a mix of languages).
func For(lang string) string { return pick(lang) }

// Document is the notice of one version in one language: what the HTML
// shows and what cookies.json returns.
type Document struct {
	Site            string       `json:"site"`
	SiteName        string       `json:"site_name"`
	Lang            string       `json:"lang"`
	Version         uint32       `json:"version"`
	SHA256          string       `json:"sha256"`
	Effective       time.Time    `json:"effective"`
	EffectiveText   string       `json:"effective_text"`
	URL             string       `json:"url"`
	Title           string       `json:"title"`
	Controller      Controller   `json:"controller"`
	Consent         Consent      `json:"consent"`
	Categories      []Category   `json:"categories"`
	Sections        []Section    `json:"sections"`
	EarlierVersions []VersionRef `json:"earlier_versions"`
	// Banner is the script URL of the site's banner when the notice is
	// served on one of the site's own origins, so the page can offer
	// "change your choice"; empty otherwise.
	Banner string `json:"-"`
}

// Controller is the data controller, as configured.
type Controller struct {
	Name             string `json:"name"`
	OrgNumber        string `json:"org_number,omitempty"`
	Address          string `json:"address,omitempty"`
	Email            string `json:"email"`
	Phone            string `json:"phone,omitempty"`
	DPOEmail         string `json:"dpo_email,omitempty"`
	PrivacyPolicyURL string `json:"privacy_policy_url,omitempty"`
}

// Consent says how long a choice and its record are kept.
type Consent struct {
	LifetimeDays    int    `json:"lifetime_days"`
	LifetimeText    string `json:"lifetime_text"`
	RetentionMonths int    `json:"retention_months"`
	RetentionText   string `json:"retention_text"`
}

// Category is one purpose with its legal basis and every item in it.
type Category struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	Description   string `json:"description"`
	Necessary     bool   `json:"necessary"`
	LegalBasis    string `json:"legal_basis"`
	Justification string `json:"justification,omitempty"`
	Items         []Item `json:"items"`
}

// Item is one cookie or similar technology, every field in words.
type Item struct {
	Name             string       `json:"name"`
	Pattern          string       `json:"pattern,omitempty"`
	Type             string       `json:"type"`
	TypeText         string       `json:"type_text"`
	Provider         string       `json:"provider"`
	Party            string       `json:"party"`
	PartyText        string       `json:"party_text"`
	Domain           string       `json:"domain,omitempty"`
	Purpose          string       `json:"purpose"`
	Collects         string       `json:"collects"`
	ThirdPartyAccess string       `json:"third_party_access"`
	Justification    string       `json:"justification,omitempty"`
	Duration         string       `json:"duration"`
	Lifetime         string       `json:"lifetime"`
	ThirdCountry     ThirdCountry `json:"third_country"`
}

// ThirdCountry says whether data leaves the EU/EEA, where to and under
// what safeguard.
type ThirdCountry struct {
	Transfer  bool     `json:"transfer"`
	Countries []string `json:"countries,omitempty"`
	Safeguard string   `json:"safeguard,omitempty"`
	Text      string   `json:"text"`
}

// Section is one part of the notice's text. Links are plain links (to the
// browser vendors' help pages, IMY, earlier versions): following one is the
// visitor's choice, the notice itself requests nothing from third parties.
type Section struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Paragraphs []string `json:"paragraphs"`
	Links      []Link   `json:"links,omitempty"`
}

// Link is a labelled URL.
type Link struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// VersionRef points at an earlier version of the notice.
type VersionRef struct {
	Version       uint32    `json:"version"`
	Effective     time.Time `json:"effective"`
	EffectiveText string    `json:"effective_text"`
	URL           string    `json:"url"`
}

// Earlier is a published version before the one rendered.
type Earlier struct {
	Number      uint32
	PublishedAt time.Time
}

// Input is what a notice is made of.
type Input struct {
	Version *siteconfig.Version
	Lang    string    // sv or en (see For)
	Earlier []Earlier // every version before Version, any order
	// PublicBase is where Samtycke is reached (links to versions).
	PublicBase string
	// Banner: see Document.Banner.
	Banner string
}

// VersionURL is the permanent address of version n of a site's notice.
func VersionURL(base, site string, n uint32, lang string) string {
	return fmt.Sprintf("%s/s/%s/cookies/v/%d?lang=%s", strings.TrimRight(base, "/"), site, n, lang)
}

// Build makes the document of one version in one language.
func Build(in Input) *Document {
	v, c, lang := in.Version, in.Version.Config, For(in.Lang)
	l := pick(lang)
	t := text[l]
	loc := func(m siteconfig.Localized) string {
		if s := m[lang]; s != "" {
			return s
		}
		return m[c.DefaultLanguage]
	}
	d := &Document{
		Site: v.Site, SiteName: c.Name, Lang: lang, Version: v.Number, SHA256: v.Hash,
		Effective: v.PublishedAt.UTC(), EffectiveText: Date(l, v.PublishedAt),
		URL:    VersionURL(in.PublicBase, v.Site, v.Number, lang),
		Title:  strings.ReplaceAll(t.Title, "{site}", c.Name),
		Banner: in.Banner,
		Controller: Controller{Name: c.Controller.Name, OrgNumber: c.Controller.OrgNumber, Address: c.Controller.Address,
			Email: c.Controller.Email, Phone: c.Controller.Phone, DPOEmail: c.Controller.DPOEmail,
			PrivacyPolicyURL: c.Controller.PrivacyPolicyURL},
		Consent: Consent{LifetimeDays: c.Consent.LifetimeDays, LifetimeText: days(l, c.Consent.LifetimeDays),
			RetentionMonths: c.Consent.RetentionMonths, RetentionText: months1(l, c.Consent.RetentionMonths)},
		Categories:      []Category{},
		EarlierVersions: []VersionRef{},
	}
	for _, cat := range c.Categories {
		dc := Category{ID: cat.ID, Title: loc(cat.Title), Description: loc(cat.Description),
			Necessary: cat.ID == siteconfig.NecessaryID, Items: []Item{}}
		if dc.Necessary {
			dc.LegalBasis = t.BasisNecessary
			dc.Justification = loc(cat.Justification)
		} else {
			dc.LegalBasis = t.BasisConsent
		}
		for _, it := range c.Items {
			if it.Category != cat.ID {
				continue
			}
			di := Item{Name: it.Name, Pattern: it.Pattern, Type: it.Type, TypeText: t.Types[it.Type],
				Provider: it.Provider, Party: it.Party, PartyText: t.Parties[it.Party], Domain: it.Domain,
				Purpose: loc(it.Purpose), Collects: t.NotStated, ThirdPartyAccess: t.NoThirdParty,
				Duration: it.Duration, Lifetime: Lifetime(l, it.Duration)}
			if it.Collects != nil {
				di.Collects = loc(it.Collects)
			}
			if it.ThirdPartyAccess != nil {
				di.ThirdPartyAccess = loc(it.ThirdPartyAccess)
			}
			if dc.Necessary {
				// SPEC §4 item 20: every necessary item carries a written
				// justification, its own or its category's.
				di.Justification = dc.Justification
				if it.Justification != nil {
					di.Justification = loc(it.Justification)
				}
			}
			tc := it.ThirdCountry
			di.ThirdCountry = ThirdCountry{Transfer: tc.Transfer, Countries: tc.Countries, Safeguard: tc.Safeguard, Text: t.NoTransfer}
			if tc.Transfer {
				sg := tc.Safeguard
				if sg == "" {
					sg = t.NotStated
				}
				di.ThirdCountry.Text = strings.NewReplacer("{countries}", countryNames(l, tc.Countries), "{safeguard}", sg).Replace(t.Transfer)
			}
			dc.Items = append(dc.Items, di)
		}
		d.Categories = append(d.Categories, dc)
	}
	for _, e := range in.Earlier {
		if e.Number >= v.Number {
			continue
		}
		d.EarlierVersions = append(d.EarlierVersions, VersionRef{Version: e.Number, Effective: e.PublishedAt.UTC(),
			EffectiveText: Date(l, e.PublishedAt), URL: VersionURL(in.PublicBase, v.Site, e.Number, lang)})
	}
	sort.Slice(d.EarlierVersions, func(i, j int) bool { return d.EarlierVersions[i].Version > d.EarlierVersions[j].Version })
	d.Sections = t.sections(d, c)
	return d
}

// anyTransfer reports whether any item sends data outside the EU/EEA.
func anyTransfer(d *Document) bool {
	for _, c := range d.Categories {
		for _, it := range c.Items {
			if it.ThirdCountry.Transfer {
				return true
			}
		}
	}
	return false
}
