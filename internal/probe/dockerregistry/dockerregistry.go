// Package dockerregistry probes container registries speaking the Docker
// Registry HTTP API v2 / OCI distribution spec (docker-registry,
// distribution, Harbor, GitLab, Nexus, ...).
//
// Identification: GET /v2/ answers with the header
// Docker-Distribution-Api-Version: registry/2.0. Auth: a 401 with a
// WWW-Authenticate challenge is protected; exposed needs two signals:
// /v2/ answers 200 without a challenge AND the catalog lists repositories.
// Datasets are repositories (catalog pages of bounded size, MaxListed at
// most); records are tag counts (tags list, bounded: a capped count is a
// lower bound, flagged in Evidence). The sample is, per repository
// (largest first), the image configuration blob of a few tags: its Env,
// Labels and build history, where credentials are often baked in.
package dockerregistry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes registry API v2 servers.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a registry prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "docker-registry" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{5000} }

// catalogPageSize is the n asked for per catalog page (a variable for tests).
var catalogPageSize = 100

const (
	// tagsPageSize and maxTags bound the tag count of one repository.
	tagsPageSize = 1000
	maxTags      = 10000
	// tagsPerRepo is how many image configs are sampled per repository.
	tagsPerRepo = 3
	// manifestLimit bounds one manifest (distribution refuses > 4 MiB).
	manifestLimit = 4 << 20
	// configLimit bounds one image configuration blob.
	configLimit = 1 << 20
)

// Accepted manifest media types, newest first.
var manifestAccept = strings.Join([]string{
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v1+prettyjws",
}, ", ")

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, "/v2/")
	if err != nil {
		if probe.IsTimeout(err) || ctx.Err() != nil {
			return nil, err
		}
		return nil, probe.NotThisService("docker-registry: %v", err)
	}
	defer h.Close()
	api := resp.Header.Get("Docker-Distribution-Api-Version")
	if !strings.HasPrefix(api, "registry/2") {
		return nil, probe.NotThisService("docker-registry: no Docker-Distribution-Api-Version header (HTTP %d)", resp.StatusCode)
	}
	res := &probe.Result{Product: "docker-registry", TLS: h.Scheme() == "https", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.AddEvidence("api_version", api)
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized:
		protect(res, resp)
		return res, nil
	default:
		res.AddEvidence("v2_status", resp.StatusCode)
		return res, nil
	}
	h.Header = http.Header{"Accept": {manifestAccept}}
	var listed bool
	repos, err := catalog(ctx, h, env.Budget.MaxListed, res, &listed)
	if res.Status == finding.StatusProtected {
		return res, nil
	}
	if err != nil {
		res.AddError(err)
		if !listed {
			return res, nil
		}
		// A later page failed: what the first pages proved stands.
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	// Two signals: /v2/ without a challenge, and a readable catalog.
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	env.Provisional(res) // identified: reported even if a limit stops the rest
	res.AddEvidence("repositories_listed", len(repos))
	for _, repo := range repos {
		if ctx.Err() != nil {
			break
		}
		res.Datasets = append(res.Datasets, repository(ctx, h, repo, res))
	}
	sampleAll(ctx, h, env.Budget, res)
	return res, nil
}

// errBlobTooLarge means an image configuration is past the sample budget.
var errBlobTooLarge = errors.New("larger than the sample budget")

