package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Raw values planted in the classify fixtures; none may appear in any output.
var classifyRaw = []string{"jane.doe@gmail.com", "hunter2xyz!", "+44 20 7946 0958", "bob@corp.io", "s3cr3tPassw0rd", "203.0.113.7"}

// classifyFixtures writes one file of every input format into a new
// directory (plus a binary file and a hidden directory, both skipped).
func classifyFixtures(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"users.jsonl": `{"user":{"email":"jane.doe@gmail.com"},"ip":"203.0.113.7"}` + "\n" +
			`{"note":"call me at +44 20 7946 0958 please"}` + "\n\n" +
			`{"product":"widget","price":3}` + "\n",
		"array.json":   "[{\"email\":\"bob@corp.io\"},\n {\"password\":\"hunter2xyz!\"}\n]\n",
		"pretty.json":  "{\n  \"contact\": {\n    \"email\": \"bob@corp.io\"\n  }\n}\n{\n  \"sku\": \"A-1\"\n}\n",
		"people.csv":   "email,note\nbob@corp.io,hello\nnobody,plain\n",
		"people.tsv":   "email\tnote\nbob@corp.io\thello\n",
		"app.env":      "# comment\nDB_PASSWORD=s3cr3tPassw0rd\n\nhello world\n",
		"blob.bin":     "\x00\x01\x02binary",
		".git/config":  "password = hunter2xyz!\n",
		"sub/log.txt":  "[2024-01-01] login from 203.0.113.7\n",
		"sub/none.txt": "nothing to see here\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(body), 0o644))
	}
	return dir
}

func perRecordLines(t *testing.T, out string) []perRecordLine {
	t.Helper()
	var lines []perRecordLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var pr perRecordLine
		if err := json.Unmarshal([]byte(l), &pr); err != nil {
			t.Fatalf("per-record line %q: %v", l, err)
		}
		lines = append(lines, pr)
	}
	return lines
}

func classesOf(pr perRecordLine) []string {
	var out []string
	for _, c := range pr.Classes {
		out = append(out, c.Class+"@"+c.Field)
	}
	return out
}

