package hostile

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// ---- Chroma-shaped ------------------------------------------------------------

type chromaOpts struct {
	colls   []string // collection names
	extra   int      // extra generated collections
	count   string   // every collection's count (raw JSON)
	doc     string   // every document (raw JSON string)
	meta    string   // every metadata (raw JSON)
	version string   // the version answer (raw JSON)
	dim     string   // every collection's dimension (raw JSON)
}

// chromaNode is an open Chroma with hostile content chosen by o.
func chromaNode(o chromaOpts) http.Handler {
	if o.count == "" {
		o.count = "2"
	}
	if o.doc == "" {
		o.doc = `"ticket from a@b.example"`
	}
	if o.meta == "" {
		o.meta = `{"k":"v"}`
	}
	if o.version == "" {
		o.version = `"1.0.0"`
	}
	if o.dim == "" {
		o.dim = "4"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.Path
		switch {
		case p == "/api/v2/heartbeat":
			fmt.Fprint(w, `{"nanosecond heartbeat":1}`)
		case p == "/api/v2/version":
			io.WriteString(w, o.version)
		case p == "/api/v2/auth/identity":
			fmt.Fprint(w, `{"user_id":"","tenant":"default_tenant","databases":["default_database"]}`)
		case strings.HasSuffix(p, "/databases"):
			fmt.Fprint(w, `[{"name":"default_database"}]`)
		case strings.HasSuffix(p, "/collections"):
			probetest.WriteList(w, "[", len(o.colls)+o.extra, func(w io.Writer, i int) {
				name := fmt.Sprintf("coll_%07d", i)
				if i < len(o.colls) {
					name = o.colls[i]
				}
				fmt.Fprintf(w, `{"id":"c%07d","name":%s,"dimension":%s}`, i, js(name), o.dim)
			}, "]")
		case strings.HasSuffix(p, "/count"):
			io.WriteString(w, o.count)
		case strings.HasSuffix(p, "/get"):
			fmt.Fprintf(w, `{"ids":["a","b"],"documents":[%s,%s],"metadatas":[%s,%s]}`, o.doc, o.doc, o.meta, o.meta)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

// chromaBehaviours are the Chroma-shaped cases.
func chromaBehaviours() []behaviour {
	bidi := "ok " + plantedBidi + " " + plantedANSI
	only := []string{"chroma"}
	return []behaviour{
		{name: "chroma-listing-past-cap", probers: only,
			serve: fixed(httpHandler(chromaNode(chromaOpts{extra: 5000}))), check: exposedWith("chroma", probe.FlagDatasetsTruncated)},
		{name: "chroma-document-past-sample-budget", probers: only,
			serve: fixed(httpHandler(chromaNode(chromaOpts{colls: []string{"big"}, doc: js(strings.Repeat("x", 64<<10))}))),
			check: exposedWith("chroma", probe.FlagRecordTooLarge)},
		{name: "chroma-hostile-collection-names", probers: only, planted: hostileNames,
			serve: fixed(httpHandler(chromaNode(chromaOpts{colls: hostileNames})))},
		{name: "chroma-hostile-metadata-keys", probers: only, planted: hostileNames,
			serve: fixed(httpHandler(chromaNode(chromaOpts{colls: []string{"a"}, meta: fmt.Sprintf(`{%s:"v",%s:1}`, js(plantedEmail), js(plantedToken))})))},
		{name: "chroma-hostile-version", probers: only, planted: []string{plantedBidi, plantedANSI},
			serve: fixed(httpHandler(chromaNode(chromaOpts{colls: []string{"a"}, version: js("1." + bidi)})))},
		{name: "chroma-negative-counts", probers: only,
			serve: fixed(httpHandler(chromaNode(chromaOpts{colls: []string{"a", "b"}, count: "-5", dim: "-3"}))), check: noNegativeCounts},
		{name: "chroma-overflowing-counts", probers: only,
			serve: fixed(httpHandler(chromaNode(chromaOpts{colls: []string{"a"}, count: "99999999999999999999999"}))), check: noNegativeCounts},
		{name: "chroma-deep-metadata", probers: only,
			serve: fixed(httpHandler(chromaNode(chromaOpts{colls: []string{"a"}, meta: deepJSON(20000)})))},
	}
}
