package s3

import (
	"net/url"
	"path"
	"strings"
	"testing"
)

func TestParseListing(t *testing.T) {
	l, err := parseListing([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
<IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken>
<Contents><Key>a.json</Key><Size>10</Size></Contents><Contents><Key>b.csv</Key><Size>20</Size></Contents></ListBucketResult>`))
	if err != nil {
		t.Fatal(err)
	}
	if l.Name != "b" || *l.KeyCount != 2 || !l.IsTruncated || l.NextContinuationToken != "tok" || len(l.Contents) != 2 || l.Contents[1].Size != 20 {
		t.Fatalf("listing %+v", l)
	}
	e, ok := parseError([]byte(`<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>X</RequestId></Error>`))
	if !ok || e.Code != "AccessDenied" || !isAccessDenied(e.Code) {
		t.Fatalf("error %+v %v", e, ok)
	}
}

func TestRecordsFrom(t *testing.T) {
	cases := []struct {
		key, body string
		n         int
		path      string
	}{
		{"a.json", `[{"email":"a@b.c"},{"email":"d@e.f"}]`, 2, "email"},
		{"a.json", `{"user":{"email":"a@b.c"}}`, 1, "user.email"},
		{"a.jsonl", "{\"x\":1}\n{\"x\":2}\nnot json\n", 2, "x"},
		{"a.csv", "name,email\nA,a@b.c\n", 1, "email"},
		{"a.tsv", "name\temail\nA\ta@b.c\n", 1, "email"},
		{".env", "# c\nexport TOKEN=\"abc\"\n", 1, "TOKEN"},
		{"notes.txt", "hello", 1, "notes.txt"},
	}
	for _, c := range cases {
		recs := recordsFrom(c.key, []byte(c.body), 10)
		if len(recs) != c.n {
			t.Errorf("%s: %d records, want %d", c.key, len(recs), c.n)
			continue
		}
		found := false
		for _, v := range recs[0].Values {
			found = found || v.Path == c.path
		}
		if !found {
			t.Errorf("%s: record %v lacks %q", c.key, recs[0], c.path)
		}
	}
	if n := len(recordsFrom("a.json", []byte(`[1,2,3,4]`), 2)); n != 2 {
		t.Errorf("max not applied: %d", n)
	}
}

// FuzzParseXML: each decoder accepts only its own root element; bucket
// names reach a path only through candidates (valid, unique, bounded);
// every listed key maps to a path inside its bucket (no "..", "?" or "#"
// can leave it); productOf names a known product and a version taken from
// the header.
func FuzzParseXML(f *testing.F) {
	f.Add([]byte(`<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets><Bucket><Name>a</Name></Bucket></Buckets></ListAllMyBucketsResult>`), "SeaweedFS 30GB 4.53")
	f.Add([]byte(`<ListBucketResult><KeyCount>1</KeyCount><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>`), "MinIO")
	f.Add([]byte(`<ListBucketResult><Contents><Key>../other/x?a#b</Key></Contents><Contents><Key>./.</Key></Contents></ListBucketResult>`), "MinIO/RELEASE.2024 v1.2")
	f.Add([]byte(`<Error><Code>NoSuchBucket</Code></Error>`), "Ceph Object Gateway (squid) 19.2.0")
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`), "")
	products := map[string]bool{"s3": true, "seaweedfs": true, "minio": true, "amazon-s3": true, "ceph-rgw": true, "garage": true}
	f.Fuzz(func(t *testing.T, b []byte, server string) {
		root, _, rootOK := rootElement(b)
		if l, err := parseBuckets(b); err == nil {
			if rootOK && root != "ListAllMyBucketsResult" {
				t.Fatalf("bucket list from a <%s> document", root)
			}
			var names []string
			for _, bk := range l.Buckets {
				names = append(names, bk.Name)
			}
			c := candidates(names, defaultBuckets, 8)
			seen := map[string]bool{}
			for _, n := range c {
				if !validBucket(n) || seen[n] || strings.ContainsAny(n, "/?#%") {
					t.Fatalf("candidate %q", n)
				}
				seen[n] = true
			}
			if len(c) > 8 {
				t.Fatalf("%d candidates", len(c))
			}
		}
		if l, err := parseListing(b); err == nil {
			if rootOK && root != "ListBucketResult" {
				t.Fatalf("listing from a <%s> document", root)
			}
			for _, o := range l.Contents {
				checkObjectPath(t, "bucket", o.Key)
			}
		}
		if e, ok := parseError(b); ok && (e.Code == "" || root != "Error") {
			t.Fatalf("error %+v from a <%s> document", e, root)
		}
		p, v := productOf(server)
		if !products[p] || strings.ContainsAny(v, " \t\r\n") || len(v) > len(server) {
			t.Fatalf("productOf(%q) = %q, %q", server, p, v)
		}
	})
}

// checkObjectPath fails unless the path of key stays inside bucket once a
// server has decoded and cleaned it, and names key itself.
func checkObjectPath(t *testing.T, bucket, key string) {
	t.Helper()
	p := objectPath(bucket, key)
	u, err := url.Parse("http://127.0.0.1" + p)
	if err != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		t.Fatalf("objectPath(%q) = %q: %v", key, p, err)
	}
	if !strings.HasPrefix(u.Path, "/"+bucket+"/") || u.Path != "/"+bucket+"/"+key {
		t.Fatalf("objectPath(%q) = %q decodes to %q", key, p, u.Path)
	}
	if c := path.Clean(p); c != "/"+bucket && !strings.HasPrefix(c, "/"+bucket+"/") {
		t.Fatalf("objectPath(%q) = %q leaves the bucket once cleaned (%q)", key, p, c)
	}
}

// FuzzRecordsFrom feeds arbitrary object bodies to the sample decoders.
func FuzzRecordsFrom(f *testing.F) {
	for _, s := range []struct{ key, body string }{
		{"a.json", `[{"a":1}]`}, {"a.jsonl", "{}\n{}"}, {"a.csv", "a,b\n\"1,2"}, {"a.tsv", "a\tb\n1"},
		{"x.env", "A=1\n[s]\nB: 2"}, {"x.txt", "hi"},
	} {
		f.Add(s.key, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, key string, body []byte) {
		if recs := recordsFrom(key, body, 50); len(recs) > 50 {
			t.Fatalf("%d records over max", len(recs))
		}
	})
}
