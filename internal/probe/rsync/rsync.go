// Package rsync probes rsync daemons (rsync://, port 873). The daemon's
// greeting identifies it; "#list" names its modules; requesting a module
// answers "@RSYNCD: OK" (open) or "@RSYNCD: AUTHREQD" (auth users). An open
// module's file list is read with the real rsync protocol (version 29, as
// a sender-side listing "--server --sender -r" limited to the module root
// and one level of subdirectories by a filter rule), and a few small
// text-like files are fetched whole (no basis file, no delta).
//
// Nothing is ever written: the prober only asks the daemon to send.
package rsync

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/textrec"
)

// Prober probes rsync daemons.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns the rsync prober.
func New() *Prober { return &Prober{} }

// Name is the service name in findings.
func (*Prober) Name() string { return "rsync" }

// DefaultPorts is the rsync daemon port.
// ServerFirst implements probe.ServerFirst: the server greets first.
func (*Prober) ServerFirst() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{873} }

const (
	// maxModules bounds the modules requested (one connection each).
	maxModules = 20
	// maxFilesPerModule bounds the files fetched per module.
	maxFilesPerModule = 4
	// maxFileSize is the largest file (by its listed size) fetched.
	maxFileSize = 64 << 10
	// maxSampleTotal bounds all file bytes read from one daemon.
	maxSampleTotal = 256 << 10
	// depthFilter keeps the module root and one level of subdirectories:
	// anything three levels down is excluded by the sender.
	depthFilter = "- /*/*/*"
	// maxMOTDLines bounds the message-of-the-day lines skipped.
	maxMOTDLines = 256
	// itemTransfer asks the sender for a file's data (rsync.h ITEM_TRANSFER).
	itemTransfer = 1 << 15
)

// conn is one daemon connection in its text phase.
type conn struct {
	c  net.Conn
	br *bufio.Reader
	g  greeting
	// dropped counts the text lines of the last request's answer that
	// were read past its line budget and not kept.
	dropped int
}

// dial connects and reads the greeting.
func dial(ctx context.Context, env *probe.Env) (*conn, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("rsync: %w", err)
	}
	br := bufio.NewReaderSize(c, 4096)
	line, err := readLine(br)
	if err != nil {
		c.Close()
		if probe.IsTimeout(err) || errors.Is(err, probe.ErrBudget) {
			return nil, fmt.Errorf("rsync: read greeting: %w", err)
		}
		return nil, probe.NotThisService("no rsync greeting: %v", err)
	}
	g, err := parseGreeting(line)
	if err != nil {
		c.Close()
		return nil, probe.NotThisService("%v", err)
	}
	return &conn{c: c, br: br, g: g}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// request sends our greeting and a module name (or "#list") and reads the
// text lines up to the daemon's verdict. Other lines (MOTD, module list)
// are returned.
func (c *conn) request(what string, maxLines int) (answer, string, []string, error) {
	if _, err := fmt.Fprintf(c.c, "%s%d.0\n%s\n", greetPrefix, clientProtocol, what); err != nil {
		return 0, "", nil, fmt.Errorf("rsync: send request: %w", err)
	}
	var lines []string
	c.dropped = 0
	for i := 0; i < maxLines+maxMOTDLines; i++ {
		line, err := readLine(c.br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return answerExit, "", lines, nil
			}
			return 0, "", lines, fmt.Errorf("rsync: read answer: %w", err)
		}
		if a, ok := classifyLine(line); ok {
			return a, line, lines, nil
		}
		if len(lines) < maxLines {
			lines = append(lines, line)
		} else {
			c.dropped++
		}
	}
	return 0, "", lines, errors.New("rsync: answer too long")
}

