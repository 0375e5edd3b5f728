// Package templates embeds idpbridge's pages (html/template files, one
// layout) and static assets. It holds no code beyond the embedding: the
// loader lives in idp/ui.
package templates

import "embed"

// FS holds the page templates (*.html) and static/ assets.
//
//go:embed *.html static
var FS embed.FS
