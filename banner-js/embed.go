// Package bannerjs embeds the TypeScript source of the visitor-facing cookie
// banner. The server bundles src/main.ts from Files with esbuild's Go API
// (bundle, IIFE, minify, target es2019) and, when serving /b/SITE.js, replaces
// the single free identifier __SAMTYCKE_CONFIG__ in the minified output with
// the site's published BannerConfig as a JSON object literal (see
// src/config.ts and README.md).
package bannerjs

import "embed"

// Files holds src/ (main.ts is the entry point) and tsconfig.json.
//
//go:embed src tsconfig.json
var Files embed.FS
