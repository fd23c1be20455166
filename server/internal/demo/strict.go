package demo

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"sync"
)

var strictPage = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(static, "static/strict.html.tmpl"))
})

// StrictPage returns the demo page for a strict Content-Security-Policy and
// that policy: scripts only with a fresh nonce, styles only from files (no
// 'unsafe-inline'), so the banner must carry the nonce to the scripts it
// activates and style itself with constructed stylesheets.
func StrictPage() (page []byte, csp string, err error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return nil, "", err
	}
	nonce := base64.StdEncoding.EncodeToString(b)
	var buf bytes.Buffer
	if err := strictPage().Execute(&buf, struct{ Nonce string }{nonce}); err != nil {
		return nil, "", err
	}
	csp = "default-src 'self'; script-src 'nonce-" + nonce + "'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
	return buf.Bytes(), csp, nil
}
