package testenv

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Kafka is a real single-node Apache Kafka 4.x broker (kafka_2.13 from
// Maven Central, KRaft mode) started by testenv/kafkanode, with a
// PLAINTEXT listener (no authentication) and a SASL_PLAINTEXT listener
// that takes SCRAM-SHA-256 only (user admin / admin-secret).
type Kafka struct {
	Addr     netip.Addr
	Port     int // PLAINTEXT: open
	SASLPort int // SASL_PLAINTEXT, SCRAM-SHA-256: protected
	TLSPort  int // SSL without client certificates: open over TLS (0: none)
	Dir      string
	// ACL: the authorizer is on (KAFKANODE_ACL): the plaintext listener
	// takes anyone as User:ANONYMOUS but grants only what ACLs allow, and
	// the test's own clients (Client, SeedKafka, Digest) are the super user
	// admin over the SASL listener.
	ACL bool
}

// KafkaVersion is the release line of the broker testenv/kafkanode runs.
const KafkaVersion = "4.4"

// HostPort is "ip:port" of the plaintext listener.
func (k *Kafka) HostPort() string { return netip.AddrPortFrom(k.Addr, uint16(k.Port)).String() }

// StartKafka boots a broker on addr (plaintext port, SASL port, and a TLS
// port unless tlsPort is 0, with a fresh self-signed certificate; the
// controller takes a free port of addr) with its files in dir.
func StartKafka(addr netip.Addr, port, saslPort, tlsPort int, dir string) (*Kafka, error) {
	return startKafka(addr, port, saslPort, tlsPort, dir, "", false)
}

// startKafka is StartKafka; join, if set, is the Dir of a running broker
// whose cluster the new broker joins (broker role only, node id 2); acl
// turns the authorizer on.
func startKafka(addr netip.Addr, port, saslPort, tlsPort int, dir, join string, acl bool) (*Kafka, error) {
	if !addr.Is4() || !addr.IsLoopback() {
		return nil, fmt.Errorf("testenv: kafka address %s is not IPv4 loopback", addr)
	}
	home, err := JavaNode("kafkanode")
	if err != nil {
		return nil, err
	}
	script := filepath.Join(home, "start.sh")
	args := []string{script, addr.String(), strconv.Itoa(port), strconv.Itoa(saslPort), dir}
	if tlsPort > 0 {
		if err := writeKeystore(filepath.Join(dir, "keystore.pem"), addr); err != nil {
			return nil, err
		}
		args = append(args, strconv.Itoa(tlsPort))
	}
	cmd := exec.Command("bash", args...)
	cmd.Env = os.Environ()
	if join != "" {
		cmd.Env = append(cmd.Env, "KAFKANODE_JOIN="+join)
	}
	if acl {
		cmd.Env = append(cmd.Env, "KAFKANODE_ACL=1")
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("testenv: start kafka: %w\n%s", err, tail(string(out), 4000))
	}
	return &Kafka{Addr: addr, Port: port, SASLPort: saslPort, TLSPort: tlsPort, Dir: dir, ACL: acl}, nil
}

// writeKeystore writes a PEM keystore (PKCS#8 key, then a self-signed
// certificate for addr) as Kafka's ssl.keystore.type=PEM reads it.
func writeKeystore(path string, addr netip.Addr) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "leakwatch-test-kafka"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IPAddresses: []net.IP{addr.AsSlice()}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	return os.WriteFile(path, out, 0o600)
}

// Stop stops the broker and waits for it to exit.
func (k *Kafka) Stop() {
	root, err := RepoRoot()
	if err != nil {
		return
	}
	_ = exec.Command("bash", filepath.Join(root, "testenv", "kafkanode", "stop.sh"), k.Dir).Run()
}

var kafkaShared sharedServers[*Kafka]

