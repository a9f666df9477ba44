package hostile

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// storeBehaviours are the protocol-shaped cases of the stores added for
// issue 14, one function per store.
func storeBehaviours() []behaviour {
	return slices.Concat(solrBehaviours(), couchdbBehaviours(), chromaBehaviours(), hazelcastBehaviours(), kafkaBehaviours())
}

// ---- Solr-shaped ------------------------------------------------------------

type solrOpts struct {
	cores    []string // core names
	numDocs  string   // numDocs of every core (raw JSON)
	extra    int      // extra generated cores in STATUS
	fields   string   // Luke fields object (raw JSON)
	doc      string   // one select document (raw JSON)
	specName string   // solr-spec-version (raw JSON)
}

// solrNode is a Solr node with hostile content chosen by o.
func solrNode(o solrOpts) http.Handler {
	if o.numDocs == "" {
		o.numDocs = "3"
	}
	if o.fields == "" {
		o.fields = `{"email":{"type":"string"}}`
	}
	if o.doc == "" {
		o.doc = `{"id":"1","email":"a@b.example"}`
	}
	if o.specName == "" {
		o.specName = `"9.10.1"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/solr/admin/info/system":
			fmt.Fprintf(w, `{"responseHeader":{"status":0},"mode":"std","lucene":{"solr-spec-version":%s}}`, o.specName)
		case r.URL.Path == "/solr/admin/cores":
			probetest.WriteList(w, `{"responseHeader":{"status":0},"status":{`, len(o.cores)+o.extra, func(w io.Writer, i int) {
				name := fmt.Sprintf("core_%06d", i)
				if i < len(o.cores) {
					name = o.cores[i]
				}
				fmt.Fprintf(w, `%s:{"name":%s,"index":{"numDocs":%s,"sizeInBytes":%s}}`, js(name), js(name), o.numDocs, o.numDocs)
			}, `}}`)
		case strings.HasSuffix(r.URL.Path, "/admin/luke"):
			fmt.Fprintf(w, `{"responseHeader":{"status":0},"fields":%s}`, o.fields)
		case strings.HasSuffix(r.URL.Path, "/select"):
			fmt.Fprintf(w, `{"response":{"numFound":1,"start":0,"docs":[%s]}}`, o.doc)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

func solrBehaviours() []behaviour {
	solr := []string{"solr"}
	return []behaviour{
		{name: "solr-listing-past-cap", probers: solr,
			serve: fixed(httpHandler(solrNode(solrOpts{extra: 20000}))), check: exposedWith("solr", probe.FlagDatasetsTruncated)},
		{name: "solr-document-past-sample-budget", probers: solr,
			serve: fixed(httpHandler(solrNode(solrOpts{cores: []string{"big"}, doc: fmt.Sprintf(`{"note":"%s"}`, strings.Repeat("x", 64<<10))}))),
			check: exposedWith("solr", probe.FlagRecordTooLarge)},
		{name: "solr-hostile-core-names", probers: solr, planted: hostileNames,
			serve: fixed(httpHandler(solrNode(solrOpts{cores: hostileNames})))},
		{name: "solr-hostile-field-names", probers: solr, planted: hostileNames,
			serve: fixed(httpHandler(solrNode(solrOpts{cores: []string{"users"},
				fields: fmt.Sprintf(`{%s:{"type":"string"},%s:{"type":%s}}`, js(plantedEmail), js(plantedToken), js(plantedEmail))})))},
		{name: "solr-hostile-document-keys", probers: solr, planted: hostileNames,
			serve: fixed(httpHandler(solrNode(solrOpts{cores: []string{"users"},
				doc: fmt.Sprintf(`{%s:"v",%s:{"x":[1,2]}}`, js(plantedEmail), js(plantedToken))})))},
		{name: "solr-hostile-version", probers: solr, planted: []string{plantedBidi, plantedANSI},
			serve: fixed(httpHandler(solrNode(solrOpts{cores: []string{"a"}, specName: js(plantedBidi + plantedANSI)})))},
		{name: "solr-negative-counts", probers: solr,
			serve: fixed(httpHandler(solrNode(solrOpts{cores: []string{"a", "b"}, numDocs: "-5"}))), check: noNegativeCounts},
		{name: "solr-overflowing-counts", probers: solr,
			serve: fixed(httpHandler(solrNode(solrOpts{cores: []string{"a", "b"}, numDocs: "99999999999999999999999"}))), check: noNegativeCounts},
		{name: "solr-deep-document", probers: solr,
			serve: fixed(httpHandler(solrNode(solrOpts{cores: []string{"a"}, doc: deepJSON(20000)})))},
	}
}