func TestClassifyPerRecord(t *testing.T) {
	dir := classifyFixtures(t)
	key := filepath.Join(t.TempDir(), "key")
	code, out, errOut := runCLI(t, "", "classify", "--key-file", key, "--per-record", dir)
	if code != exitExposed {
		t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
	}
	type rec struct {
		dataset string
		record  int64
		line    int
		classes []string
	}
	var got []rec
	for _, pr := range perRecordLines(t, out) {
		got = append(got, rec{pr.Dataset, pr.Record, pr.Line, classesOf(pr)})
		for _, c := range pr.Classes {
			if c.Rule == "" {
				t.Errorf("%s record %d: class %s without a rule", pr.Dataset, pr.Record, c.Class)
			}
		}
	}
	want := []rec{
		{"app.env", 1, 2, []string{"password@DB_PASSWORD"}},
		{"app.env", 2, 4, nil},
		{"array.json", 1, 1, []string{"email@email"}},
		{"array.json", 2, 2, []string{"password@password"}},
		{"people.csv", 1, 2, []string{"email@email"}},
		{"people.csv", 2, 3, nil},
		{"people.tsv", 1, 2, []string{"email@email"}},
		{"pretty.json", 1, 1, []string{"email@contact.email"}},
		{"pretty.json", 2, 6, nil},
		{"sub/log.txt", 1, 1, []string{"ip_address@line"}},
		{"sub/none.txt", 1, 1, nil},
		{"users.jsonl", 1, 1, []string{"email@user.email", "ip_address@ip"}},
		{"users.jsonl", 2, 2, []string{"phone@note"}},
		{"users.jsonl", 3, 4, nil},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d:\n%v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].dataset != want[i].dataset || got[i].record != want[i].record || got[i].line != want[i].line || !slices.Equal(got[i].classes, want[i].classes) {
			t.Errorf("record %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, raw := range classifyRaw {
		if strings.Contains(out, raw) {
			t.Errorf("per-record output holds the raw value %q", raw)
		}
	}
}

func TestClassifyReportEveryFormat(t *testing.T) {
	dir := classifyFixtures(t)
	key := filepath.Join(t.TempDir(), "key")
	for _, format := range []string{"table", "jsonl", "sarif", "ocsf"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "classify", "--key-file", key, "--format", format, "-v", dir)
			if code != exitExposed {
				t.Fatalf("exit %d, want 1; stderr: %s", code, errOut)
			}
			for _, raw := range classifyRaw {
				if strings.Contains(out, raw) {
					t.Errorf("%s output holds the raw value %q", format, raw)
				}
			}
			for _, want := range []string{"users.jsonl", "people.csv", "password"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s output lacks %q:\n%s", format, want, out)
				}
			}
			if strings.Contains(out, "blob.bin") || strings.Contains(out, ".git") {
				t.Errorf("%s output lists a binary file or a hidden directory:\n%s", format, out)
			}
			if format != "jsonl" {
				return
			}
			fs := decodeFindingList(t, out)
			if len(fs) != 8 {
				t.Fatalf("%d findings, want 8 (one per text file)", len(fs))
			}
			var f finding.Finding // all files' datasets and classes, as one
			for _, ff := range fs {
				if len(ff.Datasets) != 1 || !ff.Target.IsFile() || filepath.Base(ff.Target.Path) != path.Base(ff.Datasets[0].Name) {
					t.Errorf("finding of %q: %d datasets", ff.Target.Path, len(ff.Datasets))
				}
				f.Datasets = append(f.Datasets, ff.Datasets...)
				f.Classes = append(f.Classes, ff.Classes...)
			}
			d, ok := datasetNamed(f, "users.jsonl")
			if !ok || d.Records == nil || *d.Records != 3 || d.Sampled != 3 || d.Kind != "file" {
				t.Fatalf("users.jsonl dataset: %+v", d)
			}
			var cls []string
			for _, c := range d.Classes {
				cls = append(cls, c.Class)
				if len(c.Examples) == 0 || c.Matched == 0 {
					t.Errorf("class %s: no masked example or match count: %+v", c.Class, c)
				}
			}
			if want := []string{"email", "ip_address", "phone"}; !slices.Equal(cls, want) {
				t.Errorf("users.jsonl classes %v, want %v", cls, want)
			}
			csvDS, _ := datasetNamed(f, "people.csv")
			if len(csvDS.Fields) != 2 || csvDS.Fields[0].Name != "email" {
				t.Errorf("people.csv schema from the header: %+v", csvDS.Fields)
			}
			for _, c := range []string{"email", "password", "phone", "ip_address"} {
				if !slices.Contains(f.Classes, c) {
					t.Errorf("finding classes %v lack %s", f.Classes, c)
				}
			}
		})
	}
}

func TestClassifyStdinAndExitCodes(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	code, out, _ := runCLI(t, `{"email":"jane.doe@gmail.com"}`+"\n", "classify", "--key-file", key, "--per-record", "-")
	if code != exitExposed || !strings.Contains(out, `"dataset":"stdin"`) || !strings.Contains(out, `"class":"email"`) {
		t.Errorf("stdin JSON line: exit %d, out %s", code, out)
	}
	code, out, _ = runCLI(t, "nothing personal here\nat all\n", "classify", "--key-file", key, "--format", "jsonl", "-")
	if code != exitOK {
		t.Errorf("no class found: exit %d, want 0; out %s", code, out)
	}
	f := decodeFindingList(t, out)[0]
	if len(f.Datasets) != 1 || *f.Datasets[0].Records != 2 || len(f.Datasets[0].Classes) != 0 {
		t.Errorf("clean stdin dataset: %+v", f.Datasets)
	}
	code, _, _ = runCLI(t, "DB_PASSWORD=s3cr3tPassw0rd\n", "classify", "--key-file", key, "--exit-zero", "--format", "jsonl", "-")
	if code != exitOK {
		t.Errorf("--exit-zero: exit %d, want 0", code)
	}
	code, out, _ = runCLI(t, "email\nbob@corp.io\n", "classify", "--key-file", key, "--type", "csv", "--per-record", "-")
	if code != exitExposed || !strings.Contains(out, `"field":"email"`) {
		t.Errorf("--type csv on stdin: exit %d, out %s", code, out)
	}
	code, out, _ = runCLI(t, "", "classify", "--help")
	if code != exitOK || !strings.Contains(out, "Usage: leakwatch classify") || !strings.Contains(out, "--per-record") {
		t.Errorf("--help: exit %d, out %s", code, out)
	}
}

