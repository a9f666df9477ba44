package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/output"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/textrec"
)

const classifyUsage = `Usage: leakwatch classify [flags] FILE|DIR|-

Classifies exports and dumps before they leave: which kinds of personal data
and secrets the records hold, with the same dataset/class report as 'scan'
(masked examples and keyed hashes, never a raw value). Nothing is contacted.

Each file is one finding with one dataset; the finding's target is the
file ({"kind":"file","path":ABSOLUTE PATH}, path "-" for stdin), so its id
is the same in every run over that path. Formats (by extension, or
sniffed; --type forces one): JSON lines (.jsonl, .ndjson; also a stream of
JSON documents), JSON arrays of documents (.json), CSV/TSV with a header
row (.csv, .tsv), SQL dumps (.sql: the rows of pg_dump COPY blocks and of
INSERT statements, with "table.column" as field names), and plain text
(anything else: one record per non-empty line; KEY=VALUE and KEY: VALUE
lines are read as a field and its value). DIR is walked for regular files
(hidden directories such as .git and binary files are skipped; symbolic
links are not followed). "-" reads stdin.

With --per-record, one JSON line per input record lists the classes found
in it — {"dataset","record","line","classes":[{"class","field","rule"}]} —
so accuracy can be measured from outside against any labelled corpus.

Every read is bounded: at most --max-bytes of each file (the rest is not
read; the dataset is flagged sample-truncated), records longer than
--max-record-bytes are skipped (flagged record-too-large), at most
--max-files files of a directory (the findings of a directory cut there
are flagged datasets-truncated); the report holds at most --sample-records
records and --sample-bytes of each file (the rest are counted).

Exit codes: 0 no class found, 1 some class found (0 with --exit-zero),
2 bad usage or unreadable input (malformed JSON/CSV, binary file, missing
path), 3 an I/O failure while writing.

Examples:
  leakwatch classify customers-export.csv
  leakwatch classify --format sarif -o dump.sarif ./dump/
  pg_dump shop | leakwatch classify --type sql -
  leakwatch classify --per-record labelled.jsonl

Flags:
`

type classifyFlags struct {
	format         string
	outFile        string
	inputType      string
	perRecord      bool
	exitZero       bool
	verbose        bool
	keyFile        string
	sampleRecords  int
	sampleBytes    string
	maxBytes       string
	maxRecordBytes string
	maxFiles       int
}

// Defaults of the classify command's bounds.
const (
	classifyDefaultSample      = 10000
	classifyDefaultSampleBytes = 64 << 20
	classifyDefaultMaxBytes    = 1 << 30
	classifyDefaultRecordBytes = 1 << 20
	classifyDefaultMaxFiles    = 10000
)

func (a *app) classifyFlagSet(cf *classifyFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("classify", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cf.format, "format", "auto", "output: table, jsonl, sarif, ocsf (auto: table on a terminal, jsonl otherwise); --per-record writes JSON lines")
	fs.StringVarP(&cf.outFile, "output", "o", "", "write the report to this file instead of stdout")
	fs.StringVar(&cf.inputType, "type", "auto", "input format: auto, jsonl, json, csv, tsv, sql, text")
	fs.BoolVar(&cf.perRecord, "per-record", false, "one JSON line per input record with the classes found (class, field path, rule; never the value)")
	fs.BoolVar(&cf.exitZero, "exit-zero", false, "exit 0 even when classes are found")
	fs.BoolVarP(&cf.verbose, "verbose", "v", false, "list every dataset under the table")
	fs.StringVar(&cf.keyFile, "key-file", defaultKeyFile(), "per-installation secret key for keyed hashes and canaries (created if missing)")
	fs.IntVar(&cf.sampleRecords, "sample-records", classifyDefaultSample, "records of each file classified for the report (the rest are counted; estimates extrapolate)")
	fs.StringVar(&cf.sampleBytes, "sample-bytes", sizeString(classifyDefaultSampleBytes), "bytes of records of each file held for the report at most (the sample stops growing there)")
	fs.StringVar(&cf.maxBytes, "max-bytes", sizeString(classifyDefaultMaxBytes), "bytes read of each file at most")
	fs.StringVar(&cf.maxRecordBytes, "max-record-bytes", sizeString(classifyDefaultRecordBytes), "longest record (line, JSON document, CSV row) read; longer ones are skipped")
	fs.IntVar(&cf.maxFiles, "max-files", classifyDefaultMaxFiles, "files of a directory read at most")
	fs.BoolP("help", "h", false, "show this help")
	return fs
}

