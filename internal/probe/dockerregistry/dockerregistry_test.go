package dockerregistry

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenRegistry(t *testing.T) {
	r := testenv.StartRegistry(t, testenv.RegistryOptions{Port: 5000})
	r.Seed(t)
	unchanged := probetest.TreeUnchanged(t, r.Root)

	res := probetest.Open(t, New(), r.Addr, r.Port)
	if res.Product != "docker-registry" || res.Evidence["api_version"] != "registry/2.0" {
		t.Errorf("product %q evidence %v", res.Product, res.Evidence)
	}
	want := testenv.RegistrySeedTags
	if len(res.Datasets) != len(want) {
		t.Fatalf("datasets %v, want %v", res.Datasets, want)
	}
	for _, d := range res.Datasets {
		if d.Kind != "repository" || d.Records == nil || *d.Records != want[d.Name] {
			t.Errorf("%s: kind %q records %v, want repository %d", d.Name, d.Kind, d.Records, want[d.Name])
		}
		wantSampled := min(3, int(want[d.Name]))
		if d.Sampled != wantSampled {
			t.Errorf("%s: sampled %d, want %d", d.Name, d.Sampled, wantSampled)
		}
		paths := probetest.SamplePaths(d)
		wantPaths := []string{"env.DB_PASSWORD", "env.ADMIN_EMAIL", "env.API_TOKEN", "labels.maintainer", "history.created_by"}
		if d.Name == "acme/db" {
			wantPaths = []string{"env.POSTGRES_PASSWORD"}
		}
		probetest.WantPaths(t, d.Name, paths, wantPaths...)
	}
	unchanged()
}

func TestCatalogPagination(t *testing.T) {
	r := testenv.StartRegistry(t, testenv.RegistryOptions{})
	for i := range 6 {
		r.PushImage(t, fmt.Sprintf("team/svc%d", i), "latest", []string{"X=1"}, nil)
	}
	defer func(n int) { catalogPageSize = n }(catalogPageSize)
	catalogPageSize = 2 // three pages of two: follows the Link header
	env := probetest.Env(r.Addr, r.Port)
	env.Budget.MaxListed = 5
	env.Budget.MaxDatasets = 1
	ctx, cancel := probetestContext(env)
	defer cancel()
	res, err := New().Probe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Datasets) != 5 || !slices.Contains(res.Flags, "repositories-truncated") {
		t.Fatalf("datasets %d flags %v, want 5 and repositories-truncated", len(res.Datasets), res.Flags)
	}
	sampled := 0
	for _, d := range res.Datasets {
		if d.Sampled > 0 {
			sampled++
		}
	}
	if sampled != 1 {
		t.Errorf("%d repositories sampled, want 1", sampled)
	}
}

func TestProtectedRegistry(t *testing.T) {
	r := testenv.StartRegistry(t, testenv.RegistryOptions{Auth: true})
	r.Seed(t)
	unchanged := probetest.TreeUnchanged(t, r.Root)
	res := probetest.Protected(t, New(), r.Addr, r.Port)
	if res.Evidence["auth_scheme"] != "Basic" {
		t.Errorf("evidence %v, want Basic challenge", res.Evidence)
	}
	unchanged()
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", HTTP: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"repositories":["x"]}`))
		})},
		{Name: "banner", Banner: "+OK POP3 ready\r\n"},
	}})
}

func probetestContext(env *probe.Env) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), env.Budget.Timeout)
}