func TestClassifyBadInput(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	for _, c := range []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"malformed JSON line", []string{write("bad.jsonl", "{\"a\":1}\n{\"a\":\n")}, "", "bad.jsonl: line 2"},
		{"unterminated array", []string{write("bad.json", "[{\"a\":1},\n{\"b\":2}")}, "", "bad.json: line"},
		{"data after array", []string{write("after.json", "[{\"a\":1}] x")}, "", "after.json"},
		{"binary file", []string{write("bin.txt", "ab\x00cd")}, "", "binary file"},
		{"missing path", []string{filepath.Join(dir, "nope")}, "", "no such file"},
		{"two paths", []string{dir, dir}, "", "want one FILE"},
		{"no path", nil, "", "want one FILE"},
		{"bad type", []string{"--type", "xml", dir}, "", "unknown input type"},
		{"per-record table", []string{"--per-record", "--format", "table", dir}, "", "--per-record writes JSON lines"},
		{"bad size", []string{"--max-bytes", "lots", dir}, "", "--max-bytes"},
		{"stdin garbage JSON", []string{"-"}, "{\"a\":", "stdin: line 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"classify", "--key-file", key}, c.args...)
			code, _, errOut := runCLI(t, c.stdin, args...)
			if code != exitUsage || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d (want 2), stderr %q (want %q)", code, errOut, c.want)
			}
		})
	}
}