// SharedKafka returns a broker shared by the tests of a package, one per
// key (a few seconds to boot). Ports 0 mean free ports of a fresh
// loopback address; the TLS listener takes a free port. Call
// StopSharedKafka from TestMain after m.Run.
func SharedKafka(tb testing.TB, key string, port, saslPort int) *Kafka {
	tb.Helper()
	return sharedKafka(tb, key, port, saslPort, false)
}

// SharedKafkaACL is SharedKafka for a broker with the authorizer on (no
// ACL for anyone but the super user admin: see Kafka.ACL and
// GrantAnonymous), on free ports of a fresh loopback address.
func SharedKafkaACL(tb testing.TB, key string) *Kafka {
	tb.Helper()
	return sharedKafka(tb, key, 0, 0, true)
}

func sharedKafka(tb testing.TB, key string, port, saslPort int, acl bool) *Kafka {
	tb.Helper()
	k, err := kafkaShared.get(key, func() (*Kafka, error) {
		var addr netip.Addr
		if port != 0 {
			addr = AddrWithPort(tb, port)
		} else {
			addr = Addr(tb)
			port = FreePort(tb, addr)
		}
		for saslPort == 0 || saslPort == port {
			saslPort = FreePort(tb, addr)
		}
		tlsPort := 0
		for tlsPort == 0 || tlsPort == port || tlsPort == saslPort {
			tlsPort = FreePort(tb, addr)
		}
		dir, err := os.MkdirTemp("", "leakwatch-kafka-")
		if err != nil {
			return nil, err
		}
		k, err := startKafka(addr, port, saslPort, tlsPort, dir, "", acl)
		if err != nil {
			os.RemoveAll(dir)
		}
		return k, err
	})
	if err == nil && k.ACL != acl {
		tb.Fatalf("testenv: shared kafka %q started with acl=%v, asked with acl=%v", key, k.ACL, acl)
	}
	if err != nil {
		Unavailable(tb, "kafka broker: %v", err)
	}
	return k
}

// StopSharedKafka stops every shared broker and removes its files.
func StopSharedKafka() {
	kafkaShared.stopAll(func(k *Kafka) {
		k.Stop()
		os.RemoveAll(k.Dir)
	})
}

// Client is the test's own franz-go client of the plaintext listener
// (compression codec: "none", "gzip", "snappy", "lz4" or "zstd"), closed
// when the test ends. Records go to the partition they name; it never
// auto-creates topics. On an ACL broker it is the super user admin on the
// SASL listener (SCRAM-SHA-256).
func (k *Kafka) Client(tb testing.TB, codec string) *kgo.Client {
	tb.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(k.HostPort()), kgo.ClientID("leakwatch-test"), kgo.RequestTimeoutOverhead(20 * time.Second),
		kgo.RecordPartitioner(kgo.ManualPartitioner())}
	if k.ACL {
		opts = append(opts, kgo.SeedBrokers(netip.AddrPortFrom(k.Addr, uint16(k.SASLPort)).String()),
			kgo.SASL(scram.Auth{User: "admin", Pass: "admin-secret"}.AsSha256Mechanism()))
	}
	switch codec {
	case "", "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		tb.Fatalf("testenv: unknown codec %q", codec)
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		tb.Fatalf("testenv: kafka client: %v", err)
	}
	tb.Cleanup(cl.Close)
	return cl
}

// KafkaTopic is one seeded topic.
type KafkaTopic struct {
	Name       string
	Partitions int32
	Codec      string
	Records    int64
	// Record makes record i (0-based) of the topic.
	Record func(i int) *kgo.Record
}

