// Package jupyter probes Jupyter Notebook / Jupyter Server. An open Jupyter
// lets anyone run code on the host (kernels, terminals), so an exposed one
// carries the "code-execution" flag; its file tree is listed (root and one
// level of subdirectories) and a few small text-like files are sampled.
package jupyter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/textrec"
)

// Prober probes Jupyter.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns the Jupyter prober.
func New() *Prober { return &Prober{} }

// Name is the service name in findings.
func (*Prober) Name() string { return "jupyter" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts are Jupyter's usual ports.
func (*Prober) DefaultPorts() []int { return []int{8888, 8889, 8890} }

const (
	// maxSubdirs bounds the subdirectories of the root that are listed.
	maxSubdirs = 20
	// maxFilesPerDir bounds the files read from one directory's sample.
	maxFilesPerDir = 5
	// maxFileSize is the largest file (by the listing's size) sampled.
	maxFileSize = 64 << 10
	// maxNotebookSize is the largest notebook read: notebooks carry their
	// outputs (images), and only the cell sources are kept.
	maxNotebookSize = 512 << 10
	// cspMarker is in the Content-Security-Policy of every Jupyter answer.
	cspMarker = "/api/security/csp-report"
)

// sampleExt lists the file types whose content is sampled.
var sampleExt = map[string]bool{".ipynb": true, ".csv": true, ".txt": true, ".env": true}

// Probe identifies Jupyter by GET /api and decides by GET /api/contents.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, "/api")
	if err != nil {
		if probe.IsTimeout(err) || errors.Is(err, probe.ErrBudget) || ctx.Err() != nil {
			return nil, fmt.Errorf("jupyter: GET /api: %w", err)
		}
		return nil, probe.NotThisService("no HTTP answer: %v", err)
	}
	defer h.Close()
	info, apiErr := parseAPI(resp.Body)
	marker := strings.Contains(resp.Header.Get("Content-Security-Policy"), cspMarker)
	if resp.StatusCode != http.StatusOK || apiErr != nil {
		if !marker {
			return nil, probe.NotThisService("GET /api: status %d, no Jupyter version", resp.StatusCode)
		}
	}
	res := &probe.Result{TLS: h.Scheme() == "https", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.Product, res.Version = product(info.Version)
	if srv := resp.Header.Get("Server"); srv != "" {
		res.AddEvidence("server", srv)
	}
	env.Provisional(res) // identified: reported even if a limit stops the rest
	j := &jup{env: env, h: h, res: res}
	return j.run(ctx, marker)
}

// product names the server from its API version: Notebook 4–6 report
// their own version (>= 4), Jupyter Server (under Notebook 7 and Lab)
// reports 1.x or 2.x.
func product(version string) (string, string) {
	if version == "" {
		return "jupyter", ""
	}
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err == nil && n < 4 {
		return "jupyter-server", version
	}
	return "jupyter-notebook", version
}

// jup is the state of one probe.
type jup struct {
	env *probe.Env
	h   *probe.HTTP
	res *probe.Result
}

func (j *jup) run(ctx context.Context, marker bool) (*probe.Result, error) {
	resp, err := j.h.Get(ctx, "/api/contents")
	if err != nil {
		j.res.AddErrorf("jupyter: GET /api/contents: %v", err)
		return j.res, nil
	}
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
		j.protected(fmt.Sprintf("%d", resp.StatusCode), isForbiddenJSON(resp.Body) || marker)
		return j.res, nil
	case isLoginRedirect(resp):
		j.protected("redirect-to-login", true)
		return j.res, nil
	case resp.StatusCode != http.StatusOK:
		j.res.AddErrorf("jupyter: GET /api/contents: status %d", resp.StatusCode)
		return j.res, nil
	}
	items, n, err := parseDirectory(resp.Body, j.env.Budget.MaxListed)
	if err != nil {
		if !marker && j.res.Version == "" {
			return nil, probe.NotThisService("GET /api/contents is not a contents model")
		}
		j.res.AddErrorf("jupyter: GET /api/contents: %v", err)
		return j.res, nil
	}
	// Two signals: the API answered its version (or carries Jupyter's
	// CSP) and the contents API listed the tree without credentials.
	j.res.Status, j.res.Auth = finding.StatusExposed, finding.AuthNone
	j.res.AddFlag("code-execution")
	j.apiCounts(ctx)
	dirs := j.listTree(ctx, items, n, resp.Truncated)
	first := len(j.res.Datasets)
	for _, d := range dirs {
		j.res.Datasets = append(j.res.Datasets, d.ds)
	}
	j.sample(ctx, dirs, j.res.Datasets[first:])
	return j.res, nil
}

// protected records a credential demand.
func (j *jup) protected(how string, confirmed bool) {
	j.res.Status, j.res.Auth = finding.StatusProtected, finding.AuthRequired
	j.res.AddEvidence("auth_challenge", how)
	if !confirmed {
		j.res.Status = finding.StatusUnknown
	}
}