func TestClassifyBounds(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	var b strings.Builder
	for range 100 {
		b.WriteString(`{"email":"jane.doe@gmail.com","pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}` + "\n") // 88 bytes
	}
	big := filepath.Join(dir, "big.jsonl")
	must(t, os.WriteFile(big, []byte(b.String()), 0o644))
	long := filepath.Join(dir, "long.jsonl")
	must(t, os.WriteFile(long, []byte(`{"email":"bob@corp.io"}`+"\n"+`{"note":"`+strings.Repeat("a", 5000)+`"}`+"\n"), 0o644))

	// --max-bytes: reading stops at the cap and the dataset says so.
	code, out, errOut := runCLI(t, "", "classify", "--key-file", key, "--format", "jsonl", "--max-bytes", "1000", big)
	if code != exitExposed {
		t.Fatalf("exit %d; %s", code, errOut)
	}
	d := decodeFindingList(t, out)[0].Datasets[0]
	if !slices.Contains(d.Flags, probe.FlagSampleTruncated) || *d.Records != 11 {
		t.Errorf("--max-bytes 1000: records %d, flags %v; want 11 whole lines read and sample-truncated", *d.Records, d.Flags)
	}
	// --sample-records: all records counted, the first N classified.
	code, out, _ = runCLI(t, "", "classify", "--key-file", key, "--format", "jsonl", "--sample-records", "10", big)
	d = decodeFindingList(t, out)[0].Datasets[0]
	if code != exitExposed || *d.Records != 100 || d.Sampled != 10 || len(d.Flags) != 0 {
		t.Errorf("--sample-records 10: records %d sampled %d flags %v", *d.Records, d.Sampled, d.Flags)
	}
	if len(d.Classes) != 1 || d.Classes[0].EstimatedRecords == nil || *d.Classes[0].EstimatedRecords != 100 {
		t.Errorf("estimate from a sample of 10 out of 100: %+v", d.Classes)
	}
	// --sample-bytes: the sample stops growing at the cap; all records are counted.
	code, out, _ = runCLI(t, "", "classify", "--key-file", key, "--format", "jsonl", "--sample-bytes", "1KiB", big)
	d = decodeFindingList(t, out)[0].Datasets[0]
	if code != exitExposed || *d.Records != 100 || d.Sampled < 10 || d.Sampled > 20 {
		t.Errorf("--sample-bytes 1KiB: records %d sampled %d; want 100 and about 1KiB of them", *d.Records, d.Sampled)
	}
	// --max-record-bytes: the long record is skipped, its neighbour read.
	for _, mode := range []string{"jsonl", "json"} {
		code, out, _ = runCLI(t, "", "classify", "--key-file", key, "--format", "jsonl", "--type", mode, "--max-record-bytes", "1KiB", long)
		d = decodeFindingList(t, out)[0].Datasets[0]
		if code != exitExposed || *d.Records != 1 || !slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
			t.Errorf("--type %s --max-record-bytes 1KiB: records %d flags %v", mode, *d.Records, d.Flags)
		}
	}
	// SQL: a tuple over --max-record-bytes is skipped and its neighbours in the
	// same INSERT read; a COPY line cut by --max-bytes is dropped.
	dump := "INSERT INTO t (email) VALUES ('bob@corp.io'), ('" + strings.Repeat("a", 5000) + "'), ('eve@corp.io');\n" +
		"COPY t (email) FROM stdin;\njane.doe@gmail.com\njohn.roe@gmail.com\n\\.\n"
	sqlFile := filepath.Join(dir, "dump.sql")
	must(t, os.WriteFile(sqlFile, []byte(dump), 0o644))
	code, out, _ = runCLI(t, "", "classify", "--key-file", key, "--type", "sql", "--max-record-bytes", "1KiB", sqlFile)
	d = decodeFindingList(t, out)[0].Datasets[0]
	if code != exitExposed || *d.Records != 4 || !slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
		t.Errorf("sql --max-record-bytes 1KiB: records %d flags %v; want 4 and record-too-large", *d.Records, d.Flags)
	}
	code, out, _ = runCLI(t, "", "classify", "--key-file", key, "--type", "sql", "--max-record-bytes", "1KiB", "--max-bytes", fmt.Sprint(len(dump)-len("oe@gmail.com\n\\.\n")), sqlFile)
	d = decodeFindingList(t, out)[0].Datasets[0]
	if code != exitExposed || *d.Records != 3 || !slices.Contains(d.Flags, probe.FlagSampleTruncated) {
		t.Errorf("sql cut by --max-bytes: records %d flags %v; want 3 and sample-truncated", *d.Records, d.Flags)
	}
	// A JSON array or CSV cut by --max-bytes is a truncated dataset, not bad input,
	// and the cut record is dropped.
	arr := filepath.Join(t.TempDir(), "arr.json")
	must(t, os.WriteFile(arr, []byte("[\n"+strings.Repeat(`{"email":"jane.doe@gmail.com"},`+"\n", 50)+`{"email":"bob@corp.io"}]`), 0o644))
	rows := filepath.Join(t.TempDir(), "rows.csv")
	must(t, os.WriteFile(rows, []byte("email,phone\n"+strings.Repeat("jane.doe@gmail.com,+44 20 7946 0958\n", 50)), 0o644))
	for _, p := range []string{arr, rows} {
		code, out, errOut = runCLI(t, "", "classify", "--key-file", key, "--format", "jsonl", "--max-bytes", "500", p)
		if code != exitExposed {
			t.Fatalf("%s cut at 500 bytes: exit %d, %s", p, code, errOut)
		}
		d = decodeFindingList(t, out)[0].Datasets[0]
		if !slices.Contains(d.Flags, probe.FlagSampleTruncated) || *d.Records < 10 || *d.Records > 16 {
			t.Errorf("%s cut at 500 bytes: records %d flags %v", p, *d.Records, d.Flags)
		}
	}
	// --max-files: the rest of a directory is not read, and the finding says so.
	code, out, errOut = runCLI(t, "", "classify", "--key-file", key, "--format", "jsonl", "--max-files", "1", dir)
	f := decodeFindingList(t, out)[0]
	if code != exitExposed || len(f.Datasets) != 1 || !slices.Contains(f.Flags, probe.FlagDatasetsTruncated) || !strings.Contains(errOut, "--max-files") {
		t.Errorf("--max-files 1: %d datasets, flags %v, stderr %q", len(f.Datasets), f.Flags, errOut)
	}
}

