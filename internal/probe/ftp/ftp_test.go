package ftp

import (
	"context"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestVsftpd(t *testing.T) {
	open := testenv.StartVsftpd(t, testenv.FTPOptions{Anonymous: true})
	locked := testenv.StartVsftpd(t, testenv.FTPOptions{})
	// The PASV address names another loopback host: the prober must not
	// follow it.
	other := testenv.Addr(t)
	foreign := testenv.StartVsftpd(t, testenv.FTPOptions{Anonymous: true, PasvAddr: other.String()})

	checkOpen := func(t *testing.T, p *Prober, channel string) {
		unchanged := probetest.TreeUnchanged(t, open.Root)
		res := probetest.OpenClean(t, p, open.Addr, open.Port)
		if res.Product != "vsftpd" || !strings.HasPrefix(res.Version, "3.") {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		if res.Evidence["data_channel"] != channel {
			t.Errorf("data channel %v, want %s", res.Evidence["data_channel"], channel)
		}
		ds := map[string]probe.Dataset{}
		for _, d := range res.Datasets {
			ds[d.Name] = d
		}
		want := testenv.FileTreeCounts
		if len(ds) != len(want) {
			t.Errorf("datasets %d, want %d", len(ds), len(want))
		}
		for name, n := range want {
			d, ok := ds[name]
			if !ok || d.Records == nil || *d.Records != n || d.Kind != "directory" {
				t.Errorf("%s: %+v, want %d records", name, d.Dataset, n)
			}
		}
		if d := ds["/"]; d.Bytes == nil || *d.Bytes < 120000 {
			t.Errorf("root bytes %v", d.Bytes)
		}
		root := probetest.PathCounts(ds["/"])
		if root["email"] != 2 || root["full_name"] != 2 || root["contact"] != 1 {
			t.Errorf("root sample %v", root)
		}
		bk := probetest.PathCounts(ds["/backups"])
		if bk["password_hash"] != 1 || bk["DB_PASSWORD"] != 1 || bk["AWS_SECRET_ACCESS_KEY"] != 1 {
			t.Errorf("backups sample %v", bk)
		}
		unchanged()
	}
	t.Run("open-epsv", func(t *testing.T) { checkOpen(t, New(), "epsv") })
	t.Run("open-pasv", func(t *testing.T) { checkOpen(t, &Prober{forcePASV: true}, "pasv") })

	t.Run("foreign-pasv", func(t *testing.T) {
		res, err := probetest.Run(t, &Prober{forcePASV: true}, foreign.Addr, foreign.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed {
			t.Fatalf("status %s, want exposed (login works)", res.Status)
		}
		if len(res.Datasets) != 0 || !strings.Contains(res.Error, "refused") || res.Evidence["pasv_foreign_address"] != true {
			t.Errorf("datasets %v error %q evidence %v", res.Datasets, res.Error, res.Evidence)
		}
	})

	t.Run("protected", func(t *testing.T) {
		// PAM (pam_unix) answers a failed login after ~2 s ± 25%: give the
		// PASS reply the production IO timeout, not the test's 2 s.
		env := probetest.Env(locked.Addr, locked.Port)
		env.Budget.IOTimeout = probe.DefaultBudget().IOTimeout
		env = probe.NewEnv(env.Target, env.Budget, nil)
		ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
		defer cancel()
		res, err := New().Probe(ctx, env)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
			t.Fatalf("status %s/%s (%s), want protected/required", res.Status, res.Auth, res.Error)
		}
		if len(res.Datasets) != 0 {
			t.Errorf("datasets on a protected server: %v", res.Datasets)
		}
		if res.Product != "vsftpd" {
			t.Errorf("product %q", res.Product)
		}
	})
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "smtp", Banner: "220 mail.example.com ESMTP Exim 4.96 Sat, 28 Nov 2026 16:00:00 +0000\r\n"},
		{Name: "http", Banner: probetest.HTTPBadRequest},
		{Name: "ssh", Banner: probetest.SSHBanner},
	}})
}
