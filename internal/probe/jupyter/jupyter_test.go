package jupyter

import (
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestJupyter(t *testing.T) {
	open := testenv.StartJupyter(t, testenv.JupyterOptions{})
	locked := testenv.StartJupyter(t, testenv.JupyterOptions{Token: "c0ffee-test-token"})
	p := New()

	t.Run("open", func(t *testing.T) {
		unchanged := probetest.TreeUnchanged(t, open.Dir)
		res := probetest.Open(t, p, open.Addr, open.Port)
		if res.Product != "jupyter-notebook" || !strings.HasPrefix(res.Version, "6.") {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		if len(res.Flags) != 1 || res.Flags[0] != "code-execution" {
			t.Errorf("flags %v", res.Flags)
		}
		f := finding.Finding{Status: res.Status, Flags: res.Flags}
		if finding.Assess(&f) != finding.SeverityCritical {
			t.Errorf("severity %s", finding.Assess(&f))
		}
		if res.Evidence["kernels"] != 0 || res.Evidence["sessions"] != 0 {
			t.Errorf("evidence %v", res.Evidence)
		}
		ds := map[string]probe.Dataset{}
		for _, d := range res.Datasets {
			ds[d.Name] = d
		}
		want := testenv.JupyterSeedFiles
		if len(ds) != len(want) {
			t.Errorf("datasets %v", res.Datasets)
		}
		for name, n := range want {
			d, ok := ds[name]
			if !ok || d.Records == nil || *d.Records != n || d.Kind != "directory" {
				t.Errorf("%s: %+v, want %d records", name, d.Dataset, n)
			}
		}
		paths := probetest.PathCounts
		root := paths(ds["/"])
		if root["cell_source"] != 2 || root["email"] != 3 || root["full_name"] != 3 || root["line"] != 1 {
			t.Errorf("root sample paths %v", root)
		}
		var keySeen bool
		for _, r := range ds["/"].Sample {
			for _, v := range r.Values {
				if v.Path == "cell_source" && strings.Contains(v.Text, "AKIA2Q7XK5MZ3LRP4WTB") {
					keySeen = true
				}
			}
		}
		if !keySeen {
			t.Error("notebook cell with the AWS key not sampled")
		}
		data := paths(ds["/data"])
		if data["user_email"] != 2 || data["DB_PASSWORD"] != 1 || data["API_TOKEN"] != 1 {
			t.Errorf("data sample paths %v", data)
		}
		unchanged()
	})

	t.Run("token", func(t *testing.T) {
		unchanged := probetest.TreeUnchanged(t, locked.Dir)
		res := probetest.Protected(t, p, locked.Addr, locked.Port)
		if len(res.Datasets) != 0 || len(res.Flags) != 0 {
			t.Errorf("datasets %v flags %v on a protected server", res.Datasets, res.Flags)
		}
		if res.Version == "" {
			t.Error("version missing (GET /api answers without a token)")
		}
		unchanged()
	})
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "nginx-404", Banner: "HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"},
		{Name: "json-api", Banner: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{\"status\": \"healthy\"}"},
	}})
}
