package prometheus

import (
	"encoding/json"
	"testing"
)

func configAnswer(yml string) []byte {
	b, _ := json.Marshal(map[string]any{"status": "success", "data": map[string]string{"yaml": yml}})
	return b
}

func TestParseConfig(t *testing.T) {
	yml := "global:\n  scrape_interval: 1m\nscrape_configs:\n- job_name: a\n  basic_auth:\n    username: u\n    password: <secret>\n" +
		"  oauth2:\n    client_id: cid\n    client_secret: <secret>\n    token_url: https://auth.example.com/token\n" +
		"- job_name: b\n  bearer_token_file: /etc/prom/token\n  proxy_url: http://p:xxxxx@127.0.0.1:3128\n" +
		"- job_name: c\n  params:\n    apikey: [k-123]\n- job_name: d\n  static_configs:\n  - targets: [127.0.0.1:9100]\n" +
		"remote_read:\n- url: http://u:plainpass@127.0.0.1:9201/read\n"
	f, err := parseConfig(configAnswer(yml), 10)
	if err != nil {
		t.Fatal(err)
	}
	if f.Jobs != 4 || len(f.Records) != 4 || f.Visible != 2 || f.Redacted != 3 {
		t.Fatalf("facts %+v", f)
	}
	if _, err := parseConfig([]byte(`{"status":"error","error":"x"}`), 10); err == nil {
		t.Error("error envelope accepted")
	}
	if _, err := parseConfig(configAnswer("a: [unclosed"), 10); err == nil {
		t.Error("bad yaml accepted")
	}
}

func TestParseAPI(t *testing.T) {
	bi, err := parseBuildInfo([]byte(`{"status":"success","data":{"version":"2.42.0+ds","revision":"r"}}`))
	if err != nil || bi.Version != "2.42.0+ds" {
		t.Fatalf("buildinfo %v %v", bi, err)
	}
	if _, err := parseBuildInfo([]byte(`{"status":"success","data":{}}`)); err == nil {
		t.Error("empty buildinfo accepted")
	}
	ts, n, _, err := parseTargets([]byte(`{"status":"success","data":{"activeTargets":[
	  {"scrapePool":"a","scrapeUrl":"http://127.0.0.1:9/metrics","labels":{"job":"a","instance":"127.0.0.1:9"}},
	  {"scrapePool":"a"}],"droppedTargets":[]}}`), 1)
	if err != nil || n != 2 || len(ts) != 1 || len(targetRecord(ts[0]).Values) != 4 {
		t.Fatalf("targets %v %d %v", ts, n, err)
	}
	s, err := parseTSDB([]byte(`{"status":"success","data":{"headStats":{"numSeries":42},"seriesCountByLabelValuePair":[{"name":"job=node","value":3}]}}`))
	if err != nil || s.HeadStats.NumSeries != 42 || len(s.SeriesCountByLabelValue) != 1 {
		t.Fatalf("tsdb %+v %v", s, err)
	}
}

func FuzzParseAPI(f *testing.F) {
	f.Add([]byte(`{"status":"success","data":{"version":"2.42.0"}}`))
	f.Add(configAnswer("scrape_configs:\n- job_name: a\n  basic_auth: {username: u, password: p}\n  params: {t: [x]}\n"))
	f.Add(configAnswer("a: &x [*x]\n"))
	f.Add([]byte(`{"status":"success","data":{"activeTargets":[{"labels":{"a":"b"}}]}}`))
	f.Add([]byte(`{"status":"success","data":{"headStats":{"numSeries":1}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseBuildInfo(b)
		if ts, n, _, err := parseTargets(b, 2); err == nil {
			if len(ts) > 2 || n < len(ts) {
				t.Fatal("targets over limit")
			}
			for _, x := range ts {
				_ = targetRecord(x)
			}
		}
		_, _ = parseTSDB(b)
		_, _ = parseFlags(b)
		if fc, err := parseConfig(b, 2); err == nil && len(fc.Records) > 2 {
			t.Fatal("config records over limit")
		}
		// The YAML inside a config answer is the hostile part: feed it raw too.
		if fc, err := parseConfig(configAnswer(string(b)), 2); err == nil && len(fc.Records) > 2 {
			t.Fatal("config records over limit")
		}
	})
}
