package kafka

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedKafka()
	os.Exit(code)
}

// sharedBroker is the package's one real broker, seeded once.
func sharedBroker(t *testing.T) *testenv.Kafka {
	t.Helper()
	k := testenv.SharedKafka(t, "kafka-probe", 0, 0)
	k.SeedKafka(t)
	return k
}

func TestOpenBroker(t *testing.T) {
	k := sharedBroker(t)
	res := probetest.OpenClean(t, New(), k.Addr, k.Port, probetest.ReadOnly(k.Digest))
	if res.Product != "kafka" || res.Version != testenv.KafkaVersion {
		t.Errorf("product %q version %q, want kafka %s", res.Product, res.Version, testenv.KafkaVersion)
	}
	if res.Evidence["cluster_id"] == "" || res.Evidence["brokers"] != 1 || !strings.HasPrefix(res.Evidence["metadata_version"].(string), testenv.KafkaVersion) {
		t.Errorf("evidence %v", res.Evidence)
	}
	got := probetest.Datasets(res)
	if len(got) != len(testenv.KafkaSeedTopics) {
		t.Errorf("datasets %v, want the %d seeded topics", probetest.DatasetNames(res), len(testenv.KafkaSeedTopics))
	}
	for _, want := range testenv.KafkaSeedTopics {
		d, ok := got[want.Name]
		if !ok {
			t.Errorf("topic %s not listed", want.Name)
			continue
		}
		if d.Kind != "topic" || d.Records == nil || *d.Records != want.Records || d.Sampled != int(want.Records) || len(d.Flags) != 0 {
			t.Errorf("topic %s: kind %s records %s sampled %d flags %v; want %d records, all sampled (codec %s)",
				want.Name, d.Kind, probetest.Ptr(d.Records), d.Sampled, d.Flags, want.Records, want.Codec)
		}
		if d.Bytes == nil || (*d.Bytes > 0) != (want.Records > 0) {
			t.Errorf("topic %s: bytes %s with %d records", want.Name, probetest.Ptr(d.Bytes), want.Records)
		}
	}
	probetest.WantPaths(t, "customers", probetest.SamplePaths(got["customers"]),
		"email", "full_name", "phone", "address.street", "_key", "_headers.user_email", "_headers.source")
	probetest.WantPaths(t, "device-events", probetest.SamplePaths(got["device-events"]), "mac_address", "wifi_ssid", "device_model", "ip")
	probetest.WantPaths(t, "audit-log", probetest.SamplePaths(got["audit-log"]), "_value")
	probetest.WantPaths(t, "payments", probetest.SamplePaths(got["payments"]), "card_number")
	probetest.WantPaths(t, "sessions", probetest.SamplePaths(got["sessions"]), "session_token", "username")

	f := probetest.ToFinding(t, "kafka", probe.Target{Addr: k.Addr, Port: k.Port}, res)
	classes := map[string]bool{}
	for _, c := range f.Classes {
		classes[c] = true
	}
	for _, c := range []string{"email", "person_name", "phone", "mac_address", "wifi_ssid", "payment_card", "auth_token", "ip_address"} {
		if !classes[c] {
			t.Errorf("finding lacks class %s (has %v)", c, f.Classes)
		}
	}
}

// TestTLSBroker: an SSL listener without client certificates drops the
// plaintext ApiVersions; over TLS the broker is as open as the plaintext one.
func TestTLSBroker(t *testing.T) {
	k := sharedBroker(t)
	res := probetest.OpenClean(t, New(), k.Addr, k.TLSPort, probetest.ReadOnly(k.Digest))
	if !res.TLS || res.Version != testenv.KafkaVersion {
		t.Errorf("tls %v version %q", res.TLS, res.Version)
	}
	got := probetest.Datasets(res)
	for _, want := range testenv.KafkaSeedTopics {
		if d := got[want.Name]; d.Records == nil || *d.Records != want.Records || d.Sampled != int(want.Records) {
			t.Errorf("topic %s: records %s sampled %d, want %d", want.Name, probetest.Ptr(d.Records), d.Sampled, want.Records)
		}
	}
}

// TestProtectedBroker: the SASL listener (SCRAM-SHA-256) of the same
// broker answers ApiVersions but drops Metadata; it is protected and
// shows nothing.
func TestProtectedBroker(t *testing.T) {
	k := sharedBroker(t)
	res := probetest.Protected(t, New(), k.Addr, k.SASLPort, probetest.ReadOnly(k.Digest))
	if res.Version != testenv.KafkaVersion {
		t.Errorf("version %q", res.Version)
	}
	mechs, _ := res.Evidence["sasl_mechanisms"].([]string)
	if len(mechs) != 1 || mechs[0] != "SCRAM-SHA-256" {
		t.Errorf("sasl mechanisms %v, want [SCRAM-SHA-256]", res.Evidence["sasl_mechanisms"])
	}
}