// Probe lists the modules and reads what the open ones expose.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	c, err := dial(ctx, env)
	if err != nil {
		return nil, err
	}
	res := &probe.Result{Product: "rsync", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.AddEvidence("protocol", fmt.Sprintf("%d.%d", c.g.Major, c.g.Minor))
	if len(c.g.Digests) > 0 {
		res.AddEvidence("digests", c.g.Digests)
	}
	env.Provisional(res) // identified: reported even if a limit stops the rest
	mods, cut, err := listModules(c, env.Budget.MaxListed)
	c.Close()
	if cut {
		res.AddEvidence("module_list_truncated", true)
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	if err != nil {
		res.AddError(err)
		return res, nil
	}
	res.AddEvidence("modules", len(mods))
	r := &run{env: env, res: res}
	for i, m := range mods {
		if i >= maxModules || ctx.Err() != nil {
			res.AddEvidence("modules_truncated", true)
			res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		r.module(ctx, m)
	}
	r.finish()
	return res, nil
}

// listModules asks "#list"; cut says the answer had more lines than max
// (or was too long to read whole): modules past them are not listed.
func listModules(c *conn, max int) (mods []module, cut bool, err error) {
	a, last, lines, err := c.request("#list", max)
	cut = c.dropped > 0
	if err != nil {
		return nil, cut, err
	}
	if a == answerError {
		return nil, cut, fmt.Errorf("rsync: module list: %s", truncate(last, 120))
	}
	for _, l := range lines {
		if m, ok := parseModuleLine(l); ok {
			mods = append(mods, m)
		}
	}
	return mods, cut, nil
}

// run is the state of one probe.
type run struct {
	env       *probe.Env
	res       *probe.Result
	open      []string
	protected []string
	denied    []string
	listed    int
	sampled   int64
}

// module requests one module and, when it is open, lists and samples it.
func (r *run) module(ctx context.Context, m module) {
	c, err := dial(ctx, r.env)
	if err != nil {
		r.res.AddError(err)
		return
	}
	defer c.Close()
	a, last, _, err := c.request(m.Name, 0)
	if err != nil {
		r.res.AddError(err)
		return
	}
	switch a {
	case answerAuth:
		r.protected = append(r.protected, m.Name)
		if r.res.Status != finding.StatusExposed {
			r.res.Status, r.res.Auth = finding.StatusProtected, finding.AuthRequired
		}
		return
	case answerOK:
		r.open = append(r.open, m.Name)
		// Decided as soon as seen, for the provisional result; finish
		// decides the same from all modules.
		r.res.Status, r.res.Auth = finding.StatusExposed, finding.AuthNone
	default:
		r.denied = append(r.denied, m.Name)
		if last != "" {
			r.res.AddEvidence("denied:"+m.Name, truncate(last, 120))
		}
		return
	}
	entries, complete, err := listFiles(c, m.Name, r.env.Budget.MaxListed-r.listed)
	r.listed += len(entries)
	if err != nil {
		// "@RSYNCD: OK" alone still shows the module is open.
		r.res.AddEvidence("listing_error:"+m.Name, err.Error())
		r.res.Datasets = append(r.res.Datasets, probe.Dataset{Dataset: finding.Dataset{Name: m.Name, Kind: "module"}})
		return
	}
	if !complete {
		// Entries past the listing budget were not read: the module's
		// counts are unknown and its later files unlisted.
		r.res.AddEvidence("listing_truncated:"+m.Name, true)
		r.res.AddFlag(probe.FlagDatasetsTruncated)
	}
	dirs := groupByDir(m.Name, entries, complete)
	datasets := make([]probe.Dataset, len(dirs))
	for i, d := range dirs {
		datasets[i] = d.ds
	}
	r.sample(ctx, m.Name, dirs, datasets)
	r.res.Datasets = append(r.res.Datasets, datasets...)
}

// finish decides the status from the modules' answers.
func (r *run) finish() {
	res := r.res
	if len(r.protected) > 0 {
		res.AddEvidence("modules_auth_required", r.protected)
	}
	if len(r.denied) > 0 {
		res.AddEvidence("modules_denied", r.denied)
	}
	switch {
	case len(r.open) > 0:
		// Two signals: the module was listed and the daemon accepted it
		// without credentials ("@RSYNCD: OK"); the file list confirms it.
		res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
		res.AddEvidence("modules_open", r.open)
	case len(r.protected) > 0:
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	}
}

// listFiles turns the text-phase connection into a protocol-29 sender and
// reads the module's file list (root plus one level).
func listFiles(c *conn, mod string, max int) ([]fileEntry, bool, error) {
	r, err := startSender(c, []string{"-r"}, mod+"/", depthFilter)
	if err != nil {
		return nil, false, err
	}
	entries, complete, err := readFileList(r, max)
	if err != nil {
		return entries, false, fmt.Errorf("rsync: file list: %w", err)
	}
	return entries, complete, nil
}

// startSender sends the server arguments and the filter list, reads the
// checksum seed and returns the demultiplexed data stream.
func startSender(c *conn, opts []string, src, filter string) (*demux, error) {
	var b strings.Builder
	b.WriteString("--server\n--sender\n")
	for _, o := range opts {
		b.WriteString(o + "\n")
	}
	b.WriteString(".\n" + src + "\n\n")
	buf := []byte(b.String())
	if filter != "" {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(filter)))
		buf = append(buf, filter...)
	}
	buf = binary.LittleEndian.AppendUint32(buf, 0)
	if _, err := c.c.Write(buf); err != nil {
		return nil, fmt.Errorf("rsync: send arguments: %w", err)
	}
	if _, err := readInt32(c.br); err != nil { // checksum seed
		return nil, fmt.Errorf("rsync: read seed: %w", err)
	}
	return &demux{r: c.br}, nil
}

// dir is one directory of a module's listing.
type dir struct {
	ds    probe.Dataset
	rel   string
	files []fileEntry
}