// KafkaSeedTopics are the breach-shaped topics SeedKafka writes: customer
// profiles as JSON with keys and headers (three partitions, uncompressed),
// device events as JSON (zstd), audit lines as text (gzip), payment events
// as JSON (lz4), session tokens as JSON (snappy), and an empty topic.
var KafkaSeedTopics = []KafkaTopic{
	{Name: "customers", Partitions: 3, Codec: "none", Records: 30, Record: func(i int) *kgo.Record {
		v, _ := json.Marshal(map[string]any{"customer_id": 1000 + i, "email": fmt.Sprintf("user%02d@example.com", i),
			"full_name": kafkaNames[i%len(kafkaNames)], "phone": fmt.Sprintf("+1-202-555-01%02d", i),
			"address": map[string]any{"street": fmt.Sprintf("%d Main St", i+1), "city": "Springfield"}})
		return &kgo.Record{Key: []byte(fmt.Sprintf("customer-%d", 1000+i)), Value: v, Partition: int32(i % 3),
			Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("crm-sync")}, {Key: "user_email", Value: []byte(fmt.Sprintf("user%02d@example.com", i))}}}
	}},
	{Name: "device-events", Partitions: 1, Codec: "zstd", Records: 12, Record: func(i int) *kgo.Record {
		v, _ := json.Marshal(map[string]any{"device_id": fmt.Sprintf("cam-%04d", i), "device_model": "HomeCam Pro 2",
			"mac_address": fmt.Sprintf("AA:BB:CC:00:00:%02X", i), "wifi_ssid": fmt.Sprintf("HomeNet-%d", i), "ip": fmt.Sprintf("10.0.0.%d", i+1)})
		return &kgo.Record{Value: v}
	}},
	{Name: "audit-log", Partitions: 1, Codec: "gzip", Records: 8, Record: func(i int) *kgo.Record {
		return &kgo.Record{Value: []byte(fmt.Sprintf("login ok for user%02d@example.com from 192.0.2.%d", i, i+1))}
	}},
	{Name: "payments", Partitions: 2, Codec: "lz4", Records: 6, Record: func(i int) *kgo.Record {
		v, _ := json.Marshal(map[string]any{"order": 500 + i, "card_number": kafkaCard(i), "amount": 12.5 * float64(i+1)})
		return &kgo.Record{Value: v, Partition: int32(i % 2)}
	}},
	{Name: "sessions", Partitions: 1, Codec: "snappy", Records: 4, Record: func(i int) *kgo.Record {
		v, _ := json.Marshal(map[string]any{"username": fmt.Sprintf("user%02d", i), "session_token": fmt.Sprintf("tok_%032x", (i+1)*7919)})
		return &kgo.Record{Value: v}
	}},
	{Name: "empty-topic", Partitions: 2, Codec: "none"},
}

// KafkaSecrets are raw seeded values no leakwatch output may contain.
var KafkaSecrets = []string{"user01@example.com", kafkaCard(0), fmt.Sprintf("tok_%032x", 7919)}

var kafkaNames = []string{"Maria Garcia", "James Smith", "Anna Kowalski", "Mohammed Khan", "Laura Rossi", "Daniel Weber"}

// kafkaCard is a Luhn-valid card number (not one of the well-known test
// numbers, which classifiers ignore).
func kafkaCard(i int) string {
	digits := fmt.Sprintf("453201511283%03d", 100+i)
	sum := 0
	for j := len(digits) - 1; j >= 0; j-- {
		d := int(digits[j] - '0')
		if (len(digits)-1-j)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + strconv.Itoa((10-sum%10)%10)
}

// SeedKafka creates KafkaSeedTopics (once per broker: a second call finds
// them and returns) and writes their records.
func (k *Kafka) SeedKafka(tb testing.TB) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(k.Client(tb, "none"))
	for _, t := range KafkaSeedTopics {
		resp, err := adm.CreateTopic(ctx, t.Partitions, 1, nil, t.Name)
		if err == nil {
			err = resp.Err
		}
		if err != nil {
			if strings.Contains(err.Error(), "TOPIC_ALREADY_EXISTS") {
				return // seeded before
			}
			tb.Fatalf("testenv: create topic %s: %v", t.Name, err)
		}
	}
	for _, t := range KafkaSeedTopics {
		if t.Records == 0 {
			continue
		}
		cl := k.Client(tb, t.Codec)
		recs := make([]*kgo.Record, t.Records)
		for i := range recs {
			r := t.Record(i)
			r.Topic = t.Name
			recs[i] = r
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			tb.Fatalf("testenv: produce to %s: %v", t.Name, err)
		}
	}
}

