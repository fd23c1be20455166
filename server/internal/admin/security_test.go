package admin_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"
)

// The CSRF token counts only in a header or the body: in the query string
// it would end up in logs, history and Referer headers.
func TestCSRFTokenNotFromTheQueryString(t *testing.T) {
	app, _ := handlerApp(t, "http://consent.example")
	j := jar{}
	j.login(t, app, adminEmail, adminPassword)
	res := j.req(t, app, "GET", "/admin/", nil, nil)
	page, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	tok := csrfRe.FindSubmatch(page)
	if tok == nil {
		t.Fatalf("no token on the sites page: %s", page)
	}
	csrf := string(tok[1])
	if res := j.req(t, app, "POST", "/admin/logout-everywhere?_csrf="+url.QueryEscape(csrf), url.Values{}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a form with its token in the query string: %d, want 403", res.StatusCode)
	}
	if res := j.req(t, app, "POST", "/v1/sites?_csrf="+url.QueryEscape(csrf), nil, map[string]string{"Content-Type": "application/json"}); res.StatusCode != http.StatusForbidden {
		t.Errorf("an API call with its token in the query string: %d, want 403", res.StatusCode)
	}
	if res := j.req(t, app, "POST", "/admin/logout-everywhere", url.Values{"_csrf": {csrf}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the token in the body: %d, want 303", res.StatusCode)
	}
}
