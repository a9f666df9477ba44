package chroma

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// This file decodes the Chroma HTTP API's answers: the heartbeat
// ({"nanosecond heartbeat": n}), the version (a JSON string), the caller's
// identity, the database and collection lists, a collection's count (a
// bare number), a get's parallel arrays (ids, documents, metadatas) and
// the {"error","message"} of a refusal. Every parser takes a capped body
// and reports "not this" for a shape it does not know.

// parseHeartbeat tells whether b is a Chroma heartbeat.
func parseHeartbeat(b []byte) bool {
	var m map[string]json.Number
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return false
	}
	n, ok := m["nanosecond heartbeat"]
	return ok && n != ""
}

// maxVersion bounds a version string.
const maxVersion = 40

// parseVersion reads the version answer: a JSON string that looks like a
// version (digits and dots first).
func parseVersion(b []byte) (string, bool) {
	var v string
	if json.Unmarshal(b, &v) != nil || v == "" || len(v) > maxVersion || v[0] < '0' || v[0] > '9' || !strings.Contains(v, ".") {
		return "", false
	}
	return v, true
}

// chromaError is the body of a refusal or failure.
type chromaError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// parseError reads an error body (capped message).
func parseError(b []byte) (chromaError, bool) {
	var e chromaError
	if json.Unmarshal(b, &e) != nil || e.Error == "" {
		return chromaError{}, false
	}
	if len(e.Error) > 100 {
		e.Error = e.Error[:100]
	}
	if len(e.Message) > 200 {
		e.Message = e.Message[:200]
	}
	return e, true
}

// identity is GET /api/v2/auth/identity: the caller's tenant and
// databases ("*": all).
type identity struct {
	UserID    string   `json:"user_id"`
	Tenant    string   `json:"tenant"`
	Databases []string `json:"databases"`
}

func parseIdentity(b []byte) (identity, bool) {
	var id identity
	if json.Unmarshal(b, &id) != nil || id.Tenant == "" {
		return identity{}, false
	}
	return id, true
}

// named is an element of the database list.
type named struct {
	Name string `json:"name"`
}

// parseDatabases reads the database list: up to max names; cut says the
// list went on (past max, or past the response cap).
func parseDatabases(b []byte, max int) (names []string, cut bool, err error) {
	names = []string{}
	more := false
	cut, err = probe.EachJSON(b, func(d named) bool {
		if d.Name == "" {
			return true
		}
		if len(names) >= max {
			more = true
			return false
		}
		names = append(names, d.Name)
		return true
	})
	if err != nil {
		return nil, false, err
	}
	return names, cut || more, nil
}

// collection is an element of the collection list.
type collection struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Dimension *int64         `json:"dimension"`
	Metadata  map[string]any `json:"metadata"`
}

// parseCollections reads a collection list: up to max collections with an
// id and a name; cut as in parseDatabases.
func parseCollections(b []byte, max int) (cs []collection, cut bool, err error) {
	more := false
	cut, err = probe.EachJSON(b, func(c collection) bool {
		if c.ID == "" || c.Name == "" || strings.ContainsAny(c.ID, "/?#%") || len(c.ID) > 64 {
			return true
		}
		if len(cs) >= max {
			more = true
			return false
		}
		if c.Dimension != nil && *c.Dimension < 0 {
			c.Dimension = nil
		}
		cs = append(cs, c)
		return true
	})
	if err != nil {
		return nil, false, err
	}
	return cs, cut || more, nil
}

// parseCount reads a count: a bare non-negative integer.
func parseCount(b []byte) (int64, bool) {
	v, err := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil || v < 0 {
		return 0, false
	}
	return v, true
}

// getResult is a get's answer: parallel arrays, one element a record.
// Embeddings are never asked for; a server that sends them anyway has
// them ignored (not decoded into anything kept).
type getResult struct {
	IDs       []json.RawMessage `json:"ids"`
	Documents []json.RawMessage `json:"documents"`
	Metadatas []json.RawMessage `json:"metadatas"`
}

// parseGet turns a get's answer into at most max records: each holds the
// record's id, its document text (under "document") and its metadata
// (under "metadata.<key>").
func parseGet(b []byte, max int) ([]classify.Record, error) {
	var g getResult
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	if g.IDs == nil {
		return nil, fmt.Errorf("get: no ids")
	}
	n := min(len(g.IDs), max)
	recs := make([]classify.Record, 0, n)
	for i := range n {
		doc := map[string]any{}
		var id string
		if json.Unmarshal(g.IDs[i], &id) == nil {
			doc["id"] = id
		}
		if i < len(g.Documents) {
			var text string
			if json.Unmarshal(g.Documents[i], &text) == nil && text != "" {
				doc["document"] = text
			}
		}
		if i < len(g.Metadatas) {
			var meta map[string]any
			if json.Unmarshal(g.Metadatas[i], &meta) == nil && len(meta) > 0 {
				doc["metadata"] = meta
			}
		}
		recs = append(recs, classify.FromJSON(doc))
	}
	return recs, nil
}

// maxFields bounds the metadata keys listed as fields.
const maxFields = 200

// fields are a collection's schema as the classifier sees it: the
// embedding (counted, never read), the document text, and the metadata
// keys of the sample.
func fields(c collection, recs []classify.Record) []finding.Field {
	emb := "float32 vector"
	if c.Dimension != nil {
		emb = fmt.Sprintf("float32[%d]", *c.Dimension)
	}
	out := []finding.Field{{Name: "embedding", Type: emb}, {Name: "document", Type: "text"}}
	keys := map[string]bool{}
	for _, r := range recs {
		for _, v := range r.Values {
			if k, ok := strings.CutPrefix(v.Path, "metadata."); ok {
				keys[k] = true
			}
		}
	}
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	sort.Strings(names)
	if len(names) > maxFields {
		names = names[:maxFields]
	}
	for _, k := range names {
		out = append(out, finding.Field{Name: "metadata." + k})
	}
	return out
}