// classifyInput is one file (or stdin) to read as a dataset.
type classifyInput struct {
	name  string // dataset name: the path as given, relative inside a DIR, "stdin"
	path  string // "" for stdin
	size  int64  // -1: unknown
	inDir bool   // found by walking a DIR (binary files are skipped, not refused)
}

// inputKind is how a dataset's bytes are split into records.
type inputKind int

const (
	kindAuto inputKind = iota
	kindJSON           // a JSON array of documents, or a stream of documents (JSON lines)
	kindCSV
	kindTSV
	kindText
	kindSQL // pg_dump / mysqldump: COPY blocks and INSERT rows
)

func parseInputKind(s string) (inputKind, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return kindAuto, nil
	case "jsonl", "ndjson", "json":
		return kindJSON, nil
	case "csv":
		return kindCSV, nil
	case "tsv":
		return kindTSV, nil
	case "text", "txt", "lines":
		return kindText, nil
	case "sql":
		return kindSQL, nil
	}
	return 0, fmt.Errorf("unknown input type %q (want auto, jsonl, json, csv, tsv, sql, text)", s)
}

// badInput is input leakwatch cannot read as what it claims to be: exit 2.
type badInput struct{ err error }

func (e *badInput) Error() string { return e.err.Error() }
func (e *badInput) Unwrap() error { return e.err }

func badInputf(format string, args ...any) error { return &badInput{fmt.Errorf(format, args...)} }

// classifyRun holds one invocation's settings and output.
type classifyRun struct {
	clf       *classify.RuleClassifier
	kind      inputKind
	sample    int
	sampleMax int // bytes of records held for the report
	maxBytes  int64
	maxRecord int
	perRecord *bufio.Writer // nil: dataset report
	line      []byte        // scratch for one per-record line
	found     bool          // some class was found
}

