// Package s3 probes S3-compatible object stores (Amazon S3 endpoints,
// MinIO, SeaweedFS, Ceph RGW, Garage, ...) anonymously over HTTP.
//
// Identification: an anonymous GET / answered with S3 XML — a
// ListAllMyBucketsResult, or an <Error> with an S3 error code — together
// with an x-amz-request-id / x-amz-id-2 header, a RequestId element or an
// S3 Server header. Buckets come from the service listing when anonymous
// listing is allowed, plus configured and commonly used names. A bucket
// answering ListObjectsV2 (GET /<bucket>?list-type=2) anonymously is
// exposed: that is the second signal after the S3 identification. Records
// are counted over at most maxKeyPages pages; a bucket still truncated
// after them gets a lower bound (Evidence records_lower_bound). The
// sample is small (<= 64 KiB) text, JSON and CSV objects read with a
// bounded GET.
package s3

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes S3-compatible services.
type Prober struct {
	// Buckets are names tried besides those the service lists.
	Buckets []string
	// keysPerPage and maxKeyPages bound key counting (0: the defaults).
	keysPerPage, maxKeyPages int
}

var _ probe.Prober = (*Prober)(nil)

// defaultBuckets are bucket names commonly left public.
var defaultBuckets = []string{
	"backup", "backups", "data", "public", "uploads", "static", "assets", "media",
	"files", "images", "logs", "exports", "dumps", "db-backups", "dev", "test", "prod", "www",
}

// New returns an S3 prober that also tries commonly used bucket names.
func New() *Prober { return &Prober{Buckets: slices.Clone(defaultBuckets)} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "s3" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober: MinIO, SeaweedFS, Ceph RGW.
func (*Prober) DefaultPorts() []int { return []int{9000, 8333, 7480} }

// Default key counting bounds: 10 pages of 1000 keys.
const (
	defaultKeysPerPage = 1000
	defaultMaxKeyPages = 10
)

// maxCandidates bounds the sampleable keys kept per bucket.
const maxCandidates = 256

// bucketState is what anonymous listing of one bucket showed.
type bucketState int

const (
	bucketMissing bucketState = iota
	bucketDenied
	bucketListed
	bucketOther
)

// bucket is one listed bucket.
type bucket struct {
	dataset    probe.Dataset
	candidates []object
	truncated  bool
}

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, "/")
	if err != nil {
		if probe.IsTimeout(err) || ctx.Err() != nil {
			return nil, err
		}
		return nil, probe.NotThisService("s3: %v", err)
	}
	defer h.Close()
	if !isS3(resp) {
		return nil, probe.NotThisService("s3: HTTP %d without S3 markers", resp.StatusCode)
	}
	res := &probe.Result{TLS: h.Scheme() == "https", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.Product, res.Version = productOf(resp.Header.Get("Server"))
	if s := resp.Header.Get("Server"); s != "" {
		res.AddEvidence("server", truncate(s, 128))
	}
	b := env.Budget
	var names []string
	denied := 0
	if resp.StatusCode == http.StatusOK {
		if l, err := parseBuckets(resp.Body); err == nil {
			res.AddEvidence("service_listing", "allowed")
			res.AddEvidence("buckets_listed", len(l.Buckets))
			for _, bk := range l.Buckets {
				names = append(names, bk.Name)
			}
		}
	} else if e, ok := parseError(resp.Body); ok {
		res.AddEvidence("service_listing", e.Code)
		if isAccessDenied(e.Code) {
			denied++
		}
	}
	names = candidates(names, p.Buckets, b.MaxListed)
	var buckets []*bucket
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		bk, st, err := p.listBucket(ctx, h, name)
		switch st {
		case bucketListed:
			buckets = append(buckets, bk)
		case bucketDenied:
			denied++
		case bucketOther:
			res.AddEvidence("list_error", err.Error())
		}
	}
	res.AddEvidence("buckets_denied", denied)
	switch {
	case len(buckets) > 0:
		res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
		env.Provisional(res) // identified: reported even if a limit stops the rest
	case denied > 0:
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		return res, nil
	default:
		return res, nil
	}
	var lower []string
	for _, bk := range buckets {
		if bk.truncated {
			lower = append(lower, bk.dataset.Name)
		}
	}
	if len(lower) > 0 {
		res.AddEvidence("records_lower_bound", lower)
		res.AddFlag("records-lower-bound")
	}
	first := len(res.Datasets)
	for _, bk := range buckets {
		res.Datasets = append(res.Datasets, bk.dataset)
	}
	sampleAll(ctx, h, res, b, buckets, res.Datasets[first:])
	return res, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// isS3 tells whether an answer to GET / comes from an S3-compatible API.
func isS3(resp *probe.HTTPResponse) bool {
	amz := resp.Header.Get("X-Amz-Request-Id") != "" || resp.Header.Get("X-Amz-Id-2") != ""
	name, space, ok := rootElement(resp.Body)
	if !ok {
		return false
	}
	if name == "ListAllMyBucketsResult" {
		return amz || space == s3Namespace || resp.StatusCode == http.StatusOK
	}
	e, ok := parseError(resp.Body)
	if !ok || !s3ErrorCodes[e.Code] {
		return false
	}
	prod, _ := productOf(resp.Header.Get("Server"))
	return amz || e.RequestID != "" || prod != "s3"
}

