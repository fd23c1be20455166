// Package dashboard embeds the site owners' UI: server-rendered templates,
// parsed once at start so a broken template fails the start, not a request.
package dashboard

import (
	"embed"
	"html/template"
)

//go:embed templates/*.html
var files embed.FS

// Templates parses every template.
func Templates() (*template.Template, error) {
	return template.ParseFS(files, "templates/*.html")
}
