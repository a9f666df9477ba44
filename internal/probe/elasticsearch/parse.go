package elasticsearch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// rootInfo is the answer to GET / of an Elasticsearch or OpenSearch node.
type rootInfo struct {
	Name        string `json:"name"`
	ClusterName string `json:"cluster_name"`
	ClusterUUID string `json:"cluster_uuid"`
	Version     struct {
		Number       string `json:"number"`
		Distribution string `json:"distribution"`
		BuildFlavor  string `json:"build_flavor"`
		BuildType    string `json:"build_type"`
		Lucene       string `json:"lucene_version"`
	} `json:"version"`
	Tagline string `json:"tagline"`
}

// Taglines the two products print on GET /.
const (
	taglineElastic    = "You Know, for Search"
	taglineOpenSearch = "The OpenSearch Project"
)

// parseRoot decodes GET / and tells whether it is a search node: it needs a
// version number and either a known tagline or a cluster name and uuid.
func parseRoot(body []byte) (*rootInfo, error) {
	var ri rootInfo
	if err := json.Unmarshal(body, &ri); err != nil {
		return nil, fmt.Errorf("decode root: %w", err)
	}
	if ri.Version.Number == "" {
		return nil, errors.New("root: no version.number")
	}
	known := strings.Contains(ri.Tagline, taglineElastic) || strings.Contains(ri.Tagline, taglineOpenSearch)
	if !known && (ri.ClusterName == "" || ri.ClusterUUID == "") {
		return nil, errors.New("root: no tagline and no cluster identity")
	}
	return &ri, nil
}

// product names the distribution.
func (ri *rootInfo) product() string {
	if ri.Version.Distribution == "opensearch" || strings.Contains(ri.Tagline, taglineOpenSearch) {
		return "opensearch"
	}
	return "elasticsearch"
}

// catIndex is one row of _cat/indices?format=json&bytes=b.
type catIndex struct {
	Health    string `json:"health"`
	Status    string `json:"status"`
	Index     string `json:"index"`
	UUID      string `json:"uuid"`
	DocsCount string `json:"docs.count"`
	StoreSize string `json:"store.size"`
}

// indexInfo is a parsed index row.
type indexInfo struct {
	Name    string
	Records *int64
	Bytes   *int64
	Hidden  bool
	Closed  bool
}

// parseCatIndices decodes _cat/indices row by row. Counts of closed
// indices are null. The body may have been cut at the response cap (a
// cluster with tens of thousands of indices): every row complete before the
// cut is kept and cut reports that the listing is incomplete. A body that
// is not a JSON array at all is an error; one that is an array but breaks
// off is not — a size limit must never make an open cluster look closed.
func parseCatIndices(body []byte) (out []indexInfo, cut bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, false, fmt.Errorf("decode _cat/indices: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, false, fmt.Errorf("decode _cat/indices: want an array, got %v", tok)
	}
	for {
		if !dec.More() {
			// The closing bracket must be there; a body cut right after a
			// row ends here too.
			if _, err := dec.Token(); err != nil {
				cut = true
			}
			break
		}
		var r catIndex
		if err := dec.Decode(&r); err != nil {
			var ute *json.UnmarshalTypeError
			if errors.As(err, &ute) {
				continue // one odd row (a number where a string belongs): skip it
			}
			cut = true
			break
		}
		if r.Index == "" {
			continue
		}
		ii := indexInfo{Name: r.Index, Hidden: isHidden(r.Index), Closed: r.Status == "close"}
		if n, err := strconv.ParseInt(r.DocsCount, 10, 64); err == nil && n >= 0 {
			ii.Records = &n
		}
		if n, err := strconv.ParseInt(r.StoreSize, 10, 64); err == nil && n >= 0 {
			ii.Bytes = &n
		}
		out = append(out, ii)
	}
	sort.SliceStable(out, func(i, j int) bool {
		return sizeOf(out[i]) > sizeOf(out[j]) || (sizeOf(out[i]) == sizeOf(out[j]) && out[i].Name < out[j].Name)
	})
	return out, cut, nil
}

func sizeOf(ii indexInfo) int64 {
	if ii.Bytes != nil {
		return *ii.Bytes
	}
	return 0
}