// candidates merges listed and guessed names, valid and unique, at most max.
func candidates(listed, guessed []string, max int) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range append(slices.Clone(listed), guessed...) {
		if len(out) >= max {
			break
		}
		if validBucket(n) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}

// validBucket checks a bucket name before it is put in a path (the
// classic S3 rules: 3-63 characters of a-z 0-9 . - _).
func validBucket(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// listBucket counts the keys of one bucket with ListObjectsV2, at most
// maxKeyPages pages, and keeps sampleable keys.
func (p *Prober) listBucket(ctx context.Context, h *probe.HTTP, name string) (*bucket, bucketState, error) {
	keysPerPage, maxKeyPages := cmp.Or(p.keysPerPage, defaultKeysPerPage), cmp.Or(p.maxKeyPages, defaultMaxKeyPages)
	bk := &bucket{}
	bk.dataset.Name, bk.dataset.Kind = name, "bucket"
	var count, size int64
	token := ""
	for page := 0; ; page++ {
		q := url.Values{"list-type": {"2"}, "max-keys": {strconv.Itoa(keysPerPage)}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		resp, err := h.Get(ctx, "/"+name+"?"+q.Encode())
		if err != nil {
			return nil, bucketOther, fmt.Errorf("s3: list %s: %w", name, err)
		}
		if resp.StatusCode != http.StatusOK {
			e, ok := parseError(resp.Body)
			switch {
			case page > 0:
				return nil, bucketOther, fmt.Errorf("s3: list %s page %d: HTTP %d", name, page+1, resp.StatusCode)
			case ok && isAccessDenied(e.Code) || resp.StatusCode == http.StatusForbidden:
				return nil, bucketDenied, nil
			case ok && e.Code == "NoSuchBucket" || resp.StatusCode == http.StatusNotFound:
				return nil, bucketMissing, nil
			}
			return nil, bucketOther, fmt.Errorf("s3: list %s: HTTP %d", name, resp.StatusCode)
		}
		l, err := parseListing(resp.Body)
		if err != nil {
			return nil, bucketOther, fmt.Errorf("s3: list %s: %w", name, err)
		}
		n := int64(len(l.Contents))
		if l.KeyCount != nil && *l.KeyCount >= n {
			n = *l.KeyCount
		}
		count += n
		for _, o := range l.Contents {
			size += o.Size
			if o.Size > maxObjectBytes && sampleable(o.Key, 1) {
				// A text object too large to read is not skipped silently.
				bk.dataset.AddFlag(probe.FlagRecordTooLarge)
			}
			if len(bk.candidates) < maxCandidates && sampleable(o.Key, o.Size) {
				bk.candidates = append(bk.candidates, o)
			}
		}
		if !l.IsTruncated || l.NextContinuationToken == "" || l.NextContinuationToken == token {
			break
		}
		if page+1 >= maxKeyPages {
			bk.truncated = true
			break
		}
		token = l.NextContinuationToken
	}
	bk.dataset.Records, bk.dataset.Bytes = &count, &size
	return bk, bucketListed, nil
}

// sampleAll samples the buckets with the most keys first into
// datasets[i], the dataset of buckets[i]; a bucket without candidate
// objects takes no turn.
func sampleAll(ctx context.Context, h *probe.HTTP, res *probe.Result, b probe.Budget, buckets []*bucket, datasets []probe.Dataset) {
	_ = probe.SampleLargest(ctx, res, b, datasets, func(ctx context.Context, i int, d *probe.Dataset) error {
		if len(buckets[i].candidates) == 0 {
			return probe.ErrNotSampled
		}
		sampleBucket(ctx, h, b, buckets[i], d)
		return nil
	})
}

// sampleBucket reads candidate objects until the record or byte budget
// of the dataset is spent.
func sampleBucket(ctx context.Context, h *probe.HTTP, b probe.Budget, bk *bucket, d *probe.Dataset) {
	var used int64
	for _, o := range bk.candidates {
		if len(d.Sample) >= b.SampleRecords || ctx.Err() != nil {
			break
		}
		if used+o.Size > b.SampleBytes {
			d.AddFlag(probe.FlagSampleTruncated)
			if len(d.Sample) == 0 {
				d.AddFlag(probe.FlagRecordTooLarge)
			}
			break
		}
		resp, err := h.Do(ctx, http.MethodGet, objectPath(d.Name, o.Key), nil, "", maxObjectBytes)
		if err == nil && resp.StatusCode == http.StatusOK && resp.Truncated {
			// Larger than listed (it grew, or the listing lied).
			d.AddFlag(probe.FlagRecordTooLarge)
		}
		if err != nil || resp.StatusCode != http.StatusOK || resp.Truncated {
			continue
		}
		used += int64(len(resp.Body))
		d.Sample = append(d.Sample, recordsFrom(o.Key, resp.Body, b.SampleRecords-len(d.Sample))...)
	}
	d.Sampled = len(d.Sample)
}

// objectPath escapes each segment of key; "." and ".." segments are
// percent-encoded too, so that no key (a server's listing is untrusted)
// makes a path that a client or proxy cleans into another bucket.
func objectPath(bucketName, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		switch s {
		case ".", "..":
			segs[i] = strings.Repeat("%2E", len(s))
		default:
			segs[i] = url.PathEscape(s)
		}
	}
	return "/" + bucketName + "/" + strings.Join(segs, "/")
}
