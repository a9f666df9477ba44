package hostile

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// ---- CouchDB-shaped -----------------------------------------------------------

type couchOpts struct {
	dbs      []string // database names
	extra    int      // extra generated databases in _all_dbs
	docCount string   // doc_count of every database (raw JSON)
	doc      string   // one document (raw JSON)
	version  string   // version of the welcome (raw JSON)
	vendor   string   // vendor name (raw JSON)
}

// couchNode is an admin-party CouchDB with hostile content chosen by o.
func couchNode(o couchOpts) http.Handler {
	if o.docCount == "" {
		o.docCount = "2"
	}
	if o.doc == "" {
		o.doc = `{"_id":"a","email":"a@b.example"}`
	}
	if o.version == "" {
		o.version = `"3.3.3"`
	}
	if o.vendor == "" {
		o.vendor = `"The Apache Software Foundation"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.EscapedPath()
		switch {
		case p == "/":
			fmt.Fprintf(w, `{"couchdb":"Welcome","version":%s,"vendor":{"name":%s}}`, o.version, o.vendor)
		case p == "/_session":
			fmt.Fprint(w, `{"ok":true,"userCtx":{"name":null,"roles":["_admin"]}}`)
		case p == "/_all_dbs":
			probetest.WriteList(w, `[`, len(o.dbs)+o.extra, func(w io.Writer, i int) {
				if i < len(o.dbs) {
					io.WriteString(w, js(o.dbs[i]))
					return
				}
				fmt.Fprintf(w, `"db-%07d"`, i)
			}, `]`)
		case strings.HasSuffix(p, "/_all_docs"):
			fmt.Fprintf(w, `{"total_rows":2,"offset":0,"rows":[{"id":"a","doc":%s},{"id":"b","doc":%s}]}`, o.doc, o.doc)
		default:
			fmt.Fprintf(w, `{"db_name":"x","doc_count":%s,"sizes":{"external":%s,"file":%s}}`, o.docCount, o.docCount, o.docCount)
		}
	})
}

// couchdbBehaviours are the CouchDB-shaped cases.
func couchdbBehaviours() []behaviour {
	bidi := "ok " + plantedBidi + " " + plantedANSI
	only := []string{"couchdb"}
	return []behaviour{
		{name: "couchdb-listing-past-cap", probers: only,
			serve: fixed(httpHandler(couchNode(couchOpts{extra: 5000}))), check: exposedWith("couchdb", probe.FlagDatasetsTruncated)},
		{name: "couchdb-document-past-sample-budget", probers: only,
			serve: fixed(httpHandler(couchNode(couchOpts{dbs: []string{"big"}, doc: fmt.Sprintf(`{"note":"%s"}`, strings.Repeat("x", 64<<10))}))),
			check: exposedWith("couchdb", probe.FlagRecordTooLarge)},
		{name: "couchdb-hostile-database-names", probers: only, planted: hostileNames,
			serve: fixed(httpHandler(couchNode(couchOpts{dbs: append([]string{"ok"}, hostileNames...)})))},
		{name: "couchdb-hostile-document-keys", probers: only, planted: hostileNames,
			serve: fixed(httpHandler(couchNode(couchOpts{dbs: []string{"users"},
				doc: fmt.Sprintf(`{%s:"v",%s:{"x":1}}`, js(plantedEmail), js(plantedToken))})))},
		{name: "couchdb-hostile-welcome", probers: only, planted: []string{plantedBidi, plantedANSI, plantedEmail},
			serve: fixed(httpHandler(couchNode(couchOpts{dbs: []string{"a"}, version: js(plantedEmail + bidi), vendor: js(bidi)})))},
		{name: "couchdb-negative-counts", probers: only,
			serve: fixed(httpHandler(couchNode(couchOpts{dbs: []string{"a", "b"}, docCount: "-5"}))), check: noNegativeCounts},
		{name: "couchdb-overflowing-counts", probers: only,
			serve: fixed(httpHandler(couchNode(couchOpts{dbs: []string{"a", "b"}, docCount: "99999999999999999999999"}))), check: noNegativeCounts},
		{name: "couchdb-deep-document", probers: only,
			serve: fixed(httpHandler(couchNode(couchOpts{dbs: []string{"a"}, doc: deepJSON(20000)})))},
	}
}
