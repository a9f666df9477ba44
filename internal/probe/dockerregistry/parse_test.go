package dockerregistry

import (
	"encoding/json"
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestNextLink(t *testing.T) {
	cases := map[string]string{
		`</v2/_catalog?last=b&n=2>; rel="next"`:                "/v2/_catalog?last=b&n=2",
		`<http://evil.example/v2/_catalog?last=b>; rel="next"`: "",
		`</v2/other?last=b>; rel="next"`:                       "",
		`</v2/_catalog?last=b>; rel="prev"`:                    "",
		``:                                                     "",
	}
	for in, want := range cases {
		if got := nextLink(in, "/v2/_catalog"); got != want {
			t.Errorf("nextLink(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestConfigRecord(t *testing.T) {
	r, err := configRecord([]byte(`{"config":{"Env":["A=1","TOKEN=x=y"],"Labels":{"m":"bob"}},"history":[{"created_by":"RUN x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range r.Values {
		got[v.Path] = v.Text
	}
	if got["env.A"] != "1" || got["env.TOKEN"] != "x=y" || got["labels.m"] != "bob" || got["history.created_by"] != "RUN x" {
		t.Fatalf("record %v", got)
	}
}

func TestValidNames(t *testing.T) {
	for _, ok := range []string{"a", "acme/web-app", "x/y/z_1.2"} {
		if !validRepoName(ok) {
			t.Errorf("%q rejected", ok)
		}
	}
	for _, bad := range []string{"", "../x", "a//b", "A/b", "a?b", "a/b/../c", "a b"} {
		if validRepoName(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
	if !validReference("sha256:0123abc") || validReference("../x") || validReference("a/b") {
		t.Error("validReference")
	}
}

// FuzzParse feeds arbitrary bodies to every registry API decoder.
// FuzzParse: a next link never leaves the registry or the catalog path; a
// repository name that passes validRepoName cannot change the path it is
// put in; a body cut in half never lists a repository the whole body does
// not; config records hold only env., labels., user and history paths.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"repositories":["a","b/c"]}`), `</v2/_catalog?last=b&n=2>; rel="next"`)
	f.Add([]byte(`{"repositories":["../x","a/./b","A","a?b","a%2fb"]}`), `<//evil.example/v2/_catalog>; rel="next"`)
	f.Add([]byte(`{"name":"a","tags":["latest","v1"]}`), ``)
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:00"},"manifests":[{"digest":"sha256:11","platform":{"os":"linux","architecture":"amd64"}}]}`), `<>; rel="next"`)
	f.Add([]byte(`{"config":{"Env":["A","B=c"],"Labels":{"x":"y"}},"container_config":{"Cmd":["sh"]}}`), `<%zz>; rel="next"`)
	f.Add([]byte(`{"history":[{"v1Compatibility":"{}"}]}`), `,,,`)
	f.Fuzz(func(t *testing.T, body []byte, link string) {
		var repos []string
		_, err := parseCatalog(body, func(r string) bool {
			repos = append(repos, r)
			if validRepoName(r) {
				p := "/v2/" + r + "/tags/list"
				if path.Clean(p) != p || strings.ContainsAny(r, "?#%\\") {
					t.Fatalf("valid name %q makes path %q", r, p)
				}
			}
			return true
		})
		if err == nil {
			seen := map[string]int{}
			for _, r := range repos {
				seen[r]++
			}
			_, _ = parseCatalog(body[:len(body)/2], func(r string) bool {
				if seen[r]--; seen[r] < 0 {
					t.Fatalf("cut body lists %q, the whole body does not", r)
				}
				return true
			})
		}
		if _, err := parseTags(body); err == nil && !json.Valid(body) {
			t.Fatal("tags from invalid JSON")
		}
		if m, err := parseManifest(body); err == nil && len(m.Manifests) > 0 {
			d := pickPlatform(m)
			found := false
			for _, e := range m.Manifests {
				found = found || e.Digest == d
			}
			if !found {
				t.Fatalf("picked %q, in no manifest", d)
			}
		}
		if r, err := configRecord(body); err == nil {
			for _, v := range r.Values {
				if !strings.HasPrefix(v.Path, "env.") && !strings.HasPrefix(v.Path, "labels.") && v.Path != "user" && v.Path != "history.created_by" {
					t.Fatalf("config record path %q", v.Path)
				}
			}
		}
		if next := nextLink(link, "/v2/_catalog"); next != "" {
			u, err := url.Parse(next)
			if err != nil || u.Scheme != "" || u.Host != "" || u.Path != "/v2/_catalog" || strings.HasPrefix(next, "//") {
				t.Fatalf("nextLink(%q) = %q leaves the catalog", link, next)
			}
		}
	})
}
