package couchdb

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// This file decodes the CouchDB HTTP API's answers: the welcome of GET /,
// the anonymous session of GET /_session, the list of GET /_all_dbs, a
// database's info (GET /{db}), the rows of GET /{db}/_all_docs and the
// {"error","reason"} of every refusal. Every parser takes a capped body and
// never fails on a shape it does not know: it reports "not this".

// welcome is what GET / tells about the server.
type welcome struct {
	// product is "couchdb" (Apache CouchDB and its vendors' builds) or
	// "pouchdb-server" (express-pouchdb).
	product       string
	version       string
	vendor        string
	vendorVersion string
	uuid          string
}

// welcomeKeys are the members whose "Welcome…" string names the product.
var welcomeKeys = []struct{ key, product string }{
	{"couchdb", "couchdb"},
	{"express-pouchdb", "pouchdb-server"},
}

// parseWelcome reads GET /'s answer. It needs two signals: a welcome
// member ({"couchdb":"Welcome"}) and a version or a vendor name.
func parseWelcome(b []byte) (welcome, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return welcome{}, false
	}
	var w welcome
	for _, k := range welcomeKeys {
		var s string
		if json.Unmarshal(m[k.key], &s) == nil && strings.HasPrefix(strings.ToLower(s), "welcome") {
			w.product = k.product
			break
		}
	}
	if w.product == "" {
		return welcome{}, false
	}
	_ = json.Unmarshal(m["version"], &w.version)
	_ = json.Unmarshal(m["uuid"], &w.uuid)
	var v struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	if json.Unmarshal(m["vendor"], &v) == nil {
		w.vendor, w.vendorVersion = v.Name, v.Version
	}
	if w.version == "" && w.vendor == "" {
		return welcome{}, false
	}
	return w, true
}

// serverVersion is the version of a "CouchDB/3.3.3 (Erlang OTP/25)"
// Server header ("" if the header names another server).
func serverVersion(h string) string {
	rest, ok := strings.CutPrefix(h, "CouchDB/")
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, " ")
	return v
}

// couchError is the body of a refusal: {"error":"unauthorized","reason":…}.
type couchError struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// parseError reads an error body; ok is false for any other shape.
func parseError(b []byte) (couchError, bool) {
	var e couchError
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		return couchError{}, false
	}
	if len(e.Reason) > 200 {
		e.Reason = e.Reason[:200]
	}
	return e, true
}

// parseSession reads GET /_session: the anonymous user's roles. ok is
// false for another shape.
func parseSession(b []byte) (roles []string, ok bool) {
	var s struct {
		OK      bool `json:"ok"`
		UserCtx *struct {
			Roles []string `json:"roles"`
		} `json:"userCtx"`
	}
	if json.Unmarshal(b, &s) != nil || s.UserCtx == nil {
		return nil, false
	}
	return s.UserCtx.Roles, true
}

// validName is CouchDB's rule for database names; system databases start
// with "_" and are few.
var validName = regexp.MustCompile(`^[a-z][a-z0-9_$()+/-]*$`)

// systemDBs are the system databases a listing may hold.
var systemDBs = map[string]bool{"_users": true, "_replicator": true, "_global_changes": true}

// parseAllDBs reads GET /_all_dbs: up to max names (cut past it), valid
// names only (others counted in invalid). cut also says the body broke off
// at the response cap. err means the body is no JSON list of names.
func parseAllDBs(b []byte, max int) (names []string, invalid int, cut bool, err error) {
	names = []string{}
	more := false
	cut, err = probe.EachJSON(b, func(name string) bool {
		if len(names) >= max {
			more = true // a name past max: the listing is cut
			return false
		}
		if len(name) > 238 || (!validName.MatchString(name) && !systemDBs[name]) {
			invalid++
			return true
		}
		names = append(names, name)
		return true
	})
	if err != nil {
		return nil, 0, false, err
	}
	return names, invalid, cut || more, nil
}

// dbInfo is a database's GET /{db} answer: document count and sizes
// (CouchDB 2+: sizes.external/file; 1.x and PouchDB: data_size/disk_size).
type dbInfo struct {
	records *int64
	bytes   *int64
}

// parseDBInfo reads GET /{db}. ok is false unless it is a database info
// (it has a doc_count). Negative or overflowing numbers are unknown.
func parseDBInfo(b []byte) (dbInfo, bool) {
	var raw struct {
		DocCount json.Number `json:"doc_count"`
		Sizes    struct {
			External json.Number `json:"external"`
			File     json.Number `json:"file"`
		} `json:"sizes"`
		DataSize json.Number `json:"data_size"`
		DiskSize json.Number `json:"disk_size"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&raw) != nil || raw.DocCount == "" {
		return dbInfo{}, false
	}
	var info dbInfo
	info.records = count(raw.DocCount)
	for _, n := range []json.Number{raw.Sizes.External, raw.DataSize, raw.Sizes.File, raw.DiskSize} {
		if v := count(n); v != nil {
			info.bytes = v
			break
		}
	}
	return info, true
}

// count is n as a non-negative int64, or nil.
func count(n json.Number) *int64 {
	if n == "" {
		return nil
	}
	v, err := strconv.ParseInt(string(n), 10, 64)
	if err != nil || v < 0 {
		return nil
	}
	return &v
}

// row is one row of _all_docs?include_docs=true.
type row struct {
	ID  string          `json:"id"`
	Doc json.RawMessage `json:"doc"`
}

var errNotAllDocs = errors.New("not an _all_docs answer")

// parseRows reads _all_docs (possibly cut at the sample budget: every
// complete row before the cut counts, cut says it broke off) and turns at
// most max documents into records. Design documents (code, not data) and
// deleted or missing ones are left out; so are revision and attachment
// bookkeeping fields.
func parseRows(b []byte, max int) (recs []classify.Record, cut bool, err error) {
	cut, err = probe.EachJSON(b, func(r row) bool {
		if len(recs) >= max {
			return false
		}
		if strings.HasPrefix(r.ID, "_design/") || len(r.Doc) == 0 || r.Doc[0] != '{' {
			return true
		}
		rec, err := classify.FromJSONBytes(r.Doc)
		if err != nil {
			return true
		}
		rec.Values = dropBookkeeping(rec.Values)
		if len(rec.Values) > 0 {
			recs = append(recs, rec)
		}
		return true
	}, "rows")
	if err != nil {
		return nil, false, errNotAllDocs
	}
	return recs, cut, nil
}

// dropBookkeeping removes _rev, _revisions, _conflicts and _attachments
// (digests and lengths) values: CouchDB's, not the owner's data.
func dropBookkeeping(vs []classify.Value) []classify.Value {
	out := vs[:0]
	for _, v := range vs {
		top, _, _ := strings.Cut(v.Path, ".")
		switch top {
		case "_rev", "_revisions", "_conflicts", "_attachments", "_deleted_conflicts":
			continue
		}
		out = append(out, v)
	}
	return out
}
