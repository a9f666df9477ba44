package rabbitmq

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestBroker boots one node (boot dominates the test time) and probes it
// first without a guest account (protected), then with guest/guest
// created as RabbitMQ ships it (exposed with default credentials).
func TestBroker(t *testing.T) {
	b := testenv.StartRabbit(t, testenv.RabbitOptions{})
	want := b.Seed(t)
	// The whole broker's digest: definitions, queue counts and message
	// statistics, and every message (testenv.Rabbit.Digest).
	before := b.Digest(t)
	checkState := func(t *testing.T) {
		if after := b.Digest(t); after != before {
			t.Errorf("broker changed by the probe:\n%s", lineDiff(before, after))
		}
	}

	t.Run("protected", func(t *testing.T) {
		for name, port := range map[string]int{"management": b.MgmtPort, "amqp": b.AMQPPort} {
			t.Run(name, func(t *testing.T) {
				res := probetest.Protected(t, New(), b.Addr, port)
				if name == "amqp" && (res.Product != "rabbitmq" || res.Version != "3.10.8") {
					t.Errorf("amqp: product %q version %q", res.Product, res.Version)
				}
			})
		}
		checkState(t)
	})

	b.CreateGuest(t)
	before = b.Digest(t)

	t.Run("default-credentials", func(t *testing.T) {
		res, err := probetest.Check(t, New(), b.Addr, b.MgmtPort)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthDefaultCredentials {
			t.Fatalf("management: status %s/%s, want exposed/default-credentials (error %q)", res.Status, res.Auth, res.Error)
		}
		if res.Product != "rabbitmq" || res.Version != "3.10.8" {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		got := map[string]int64{}
		for _, d := range res.Datasets {
			if d.Kind != "queue" || d.Records == nil || d.Bytes == nil || *d.Bytes == 0 {
				t.Errorf("dataset %s: kind %q records %v bytes %v", d.Name, d.Kind, d.Records, d.Bytes)
				continue
			}
			got[d.Name] = *d.Records
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("datasets %v, want %v", got, want)
		}

		res, err = probetest.Check(t, New(), b.Addr, b.AMQPPort)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthDefaultCredentials || res.Evidence["interface"] != "amqp" {
			t.Errorf("amqp: status %s/%s evidence %v, want exposed/default-credentials", res.Status, res.Auth, res.Evidence)
		}
		checkState(t)
		b.CheckMessages(t)
	})
}

// lineDiff lists the lines only one of a and b holds.
func lineDiff(a, b string) string {
	in := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			m[l] = true
		}
		return m
	}
	ma, mb := in(a), in(b)
	var out []string
	for l := range ma {
		if !mb[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range mb {
		if !ma[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", HTTP: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="intranet"`)
			w.WriteHeader(http.StatusUnauthorized)
		})},
		// An AMQP 1.0-only broker answers the 0-9-1 header with its own.
		{Name: "amqp-1.0", Banner: "AMQP\x00\x01\x00\x00"},
	}})
}
