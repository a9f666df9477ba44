package s3

import (
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

// FuzzParseXML feeds arbitrary bodies to the S3 XML decoders.
func FuzzParseXML(f *testing.F) {
	f.Add([]byte(`<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets><Bucket><Name>a</Name></Bucket></Buckets></ListAllMyBucketsResult>`), "SeaweedFS 30GB 4.53")
	f.Add([]byte(`<ListBucketResult><KeyCount>1</KeyCount><Contents><Key>k</Key><Size>1</Size></Contents></ListBucketResult>`), "MinIO")
	f.Add([]byte(`<Error><Code>NoSuchBucket</Code></Error>`), "Ceph Object Gateway (squid) 19.2.0")
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`), "")
	f.Fuzz(func(t *testing.T, b []byte, server string) {
		_, _, _ = rootElement(b)
		_, _ = parseBuckets(b)
		_, _ = parseListing(b)
		_, _ = parseError(b)
		_, _ = productOf(server)
	})
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
