package main

import (
	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/sqldump"
)

// SQL dumps (pg_dump, mysqldump): the rows of COPY … FROM stdin blocks and
// of INSERT statements (read by internal/sqldump) become records whose
// fields are "table.column", so the field names count as they do for a
// live database; a value without a known column is "table.column<n>".
// Other statements (DDL, SET, comments) are no records. A statement, tuple
// or COPY line over --max-record-bytes is skipped and flags the dataset;
// a COPY line cut by --max-bytes is dropped.
func (fr *fileReader) sql() error {
	return sqldump.Parse(fr.br, sqldump.Options{MaxRecord: fr.max, Complete: func() bool { return !fr.cut() }}, sqldump.Handler{
		Row: func(r sqldump.Row) error {
			return fr.emit(classify.FromRow(r.Fields("column"), r.Values), r.Line)
		},
		Skipped: func(int) { fr.tooLarge() },
	})
}
