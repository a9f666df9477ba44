package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestTargetJSON: a network target is written exactly as before the file
// kind existed (the struct's three fields, hostname even when empty, HTML
// escaping left to the outer encoder); a file target as kind and path; both
// read back to what was written.
func TestTargetJSON(t *testing.T) {
	type v1Target struct { // the v1 Target, before file targets
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Hostname string `json:"hostname"`
	}
	for _, tg := range []Target{
		{Host: "127.0.0.5", Port: 9200},
		{Host: "::1", Port: 6379, Hostname: "db<&>.test\u2028\xff"},
		{},
	} {
		for _, esc := range []bool{true, false} {
			var got, want strings.Builder
			e1, e2 := json.NewEncoder(&got), json.NewEncoder(&want)
			e1.SetEscapeHTML(esc)
			e2.SetEscapeHTML(esc)
			must(t, e1.Encode(Finding{Target: tg}))
			must(t, e2.Encode(struct {
				Schema string   `json:"schema"`
				ID     string   `json:"id"`
				Target v1Target `json:"target"`
			}{Target: v1Target{tg.Host, tg.Port, tg.Hostname}}))
			if !strings.HasPrefix(got.String(), strings.TrimSuffix(want.String(), "}\n")) {
				t.Errorf("network target %+v (escape %v):\n got %s\nwant prefix %s", tg, esc, got.String(), want.String())
			}
		}
	}
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{FileTarget("/tmp/x/users.csv"), `{"kind":"file","path":"/tmp/x/users.csv"}`},
		{FileTarget(StdinPath), `{"kind":"file","path":"-"}`},
		{FileTarget("/tmp/\x1b[31m<b>.csv"), `{"kind":"file","path":"/tmp/\u001b[31m<b>.csv"}`},
	} {
		b, err := json.Marshal(struct {
			T Target `json:"t"`
		}{tc.t})
		must(t, err)
		var enc strings.Builder
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		must(t, e.Encode(tc.t))
		if got := strings.TrimSpace(enc.String()); got != tc.want {
			t.Errorf("file target %q: %s, want %s", tc.t.Path, got, tc.want)
		}
		var back struct {
			T Target `json:"t"`
		}
		must(t, json.Unmarshal(b, &back))
		if back.T != tc.t {
			t.Errorf("round trip of %+v: %+v", tc.t, back.T)
		}
	}
	// Nonsense is refused, never written with a part dropped.
	for _, bad := range []Target{
		{Kind: TargetFile, Path: "/x", Port: 9200},
		{Kind: TargetFile, Path: "/x", Host: "127.0.0.1"},
		{Kind: TargetFile},
		{Host: "127.0.0.1", Port: 1, Path: "/x"},
		{Kind: "socket", Path: "/run/x.sock"},
	} {
		if b, err := json.Marshal(Finding{Target: bad}); err == nil {
			t.Errorf("%+v written: %s", bad, b)
		}
	}
}

func TestTargetValidate(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string // "" valid
	}{
		{Target{Host: "127.0.0.5", Port: 9200}, ""},
		{Target{Host: "127.0.0.5", Port: 9200, Hostname: "db.test"}, ""},
		{FileTarget("/tmp/a.csv"), ""},
		{FileTarget(StdinPath), ""},
		{Target{Port: 9200}, "without an address"},
		{Target{Host: "127.0.0.5"}, "port 0"},
		{Target{Host: "127.0.0.5", Port: 65536}, "port 65536"},
		{Target{Host: "127.0.0.5", Port: 1, Path: "/a"}, "with a path"},
		{Target{Kind: TargetFile, Path: "/a", Port: 1}, "with a host or port"},
		{Target{Kind: TargetFile, Path: "/a", Hostname: "h"}, "with a host or port"},
		{Target{Kind: TargetFile}, "without a path"},
		{FileTarget("/a\x00b"), "NUL"},
		{Target{Kind: "socket\x1b", Path: "/a"}, `unknown target kind "socket\\x1b"`},
	} {
		err := tc.t.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.t, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.t, err, tc.want)
		}
	}
}

// TestFileTargetIdentity: a file target has no address, its name is its
// path, and its id depends on the path alone — the same for the same path,
// different for another path, and never a network target's.
func TestFileTargetIdentity(t *testing.T) {
	a, b := FileTarget("/data/a.csv"), FileTarget("/data/b.csv")
	if a.Addr() != "" || a.Name() != "/data/a.csv" || FileTarget(StdinPath).Name() != "stdin" || !a.IsFile() {
		t.Errorf("file target: addr %q name %q", a.Addr(), a.Name())
	}
	if n := (Target{Host: "::1", Port: 5}); n.Name() != "[::1]:5" || n.IsFile() {
		t.Errorf("network target name %q", n.Name())
	}
	if Fingerprint(a, "file") != Fingerprint(FileTarget("/data/a.csv"), "file") {
		t.Error("same path, two ids")
	}
	if Fingerprint(a, "file") == Fingerprint(b, "file") {
		t.Error("two paths, one id")
	}
	// The network fingerprint is what it always was.
	old := sha256.Sum256([]byte("127.0.0.5|9200|elasticsearch"))
	if got := Fingerprint(Target{Host: "127.0.0.5", Port: 9200}, "elasticsearch"); got != hex.EncodeToString(old[:10]) {
		t.Errorf("network fingerprint changed: %s", got)
	}
	if Fingerprint(Target{Host: "/data/a.csv"}, "file") == Fingerprint(a, "file") {
		t.Error("a file id equals a network id")
	}
	f := Finding{Target: a, Service: "file", Status: StatusExposed}
	f.Finalize()
	g := Finding{Target: a, Service: "file", Status: StatusExposed}
	g.Finalize()
	if f.ID == "" || f.ID != g.ID {
		t.Errorf("ids %q %q", f.ID, g.ID)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkTargetJSON: what the v1-preserving MarshalJSON costs per
// network target against encoding/json's plain struct encoding (the shape
// before file targets), and within a whole finding's line.
func BenchmarkTargetJSON(b *testing.B) {
	type v1Target struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Hostname string `json:"hostname"`
	}
	tg := Target{Host: "127.0.0.5", Port: 9200, Hostname: "search.internal.test"}
	f := Finding{Target: tg, Service: "elasticsearch", Status: StatusExposed, Auth: AuthNone,
		Datasets: []Dataset{{Name: "customers", Kind: "index", Records: Int64(2400000), Sampled: 200,
			Classes: []ClassCount{{Class: "email", Sampled: 200, Matched: 199, Source: "values", Examples: []string{"j***@e*****.com"}}}}}}
	f.Finalize()
	enc := json.NewEncoder(io.Discard)
	b.Run("v1-struct", func(b *testing.B) {
		v := v1Target{tg.Host, tg.Port, tg.Hostname}
		for b.Loop() {
			_ = enc.Encode(v)
		}
	})
	b.Run("target", func(b *testing.B) {
		for b.Loop() {
			_ = enc.Encode(tg)
		}
	})
	b.Run("finding", func(b *testing.B) {
		for b.Loop() {
			_ = enc.Encode(f)
		}
	})
}
