package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
)

// hostileName holds a bidi override (the name reads reversed on screen),
// a C1 CSI (a control sequence to 8-bit terminals) and an ESC.
const hostileName = "users\u202etxt.exe\u009b31m\x1b]0;pwned\x07"

// unsafeRunes lists the runes of out that finding.Unsafe names, but for
// the JSON's own line breaks.
func unsafeRunes(out string) []rune {
	var bad []rune
	for _, r := range out {
		if r != '\n' && finding.Unsafe(r) {
			bad = append(bad, r)
		}
	}
	return bad
}

// TestHistoryJSONEscapesUnsafe: `findings --format jsonl` and `show
// --format json` print dataset names from scanned stores: a bidi override
// or C1 control in one reaches the terminal as a \u escape, and the JSON
// still reads back the name as it was.
func TestHistoryJSONEscapesUnsafe(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lw.db")
	s, err := sqlite.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fx := storetest.NewFixture("127.0.0.7", 6379)
	if _, err := s.RecordObservation(context.Background(), "s1", fx.Exposed(storetest.T0, "email", map[string]int64{hostileName: 12})); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, args := range [][]string{
		{"findings", "--db", db, "--status", "all", "--format", "jsonl"},
		{"show", "--db", db, "--format", "json", fx.ID()},
	} {
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if bad := unsafeRunes(out); len(bad) > 0 {
			t.Errorf("%v wrote unsafe runes %q raw", args[0], bad)
		}
		var v any
		if err := json.Unmarshal([]byte(strings.SplitN(out, "\n{", 2)[0]), &v); err != nil {
			t.Fatalf("%v: %v\n%s", args[0], err, out)
		}
		if b, _ := json.Marshal(v); !strings.Contains(string(b), "users\u202etxt.exe\u009b31m") {
			t.Errorf("%v: the dataset name does not read back:\n%s", args[0], out)
		}
	}
}

// TestClusterStatusJSONEscapesUnsafe: `cluster status --json` prints
// worker names and sites from heartbeats anyone with NATS access can
// write: their bidi overrides and C1 controls are \u escapes (real
// nats-server and PostgreSQL).
func TestClusterStatusJSONEscapesUnsafe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, _, _, _, kv := statusLab(ctx, t)
	hb, _ := json.Marshal(cluster.Heartbeat{Name: hostileName, Sites: []string{"dc-\u202ea"}, At: time.Now().UTC()})
	if _, err := kv.Put(ctx, "evil", hb); err != nil {
		t.Fatal(err)
	}
	var out syncBuf
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	if code := a.run(ctx, []string{"cluster", "status", "--config", l.file, "--json"}); code != exitOK {
		t.Fatalf("exit %d\n%s", code, out.String())
	}
	if bad := unsafeRunes(out.String()); len(bad) > 0 {
		t.Errorf("cluster status --json wrote unsafe runes %q raw:\n%s", bad, out.String())
	}
	var st cluster.Status
	if err := json.Unmarshal([]byte(out.String()), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Workers) != 1 || st.Workers[0].Name != hostileName {
		t.Errorf("workers %+v, want the heartbeat's name as written", st.Workers)
	}
}

// TestErrorsVisibleText: file names in a classified directory are the
// directory's writers' choice: an error that names one (a file that does
// not parse) reaches the terminal with its controls as visible escapes.
func TestErrorsVisibleText(t *testing.T) {
	dir := t.TempDir()
	name := "a\x1b]0;pwned\x07\u202e.jsonl"
	if err := os.WriteFile(filepath.Join(dir, name), []byte("{\"email\": \"x\x1b[2J\"\n{broken\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "classify", dir)
	if code != exitUsage || !strings.Contains(errOut, `a\x1b]0;pwned\x07\u202e.jsonl`) {
		t.Fatalf("exit %d, stderr %q: want exit %d naming the file with visible escapes", code, errOut, exitUsage)
	}
	if bad := unsafeRunes(errOut); len(bad) > 0 {
		t.Errorf("classify wrote unsafe runes %q raw to stderr: %q", bad, errOut)
	}
}
