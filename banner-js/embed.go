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

// Lang holds lang/xx.json: the banner's own words (buttons, labels, ARIA
// names, the item details' labels) per language, read by the server's words
// package. Only the languages a site configures travel in its banner.
//
//go:embed lang
var Lang embed.FS