// Digest hashes what a read-only prober must leave as it is: the topics
// with their partitions, every partition's start and end offset, and the
// consumer groups. The request itself creates nothing.
func (k *Kafka) Digest(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(k.Client(tb, "none"))
	var lines []string
	td, err := adm.ListTopicsWithInternal(ctx)
	if err != nil {
		tb.Fatalf("testenv: kafka list topics: %v", err)
	}
	for _, t := range td.Sorted() {
		lines = append(lines, fmt.Sprintf("topic %s partitions %d", t.Topic, len(t.Partitions)))
	}
	for _, list := range []func(context.Context, ...string) (kadm.ListedOffsets, error){adm.ListStartOffsets, adm.ListEndOffsets} {
		offs, err := list(ctx, td.Names()...)
		if err != nil {
			tb.Fatalf("testenv: kafka list offsets: %v", err)
		}
		offs.Each(func(o kadm.ListedOffset) {
			lines = append(lines, fmt.Sprintf("offset %s/%d %d %v", o.Topic, o.Partition, o.Offset, o.Err))
		})
	}
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		tb.Fatalf("testenv: kafka list groups: %v", err)
	}
	for _, g := range groups.Sorted() {
		lines = append(lines, "group "+g.Group)
	}
	sort.Strings(lines)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:]) + " (" + strconv.Itoa(len(lines)) + " lines; groups " + strconv.Itoa(len(groups)) + ")"
}

// RequestLog is the broker's request log so far (kafka.request.logger at
// DEBUG: one line per request served, with its client id and api).
func (k *Kafka) RequestLog(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(k.Dir, "request.log"))
	if err != nil {
		tb.Fatalf("testenv: kafka request log: %v", err)
	}
	return string(b)
}

// StartKafkaBroker boots a broker for one test (stopped when it ends) on
// addr with its plaintext and SASL ports, or skips (fails under CI) the
// test when it cannot.
func StartKafkaBroker(tb testing.TB, addr netip.Addr, port, saslPort int) *Kafka {
	tb.Helper()
	dir, err := os.MkdirTemp("", "leakwatch-kafka-")
	if err != nil {
		tb.Fatal(err)
	}
	k, err := StartKafka(addr, port, saslPort, 0, dir)
	if err != nil {
		os.RemoveAll(dir)
		Unavailable(tb, "kafka broker: %v", err)
	}
	tb.Cleanup(func() {
		k.Stop()
		os.RemoveAll(dir)
	})
	return k
}

// Join starts a second broker (node id 2, broker role only) in k's cluster
// on addr (free ports), stopped when the test ends.
func (k *Kafka) Join(tb testing.TB, addr netip.Addr) *Kafka {
	tb.Helper()
	dir, err := os.MkdirTemp("", "leakwatch-kafka-")
	if err != nil {
		tb.Fatal(err)
	}
	port := FreePort(tb, addr)
	sasl := port
	for sasl == port {
		sasl = FreePort(tb, addr)
	}
	j, err := startKafka(addr, port, sasl, 0, dir, k.Dir, false)
	if err != nil {
		os.RemoveAll(dir)
		Unavailable(tb, "kafka broker joining %s: %v", k.HostPort(), err)
	}
	tb.Cleanup(func() {
		j.Stop()
		os.RemoveAll(dir)
	})
	return j
}

// KafkaSeedRecords are the record counts SeedKafka writes, by topic.
func KafkaSeedRecords() map[string]int64 {
	out := map[string]int64{}
	for _, t := range KafkaSeedTopics {
		out[t.Name] = t.Records
	}
	return out
}