// groupByDir makes a dataset of the module root and of each first-level
// subdirectory; records are the regular files directly inside.
func groupByDir(mod string, entries []fileEntry, complete bool) []*dir {
	root := &dir{ds: probe.Dataset{Dataset: finding.Dataset{Name: mod, Kind: "module"}}}
	byRel := map[string]*dir{"": root}
	order := []*dir{root}
	for _, e := range entries {
		if e.Name == "." {
			continue
		}
		parent, base := path.Split(e.Name)
		parent = strings.TrimSuffix(parent, "/")
		if e.IsDir() && parent == "" {
			d := &dir{rel: base, ds: probe.Dataset{Dataset: finding.Dataset{Name: mod + "/" + base, Kind: "directory"}}}
			byRel[base] = d
			order = append(order, d)
			continue
		}
		if !e.IsRegular() {
			continue
		}
		d, ok := byRel[parent]
		if !ok {
			continue
		}
		d.files = append(d.files, e)
	}
	for _, d := range order {
		if complete {
			var size int64
			for _, f := range d.files {
				size += f.Size
			}
			d.ds.Records = finding.Int64(int64(len(d.files)))
			d.ds.Bytes = finding.Int64(size)
		}
	}
	return order
}

// sample fetches small text-like files of the largest directories (most
// files first) into datasets[i], the dataset of dirs[i].
func (r *run) sample(ctx context.Context, mod string, dirs []*dir, datasets []probe.Dataset) {
	order := probe.OrderBy(len(dirs), func(i int) int64 { return int64(len(dirs[i].files)) })
	b := r.env.Budget
	fetched := 0
	_ = probe.SampleInOrder(ctx, r.res, b, datasets, order, func(ctx context.Context, i int, ds *probe.Dataset) error {
		var (
			recs []classify.Record
			size int64
		)
		for _, f := range dirs[i].files {
			if fetched >= maxFilesPerModule || r.sampled >= maxSampleTotal || len(recs) >= b.SampleRecords || size >= b.SampleBytes {
				break
			}
			if !textrec.IsSampled(f.Name) || f.Size <= 0 || strings.ContainsAny(f.Name, "\n\r") {
				continue
			}
			if f.Size > maxFileSize {
				// A sampleable file too large to read: not silently.
				ds.AddFlag(probe.FlagRecordTooLarge)
				continue
			}
			fetched++
			limit := min(int64(maxFileSize), maxSampleTotal-r.sampled)
			data, err := fetchFile(ctx, r.env, mod, f.Name, limit)
			if err != nil {
				r.res.AddEvidence("fetch_error", err.Error())
				continue
			}
			r.sampled += int64(len(data))
			recs = ds.AppendWithin(recs, textrec.FromFile(f.Name, string(data), b.SampleRecords-len(recs)), &size, b.SampleBytes)
		}
		ds.Sample = recs
		ds.Sampled = len(recs)
		return nil
	})
}

// fetchFile reads one file of an open module over its own connection: a
// one-entry file list, then a request for index 0 with an empty checksum
// header, answered with the whole file as literal data.
func fetchFile(ctx context.Context, env *probe.Env, mod, rel string, limit int64) ([]byte, error) {
	c, err := dial(ctx, env)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	a, _, _, err := c.request(mod, 0)
	if err != nil {
		return nil, err
	}
	if a != answerOK {
		return nil, fmt.Errorf("rsync: module %s not open for fetch", mod)
	}
	r, err := startSender(c, nil, mod+"/"+rel, "")
	if err != nil {
		return nil, err
	}
	entries, complete, err := readFileList(r, 2)
	if err != nil || !complete || len(entries) != 1 || !entries[0].IsRegular() {
		return nil, fmt.Errorf("rsync: fetch %s: unexpected file list (%d entries): %v", rel, len(entries), err)
	}
	if _, err := readInt32(r); err != nil { // io_error (protocol < 30)
		return nil, fmt.Errorf("rsync: fetch %s: %w", rel, err)
	}
	req := binary.LittleEndian.AppendUint32(nil, 0) // file index 0
	req = binary.LittleEndian.AppendUint16(req, itemTransfer)
	req = append(req, make([]byte, 16)...) // sum head: count, blength, s2length, remainder
	if _, err := c.c.Write(req); err != nil {
		return nil, fmt.Errorf("rsync: fetch %s: send request: %w", rel, err)
	}
	// The sender echoes index, item flags and sum head, then the tokens.
	var echo [4 + 2 + 16]byte
	if _, err := io.ReadFull(r, echo[:]); err != nil {
		return nil, fmt.Errorf("rsync: fetch %s: read header: %w", rel, err)
	}
	if ndx := binary.LittleEndian.Uint32(echo[:4]); ndx != 0 {
		return nil, fmt.Errorf("rsync: fetch %s: sender answered index %d", rel, ndx)
	}
	data, _, err := readTokens(r, limit)
	if err != nil {
		return nil, fmt.Errorf("rsync: fetch %s: %w", rel, err)
	}
	return data, nil
}
