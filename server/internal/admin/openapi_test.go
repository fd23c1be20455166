package admin_test

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
)

type openAPI struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

type openAPIOp struct {
	Summary   string                     `json:"summary"`
	Roles     []string                   `json:"x-roles"`
	Responses map[string]json.RawMessage `json:"responses"`
}

// The OpenAPI document and the routes agree: every /v1/sites route is
// documented, every documented operation is mounted (it answers 401, not
// 404, without credentials), and the roles it documents are the roles the
// route table test enforces.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	b, err := os.ReadFile("../../../schemas/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPI
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	documented := map[string]openAPIOp{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op openAPIOp
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			if op.Summary == "" || len(op.Responses) == 0 {
				t.Errorf("%s %s: no summary or responses", method, path)
			}
			documented[strings.ToUpper(method)+" "+path] = op
		}
	}

	s := newStack(t, nil)
	param := regexp.MustCompile(`:([a-z_]+)`)
	mounted := map[string]bool{}
	for _, r := range s.svc.App.GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/v1/sites") || r.Method == http.MethodHead {
			continue
		}
		mounted[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	var missing, extra []string
	for k := range mounted {
		if _, ok := documented[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !mounted[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes without documentation: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("documented but not mounted: %v", extra)
	}

	fill := strings.NewReplacer("{site}", "demo", "{n}", "1", "{email}", "a@example.se", "{id}", "abc")
	for k := range documented {
		method, path, _ := strings.Cut(k, " ")
		r := s.do(t, client{}, method, fill.Replace(path), nil)
		if r.status != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401 (%s)", k, r.status, r.body)
		}
	}

	tested := map[string][]string{}
	for _, rt := range siteRoutes() {
		path := rt.path
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		path = strings.Replace(path, "/versions/1", "/versions/{n}", 1)
		path = strings.Replace(path, "/new-member@example.se", "/{email}", 1)
		var roles []string
		for _, r := range rt.roles {
			roles = append(roles, string(r))
		}
		tested[rt.method+" "+path] = roles
	}
	tested["DELETE /v1/sites/{site}"] = []string{"owner"}
	for k, roles := range tested {
		op, ok := documented[k]
		if !ok {
			t.Errorf("%s is tested but not documented", k)
			continue
		}
		if !slices.Equal(op.Roles, roles) {
			t.Errorf("%s: documented roles %v, enforced %v", k, op.Roles, roles)
		}
	}
}
