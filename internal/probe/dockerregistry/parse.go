package dockerregistry

import (
	"encoding/json"
	"fmt"
	"github.com/leakwatch/leakwatch/internal/probe"
	"net/url"
	"sort"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// Response bodies of the registry HTTP API v2 (distribution spec).

// catalogPage is GET /v2/_catalog.
type catalogPage struct {
	Repositories []string `json:"repositories"`
}

// tagsPage is GET /v2/<name>/tags/list.
type tagsPage struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

// manifest covers an image manifest (Docker schema 2, OCI) and an index
// (Docker manifest list, OCI index): whichever fields the body has.
type manifest struct {
	SchemaVersion int    `json:"schemaVersion"`
	MediaType     string `json:"mediaType"`
	Config        *struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
	} `json:"config"`
	Manifests []struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Platform  *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
		} `json:"platform"`
	} `json:"manifests"`
	Layers []struct {
		Size int64 `json:"size"`
	} `json:"layers"`
	// History is schema 1's: v1Compatibility holds the image config JSON.
	History []struct {
		V1Compatibility string `json:"v1Compatibility"`
	} `json:"history"`
}

// imageConfig is the part of an image configuration blob that can leak
// secrets: environment, labels and the commands that built the image.
type imageConfig struct {
	Config *struct {
		Env    []string          `json:"Env"`
		Labels map[string]string `json:"Labels"`
		User   string            `json:"User"`
	} `json:"config"`
	History []struct {
		CreatedBy string `json:"created_by"`
	} `json:"history"`
	// Schema 1 v1Compatibility carries the command here.
	ContainerConfig *struct {
		Cmd []string `json:"Cmd"`
	} `json:"container_config"`
}

// parseCatalog decodes a catalog page, keeping every name read before a
// cut at the response cap (cut then reports it).
func parseCatalog(b []byte, each func(string) bool) (cut bool, err error) {
	cut, err = probe.EachJSON(b, each, "repositories")
	if err != nil {
		return false, fmt.Errorf("catalog: %w", err)
	}
	return cut, nil
}

// parseTags decodes a tags page.
func parseTags(b []byte) ([]string, error) {
	var p tagsPage
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	return p.Tags, nil
}

// parseManifest decodes a manifest or index.
func parseManifest(b []byte) (*manifest, error) {
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// configRecord turns an image configuration into one classifier record:
// env.<NAME> for each variable, labels.<key> for each label, and
// history.created_by for each build step.
func configRecord(b []byte) (classify.Record, error) {
	var c imageConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return classify.Record{}, fmt.Errorf("image config: %w", err)
	}
	var r classify.Record
	if c.Config != nil {
		for _, kv := range c.Config.Env {
			k, v, _ := strings.Cut(kv, "=")
			r.Values = append(r.Values, classify.Value{Path: "env." + k, Text: v})
		}
		keys := make([]string, 0, len(c.Config.Labels))
		for k := range c.Config.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r.Values = append(r.Values, classify.Value{Path: "labels." + k, Text: c.Config.Labels[k]})
		}
		if c.Config.User != "" {
			r.Values = append(r.Values, classify.Value{Path: "user", Text: c.Config.User})
		}
	}
	for _, h := range c.History {
		if h.CreatedBy != "" {
			r.Values = append(r.Values, classify.Value{Path: "history.created_by", Text: h.CreatedBy})
		}
	}
	if c.ContainerConfig != nil && len(c.ContainerConfig.Cmd) > 0 {
		r.Values = append(r.Values, classify.Value{Path: "history.created_by", Text: strings.Join(c.ContainerConfig.Cmd, " ")})
	}
	return r, nil
}

// nextLink returns the path+query of a Link: <...>; rel="next" header,
// only if it points back at wantPath on the same server (a relative
// reference); anything else is ignored.
func nextLink(link, wantPath string) string {
	for _, part := range strings.Split(link, ",") {
		part = strings.TrimSpace(part)
		if !strings.Contains(part, `rel="next"`) {
			continue
		}
		start, end := strings.IndexByte(part, '<'), strings.IndexByte(part, '>')
		if start < 0 || end <= start {
			continue
		}
		u, err := url.Parse(part[start+1 : end])
		if err != nil || u.Scheme != "" || u.Host != "" || u.Path != wantPath {
			continue
		}
		return u.RequestURI()
	}
	return ""
}

// validRepoName checks a repository name from the catalog before it is put
// in a request path (distribution's grammar: lower-case components
// separated by / with . _ - inside).
func validRepoName(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for _, comp := range strings.Split(name, "/") {
		if comp == "" || comp == "." || comp == ".." {
			return false
		}
		for _, c := range comp {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validReference checks a tag or digest before it is put in a path.
func validReference(ref string) bool {
	if ref == "" || len(ref) > 200 {
		return false
	}
	for _, c := range ref {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == ':') {
			return false
		}
	}
	return true
}
