// Package migrations holds the read model's schema as numbered SQL files, embedded in the binary
// and applied in order at start-up. A file, once released, is never edited: changes go in a new
// file with the next number.
package migrations

import "embed"

// FS holds the files NNNN_name.sql.
//
//go:embed *.sql
var FS embed.FS
