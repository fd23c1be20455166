package demo

import (
	"embed"
	"io/fs"
)

// Static is the demo page and the scripts it uses.
//
//go:embed static
var static embed.FS

// Static returns the files served under /demo.
func Static() fs.FS {
	sub, _ := fs.Sub(static, "static")
	return sub
}