func (a *app) classifyCmd(ctx context.Context, args []string) (int, error) {
	var cf classifyFlags
	fs := a.classifyFlagSet(&cf)
	if err := fs.Parse(args); err != nil {
		return exitUsage, usagef("classify: %v (see 'leakwatch classify --help')", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, classifyUsage+flagUsages(fs))
		return exitOK, errHelp
	}
	if fs.NArg() != 1 {
		return exitUsage, usagef("classify: want one FILE, DIR or - (see 'leakwatch classify --help')")
	}
	kind, err := parseInputKind(cf.inputType)
	if err != nil {
		return exitUsage, usagef("classify: --type: %v", err)
	}
	format, err := parseFormat(cf.format, cf.outFile, a.stdout)
	if err != nil {
		return exitUsage, usagef("classify: --format: %v", err)
	}
	if cf.perRecord && cf.format != "auto" && format != output.FormatJSONL {
		return exitUsage, usagef("classify: --per-record writes JSON lines; --format %s does not apply", cf.format)
	}
	if err := limits.CheckCount(cf.sampleRecords, 1); err != nil {
		return exitUsage, usagef("classify: --sample-records %v", err)
	}
	if err := limits.CheckCount(cf.maxFiles, 1); err != nil {
		return exitUsage, usagef("classify: --max-files %v", err)
	}
	maxBytes, err := limits.ParseSize(cf.maxBytes)
	if err != nil {
		return exitUsage, usagef("classify: --max-bytes: %v", err)
	}
	sampleBytes, err := limits.ParseSize(cf.sampleBytes)
	if err != nil {
		return exitUsage, usagef("classify: --sample-bytes: %v", err)
	}
	maxRecord, err := limits.ParseSize(cf.maxRecordBytes)
	if err != nil || maxRecord > 256<<20 {
		return exitUsage, usagef("classify: --max-record-bytes %q: want 1B to 256MiB", cf.maxRecordBytes)
	}
	inputs, truncated, err := classifyInputs(fs.Arg(0), cf.maxFiles, a.stderr)
	if err != nil {
		return exitUsage, usagef("classify: %v", err)
	}

	key, err := classify.LoadOrCreateKey(cf.keyFile)
	if err != nil {
		return exitFailed, fmt.Errorf("key: %w", err)
	}
	canaries, err := loadCanaries(canaryFile(cf.keyFile))
	if err != nil {
		return exitFailed, err
	}
	clf, err := classify.New(classify.Options{Key: key, Canaries: canaries})
	if err != nil {
		return exitFailed, fmt.Errorf("classifier: %w", err)
	}

	out := a.stdout
	if cf.outFile != "" {
		f, err := os.Create(cf.outFile)
		if err != nil {
			return exitFailed, fmt.Errorf("output: %w", err)
		}
		defer f.Close()
		out = f
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	cr := &classifyRun{clf: clf, kind: kind, sample: cf.sampleRecords, sampleMax: int(min(sampleBytes, 1<<40)), maxBytes: maxBytes, maxRecord: int(maxRecord)}
	if cf.perRecord {
		cr.perRecord = bw
	}

	observed := time.Now().UTC().Truncate(time.Millisecond)
	var findings []finding.Finding
	var runErr error
	for _, in := range inputs {
		if err := ctx.Err(); err != nil {
			runErr = err
			break
		}
		ds, err := cr.dataset(ctx, in, a.stdin)
		var pe *os.PathError
		if err != nil && in.inDir && errors.As(err, &pe) && pe.Op == "open" {
			// A file of a directory that cannot be opened (gone, no permission): skipped, said.
			fmt.Fprintf(a.stderr, "leakwatch: classify: skipped %s: %v\n", finding.VisibleText(in.name), pe.Err)
			continue
		}
		if err != nil {
			runErr = err
			break
		}
		if ds != nil {
			findings = append(findings, fileFinding(in, *ds, truncated, observed))
		}
	}
	if cr.perRecord == nil && runErr == nil {
		w := output.New(format, bw, output.Options{
			Color: cf.outFile == "" && output.ColorAuto(a.stdout), Verbose: cf.verbose, ToolVersion: toolVersion(),
		})
		for _, f := range findings {
			if err := w.Write(f); err != nil {
				runErr = fmt.Errorf("output: %w", err)
				break
			}
		}
		if err := w.Close(); err != nil && runErr == nil {
			runErr = fmt.Errorf("output: %w", err)
		}
	}
	if err := bw.Flush(); err != nil && runErr == nil {
		runErr = fmt.Errorf("output: %w", err)
	}
	var bi *badInput
	switch {
	case errors.As(runErr, &bi):
		return exitUsage, usagef("classify: %v", runErr)
	case errors.Is(runErr, context.Canceled):
		fmt.Fprintln(a.stderr, "leakwatch: interrupted; output above is partial")
		return exitInterrupted, nil
	case runErr != nil:
		return exitFailed, runErr
	}
	if cr.found && !cf.exitZero {
		return exitExposed, nil
	}
	return exitOK, nil
}

// fileFinding is one file's finding: the file is the target (its absolute
// path, or "-" for stdin: the id is the same in every run over the same
// path, whatever the working directory or the argument's spelling), the
// dataset its records. A directory cut by --max-files flags each of its
// findings datasets-truncated: the run did not cover every file.
func fileFinding(in classifyInput, ds finding.Dataset, truncated bool, observed time.Time) finding.Finding {
	path := finding.StdinPath
	if in.path != "" {
		path = filepath.Clean(in.path)
		if abs, err := filepath.Abs(in.path); err == nil {
			path = abs
		}
	}
	f := finding.Finding{
		Target:     finding.FileTarget(path),
		Service:    "file",
		Product:    "leakwatch classify",
		Status:     finding.StatusExposed,
		Auth:       finding.AuthNone,
		Datasets:   []finding.Dataset{ds},
		ObservedAt: observed,
	}
	if truncated {
		f.Flags = append(f.Flags, probe.FlagDatasetsTruncated)
	}
	// File and field names are values too (safety rule 4): the dataset's
	// name and fields are scrubbed. The target's path is not: it is where
	// the user must look, as a host address is; writers escape it.
	classify.Scrub(&f)
	f.Finalize()
	return f
}

// classifyInputs lists the files to read: one FILE, every regular file
// under DIR (sorted, hidden directories skipped, at most max), or stdin.
func classifyInputs(arg string, max int, stderr io.Writer) (ins []classifyInput, truncated bool, err error) {
	if arg == "-" {
		return []classifyInput{{name: "stdin", size: -1}}, false, nil
	}
	st, err := os.Stat(arg)
	if err != nil {
		return nil, false, err
	}
	if !st.IsDir() {
		if !st.Mode().IsRegular() {
			return nil, false, fmt.Errorf("%s: not a regular file or directory", arg)
		}
		return []classifyInput{{name: arg, path: arg, size: st.Size()}}, false, nil
	}
	err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fmt.Fprintf(stderr, "leakwatch: classify: skipped %s: %s\n", finding.VisibleText(p), finding.VisibleText(err.Error()))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != arg && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if len(ins) >= max {
			truncated = true
			return fs.SkipAll
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(arg, p)
		if err != nil {
			rel = p
		}
		ins = append(ins, classifyInput{name: filepath.ToSlash(rel), path: p, size: info.Size(), inDir: true})
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if truncated {
		fmt.Fprintf(stderr, "leakwatch: classify: %s holds more than %d files; the rest were not read (--max-files)\n", finding.VisibleText(arg), max)
	}
	return ins, truncated, nil
}

// dataset reads one input and classifies it. In per-record mode it writes
// each record's classes as it goes and returns nil.
func (cr *classifyRun) dataset(ctx context.Context, in classifyInput, stdin io.Reader) (*finding.Dataset, error) {
	var src io.Reader = stdin
	if in.path != "" {
		f, err := os.Open(in.path)
		if err != nil {
			return nil, &badInput{err}
		}
		defer f.Close()
		src = f
	}
	lr := &io.LimitedReader{R: src, N: cr.maxBytes}
	fr := &fileReader{br: bufio.NewReaderSize(lr, 64<<10), max: cr.maxRecord}
	fr.ds = &finding.Dataset{Name: in.name, Kind: "file"}
	if in.size >= 0 {
		fr.ds.Bytes = &in.size
	}
	checked := false
	fr.cut = func() bool {
		if !checked && lr.N == 0 {
			// The cap was reached: is there more that was not read?
			checked = true
			if n, _ := src.Read(make([]byte, 1)); n > 0 {
				fr.ds.Flags = appendFlag(fr.ds.Flags, probe.FlagSampleTruncated)
			}
		}
		return slices.Contains(fr.ds.Flags, probe.FlagSampleTruncated)
	}
	head, _ := fr.br.Peek(8 << 10)
	if bytes.IndexByte(head, 0) >= 0 {
		if in.inDir {
			return nil, nil // a binary file inside a directory: not a dataset
		}
		return nil, badInputf("%s: binary file (want JSON lines, JSON, CSV/TSV or text)", in.name)
	}
	kind := cr.kind
	if kind == kindAuto {
		kind = sniffKind(in.name, head)
	}
	var sample []classify.Record
	var n int64
	held := 0 // bytes of the records in sample
	fr.emit = func(rec classify.Record, line int) error {
		n++
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if cr.perRecord != nil {
			cls := cr.clf.RecordClasses(rec)
			if len(cls) > 0 {
				cr.found = true
			} else {
				cls = []classify.RecordClass{}
			}
			cr.line = appendPerRecord(cr.line[:0], in.name, n, line, cls)
			_, err := cr.perRecord.Write(cr.line)
			return err
		}
		if len(sample) < cr.sample && held < cr.sampleMax {
			sample = append(sample, rec)
			held += rec.Size()
		}
		return nil
	}
	var schema []finding.Field
	var err error
	switch kind {
	case kindJSON:
		err = fr.json()
	case kindCSV:
		schema, err = fr.csv(',')
	case kindTSV:
		schema, err = fr.csv('\t')
	case kindSQL:
		err = fr.sql()
	default:
		err = fr.text()
	}
	var pe *parseError
	if errors.As(err, &pe) {
		return nil, badInputf("%s: %v", in.name, pe)
	}
	if err != nil {
		return nil, err
	}
	fr.cut()
	if cr.perRecord != nil {
		return nil, nil
	}
	ds := fr.ds
	ds.Records = &n
	ds.Sampled = len(sample)
	ds.Fields = schema
	o := cr.clf.Classify(classify.Input{Schema: schema, Sample: sample, Records: &n})
	ds.Classes = o.Classes
	ds.Canary = o.Canaries
	if len(o.Classes) > 0 {
		cr.found = true
	}
	return ds, nil
}

// appendPerRecord appends one --per-record line (perRecordLine's JSON and
// a newline): written by hand, it is a quarter of the time of the mode on
// small records when encoding/json does it.
func appendPerRecord(b []byte, dataset string, record int64, line int, cls []classify.RecordClass) []byte {
	b = append(b, `{"dataset":`...)
	b = appendJSONString(b, dataset)
	b = append(b, `,"record":`...)
	b = strconv.AppendInt(b, record, 10)
	if line != 0 {
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(line), 10)
	}
	b = append(b, `,"classes":[`...)
	for i, c := range cls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"class":`...)
		b = appendJSONString(b, c.Class)
		b = append(b, `,"field":`...)
		b = appendJSONString(b, c.Field)
		b = append(b, `,"rule":`...)
		b = appendJSONString(b, c.Rule)
		b = append(b, '}')
	}
	return append(b, "]}\n"...)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 as U+FFFD, U+2028/2029 escaped
// (as encoding/json does; HTML characters are left as they are).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// perRecordLine is one line of --per-record output.
type perRecordLine struct {
	Dataset string                 `json:"dataset"`
	Record  int64                  `json:"record"`
	Line    int                    `json:"line,omitempty"`
	Classes []classify.RecordClass `json:"classes"`
}

var bom = []byte("\xef\xbb\xbf")

// sniffKind picks a format by extension, else by the first bytes.
func sniffKind(name string, head []byte) inputKind {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jsonl", ".ndjson", ".json":
		return kindJSON
	case ".csv":
		return kindCSV
	case ".tsv":
		return kindTSV
	case ".sql":
		return kindSQL
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	switch {
	case len(t) == 0:
		return kindText
	case t[0] == '{':
		return kindJSON
	case t[0] == '[':
		// A JSON array, not a log line such as "[2024-01-01] …".
		u := bytes.TrimLeft(t[1:], " \t\r\n")
		if len(u) == 0 || strings.IndexByte("{[\"]", u[0]) >= 0 || json.Valid(firstLine(t)) {
			return kindJSON
		}
	}
	return kindText
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

// parseError is malformed input at a place in a file.
type parseError struct {
	line int
	err  error
}

func (e *parseError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

func appendFlag(flags []string, f string) []string {
	if slices.Contains(flags, f) {
		return flags
	}
	return append(flags, f)
}

// fileReader splits one file's bytes (already capped at --max-bytes) into
// records. A record cut by the cap is dropped, never parsed: cut tells
// whether the cap hid the rest of the file (and flags the dataset).
type fileReader struct {
	br   *bufio.Reader
	max  int // --max-record-bytes
	ds   *finding.Dataset
	cut  func() bool
	emit func(rec classify.Record, line int) error
}

// tooLarge notes a record skipped for its size.
func (fr *fileReader) tooLarge() { fr.ds.Flags = appendFlag(fr.ds.Flags, probe.FlagRecordTooLarge) }

// lines calls fn for each line (without its line ending) up to max bytes;
// longer lines are skipped and flag the dataset.
func (fr *fileReader) lines(fn func(line []byte, no int) error) error {
	no := 0
	var long []byte
	for {
		b, err := fr.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: gather it up to max.
			if len(long) <= fr.max {
				long = append(long, b...)
			}
			continue
		}
		if long != nil {
			long = append(long, b...)
			b, long = long, nil
		}
		if len(b) > 0 {
			no++
			line := bytes.TrimRight(b, "\r\n")
			switch {
			case len(line) > fr.max:
				fr.tooLarge()
			case errors.Is(err, io.EOF) && fr.cut():
				// The last line was cut by --max-bytes.
			default:
				if ferr := fn(line, no); ferr != nil {
					return ferr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// json reads JSON lines, a JSON array of documents, or a stream of
// (pretty-printed) documents.
func (fr *fileReader) json() error {
	head, _ := fr.br.Peek(4 << 10)
	t := bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	if len(t) > 0 && (t[0] == '[' || t[0] == '{' && !json.Valid(firstLine(t))) {
		return fr.jsonStream()
	}
	return fr.lines(func(line []byte, no int) error {
		line = bytes.TrimPrefix(line, bom)
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
		rec, err := classify.FromJSONBytes(line)
		if err != nil {
			return &parseError{no, err}
		}
		return fr.emit(rec, no)
	})
}

// jsonStream reads a top-level array's elements, or successive documents,
// one at a time.
func (fr *fileReader) jsonStream() error {
	if b, _ := fr.br.Peek(3); bytes.Equal(b, bom) {
		if _, err := fr.br.Discard(3); err != nil {
			return err
		}
	}
	lc := &lineCounter{r: fr.br}
	dec := json.NewDecoder(lc)
	line := func() int { return lc.lineAt(dec.InputOffset()) }
	head, _ := fr.br.Peek(4 << 10)
	t := bytes.TrimLeft(head, " \t\r\n")
	array := len(t) > 0 && t[0] == '['
	// A parse error where --max-bytes cut the file is the cut, not bad input.
	fail := func(at int, err error) error {
		if fr.cut() {
			return nil
		}
		return &parseError{at, err}
	}
	if array {
		if _, err := dec.Token(); err != nil {
			return fail(line(), err)
		}
	}
	for !array || dec.More() {
		var raw json.RawMessage
		at := line()
		if err := dec.Decode(&raw); err != nil {
			if !array && errors.Is(err, io.EOF) {
				return nil
			}
			return fail(at, err)
		}
		if len(raw) > fr.max {
			fr.tooLarge()
			continue
		}
		rec, err := classify.FromJSONBytes(raw)
		if err != nil {
			return fail(at, err)
		}
		if err := fr.emit(rec, lc.lineAt(dec.InputOffset()-int64(len(raw)))); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(line(), fmt.Errorf("unterminated array: %w", err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fail(line(), errors.New("data after the top-level array"))
	}
	return nil
}

// lineCounter remembers where each line starts, for error messages and
// per-record line numbers of JSON documents.
type lineCounter struct {
	r     io.Reader
	off   int   // bytes handed out
	lines []int // offsets of line starts past the first
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := 0; i < n; i++ {
		if p[i] == '\n' {
			c.lines = append(c.lines, c.off+i+1)
		}
	}
	c.off += n
	return n, err
}

// lineAt is the 1-based line of offset off.
func (c *lineCounter) lineAt(off int64) int {
	i, _ := slices.BinarySearch(c.lines, int(off)+1)
	return i + 1
}

// csv reads a header row and then one record per row. Each row is emitted
// when the next one has been read, so a row cut by --max-bytes is dropped.
func (fr *fileReader) csv(comma rune) ([]finding.Field, error) {
	r := csv.NewReader(fr.br)
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, &parseError{1, fmt.Errorf("header: %w", err)}
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	schema := make([]finding.Field, 0, len(header))
	for _, h := range header {
		schema = append(schema, finding.Field{Name: h})
	}
	var held []string
	heldLine := 0
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			if held != nil && !fr.cut() {
				return schema, fr.emit(classify.FromRow(header, held), heldLine)
			}
			return schema, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				if fr.cut() {
					return schema, nil
				}
				return nil, &parseError{pe.Line, pe.Err}
			}
			return nil, err
		}
		line, _ := r.FieldPos(0)
		size := 0
		for _, v := range row {
			size += len(v)
		}
		if size > fr.max {
			fr.tooLarge()
			continue
		}
		if held != nil {
			if err := fr.emit(classify.FromRow(header, held), heldLine); err != nil {
				return nil, err
			}
		}
		held, heldLine = row, line
	}
}

// text reads one record per non-empty, non-comment line (textrec's
// KEY=VALUE reading).
func (fr *fileReader) text() error {
	return fr.lines(func(line []byte, no int) error {
		for _, rec := range textrec.FromLines(string(line), 1) {
			if err := fr.emit(rec, no); err != nil {
				return err
			}
		}
		return nil
	})
}
