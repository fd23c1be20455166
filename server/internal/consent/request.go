package consent

import (
	"errors"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// MaxBodyBytes is the largest request body accepted: a decision with a dozen
// categories and a long URL fits in well under half of it.
const MaxBodyBytes = 4 << 10

// Request is the body of POST /v1/consents.
type Request struct {
	Site          string  `json:"site"`
	ConsentID     string  `json:"consent_id"`
	ConfigVersion uint32  `json:"config_version"`
	Choices       Choices `json:"choices"`
	Method        string  `json:"method"`
	Lang          string  `json:"lang"`
	URL           string  `json:"url"`
	GPC           bool    `json:"gpc"`
	Source        string  `json:"source"`
	// EventID names one decision: the banner sends a new random UUID per
	// decision and the same one on every retry of it (or an API client sends
	// an Idempotency-Key header). Optional.
	EventID string `json:"event_id"`
}

var (
	langRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z]{2})?$`)
	catRe  = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

func bad(code, field, msg string, args ...any) *apierr.Error {
	return apierr.New(http.StatusBadRequest, code, field, msg, args...)
}

func unprocessable(code, field, msg string, args ...any) *apierr.Error {
	return apierr.New(http.StatusUnprocessableEntity, code, field, msg, args...)
}

// Choices maps each category id to granted (true) or refused (false).
type Choices map[string]bool

// UnmarshalJSONFrom decodes an object of booleans and refuses null for a
// decision (a plain map would read it as false): a record must say one or
// the other.
func (c *Choices) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var m map[string]*bool
	if err := json.UnmarshalDecode(dec, &m); err != nil {
		return err
	}
	if m == nil {
		*c = nil
		return nil
	}
	out := make(Choices, len(m))
	for k, v := range m {
		if v == nil {
			return errors.New("a decision is null")
		}
		out[k] = *v
	}
	*c = out
	return nil
}

// Decode parses and syntactically checks a request body. Everything wrong
// with it is a 400 naming the field; it never panics on any input.
func Decode(body []byte) (*Request, error) {
	if len(body) == 0 {
		return nil, bad("empty_body", "", "the request body is empty; send a JSON object")
	}
	if len(body) > MaxBodyBytes {
		return nil, apierr.New(http.StatusRequestEntityTooLarge, "body_too_large", "", "the body is %d bytes; at most %d are accepted", len(body), MaxBodyBytes)
	}
	if !utf8.Valid(body) {
		return nil, bad("invalid_utf8", "", "the body is not valid UTF-8")
	}
	var r Request
	// Unknown members, duplicate names and trailing data are errors: a
	// consent record must mean exactly one thing.
	if err := json.Unmarshal(body, &r, json.RejectUnknownMembers(true)); err != nil {
		return nil, decodeError(err)
	}
	if err := r.checkSyntax(); err != nil {
		return nil, err
	}
	return &r, nil
}

func decodeError(err error) *apierr.Error {
	var se *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &se):
		field := pointerField(string(se.JSONPointer))
		switch {
		case errors.Is(se.Err, json.ErrUnknownName):
			return bad("unknown_field", field, "unknown field %q", field)
		case field == "":
			return bad("malformed_json", "", "the body must be a JSON object")
		}
		want := "a different type"
		if se.GoType != nil {
			switch se.GoType.Kind().String() {
			case "string":
				want = "a string"
			case "bool":
				want = "true or false"
			case "uint32":
				want = "a whole number from 1 to 4294967295"
			case "map":
				want = "an object of category ids to true or false"
			}
		}
		return bad("wrong_type", field, "%s must be %s", field, want)
	case errors.As(err, &syn):
		if errors.Is(syn.Err, jsontext.ErrDuplicateName) {
			field := pointerField(string(syn.JSONPointer))
			return bad("duplicate_field", field, "field %q appears more than once", field)
		}
		return bad("malformed_json", "", "the body is not valid JSON (at byte %d)", syn.ByteOffset)
	}
	return bad("malformed_json", "", "the body is not valid JSON")
}

// pointerField turns a JSON Pointer such as /choices/statistics into
// choices.statistics, the form used in error bodies.
func pointerField(ptr string) string {
	ptr = strings.TrimPrefix(ptr, "/")
	ptr = strings.ReplaceAll(ptr, "/", ".")
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(ptr)
}

func (r *Request) checkSyntax() error {
	switch {
	case r.Site == "":
		return bad("missing_field", "site", "site is required")
	case !siteconfig.ValidSiteID(r.Site):
		return bad("invalid_field", "site", "site must be a site id (lowercase letters, digits and -)")
	case r.ConsentID == "":
		return bad("missing_field", "consent_id", "consent_id is required")
	}
	id, err := uuid.Parse(r.ConsentID)
	if err != nil || len(r.ConsentID) != 36 || id.Version() != 4 || id.Variant() != uuid.RFC4122 {
		return bad("invalid_field", "consent_id", "consent_id must be a random UUID (version 4) like 8f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f")
	}
	switch {
	case r.ConfigVersion == 0:
		return bad("missing_field", "config_version", "config_version is required (the published version shown, from 1)")
	case r.Choices == nil:
		return bad("missing_field", "choices", "choices is required")
	case len(r.Choices) == 0 || len(r.Choices) > 12:
		return bad("invalid_field", "choices", "choices must hold one decision per category (1 to 12)")
	}
	for cat := range r.Choices {
		if !catRe.MatchString(cat) {
			return bad("invalid_field", "choices", "%q is not a category id", truncate(cat, 40))
		}
	}
	switch r.Method {
	case "":
		return bad("missing_field", "method", "method is required")
	case MethodAcceptAll, MethodRejectAll, MethodCustom, MethodWithdraw, MethodGPC:
	default:
		return bad("invalid_field", "method", "method must be one of accept_all, reject_all, custom, withdraw, gpc")
	}
	switch {
	case r.Lang == "":
		return bad("missing_field", "lang", "lang is required")
	case !langRe.MatchString(r.Lang):
		return bad("invalid_field", "lang", "lang must be a language code like sv or en")
	case r.URL == "":
		return bad("missing_field", "url", "url is required (the page the decision was made on)")
	}
	if _, _, err := StripURL(r.URL); err != nil {
		return bad("invalid_field", "url", "url %s", err.Error())
	}
	if r.EventID != "" && !ValidEventID(r.EventID) {
		return bad("invalid_field", "event_id", "event_id must be a UUID like 8f1e2d3c-4b5a-4c6d-8e7f-0a1b2c3d4e5f, new for each decision")
	}
	switch r.Source {
	case "":
		r.Source = SourceBanner
	case SourceBanner, SourceSettings, SourceAPI:
	default:
		return bad("invalid_field", "source", "source must be banner, settings or api")
	}
	return nil
}

// Check validates the request against the configuration version the visitor
// was shown: the categories must be exactly that version's, necessary must be
// granted, and the method must agree with the choices.
func (r *Request) Check(v *siteconfig.Version) error {
	c := v.Config
	if !c.HasLanguage(r.Lang) {
		return unprocessable("unknown_language", "lang", "version %d has no texts in %q; it has %s", v.Number, r.Lang, strings.Join(c.Languages, ", "))
	}
	ids := c.CategoryIDs()
	for _, id := range ids {
		if _, ok := r.Choices[id]; !ok {
			return unprocessable("missing_choice", "choices."+id, "no decision for category %q of version %d", id, v.Number)
		}
	}
	if len(r.Choices) != len(ids) {
		for cat := range r.Choices {
			if !slices.Contains(ids, cat) {
				return unprocessable("unknown_category", "choices."+cat, "version %d has no category %q", v.Number, cat)
			}
		}
	}
	if !r.Choices[siteconfig.NecessaryID] {
		return unprocessable("necessary_refused", "choices.necessary", "necessary cannot be refused; it must be true")
	}
	for _, id := range ids[1:] {
		granted := r.Choices[id]
		switch {
		case r.Method == MethodAcceptAll && !granted:
			return unprocessable("method_mismatch", "choices."+id, "accept_all must grant every category, %q is false", id)
		case (r.Method == MethodRejectAll || r.Method == MethodGPC || r.Method == MethodWithdraw) && granted:
			return unprocessable("method_mismatch", "choices."+id, "%s must not grant %q", r.Method, id)
		}
	}
	return nil
}

// ValidEventID accepts a UUID in its canonical 36-character form, any
// version: API clients may use their own kind of UUID as an idempotency key.
func ValidEventID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// Client is what the server knows about the visitor's request, reduced to
// what the log may keep.
type Client struct {
	IP        netip.Addr
	UserAgent string
	GPC       bool // Sec-GPC: 1
}

// NewRecord builds the log row for a checked request. recordID identifies
// the row; now is the server's clock.
func NewRecord(r *Request, v *siteconfig.Version, cl Client, recordID uuid.UUID, now time.Time) Record {
	ids := v.Config.CategoryIDs()
	granted := make([]bool, len(ids))
	for i, id := range ids {
		granted[i] = r.Choices[id]
	}
	origin, path, _ := StripURL(r.URL) // checked in Decode
	now = now.UTC().Truncate(time.Millisecond)
	return Record{
		RecordID:      recordID,
		ConsentID:     uuid.MustParse(r.ConsentID), // checked in Decode
		EventID:       r.EventID,
		Site:          r.Site,
		RecordedAt:    now,
		ConfigVersion: v.Number,
		ConfigHash:    v.Hash,
		Lang:          r.Lang,
		Categories:    ids,
		Granted:       granted,
		Method:        r.Method,
		Source:        r.Source,
		GPC:           r.GPC || cl.GPC,
		UA:            CoarseUA(cl.UserAgent),
		IPPrefix:      TruncateIP(cl.IP),
		PageOrigin:    origin,
		PagePath:      path,
		RetainUntil:   RetainUntil(now, v.Config.Consent.RetentionMonths),
	}
}

// RetainUntil is the first day on which a record made at t may be dropped.
func RetainUntil(t time.Time, months int) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m+time.Month(months), d, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
