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
