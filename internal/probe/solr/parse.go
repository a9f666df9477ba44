package solr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// systemInfo is the part of /solr/admin/info/system a probe keeps.
type systemInfo struct {
	ResponseHeader *struct {
		Status *int `json:"status"`
	} `json:"responseHeader"`
	Mode string `json:"mode"` // "std" or "solrcloud"
	// Security names the node's authentication and authorization plugins
	// (class names); empty when none is configured.
	Security struct {
		Authentication string `json:"authenticationPlugin"`
		Authorization  string `json:"authorizationPlugin"`
	} `json:"security"`
	Lucene struct {
		SolrSpec   string `json:"solr-spec-version"`
		LuceneSpec string `json:"lucene-spec-version"`
	} `json:"lucene"`
}

// parseSystem decodes /solr/admin/info/system and tells whether it is a
// Solr node's: it needs Solr's response header (with a status) and the
// solr-spec-version under "lucene".
func parseSystem(body []byte) (*systemInfo, error) {
	var si systemInfo
	if err := json.Unmarshal(body, &si); err != nil {
		return nil, fmt.Errorf("decode info/system: %w", err)
	}
	if si.ResponseHeader == nil || si.ResponseHeader.Status == nil {
		return nil, errors.New("info/system: no responseHeader.status")
	}
	if si.Lucene.SolrSpec == "" {
		return nil, errors.New("info/system: no lucene.solr-spec-version")
	}
	if len(si.Lucene.SolrSpec) > 64 {
		si.Lucene.SolrSpec = si.Lucene.SolrSpec[:64]
	}
	si.Security.Authentication = shortClass(si.Security.Authentication)
	si.Security.Authorization = shortClass(si.Security.Authorization)
	return &si, nil
}

// shortClass is a plugin's class name without its package, at most 64
// bytes ("org.apache.solr.security.BasicAuthPlugin" → "BasicAuthPlugin").
func shortClass(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// coreInfo is one core of /solr/admin/cores?action=STATUS.
type coreInfo struct {
	Name    string
	Records *int64
	Bytes   *int64
}

type coreStatus struct {
	Name  string `json:"name"`
	Index *struct {
		NumDocs     json.Number `json:"numDocs"`
		SizeInBytes json.Number `json:"sizeInBytes"`
	} `json:"index"`
}

// parseCoreStatus decodes the "status" object of a cores STATUS answer
// core by core. The body may have been cut at the response cap: every core
// complete before the cut is kept and cut says so. A body that holds no
// "status" object at all is an error. Cores come largest first (by
// documents, then name); a count that is not a non-negative integer is
// unknown (nil), and initFailures (cores that did not load) are counted.
func parseCoreStatus(body []byte) (cores []coreInfo, failures int, cut bool, err error) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &struct {
		InitFailures *map[string]json.RawMessage `json:"initFailures"`
	}{&m}) == nil {
		failures = len(m)
	}
	cut, err = eachMember(body, "status", func(name string, raw json.RawMessage) bool {
		var cs coreStatus
		if json.Unmarshal(raw, &cs) != nil {
			return true // one odd member: skip it
		}
		if cs.Name == "" {
			cs.Name = name
		}
		ci := coreInfo{Name: cs.Name}
		if cs.Index != nil {
			ci.Records = count(cs.Index.NumDocs)
			ci.Bytes = count(cs.Index.SizeInBytes)
		}
		if ci.Name != "" {
			cores = append(cores, ci)
		}
		return true
	})
	if err != nil {
		return nil, failures, false, fmt.Errorf("cores STATUS: %w", err)
	}
	sort.SliceStable(cores, func(i, j int) bool {
		a, b := size(cores[i].Records), size(cores[j].Records)
		return a > b || (a == b && cores[i].Name < cores[j].Name)
	})
	return cores, failures, cut, nil
}

// eachMember calls each with the members of the object found under key in
// the top-level object of body, in order, until each returns false. The
// body may have been cut: every member complete before the cut is
// delivered and cut says the object broke off (also when the cut came
// before it began). err is set when body is not an object holding an
// object under key.
func eachMember(body []byte, key string, each func(name string, raw json.RawMessage) bool) (cut bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := delim(dec, '{'); err != nil {
		return false, err
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return isEOF(err), ignoreEOF(err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return false, fmt.Errorf("no %q object", key)
		}
		if name, _ := tok.(string); name == key {
			break
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return isEOF(err), ignoreEOF(err)
		}
	}
	if err := delim(dec, '{'); err != nil {
		return isEOF(err), ignoreEOF(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return true, nil
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return true, nil
		}
		if !each(name, raw) {
			return false, nil
		}
	}
	if _, err := dec.Token(); err != nil {
		return true, nil
	}
	return false, nil
}

func ignoreEOF(err error) error {
	if isEOF(err) {
		return nil
	}
	return err
}

func isEOF(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) }

func delim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("want %q, got %v", want, tok)
	}
	return nil
}

// count is a server-reported count: a non-negative integer, else unknown.
func count(n json.Number) *int64 {
	v, err := n.Int64()
	if err != nil || v < 0 {
		return nil
	}
	return &v
}

func size(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

// maxFields bounds the schema fields kept per core.
const maxFields = 2000

// parseLukeFields decodes the fields of a Luke answer
// (/admin/luke?numTerms=0): the fields that hold data in the core's index,
// each with its schema type (dynamic fields under their own name), sorted
// by name. Declared fields no document uses are not there, so a shared
// schema's unused fields are not taken for data. A body cut at the cap
// keeps the fields read before the cut.
func parseLukeFields(body []byte) ([]finding.Field, error) {
	var fields []finding.Field
	_, err := eachMember(body, "fields", func(name string, raw json.RawMessage) bool {
		var f struct {
			Type string `json:"type"`
		}
		if name != "" && json.Unmarshal(raw, &f) == nil {
			fields = append(fields, finding.Field{Name: name, Type: f.Type})
		}
		return len(fields) < maxFields
	})
	if err != nil {
		return nil, fmt.Errorf("luke fields: %w", err)
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name })
	return fields, nil
}

// parseDocs decodes the documents of a select answer
// ({"response":{"numFound":…,"docs":[…]}}) that may have been cut at the
// sample budget: every document complete before the cut is returned, and
// cut says the list broke off.
func parseDocs(body []byte) (recs []classify.Record, cut bool, err error) {
	cut, err = probe.EachJSON(body, func(doc map[string]any) bool {
		recs = append(recs, classify.FromJSON(doc))
		return true
	}, "response", "docs")
	if err != nil {
		return nil, false, fmt.Errorf("select: %w", err)
	}
	return recs, cut, nil
}

// isKeyAnswer tells whether body is the answer of /solr/admin/info/key,
// the PKI public key endpoint Solr leaves open under every authentication
// plugin: a response header and a non-empty "key".
func isKeyAnswer(body []byte) bool {
	var k struct {
		ResponseHeader json.RawMessage `json:"responseHeader"`
		Key            string          `json:"key"`
	}
	return json.Unmarshal(body, &k) == nil && len(k.ResponseHeader) > 0 && k.Key != ""
}