// GrantAnonymous grants User:ANONYMOUS (any client of the plaintext
// listener) ops on topic, as the super user, and waits until the broker
// shows the topic to an anonymous client; the ACL is deleted (and its
// removal awaited) when the test ends. k must be an ACL broker.
func (k *Kafka) GrantAnonymous(tb testing.TB, topic string, ops ...kadm.ACLOperation) {
	tb.Helper()
	k.grantAnonymous(tb, kadm.NewACLs().Topics(topic).Operations(ops...), "topic "+topic,
		func(ctx context.Context, anon *kadm.Client) (bool, error) {
			td, err := anon.ListTopics(ctx)
			return td.Has(topic), err
		})
}

// GrantAnonymousCluster grants User:ANONYMOUS ops on the cluster (DESCRIBE
// among them) like GrantAnonymous, and waits until an anonymous client may
// describe the cluster's ACLs (DescribeAcls needs cluster DESCRIBE).
func (k *Kafka) GrantAnonymousCluster(tb testing.TB, ops ...kadm.ACLOperation) {
	tb.Helper()
	if !slices.Contains(ops, kadm.OpDescribe) {
		tb.Fatalf("testenv: GrantAnonymousCluster without DESCRIBE cannot be awaited")
	}
	acl := kadm.NewACLs().Clusters().Operations(ops...)
	k.grantAnonymous(tb, acl, "the cluster", func(ctx context.Context, anon *kadm.Client) (bool, error) {
		res, err := anon.DescribeACLs(ctx, anonymousACL(acl))
		if err == nil {
			for _, r := range res {
				if r.Err != nil {
					return false, nil // CLUSTER_AUTHORIZATION_FAILED: not (or no longer) granted
				}
			}
		}
		return err == nil, err
	})
}

// anonymousACL completes b as a literal ACL allowing User:ANONYMOUS from
// any host.
func anonymousACL(b *kadm.ACLBuilder) *kadm.ACLBuilder {
	return b.Allow("User:ANONYMOUS").AllowHosts("*").ResourcePatternType(kadm.ACLPatternLiteral)
}

// grantAnonymous creates acl (completed by anonymousACL) as the super user
// and waits until granted tells an anonymous client of the plaintext
// listener sees it; when the test ends it deletes the ACL and waits until
// granted says no more. The broker applies an ACL change some
// milliseconds after the controller takes it.
func (k *Kafka) grantAnonymous(tb testing.TB, acl *kadm.ACLBuilder, what string, granted func(context.Context, *kadm.Client) (bool, error)) {
	tb.Helper()
	if !k.ACL {
		tb.Fatalf("testenv: granting ACLs on a broker without ACLs")
	}
	acl = anonymousACL(acl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := kadm.NewClient(k.Client(tb, "none")).CreateACLs(ctx, acl)
	if err == nil {
		for _, r := range res {
			err = errors.Join(err, r.Err)
		}
	}
	if err != nil {
		tb.Fatalf("testenv: kafka create acl on %s: %v", what, err)
	}
	k.awaitAnonymous(tb, what, true, granted)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := kadm.NewClient(k.Client(tb, "none")).DeleteACLs(ctx, acl)
		if err == nil {
			for _, r := range res {
				err = errors.Join(err, r.Err)
			}
		}
		if err != nil {
			tb.Errorf("testenv: kafka delete acl on %s: %v", what, err)
			return
		}
		k.awaitAnonymous(tb, what, false, granted)
	})
}

// awaitAnonymous waits (60 s at most) until granted, asked as an anonymous
// client of the plaintext listener, answers want.
func (k *Kafka) awaitAnonymous(tb testing.TB, what string, want bool, granted func(context.Context, *kadm.Client) (bool, error)) {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.HostPort()), kgo.ClientID("leakwatch-test"))
	if err != nil {
		tb.Fatalf("testenv: kafka client: %v", err)
	}
	defer cl.Close()
	anon := kadm.NewClient(cl)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ok, err := granted(ctx, anon)
		cancel()
		if err == nil && ok == want {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("testenv: kafka acl on %s: granted=%v to anonymous clients after 60 s, want %v (%v)", what, ok, want, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
