package elasticsearch

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// accessMethod says what the Elasticsearch/OpenSearch access evidence
// counts.
const accessMethod = "_stats (search, get, indexing; every copy of every shard) and the shard count of each index " +
	"(_settings index.number_of_shards), read last in the probe: per index, searches = query_total / " +
	"number_of_shards (a search or count runs its query phase once on each shard), gets = get.total (document " +
	"reads by id), indexing = index_total + delete_total; queries = Σ searches + Σ gets over all indices; own = " +
	"the counts and sample searches this probe ran (mappings, listings and statistics are no searches); " +
	"connections = _nodes/_local/stats/http total_opened (HTTP connections to the node this probe talks to), " +
	"own = the larger of the connections and the requests this probe made (a reverse proxy may open one upstream " +
	"connection per request), so foreign connections are a lower bound. Between two readings queries are summed " +
	"over the indices present in both (and new ones), so a deleted index is no counter reset. Limits: a search " +
	"skipping shards (routing, can_match) counts less than one; requests to an index deleted between two readings " +
	"are not counted; the node's HTTP counters cover only that node"

// ownSearches counts the searches (counts, samples) this probe ran per
// index.
type ownSearches map[string]int64

// maxStatsBytes bounds the statistics responses.
const maxStatsBytes = 8 << 20

// readAccess reads the per-index search/get/indexing counters and the
// node's HTTP connection counters.
func readAccess(ctx context.Context, env *probe.Env, h *probe.HTTP, own ownSearches) probe.AccessEvidence {
	a := probe.AccessEvidence{Method: accessMethod}
	shards, err := shardCounts(ctx, h)
	if err != nil {
		return probe.NotMeasurable("index settings: " + err.Error())
	}
	resp, err := h.Do(ctx, http.MethodGet, "/_stats/search,get,indexing?expand_wildcards=all&filter_path=indices.*.total.search.query_total,indices.*.total.get.total,indices.*.total.indexing.index_total,indices.*.total.indexing.delete_total", nil, "", maxStatsBytes)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Truncated {
		return probe.NotMeasurable(fmt.Sprintf("_stats not readable (%v)", statusOrErr(resp, err)))
	}
	var st struct {
		Indices map[string]struct {
			Total struct {
				Search struct {
					QueryTotal int64 `json:"query_total"`
				} `json:"search"`
				Get struct {
					Total int64 `json:"total"`
				} `json:"get"`
				Indexing struct {
					IndexTotal  int64 `json:"index_total"`
					DeleteTotal int64 `json:"delete_total"`
				} `json:"indexing"`
			} `json:"total"`
		} `json:"indices"`
	}
	if err := json.Unmarshal(resp.Body, &st); err != nil {
		return probe.NotMeasurable("_stats: " + err.Error())
	}
	a.Measurable = true
	var queries, ownQ int64
	a.Datasets = map[string]map[string]int64{}
	a.DatasetsOwn = map[string]map[string]int64{}
	for name, v := range st.Indices {
		n := max(shards[name], 1)
		t := v.Total
		if t.Search.QueryTotal < 0 || t.Get.Total < 0 || t.Indexing.IndexTotal < 0 || t.Indexing.DeleteTotal < 0 {
			continue
		}
		searches := t.Search.QueryTotal / n
		queries += searches + t.Get.Total
		ownQ += own[name]
		if len(a.Datasets) < env.Budget.MaxListed {
			a.Datasets[name] = map[string]int64{"search": searches, "get": t.Get.Total, "indexing": t.Indexing.IndexTotal + t.Indexing.DeleteTotal}
			if own[name] > 0 {
				a.DatasetsOwn[name] = map[string]int64{"search": own[name]}
			}
		}
	}
	a.Counters = map[string]int64{probe.CounterQueries: queries}
	a.DatasetSums = map[string][]string{probe.CounterQueries: {"search", "get"}}
	a.Own = map[string]int64{probe.CounterQueries: ownQ}
	if opened, current, err := httpStats(ctx, h); err == nil {
		a.Counters[probe.CounterConnections] = opened
		// A reverse proxy in front of the node (nginx) opens a connection
		// upstream per request it passes on: count the larger of the
		// probe's connections and its requests as its own.
		a.Own[probe.CounterConnections] = max(int64(len(env.LocalAddrs())), env.HTTPRequests())
		a.Gauges = map[string]int64{"http_current_open": current}
	} else {
		a.Missing = append(a.Missing, "_nodes/_local/stats/http")
	}
	return a
}

// shardCounts reads each index's number of primary shards.
func shardCounts(ctx context.Context, h *probe.HTTP) (map[string]int64, error) {
	resp, err := h.Do(ctx, http.MethodGet, "/_all/_settings/index.number_of_shards?expand_wildcards=all&flat_settings=true", nil, "", maxStatsBytes)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Truncated {
		return nil, fmt.Errorf("%v", statusOrErr(resp, err))
	}
	var s map[string]struct {
		Settings map[string]string `json:"settings"`
	}
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(s))
	for name, v := range s {
		if n, err := strconv.ParseInt(v.Settings["index.number_of_shards"], 10, 64); err == nil && n > 0 {
			out[name] = n
		}
	}
	return out, nil
}

// httpStats reads the local node's HTTP connection counters.
func httpStats(ctx context.Context, h *probe.HTTP) (opened, current int64, err error) {
	resp, err := h.Do(ctx, http.MethodGet, "/_nodes/_local/stats/http?filter_path=nodes.*.http.total_opened,nodes.*.http.current_open", nil, "", 1<<20)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Truncated {
		return 0, 0, fmt.Errorf("%v", statusOrErr(resp, err))
	}
	var s struct {
		Nodes map[string]struct {
			HTTP struct {
				TotalOpened *int64 `json:"total_opened"`
				CurrentOpen *int64 `json:"current_open"`
			} `json:"http"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		return 0, 0, err
	}
	for _, n := range s.Nodes {
		if n.HTTP.TotalOpened == nil || *n.HTTP.TotalOpened < 0 {
			break
		}
		if n.HTTP.CurrentOpen != nil {
			current = *n.HTTP.CurrentOpen
		}
		return *n.HTTP.TotalOpened, current, nil
	}
	return 0, 0, fmt.Errorf("no http counters")
}

func statusOrErr(resp *probe.HTTPResponse, err error) any {
	if err != nil {
		return err
	}
	if resp.Truncated {
		return "response over the byte budget"
	}
	return "HTTP " + strconv.Itoa(resp.StatusCode)
}
