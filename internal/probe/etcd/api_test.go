package etcd

import (
	"bytes"
	"testing"
)

func TestPrefixAt(t *testing.T) {
	for _, tc := range []struct {
		key   string
		depth int
		want  string
		ok    bool
	}{
		{"/users/1001", 1, "/users/", true},
		{"/registry/pods/default/web", 2, "/registry/pods/", true},
		{"app:cfg", 1, "app:", true},
		{"apikey", 1, "", false},
		{"/registry/health", 2, "", false},
		{"", 1, "", false},
	} {
		got, ok := prefixAt([]byte(tc.key), tc.depth)
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("prefixAt(%q, %d) = %q %v", tc.key, tc.depth, got, ok)
		}
	}
}

func TestPrefixEnd(t *testing.T) {
	for in, want := range map[string]string{"/users/": "/users0", "a\xff": "b", "\xff\xff": "\x00"} {
		if got := prefixEnd([]byte(in)); string(got) != want {
			t.Errorf("prefixEnd(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParse(t *testing.T) {
	r, err := parseRange([]byte(`{"header":{"cluster_id":"1","revision":"4"},"kvs":[{"key":"L3UvMQ==","value":"eA=="}],"count":"3","more":true}`))
	if err != nil || r.Count != 3 || !r.More || string(r.Kvs[0].Key) != "/u/1" || string(r.Kvs[0].Value) != "x" || r.Header.Revision != 4 {
		t.Fatalf("%+v %v", r, err)
	}
	if r, err := parseRange([]byte(`{"header":{}}`)); err != nil || r.Count != 0 {
		t.Fatalf("empty store: %+v %v", r, err)
	}
	e, ok := parseError([]byte(`{"error":"etcdserver: user name is empty","message":"etcdserver: user name is empty","code":3}Grpc-Trailer-Content-Type: application/grpc`))
	if !ok || !authRefusal(e.Message) {
		t.Fatalf("%+v %v", e, ok)
	}
	if v, ok := parseVersion([]byte(`{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}`)); !ok || v.Server != "3.4.23" {
		t.Fatal(v)
	}
}

// FuzzParse checks the gateway decoders never panic.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"header":{"revision":"4"},"kvs":[{"key":"AA==","value":"AA=="}],"count":"1"}`))
	f.Add([]byte(`{"error":"x","code":3}trailer`))
	f.Add([]byte(`{"etcdserver":"3.4.23"}`))
	f.Add([]byte(`{"count":99999999999999999999}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := parseRange(b); err == nil {
			for _, kv := range r.Kvs {
				if p, ok := prefixAt(kv.Key, 2); ok && !bytes.HasPrefix(kv.Key, p) {
					t.Fatal("prefix not a prefix")
				}
				_ = prefixEnd(kv.Key)
				_ = toRecord(kv)
			}
		}
		parseError(b)
		parseVersion(b)
	})
}
