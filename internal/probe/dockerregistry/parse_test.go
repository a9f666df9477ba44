package dockerregistry

import (
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
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"repositories":["a","b/c"]}`), `</v2/_catalog?last=b&n=2>; rel="next"`)
	f.Add([]byte(`{"name":"a","tags":["latest","v1"]}`), ``)
	f.Add([]byte(`{"schemaVersion":2,"config":{"digest":"sha256:00"},"manifests":[{"digest":"sha256:11","platform":{"os":"linux","architecture":"amd64"}}]}`), `<>; rel="next"`)
	f.Add([]byte(`{"config":{"Env":["A","B=c"],"Labels":{"x":"y"}},"container_config":{"Cmd":["sh"]}}`), `<%zz>; rel="next"`)
	f.Add([]byte(`{"history":[{"v1Compatibility":"{}"}]}`), `,,,`)
	f.Fuzz(func(t *testing.T, body []byte, link string) {
		_, _ = parseCatalog(body, func(r string) bool { _ = validRepoName(r); return true })
		_, _ = parseTags(body)
		if m, err := parseManifest(body); err == nil && len(m.Manifests) > 0 {
			_ = pickPlatform(m)
		}
		_, _ = configRecord(body)
		_ = nextLink(link, "/v2/_catalog")
	})
}