// isHidden tells system and hidden indices (".kibana", ".opendistro-…",
// ".security", ".tasks", …), which are reported but not counted.
func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// parseMapping flattens GET /index/_mapping into field paths and types.
// It accepts both the typeless (7.x+) and the typed (6.x) shapes.
func parseMapping(body []byte, index string) ([]finding.Field, error) {
	var m map[string]struct {
		Mappings json.RawMessage `json:"mappings"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("decode mapping: %w", err)
	}
	entry, ok := m[index]
	if !ok {
		// Aliases answer under the concrete index name; take the only one.
		for _, v := range m {
			entry = v
			break
		}
	}
	if len(entry.Mappings) == 0 {
		return nil, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(entry.Mappings, &top); err != nil {
		return nil, fmt.Errorf("decode mappings: %w", err)
	}
	props, ok := top["properties"]
	if !ok {
		// 6.x: {"_doc": {"properties": …}}
		for k, v := range top {
			if strings.HasPrefix(k, "_") && k != "_doc" {
				continue
			}
			var typed map[string]json.RawMessage
			if json.Unmarshal(v, &typed) == nil && typed["properties"] != nil {
				props = typed["properties"]
				break
			}
		}
	}
	var fields []finding.Field
	if len(props) > 0 {
		if err := walkProperties(props, "", 0, &fields); err != nil {
			return nil, err
		}
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	return fields, nil
}

const maxFields = 2000

func walkProperties(raw json.RawMessage, prefix string, depth int, out *[]finding.Field) error {
	if depth > 20 || len(*out) >= maxFields {
		return nil
	}
	var props map[string]struct {
		Type       string          `json:"type"`
		Properties json.RawMessage `json:"properties"`
	}
	if err := json.Unmarshal(raw, &props); err != nil {
		return fmt.Errorf("decode properties: %w", err)
	}
	for name, p := range props {
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if len(p.Properties) > 0 {
			if err := walkProperties(p.Properties, path, depth+1, out); err != nil {
				return err
			}
			if p.Type == "" {
				continue
			}
		}
		typ := p.Type
		if typ == "" {
			typ = "object"
		}
		*out = append(*out, finding.Field{Name: path, Type: typ})
	}
	return nil
}

// parseHits decodes the _source documents of a search response that may
// have been cut at the byte budget: it returns every document complete
// before the cut.
func parseHits(body []byte) ([]classify.Record, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := seekArray(dec, "hits", "hits"); err != nil {
		return nil, err
	}
	var recs []classify.Record
	for dec.More() {
		var hit struct {
			Source map[string]any `json:"_source"`
		}
		if err := dec.Decode(&hit); err != nil {
			// Truncated by the budget: keep what was whole.
			return recs, nil
		}
		if hit.Source != nil {
			recs = append(recs, classify.FromJSON(hit.Source))
		}
	}
	return recs, nil
}

// seekArray walks an object down the given keys and stops inside the array
// found there.
func seekArray(dec *json.Decoder, keys ...string) error {
	for i, key := range keys {
		if err := expectDelim(dec, '{'); err != nil {
			return err
		}
		for {
			tok, err := dec.Token()
			if err != nil {
				return fmt.Errorf("search response: %w", err)
			}
			if d, ok := tok.(json.Delim); ok && d == '}' {
				return fmt.Errorf("search response: no %q", key)
			}
			name, _ := tok.(string)
			if name == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fmt.Errorf("search response: %w", err)
			}
		}
		if i == len(keys)-1 {
			return expectDelim(dec, '[')
		}
	}
	return nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("search response: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("search response: want %q, got %v", want, tok)
	}
	return nil
}

// searchStats are the per-index search counters from _stats/search, kept as
// evidence of access (a later observation can tell whether someone queried
// an index while it was open).
type searchStats struct {
	QueryTotal int64 `json:"query_total"`
	FetchTotal int64 `json:"fetch_total"`
}

func parseSearchStats(body []byte) (map[string]searchStats, error) {
	var s struct {
		All struct {
			Total struct {
				Search searchStats `json:"search"`
			} `json:"total"`
		} `json:"_all"`
		Indices map[string]struct {
			Total struct {
				Search searchStats `json:"search"`
			} `json:"total"`
		} `json:"indices"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("decode _stats/search: %w", err)
	}
	out := map[string]searchStats{"_all": s.All.Total.Search}
	for name, v := range s.Indices {
		out[name] = v.Total.Search
	}
	return out, nil
}

// errorInfo is the error body of a refused request.
type errorInfo struct {
	Type   string
	Reason string
}

func parseError(body []byte) errorInfo {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Error) == 0 {
		return errorInfo{}
	}
	var obj struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(e.Error, &obj) == nil && obj.Type != "" {
		return errorInfo{Type: obj.Type, Reason: obj.Reason}
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil {
		return errorInfo{Reason: s}
	}
	return errorInfo{}
}

// isRansomNote tells whether an index name looks like a ransom note left
// by extortion bots that wiped a cluster ("read_me", "meow", …): the one
// list the lifecycle's extortion events use for every store.
func isRansomNote(name string) bool { return lifecycle.IsRansomNoteName(name) }
