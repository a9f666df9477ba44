package config

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/limits"
)

// TestInvalid loads every testdata/invalid-*.yaml and compares the error
// with the file's first line ("# want: LINE: PATH: MSG"), one file per rule.
func TestInvalid(t *testing.T) {
	t.Setenv("LW_TEST_TOKEN", "0123456789abcdef0123")
	files, err := filepath.Glob("testdata/invalid-*.yaml")
	if err != nil || len(files) < 40 {
		t.Fatalf("want ≥40 invalid configs, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			want := wantLine(t, f)
			_, err := Load(f)
			if err == nil {
				t.Fatalf("Load(%s) succeeded, want error %q", f, want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is %T, not *config.Error: %v", err, err)
			}
			got := strings.TrimPrefix(err.Error(), f+":")
			got = strings.TrimPrefix(got, " ")
			if got != want {
				t.Errorf("Load(%s):\n got: %s\nwant: %s", f, got, want)
			}
		})
	}
}

func wantLine(t *testing.T, file string) string {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), "# want: ") {
		t.Fatalf("%s: first line must be \"# want: <error>\"", file)
	}
	return strings.TrimPrefix(sc.Text(), "# want: ")
}

func TestValidFull(t *testing.T) {
	t.Setenv("LW_TEST_TOKEN", "tok-0123456789abcdef")
	t.Setenv("LW_TEST_SECRET", "hmac-secret")
	t.Setenv("LW_TEST_HOOK_KEY", "k1")
	c, err := Load("testdata/valid-full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.KeyFile, filepath.Join("testdata", "keys/lw.key"); got != want {
		t.Errorf("key file %q, want %q", got, want)
	}
	if c.Store.Kind() != "sqlite" || c.Store.SQLite != filepath.Join("testdata", "data/lw.db") {
		t.Errorf("store %+v", c.Store)
	}
	if c.API.Tokens[0].Value != "tok-0123456789abcdef" || c.API.Tokens[1].Value != "literal-token-0123456789" {
		t.Errorf("tokens not expanded: %q", c.API.Tokens)
	}
	if !c.API.ListenIsLoopback() {
		t.Error("listen should be loopback")
	}
	if c.Monitor.Cadence.D != 20*time.Second || c.Monitor.Recheck.D != 5*time.Second || *c.Monitor.Jitter != 0.2 || c.Monitor.CloseAfter != 3 {
		t.Errorf("monitor %+v", c.Monitor)
	}
	if *c.Probe.Rate != 500 || c.Probe.Workers != 4 || c.Probe.SampleBytes != 512<<10 || c.Probe.SampleRecords != 0 {
		t.Errorf("probe %+v", c.Probe)
	}
	if c.Probe.Concurrency != limits.DefaultProbe.Concurrency || c.Probe.MemoryCeiling != Size(limits.DefaultProbe.MemoryCeiling) || c.Probe.Timeout.D != time.Minute {
		t.Errorf("probe defaults not applied: %+v", c.Probe)
	}
	hook := c.Notifiers[0]
	if hook.Kind() != "webhook" || hook.Webhook.URL.Value != "http://127.0.0.1:9099/hook?k=k1" || hook.Webhook.Secret.Value != "hmac-secret" {
		t.Errorf("webhook %+v", hook.Webhook)
	}
	if !slices.Equal(hook.Events, DefaultEventKinds) || hook.Timeout.D != 10*time.Second {
		t.Errorf("notifier defaults: %+v", hook)
	}
	if m := c.Notifiers[2].Email; m.Password.Value != "p${notenv}" || m.Port != 25 || m.TLS != "starttls" {
		t.Errorf("email %+v", m)
	}
	if !c.Notifiers[1].Wants("opened", "critical") || c.Notifiers[1].Wants("opened", "medium") {
		t.Error("min_severity filter")
	}
	if c.Notifiers[3].Wants("changed", "critical") || !c.Notifiers[3].Wants("closed", "info") || !c.Notifiers[3].Wants("extortion", "critical") {
		t.Error("events filter")
	}
	if !hook.Wants("destroyed", "critical") || !hook.Wants("extortion", "critical") || !hook.Wants("canary", "critical") || hook.Wants("out-of-scope", "info") {
		t.Error("default events must include the evidence events, not out-of-scope")
	}
	if c.Report.DPO != "Jane Roe, dpo@example.com, +49 30 1234567" || len(c.Report.Measures) != 2 {
		t.Errorf("report %+v", c.Report)
	}
	lab := c.Scope("lab")
	if !slices.Equal([]int(lab.Ports), []int{6379, 9200, 9201}) || lab.Cadence.D != 20*time.Second || lab.Recheck.D != 5*time.Second {
		t.Errorf("lab scope %+v", lab)
	}
	if lab2 := c.Scope("lab2"); !slices.Equal([]int(lab2.Ports), []int{6379, 11211}) || lab2.Cadence.D != 5*time.Second {
		t.Errorf("lab2 scope %+v", lab2)
	}
	var names []string
	for _, n := range c.NotifiersFor("lab") {
		names = append(names, n.Name)
	}
	if !slices.Equal(names, []string{"hook", "pd"}) {
		t.Errorf("routing lab → %v", names)
	}
	if n := len(c.NotifiersFor("lab2")); n != 4 {
		t.Errorf("lab2 routes to %d notifiers, want all 4", n)
	}

	var buf bytes.Buffer
	c.Summary(&buf)
	out := buf.String()
	for _, secret := range []string{"tok-0123456789abcdef", "hmac-secret", "literal-token", "k=k1", "p${notenv}"} {
		if strings.Contains(out, secret) {
			t.Errorf("summary leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"scope lab", "6379,9200-9201", "alerts to: hook, pd", "webhook http://127.0.0.1:9099/…", "loopback only", "2 token(s)", "sqlite testdata/data/lw.db"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

// TestExample checks that the repository's example config is valid, and
// that its every target is loopback.
func TestExample(t *testing.T) {
	t.Setenv("LEAKWATCH_API_TOKEN", "example-token-0123456789")
	t.Setenv("LEAKWATCH_WEBHOOK_SECRET", "example-secret")
	c, err := Load("../../leakwatch.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.API.ListenIsLoopback() {
		t.Errorf("example API listens on %s", c.API.Listen)
	}
	for _, s := range c.Scopes {
		for _, tg := range s.Targets {
			if !strings.HasPrefix(tg, "127.") {
				t.Errorf("example scope %s has non-loopback target %s", s.Name, tg)
			}
		}
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse([]byte("api: {disable: true}\nscopes: [{name: lab, targets: [127.0.0.1]}]\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.API.Listen != DefaultListen || !c.API.ListenIsLoopback() {
		t.Errorf("default listen %q", c.API.Listen)
	}
	if c.Store.SQLite != DefaultSQLite || c.KeyFile != DefaultKeyFile {
		t.Errorf("default paths %q %q", c.Store.SQLite, c.KeyFile)
	}
	// The 30-second promise: a full sweep starts at most every
	// cadence × (1 + jitter), leaving the rest for the sweep and probe.
	worst := time.Duration(float64(c.Scopes[0].Cadence.D) * (1 + *c.Monitor.Jitter))
	if worst > 20*time.Second {
		t.Errorf("default cadence %s with jitter %g leaves too little of 30s", c.Scopes[0].Cadence, *c.Monitor.Jitter)
	}
	if c.Scopes[0].Recheck.D != DefaultRecheck {
		t.Errorf("recheck %s", c.Scopes[0].Recheck)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	t.Setenv("LW_S", "topsecret")
	c, err := Parse([]byte("api: {tokens: [\"${LW_S}-0123456789abcdef\"]}\nscopes: [{name: lab, targets: [127.0.0.1]}]\n"), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tok := c.API.Tokens[0]
	if s := tok.String(); strings.Contains(s, "topsecret") || !strings.Contains(s, "$LW_S") {
		t.Errorf("String() = %q", s)
	}
}

func TestSplitPath(t *testing.T) {
	got := splitPath("scopes[0].notify[2]")
	if !slices.Equal(got, []string{"scopes", "[0]", "notify", "[2]"}) {
		t.Errorf("splitPath = %q", got)
	}
}

// FuzzParse: no input makes Parse panic, and errors always carry the file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.yaml")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	f.Add([]byte("scopes: &a [*a]"))
	f.Add([]byte("{"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Parse(data, "f.yaml")
		if err != nil && !strings.HasPrefix(err.Error(), "f.yaml:") {
			t.Fatalf("error without file: %v", err)
		}
	})
}