// TestReadOnlyRequests reads the broker's own request log: every request
// leakwatch sent is one of the read-only APIs (no FindCoordinator,
// JoinGroup, OffsetCommit, CreateTopics, Produce ...), no consumer group
// exists after probing both listeners, and the topics and offsets are as
// they were (Unchanged).
func TestReadOnlyRequests(t *testing.T) {
	k := sharedBroker(t)
	check := probetest.Unchanged(t, k.Digest)
	probetest.Open(t, New(), k.Addr, k.Port)
	probetest.Protected(t, New(), k.Addr, k.SASLPort)
	check()
	seen := sent(t, k)
	allowed := map[string]bool{"API_VERSIONS": true, "METADATA": true, "LIST_OFFSETS": true, "DESCRIBE_LOG_DIRS": true, "FETCH": true, "SASL_HANDSHAKE": true}
	for a, n := range seen {
		if api, _, _ := strings.Cut(a, " "); !allowed[api] {
			t.Errorf("leakwatch sent %d %s requests", n, a)
		}
	}
	for _, a := range []string{"API_VERSIONS", "METADATA", "LIST_OFFSETS", "DESCRIBE_LOG_DIRS", "FETCH"} {
		if seen[a] == 0 {
			t.Errorf("no %s request logged (log format changed?): %v", a, seen)
		}
	}
}

// TestSampleLimits: a sample budget smaller than every record flags
// record-too-large; a record budget of 2 samples 2 of each topic.
func TestSampleLimits(t *testing.T) {
	k := sharedBroker(t)
	res := probetest.Flagged(t, New(), k.Addr, k.Port, func(b *probe.Budget) { b.SampleBytes = 16 }, probe.FlagRecordTooLarge)
	for _, d := range res.Datasets {
		if d.Sampled != 0 {
			t.Errorf("%s: %d sampled under a 16-byte budget", d.Name, d.Sampled)
		}
	}
	res = probetest.Exposed(t, New(), k.Addr, k.Port, func(b *probe.Budget) { b.SampleRecords = 2; b.MaxDatasets = 2 })
	sampled := 0
	for _, d := range res.Datasets {
		if d.Sampled > 2 {
			t.Errorf("%s: %d sampled, want <= 2", d.Name, d.Sampled)
		}
		if d.Sampled > 0 {
			sampled++
		}
	}
	if sampled != 2 {
		t.Errorf("%d topics sampled, want 2 (MaxDatasets)", sampled)
	}
	if d := probetest.Dataset(t, res, "customers"); d.Sampled != 2 || *d.Records != 30 {
		t.Errorf("customers: sampled %d records %s", d.Sampled, probetest.Ptr(d.Records))
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", Banner: probetest.HTTPBadRequest},
		{Name: "smtp", Banner: probetest.SMTPBanner},
		{Name: "redis", Banner: probetest.RedisError},
		{Name: "mysql", Banner: probetest.MySQLGreeting},
	}})
}

// BenchmarkProbe measures one whole probe of the seeded broker (identify,
// list, count, sample six topics) and the bytes it reads.
func BenchmarkProbe(b *testing.B) {
	k := testenv.SharedKafka(b, "kafka-probe", 0, 0)
	k.SeedKafka(b)
	var read int64
	for b.Loop() {
		env := probetest.Env(k.Addr, k.Port)
		ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
		res, err := New().Probe(ctx, env)
		cancel()
		if err != nil || res.Status != finding.StatusExposed {
			b.Fatalf("%+v %v", res, err)
		}
		read = env.BytesRead()
	}
	b.ReportMetric(float64(read), "bytes-read/op")
}

// TestTwoBrokers: in a cluster of two brokers, a topic's partitions are
// led by both. Each broker is one target: it counts the records of the
// partitions it leads (a flagged lower bound), samples only those, and
// never contacts the other; the two counts add up to the topic's records.
func TestTwoBrokers(t *testing.T) {
	if testing.Short() {
		t.Skip("boots two brokers")
	}
	a1, a2 := testenv.Addr(t), testenv.Addr(t)
	p1, p2 := testenv.FreePort(t, a1), testenv.FreePort(t, a1)
	for p2 == p1 {
		p2 = testenv.FreePort(t, a1)
	}
	k1 := testenv.StartKafkaBroker(t, a1, p1, p2)
	k2 := k1.Join(t, a2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := k1.Client(t, "none")
	adm := kadm.NewClient(cl)
	if resp, err := adm.CreateTopic(ctx, 4, 1, nil, "spread"); err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, &kgo.Record{Topic: "spread", Partition: int32(i % 4), Value: fmt.Appendf(nil, `{"email":"user%02d@example.com"}`, i)})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	md, err := adm.Metadata(ctx, "spread")
	if err != nil {
		t.Fatal(err)
	}
	led := map[int32]int64{}
	for _, p := range md.Topics["spread"].Partitions {
		led[p.Leader] += 10
	}
	if len(led) != 2 {
		t.Fatalf("partitions led by %v, want both brokers", led)
	}
	var sum int64
	for i, k := range []*testenv.Kafka{k1, k2} {
		res := probetest.OpenClean(t, New(), k.Addr, k.Port)
		d := probetest.Dataset(t, res, "spread")
		if d.Records == nil || *d.Records != led[int32(i+1)] || d.Sampled != int(*d.Records) || !slices.Contains(d.Flags, flagLowerBound) || !slices.Contains(res.Flags, flagLowerBound) {
			t.Errorf("broker %d: records %s sampled %d flags %v/%v, want %d (its partitions), flagged %s",
				i+1, probetest.Ptr(d.Records), d.Sampled, d.Flags, res.Flags, led[int32(i+1)], flagLowerBound)
		}
		if res.Evidence["brokers"] != 2 {
			t.Errorf("broker %d: evidence %v", i+1, res.Evidence)
		}
		if d.Records != nil {
			sum += *d.Records
		}
	}
	if sum != 40 {
		t.Errorf("the brokers count %d records in all, want 40", sum)
	}
}
