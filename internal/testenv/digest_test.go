package testenv

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests show that each read-only digest notices what it must: a
// digest that cannot see a read or a write proves nothing.

// TestRabbitDigest: the digest is stable, is not changed by its own
// reading of every message (management API basic.get with requeue), holds
// the seeded messages, and changes when a message is published or
// consumed.
func TestRabbitDigest(t *testing.T) {
	t.Parallel()
	b := StartRabbit(t, RabbitOptions{})
	b.Seed(t)
	d1 := b.Digest(t)
	if d2 := b.Digest(t); d2 != d1 {
		t.Fatalf("digest unstable without any client:\n%s\n%s", d1, d2)
	}
	b.CheckMessages(t)
	for _, p := range RabbitSeedPayloads()["/orders"] {
		if !strings.Contains(d1, strconv.Quote(p)) {
			t.Errorf("digest lacks message %s", p)
		}
	}
	b.API(t, http.MethodPost, "/api/exchanges/%2F/amq.default/publish", map[string]any{
		"properties": map[string]any{}, "routing_key": "orders", "payload": "x", "payload_encoding": "string",
	})
	d3 := b.Digest(t)
	if d3 == d1 {
		t.Fatal("digest unchanged after a publish")
	}
	b.API(t, http.MethodPost, "/api/queues/%2F/orders/get", map[string]any{"count": 1, "ackmode": "ack_requeue_false", "encoding": "auto"})
	if d4 := b.Digest(t); d4 == d3 {
		t.Fatal("digest unchanged after a message was consumed")
	}
}

// TestMosquittoDigestSeesEveryTopic: a retained message on a topic Seed
// never used changes the digest.
func TestMosquittoDigestSeesEveryTopic(t *testing.T) {
	t.Parallel()
	s := StartMosquitto(t, MosquittoOptions{})
	s.Seed(t)
	d1 := s.Digest(t)
	if d2 := s.Digest(t); d2 != d1 {
		t.Fatalf("digest unstable:\n%s\n%s", d1, d2)
	}
	s.publish(t, "zz/new/topic", "x")
	if d3 := s.Digest(t); d3 == d1 {
		t.Fatal("digest unchanged after a new retained message")
	}
}

// TestPrometheusDigestStable: with no scrape due (once a year), two
// digests a second apart agree, series and all.
func TestPrometheusDigestStable(t *testing.T) {
	t.Parallel()
	s := StartPrometheus(t, PrometheusOptions{})
	d1, n := s.Digest(t)
	time.Sleep(time.Second)
	if d2, _ := s.Digest(t); d2 != d1 {
		t.Fatal("digest unstable")
	}
	t.Logf("%d series in the head block", n)
}

// TestMemcachedDigest: the digest is stable under reads (get, the LRU
// crawler's metadump the probe uses) and changes with every kind of write,
// to a seeded key or to any other.
func TestMemcachedDigest(t *testing.T) {
	t.Parallel()
	m := StartMemcached(t, MemcachedOptions{})
	m.Seed(t)
	m.Exchange(t, "set other 0 0 1\r\nx\r\nset n 0 0 1\r\n5\r\n", "STORED")
	d := m.Digest(t)
	m.Exchange(t, "get user:1001 apikey other\r\n", "END")
	m.Exchange(t, "lru_crawler metadump all\r\n", "END", "BUSY currently processing crawler request")
	if d2 := m.Digest(t); d2 != d {
		t.Fatal("digest changed by reads")
	}
	writes := []struct{ cmd, end string }{
		{"append other 0 0 1\r\ny\r\n", "STORED"},  // an unseeded key's value
		{"set greeting 0 0 2\r\nhi\r\n", "STORED"}, // a seeded key's value
		{"add fresh 0 0 1\r\nz\r\n", "STORED"},     // a new key
		{"incr n 1\r\n", "6"},                      // a counter
		{"touch other 100\r\n", "TOUCHED"},         // an expiry
		{"delete fresh\r\n", "DELETED"},            // a removal
		{"flush_all\r\n", "OK"},                    // everything
	}
	for _, w := range writes {
		m.Exchange(t, w.cmd, w.end)
		d2 := m.Digest(t)
		if d2 == d {
			t.Fatalf("digest unchanged after %q", w.cmd)
		}
		d = d2
	}
}