// TestClassifyPerRecordIsTheEngine: --per-record says what the engine's
// own per-record API says, record for record.
func TestClassifyPerRecordIsTheEngine(t *testing.T) {
	key := filepath.Join(t.TempDir(), "key")
	src, err := os.ReadFile("../../internal/classify/testdata/hard_cases.jsonl")
	must(t, err)
	var docs []string
	for _, l := range strings.Split(strings.TrimSpace(string(src)), "\n") {
		if strings.HasPrefix(l, "//") || l == "" {
			continue
		}
		var d struct {
			Doc json.RawMessage `json:"doc"`
		}
		must(t, json.Unmarshal([]byte(l), &d))
		if len(d.Doc) > 0 {
			docs = append(docs, string(d.Doc))
		}
	}
	in := strings.Join(docs, "\n") + "\n"
	_, out, _ := runCLI(t, in, "classify", "--key-file", key, "--per-record", "-")
	lines := perRecordLines(t, out)
	if len(lines) != len(docs) {
		t.Fatalf("%d per-record lines for %d documents", len(lines), len(docs))
	}
	k, err := classify.LoadOrCreateKey(key)
	must(t, err)
	clf, err := classify.New(classify.Options{Key: k})
	must(t, err)
	found := 0
	for i, d := range docs {
		rec, err := classify.FromJSONBytes([]byte(d))
		must(t, err)
		want := clf.RecordClasses(rec)
		if len(want) == 0 {
			want = []classify.RecordClass{}
		}
		if !slices.Equal(lines[i].Classes, want) {
			t.Errorf("document %d: command %v, engine %v", i+1, lines[i].Classes, want)
		}
		found += len(want)
	}
	if found < len(docs)/2 {
		t.Errorf("only %d classes over %d hard cases: the comparison proves little", found, len(docs))
	}
}

// FuzzClassifyInput feeds arbitrary bytes to every reader of the classify
// command: it never panics, answers 0, 1 or 2, and its per-record lines
// are JSON with a class, a field and a rule each.
func FuzzClassifyInput(f *testing.F) {
	for _, s := range []string{
		`{"email":"jane.doe@gmail.com"}` + "\n" + `{"a":`,
		"[{\"a\":1},\n{\"b\":\"DB_PASSWORD=Hq7Zp2Lw\"}]",
		"email,note\nbob@corp.io,\"quoted \"\" field\"\n\"unterminated",
		"a\tb\n1\t2\n", "[2024-01-01] login from 203.0.113.7\n\x00",
		"\xef\xbb\xbf{\"x\":\"y\"}", "{\n \"pretty\": true\n}\n{\"x\":1}", "]", "[", "{}{}{}",
		"CREATE TABLE t (\n a int,\n b text\n);\nINSERT INTO t VALUES (1,'x''y'),(2,NULL);\nCOPY t (a, b) FROM stdin;\n1\t\\N\n\\.\n",
	} {
		f.Add(s, uint8(0))
	}
	key := filepath.Join(f.TempDir(), "key")
	types := []string{"auto", "jsonl", "json", "csv", "tsv", "text", "sql"}
	f.Fuzz(func(t *testing.T, in string, ty uint8) {
		typ := types[int(ty)%len(types)]
		code, out, errOut := runCLI(t, in, "classify", "--key-file", key, "--per-record", "--type", typ, "--max-record-bytes", "4KiB", "-")
		if code != exitOK && code != exitExposed && code != exitUsage {
			t.Fatalf("--type %s: exit %d, stderr %s", typ, code, errOut)
		}
		for _, pr := range perRecordLines(t, out) {
			for _, c := range pr.Classes {
				if c.Class == "" || c.Rule == "" {
					t.Fatalf("--type %s: incomplete entry %+v", typ, c)
				}
			}
		}
	})
}

// TestClassifyPerRecordEncoding: the hand-written per-record line is what
// encoding/json writes for perRecordLine, for any field name.
func TestClassifyPerRecordEncoding(t *testing.T) {
	for _, name := range []string{"users.jsonl", "a\"b\\c", "tab\there\nnl\r", "\x00\x01\x1f", "ünïcödé/名前", "bad\xff\xfeutf8",
		"line\u2028sep\u2029", "<html>&amp;", ""} {
		cls := []classify.RecordClass{{Class: "email", Field: name, Rule: "value:email"}, {Class: "password", Field: "x." + name, Rule: "text:password_pair"}}
		for _, line := range []int{0, 7} {
			got := appendPerRecord(nil, name, 3, line, cls)
			var want strings.Builder
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			must(t, enc.Encode(perRecordLine{Dataset: name, Record: 3, Line: line, Classes: cls}))
			if string(got) != want.String() {
				t.Errorf("%q line %d:\n got %s\nwant %s", name, line, got, want.String())
			}
		}
	}
	if got := string(appendPerRecord(nil, "d", 1, 1, nil)); got != `{"dataset":"d","record":1,"line":1,"classes":[]}`+"\n" {
		t.Errorf("no classes: %s", got)
	}
}

