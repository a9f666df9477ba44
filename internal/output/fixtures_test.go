package output

import (
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

var observedAt = time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)

func classCount(class string, matched, sampled int, records int64, examples ...string) finding.ClassCount {
	est := records * int64(matched) / int64(sampled)
	return finding.ClassCount{
		Class: class, Sampled: sampled, Matched: matched,
		EstimatedRecords: finding.Int64(est),
		Source:           "values",
		Examples:         examples,
		Hashes:           []string{"9f2c" + class},
	}
}

// fixtureFindings is the fixed set every golden file is made from: an open
// OpenSearch shaped like the 2019 breach (critical), the same behind basic
// auth (protected), an open redis with keys but no classes, an old
// Elasticsearch carrying a ransom note and a service that failed mid-probe.
func fixtureFindings() []finding.Finding {
	const customers = 2_400_000
	fs := []finding.Finding{
		{
			Target:  finding.Target{Host: "127.0.0.6", Port: 9200},
			Service: "elasticsearch", Status: finding.StatusProtected, Auth: finding.AuthRequired,
			Evidence: map[string]any{"www_authenticate": "Basic realm=\"search\""},
		},
		{
			Target:  finding.Target{Host: "127.0.0.7", Port: 6379},
			Service: "redis", Product: "redis", Version: "7.0.15",
			Status: finding.StatusExposed, Auth: finding.AuthNone,
			Datasets: []finding.Dataset{
				{Name: "db0", Kind: "keyspace", Records: finding.Int64(42), Sampled: 42},
				{Name: "db1", Kind: "keyspace", Records: finding.Int64(7), Sampled: 7},
			},
			Flags: []string{"keyspace-visible"},
		},
		{
			Target:  finding.Target{Host: "127.0.0.5", Port: 9200, Hostname: "search.internal.test"},
			Service: "elasticsearch", Product: "opensearch", Version: "2.19.6",
			Status: finding.StatusExposed, Auth: finding.AuthNone,
			Datasets: []finding.Dataset{
				{
					Name: "customers", Kind: "index", Records: finding.Int64(customers), Bytes: finding.Int64(734_003_200),
					Sampled: 200,
					Fields: []finding.Field{
						{Name: "user_name", Type: "keyword"}, {Name: "email", Type: "keyword"},
						{Name: "camera_model", Type: "keyword"}, {Name: "login_token", Type: "keyword"},
						{Name: "wifi_ssid", Type: "keyword"}, {Name: "connected_at", Type: "date"},
					},
					Classes: []finding.ClassCount{
						classCount("email", 199, 200, customers, "j***@e******.com"),
						classCount("username", 200, 200, customers, "j***_d**"),
						classCount("auth_token", 150, 200, customers, "eyJ***.***.***"),
						classCount("wifi_ssid", 120, 200, customers, "H***-W***"),
						classCount("device_model", 180, 200, customers, "C***-4**"),
					},
				},
				{Name: "products", Kind: "index", Records: finding.Int64(12_000), Bytes: finding.Int64(3_145_728), Sampled: 200},
				{Name: ".kibana_1", Kind: "index", Records: finding.Int64(3), Hidden: true, Sampled: 0},
			},
			Evidence: map[string]any{"cluster_name": "breach-demo", "search_query_total": 1234},
		},
		{
			Target:  finding.Target{Host: "127.0.0.8", Port: 27017},
			Service: "mongodb", Status: finding.StatusUnknown, Auth: finding.AuthUnknown,
			Error: "mongodb: read hello: connection reset by peer",
		},
		{
			Target:  finding.Target{Host: "127.0.0.10", Port: 9201},
			Service: "elasticsearch", Product: "elasticsearch", Version: "7.10.2",
			Status: finding.StatusExposed, Auth: finding.AuthNone,
			Datasets: []finding.Dataset{
				{Name: "read_me", Kind: "index", Records: finding.Int64(1), Sampled: 1, Flags: []string{"ransom-note"}},
				{Name: "logs", Kind: "index", Records: nil, Sampled: 20, Classes: []finding.ClassCount{
					{Class: "ip_address", Sampled: 20, Matched: 20, Source: "values", Examples: []string{"127.***.***.***"}},
				}},
			},
			Flags: []string{"ransom-note"},
		},
	}
	for i := range fs {
		fs[i].ObservedAt = observedAt
		fs[i].Finalize()
	}
	return fs
}