// protect records a 401 challenge.
func protect(res *probe.Result, resp *probe.HTTPResponse) {
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	res.Datasets = nil
	if ch := resp.Header.Get("Www-Authenticate"); ch != "" {
		scheme, _, _ := strings.Cut(ch, " ")
		res.AddEvidence("auth_scheme", scheme)
		res.AddEvidence("auth_challenge", truncate(ch, 256))
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// catalog pages through /v2/_catalog up to max repositories. A 401 marks
// res protected.
func catalog(ctx context.Context, h *probe.HTTP, max int, res *probe.Result, listed *bool) ([]string, error) {
	var repos []string
	path := "/v2/_catalog?n=" + strconv.Itoa(min(catalogPageSize, max))
	for path != "" && len(repos) < max {
		resp, err := h.Get(ctx, path)
		if err != nil {
			return repos, fmt.Errorf("docker-registry: %w", err)
		}
		if resp.StatusCode == http.StatusUnauthorized {
			protect(res, resp)
			return nil, nil
		}
		if resp.StatusCode != http.StatusOK {
			return repos, fmt.Errorf("docker-registry: catalog: HTTP %d", resp.StatusCode)
		}
		n := 0
		cut, err := parseCatalog(resp.Body, func(r string) bool {
			n++
			if validRepoName(r) && len(repos) < max {
				repos = append(repos, r)
			}
			return len(repos) < max
		})
		if err != nil {
			return repos, fmt.Errorf("docker-registry: %w", err)
		}
		*listed = true
		if cut {
			// A page past the response cap: keep what it held, say so.
			res.AddFlag("repositories-truncated")
			res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		next := nextLink(resp.Header.Get("Link"), "/v2/_catalog")
		if next == path || n == 0 {
			break
		}
		path = next
	}
	if len(repos) >= max {
		res.AddFlag("repositories-truncated")
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	return repos, nil
}

// repository counts the tags of one repository.
func repository(ctx context.Context, h *probe.HTTP, repo string, res *probe.Result) probe.Dataset {
	d := probe.Dataset{}
	d.Name, d.Kind = repo, "repository"
	tags, complete, err := listTags(ctx, h, repo)
	if err != nil {
		res.AddEvidence("tags_error", err.Error())
		return d
	}
	n := int64(len(tags))
	d.Records = &n
	if !complete {
		res.AddEvidence("tags_lower_bound", repo)
	}
	return d
}

// listTags pages through the tags of repo, up to maxTags; complete is
// false when the cap cut the list (the count is then a lower bound).
func listTags(ctx context.Context, h *probe.HTTP, repo string) (tags []string, complete bool, err error) {
	base := "/v2/" + repo + "/tags/list"
	path := base + "?n=" + strconv.Itoa(tagsPageSize)
	for path != "" {
		resp, err := h.Get(ctx, path)
		if err != nil {
			return tags, false, fmt.Errorf("docker-registry: tags %s: %w", repo, err)
		}
		if resp.StatusCode != http.StatusOK {
			return tags, false, fmt.Errorf("docker-registry: tags %s: HTTP %d", repo, resp.StatusCode)
		}
		page, err := parseTags(resp.Body)
		if err != nil {
			return tags, false, fmt.Errorf("docker-registry: %w", err)
		}
		tags = append(tags, page...)
		if len(tags) >= maxTags {
			return tags[:maxTags], false, nil
		}
		next := nextLink(resp.Header.Get("Link"), base)
		if next == path || len(page) == 0 {
			break
		}
		path = next
	}
	return tags, true, nil
}

// sampleAll samples the repositories with the most tags first.
func sampleAll(ctx context.Context, h *probe.HTTP, b probe.Budget, res *probe.Result) {
	if b.SampleRecords <= 0 {
		return
	}
	probe.SampleLargest(ctx, res, b, res.Datasets, func(ctx context.Context, _ int, d *probe.Dataset) error {
		if d.Records == nil || *d.Records <= 0 {
			return probe.ErrNotSampled // sorted last: no repository after it has tags
		}
		sampleRepo(ctx, h, b, d, res)
		return nil
	})
}

// sampleRepo reads the image configuration of up to tagsPerRepo tags.
func sampleRepo(ctx context.Context, h *probe.HTTP, b probe.Budget, d *probe.Dataset, res *probe.Result) {
	tags, _, err := listTags(ctx, h, d.Name)
	if err != nil {
		return
	}
	var used int64
	for _, tag := range pickTags(tags, min(tagsPerRepo, b.SampleRecords)) {
		if used >= b.SampleBytes || ctx.Err() != nil {
			break
		}
		cfg, err := imageConfigBlob(ctx, h, d.Name, tag, min(configLimit, b.SampleBytes-used))
		if errors.Is(err, errBlobTooLarge) {
			d.AddFlag(probe.FlagRecordTooLarge) // left out for its size: said, not hidden
		}
		if err != nil {
			res.AddEvidence("sample_error", err.Error())
			continue
		}
		used += int64(len(cfg))
		r, err := configRecord(cfg)
		if err != nil {
			continue
		}
		d.Sample = append(d.Sample, r)
	}
	d.Sampled = len(d.Sample)
}

// pickTags takes "latest" first, then the last tags of the list.
func pickTags(tags []string, n int) []string {
	var out []string
	if slices.Contains(tags, "latest") {
		out = append(out, "latest")
	}
	for i := len(tags) - 1; i >= 0 && len(out) < n; i-- {
		if tags[i] != "latest" && validReference(tags[i]) {
			out = append(out, tags[i])
		}
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// imageConfigBlob resolves repo:tag to an image manifest (through an index
// if needed) and reads its configuration blob, at most limit bytes.
func imageConfigBlob(ctx context.Context, h *probe.HTTP, repo, tag string, limit int64) ([]byte, error) {
	m, err := getManifest(ctx, h, repo, tag)
	if err != nil {
		return nil, err
	}
	if len(m.Manifests) > 0 {
		m, err = getManifest(ctx, h, repo, pickPlatform(m))
		if err != nil {
			return nil, err
		}
	}
	if m.SchemaVersion == 1 && len(m.History) > 0 {
		return []byte(m.History[0].V1Compatibility), nil
	}
	if m.Config == nil || !validReference(m.Config.Digest) {
		return nil, fmt.Errorf("docker-registry: manifest %s:%s has no config", repo, tag)
	}
	resp, err := h.Do(ctx, http.MethodGet, "/v2/"+repo+"/blobs/"+m.Config.Digest, nil, "", limit)
	if err != nil {
		return nil, fmt.Errorf("docker-registry: config blob: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// Registries on object storage redirect blob reads; redirects
		// are not followed (they may leave scope).
		return nil, fmt.Errorf("docker-registry: config blob: HTTP %d", resp.StatusCode)
	}
	if resp.Truncated {
		return nil, fmt.Errorf("docker-registry: config blob %w (%d bytes)", errBlobTooLarge, limit)
	}
	return resp.Body, nil
}

func getManifest(ctx context.Context, h *probe.HTTP, repo, ref string) (*manifest, error) {
	if !validReference(ref) {
		return nil, fmt.Errorf("docker-registry: bad reference %q", ref)
	}
	resp, err := h.Do(ctx, http.MethodGet, "/v2/"+repo+"/manifests/"+ref, nil, "", manifestLimit)
	if err != nil {
		return nil, fmt.Errorf("docker-registry: manifest: %w", err)
	}
	if resp.StatusCode != http.StatusOK || resp.Truncated {
		return nil, fmt.Errorf("docker-registry: manifest %s:%s: HTTP %d", repo, ref, resp.StatusCode)
	}
	return parseManifest(resp.Body)
}

// pickPlatform chooses linux/amd64 from an index, else its first entry.
func pickPlatform(m *manifest) string {
	for _, e := range m.Manifests {
		if e.Platform != nil && e.Platform.OS == "linux" && e.Platform.Architecture == "amd64" {
			return e.Digest
		}
	}
	return m.Manifests[0].Digest
}