// TestClassifyDirSkipsUnopenable: a file of a directory that cannot be
// opened when its turn comes (here: listed by the walk, gone when read)
// gives the open error classifyCmd skips with a note; the other files are
// still read.
func TestClassifyDirSkipsUnopenable(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	must(t, os.WriteFile(filepath.Join(dir, "a.jsonl"), []byte(`{"email":"bob@corp.io"}`+"\n"), 0o644))
	ins, _, err := classifyInputs(dir, 10, io.Discard)
	must(t, err)
	ins = append(ins, classifyInput{name: "gone.jsonl", path: filepath.Join(dir, "gone.jsonl"), size: 1, inDir: true})
	var out, errb bytes.Buffer
	cr := &classifyRun{sample: 10, sampleMax: 1 << 20, maxBytes: 1 << 20, maxRecord: 1 << 20}
	k, err := classify.LoadOrCreateKey(key)
	must(t, err)
	cr.clf, err = classify.New(classify.Options{Key: k})
	must(t, err)
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	var found int
	for _, in := range ins {
		ds, err := cr.dataset(context.Background(), in, a.stdin)
		var pe *os.PathError
		switch {
		case in.name == "gone.jsonl":
			if !errors.As(err, &pe) || pe.Op != "open" {
				t.Errorf("gone.jsonl: error %v, want an open PathError (what classifyCmd skips)", err)
			}
		case err != nil || ds == nil || len(ds.Classes) == 0:
			t.Errorf("%s: %v %+v", in.name, err, ds)
		default:
			found++
		}
	}
	if found != 1 {
		t.Errorf("read %d datasets, want 1", found)
	}
}

// TestClassifySQLDump: pg_dump COPY blocks and INSERT statements (with and
// without a column list, several tuples, quotes and escapes in literals)
// become one record per row, with "table.column" field names.
func TestClassifySQLDump(t *testing.T) {
	dump := `--
-- PostgreSQL database dump
--
SET client_encoding = 'UTF8';
CREATE TABLE public.users (
    id integer NOT NULL,
    email text,
    password_hash text
);
COPY public.users (id, email, password_hash) FROM stdin;
1	jane.doe@gmail.com	$2b$12$KIXQJ8V1l6hZk3x9eGq9XuQ7m5pN2dV8rT4yW6zA1bC3dE5fG7hIe
2	\N	\N
\.
CREATE TABLE ` + "`devices`" + ` (
  ` + "`id`" + ` int NOT NULL,
  ` + "`mac`" + ` varchar(17),
  ` + "`note`" + ` text,
  PRIMARY KEY (` + "`id`" + `)
) ENGINE=InnoDB;
INSERT INTO ` + "`devices`" + ` VALUES (1,'a4:5e:60:c1:22:9f','it''s the \'hall\' cam'),(2,NULL,'plain, with (parens)');
INSERT INTO public.contacts (id, phone) VALUES (7, '+44 20 7946 0958');
`
	key := filepath.Join(t.TempDir(), "key")
	code, out, errOut := runCLI(t, dump, "classify", "--key-file", key, "--per-record", "--type", "sql", "-")
	if code != exitExposed {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []string
	for _, pr := range perRecordLines(t, out) {
		got = append(got, fmt.Sprintf("%d:%v", pr.Line, classesOf(pr)))
	}
	want := []string{
		"11:[email@users.email password_hash@users.password_hash]", "12:[]",
		"20:[mac_address@devices.mac]", "20:[]",
		"21:[phone@contacts.phone]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records:\n got %v\nwant %v", got, want)
	}
	for _, raw := range []string{"jane.doe@gmail.com", "a4:5e:60:c1:22:9f", "7946"} {
		if strings.Contains(out, raw) {
			t.Errorf("output holds %q", raw)
		}
	}
}
