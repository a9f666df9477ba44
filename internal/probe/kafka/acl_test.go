package kafka

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// aclBroker is the package's one real broker with the authorizer on
// (StandardAuthorizer, allow.everyone.if.no.acl.found=false, super user
// admin), seeded once by admin; anonymous clients of its plaintext
// listener get only what a test grants them (GrantAnonymous, revoked when
// the test ends).
func aclBroker(t *testing.T) *testenv.Kafka {
	t.Helper()
	k := testenv.SharedKafkaACL(t, "kafka-acl")
	k.SeedKafka(t)
	return k
}

var apiName = regexp.MustCompile(`"requestApiKeyName":"([A-Z_]+)"`)

// sent counts the requests leakwatch sent to k by api (from the broker's
// own request log: one line per request served, with its client id), and
// the FETCH and LIST_OFFSETS lines naming each seeded topic under
// "<API> <topic>".
func sent(t *testing.T, k *testenv.Kafka) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, line := range strings.Split(k.RequestLog(t), "\n") {
		if !strings.Contains(line, `"clientId":"`+clientID+`"`) {
			continue
		}
		m := apiName.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("request log line without api key: %.300s", line)
		}
		seen[m[1]]++
		if m[1] == "FETCH" || m[1] == "LIST_OFFSETS" {
			for _, tp := range testenv.KafkaSeedTopics {
				if strings.Contains(line, `"`+tp.Name+`"`) {
					seen[m[1]+" "+tp.Name]++
				}
			}
		}
	}
	return seen
}

// delta is after − before, the non-zero entries.
func delta(before, after map[string]int) map[string]int {
	d := map[string]int{}
	for k, n := range after {
		if n != before[k] {
			d[k] = n - before[k]
		}
	}
	return d
}

// TestACLBrokerDeniesAnonymous: a broker with an authorizer and no ACL for
// User:ANONYMOUS lets the plaintext client connect and answers Metadata
// with its brokers, but no topic and no operation: protected
// (acl-denies-anonymous), nothing listed, no offset asked, no record read,
// the broker unchanged.
func TestACLBrokerDeniesAnonymous(t *testing.T) {
	k := aclBroker(t)
	before := sent(t, k)
	res := probetest.Protected(t, New(), k.Addr, k.Port, probetest.ReadOnly(k.Digest))
	if res.Evidence["auth_challenge"] != challengeACL || res.Evidence["acl_readable_topics"] != 0 || res.Evidence["brokers"] != 1 ||
		!slices.Contains(res.Flags, flagACLRestricted) || res.Version != testenv.KafkaVersion {
		t.Errorf("evidence %v flags %v version %q", res.Evidence, res.Flags, res.Version)
	}
	d := delta(before, sent(t, k))
	if d["METADATA"] != 1 || d["FETCH"] != 0 || d["LIST_OFFSETS"] != 0 || d["DESCRIBE_LOG_DIRS"] != 0 {
		t.Errorf("requests sent %v, want ApiVersions and one Metadata", d)
	}
	f := probetest.ToFinding(t, "kafka", probe.Target{Addr: k.Addr, Port: k.Port}, res)
	if f.Status != finding.StatusProtected || len(f.Datasets) != 0 || len(f.Classes) != 0 {
		t.Errorf("finding %s, %d datasets, classes %v", f.Status, len(f.Datasets), f.Classes)
	}
	// ACLs that let anonymous clients describe the cluster (and so list
	// its ACLs) but no topic leave it protected
	t.Run("cluster-describe", func(t *testing.T) {
		k.GrantAnonymousCluster(t, kadm.OpDescribe)
		res := probetest.Protected(t, New(), k.Addr, k.Port, probetest.ReadOnly(k.Digest))
		if res.Evidence["auth_challenge"] != challengeACL {
			t.Errorf("evidence %v", res.Evidence)
		}
	})
	// the SASL listener of the same broker is still protected by SASL
	if res := probetest.Protected(t, New(), k.Addr, k.SASLPort); res.Evidence["sasl_mechanisms"] == nil {
		t.Errorf("sasl listener evidence %v", res.Evidence)
	}
}