func isLoginRedirect(r *probe.HTTPResponse) bool {
	if r.StatusCode < 300 || r.StatusCode > 399 {
		return false
	}
	return strings.Contains(r.Header.Get("Location"), "/login")
}

// apiCounts reads how many kernels, sessions and terminals run; they show
// what an intruder can attach to. Only counts are kept.
func (j *jup) apiCounts(ctx context.Context) {
	for _, ep := range []string{"kernels", "sessions", "terminals"} {
		resp, err := j.h.Get(ctx, "/api/"+ep)
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		var list []json.RawMessage
		if json.Unmarshal(resp.Body, &list) == nil {
			j.res.AddEvidence(ep, len(list))
		}
	}
	if _, ok := j.res.Evidence["terminals"]; ok {
		j.res.AddEvidence("terminals_enabled", true)
	}
}

// dir is one listed directory and its files.
type dir struct {
	ds    probe.Dataset
	files []entry
}

// listTree makes a dataset of the root and of each subdirectory (one level).
func (j *jup) listTree(ctx context.Context, rootItems []entry, rootN int, truncated bool) []*dir {
	root := newDir("/", rootItems, rootN, truncated)
	dirs := []*dir{root}
	listed := len(rootItems)
	subs := 0
	for _, it := range rootItems {
		if it.Type != "directory" {
			continue
		}
		if subs >= maxSubdirs || listed >= j.env.Budget.MaxListed || ctx.Err() != nil {
			j.res.AddEvidence("listing_truncated", true)
			j.res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		subs++
		resp, err := j.h.Get(ctx, "/api/contents/"+escapePath(it.Path))
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		items, n, err := parseDirectory(resp.Body, j.env.Budget.MaxListed-listed)
		if err != nil {
			continue
		}
		listed += len(items)
		dirs = append(dirs, newDir("/"+it.Path, items, n, resp.Truncated))
	}
	return dirs
}

// newDir counts a directory's files (subdirectories are not records).
func newDir(name string, items []entry, total int, truncated bool) *dir {
	d := &dir{ds: probe.Dataset{Dataset: finding.Dataset{Name: name, Kind: "directory"}}}
	var files, bytes int64
	for _, it := range items {
		if it.Type == "directory" {
			continue
		}
		files++
		d.files = append(d.files, it)
		if it.Size != nil {
			bytes += *it.Size
		}
	}
	if !truncated && total == len(items) {
		d.ds.Records = finding.Int64(files)
		d.ds.Bytes = finding.Int64(bytes)
	}
	return d
}

// escapePath escapes each segment of an API path.
func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// sample reads a few small text-like files of the largest directories
// (most files first) into datasets[i], the dataset of dirs[i].
func (j *jup) sample(ctx context.Context, dirs []*dir, datasets []probe.Dataset) {
	order := probe.OrderBy(len(dirs), func(i int) int64 { return int64(len(dirs[i].files)) })
	b := j.env.Budget
	_ = probe.SampleInOrder(ctx, j.res, b, datasets, order, func(ctx context.Context, i int, ds *probe.Dataset) error {
		var (
			recs []classify.Record
			size int64
			read int
		)
		for _, f := range dirs[i].files {
			if read >= maxFilesPerDir || len(recs) >= b.SampleRecords || size >= b.SampleBytes {
				break
			}
			if !sampleExt[strings.ToLower(path.Ext(f.Name))] {
				continue
			}
			if f.Size != nil && *f.Size > sizeLimit(f.Name) {
				// A sampleable file too large to read: not silently.
				ds.AddFlag(probe.FlagRecordTooLarge)
				continue
			}
			read++
			recs = ds.AppendWithin(recs, j.fileRecords(ctx, f, b.SampleRecords-len(recs)), &size, b.SampleBytes)
		}
		ds.Sample = recs
		ds.Sampled = len(recs)
		return nil
	})
}

// sizeLimit is the largest size read for a file of this name.
func sizeLimit(name string) int64 {
	if strings.EqualFold(path.Ext(name), ".ipynb") {
		return maxNotebookSize
	}
	return maxFileSize
}

// fileRecords reads one file with its content and turns it into records.
func (j *jup) fileRecords(ctx context.Context, f entry, max int) []classify.Record {
	// The JSON model escapes the content: allow twice the file size.
	limit := min(sizeLimit(f.Name)*2, j.env.Budget.MaxResponseBytes)
	resp, err := j.h.Do(ctx, http.MethodGet, "/api/contents/"+escapePath(f.Path)+"?content=1", nil, "", limit)
	if err != nil || resp.StatusCode != http.StatusOK || resp.Truncated {
		return nil
	}
	m, err := parseFile(resp.Body)
	if err != nil {
		return nil
	}
	if m.Type == "notebook" {
		srcs, err := cellSources(m.Content)
		if err != nil {
			return nil
		}
		var out []classify.Record
		for _, s := range srcs {
			if len(out) >= max {
				break
			}
			out = append(out, classify.FromText("cell_source", s))
		}
		return out
	}
	text, ok := textContent(m)
	if !ok {
		return nil
	}
	return textrec.FromFile(f.Name, text, max)
}
