package webdump

import (
	"bytes"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/sqldump"
)

// sqlDump is what a bounded prefix of a SQL dump tells.
type sqlDump struct {
	// Tables maps a table name to its columns from CREATE TABLE, in order
	// of appearance in TableOrder.
	Tables     map[string][]finding.Field
	TableOrder []string
	// Rows holds the first rows (up to the caller's limit).
	Rows []sqldump.Row
	// RowCount counts every row seen in the prefix.
	RowCount int
	// Header is true when a dump tool's header comment was seen.
	Header bool
}

// Valid tells whether the text was a SQL dump at all.
func (d *sqlDump) Valid() bool {
	return d.RowCount > 0 || len(d.Tables) > 0 || d.Header
}

var dumpHeaders = [][]byte{
	[]byte("-- MySQL dump"), []byte("-- MariaDB dump"), []byte("-- PostgreSQL database dump"),
	[]byte("-- Dump completed"), []byte("PRAGMA foreign_keys"),
}

// maxSQLValues bounds the values kept from one row.
const maxSQLValues = 256

// parseSQLDump reads the tables and rows of a (prefix of a) dump b with
// the sqldump parser, keeping at most maxRows rows. A statement cut at the
// end of b yields the rows completed before the cut.
func parseSQLDump(b []byte, maxRows int) *sqlDump {
	d := &sqlDump{Tables: map[string][]finding.Field{}}
	if looksLikeHTML(b) {
		return d
	}
	for _, h := range dumpHeaders {
		if bytes.Contains(b[:min(len(b), 4096)], h) {
			d.Header = true
		}
	}
	// b is the bounded body, so no statement in it is longer than b.
	_ = sqldump.Parse(bytes.NewReader(b), sqldump.Options{MaxRecord: len(b) + 1, MaxValues: maxSQLValues}, sqldump.Handler{
		Table: func(t sqldump.Table) error {
			if _, dup := d.Tables[t.Name]; !dup {
				d.TableOrder = append(d.TableOrder, t.Name)
			}
			fields := make([]finding.Field, len(t.Columns))
			for i, c := range t.Columns {
				fields[i] = finding.Field{Name: c.Name, Type: c.Type}
			}
			d.Tables[t.Name] = fields
			return nil
		},
		Row: func(r sqldump.Row) error {
			d.RowCount++
			if len(d.Rows) < maxRows {
				d.Rows = append(d.Rows, r)
			}
			return nil
		},
	})
	return d
}