// TestACLBrokerGrantsOneTopic: ACLs grant User:ANONYMOUS READ+DESCRIBE on
// customers and DESCRIBE only on payments. The broker is exposed with
// exactly customers counted (its exact record count) and sampled;
// payments is listed flagged acl-denies-read, neither counted nor read;
// the other seeded topics are not listed, and no request names them.
func TestACLBrokerGrantsOneTopic(t *testing.T) {
	k := aclBroker(t)
	k.GrantAnonymous(t, "customers", kadm.OpRead, kadm.OpDescribe)
	k.GrantAnonymous(t, "payments", kadm.OpDescribe)
	before := sent(t, k)
	res := probetest.OpenClean(t, New(), k.Addr, k.Port, probetest.ReadOnly(k.Digest))
	got := probetest.Datasets(res)
	if len(got) != 2 {
		t.Errorf("datasets %v, want customers and payments", probetest.DatasetNames(res))
	}
	if d := got["customers"]; d.Records == nil || *d.Records != 30 || d.Sampled != 30 || len(d.Flags) != 0 {
		t.Errorf("customers: records %s sampled %d flags %v, want 30 counted and read", probetest.Ptr(d.Records), d.Sampled, d.Flags)
	}
	if d, ok := got["payments"]; !ok || d.Records != nil || d.Sampled != 0 || !slices.Contains(d.Flags, flagACLDeniesRead) {
		t.Errorf("payments: listed %v records %s sampled %d flags %v, want listed unread, flagged %s", ok, probetest.Ptr(d.Records), d.Sampled, d.Flags, flagACLDeniesRead)
	}
	if !slices.Contains(res.Flags, flagACLRestricted) || res.Evidence["acl_readable_topics"] != 1 || res.Evidence["acl_denied_topics"] != 1 {
		t.Errorf("flags %v evidence %v", res.Flags, res.Evidence)
	}
	probetest.WantPaths(t, "customers", probetest.SamplePaths(got["customers"]), "email", "full_name", "_key", "_headers.user_email")
	d := delta(before, sent(t, k))
	for _, tp := range testenv.KafkaSeedTopics {
		if tp.Name != "customers" && d["FETCH "+tp.Name]+d["LIST_OFFSETS "+tp.Name] > 0 {
			t.Errorf("requests name %s: %v", tp.Name, d)
		}
	}
	if d["FETCH customers"] != 1 || d["DESCRIBE_LOG_DIRS"] != 0 {
		t.Errorf("requests sent %v, want one fetch of customers and no DescribeLogDirs (cluster not describable)", d)
	}
	f := probetest.ToFinding(t, "kafka", probe.Target{Addr: k.Addr, Port: k.Port}, res)
	if !slices.Contains(f.Classes, "email") || slices.Contains(f.Classes, "payment_card") {
		t.Errorf("finding classes %v: want customers' email, no payments' card", f.Classes)
	}
}

// BenchmarkProbeACL measures one probe of the seeded ACL broker: denied
// (no ACL for anonymous clients: ApiVersions and one Metadata) and
// granted (customers readable, payments describable).
func BenchmarkProbeACL(b *testing.B) {
	k := testenv.SharedKafkaACL(b, "kafka-acl")
	k.SeedKafka(b)
	bench := func(b *testing.B, want finding.Status) {
		var read int64
		for b.Loop() {
			env := probetest.Env(k.Addr, k.Port)
			ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
			res, err := New().Probe(ctx, env)
			cancel()
			if err != nil || res.Status != want {
				b.Fatalf("%+v %v", res, err)
			}
			read = env.BytesRead()
		}
		b.ReportMetric(float64(read), "bytes-read/op")
	}
	b.Run("denied", func(b *testing.B) { bench(b, finding.StatusProtected) })
	b.Run("granted", func(b *testing.B) {
		k.GrantAnonymous(b, "customers", kadm.OpRead, kadm.OpDescribe)
		k.GrantAnonymous(b, "payments", kadm.OpDescribe)
		bench(b, finding.StatusExposed)
	})
}
