package alert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Retry bounds the in-call retries of an HTTP notifier: exponential backoff
// with full jitter, at most Attempts tries, all within the caller's ctx.
// The outbox retries again later, across restarts, when all tries failed.
type Retry struct {
	// Attempts is the number of tries (default 3).
	Attempts int
	// Base is the first backoff (default 500ms); it doubles per try.
	Base time.Duration
	// Max caps one backoff (default 5s), Retry-After included.
	Max time.Duration
}

func (r Retry) withDefaults() Retry {
	if r.Attempts <= 0 {
		r.Attempts = 3
	}
	if r.Base <= 0 {
		r.Base = 500 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 5 * time.Second
	}
	return r
}

// Backoff is the wait before try n+1 (n ≥ 1): a random duration in
// [d/2, d] where d = min(Max, Base·2^(n-1)).
func (r Retry) Backoff(n int) time.Duration {
	r = r.withDefaults()
	d := r.Base
	for i := 1; i < n && d < r.Max; i++ {
		d *= 2
	}
	d = min(d, r.Max)
	return d/2 + rand.N(d/2+1)
}

// maxResponse bounds what is read of a receiver's answer.
const maxResponse = 64 << 10

// newHTTPClient never follows redirects: a signed alert goes to the
// configured URL or nowhere.
func newHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// request describes one POST; build makes a fresh *http.Request for each
// try (headers such as timestamps and signatures may change per try).
type request struct {
	url   string
	build func() (body []byte, header http.Header, err error)
	// ok decides whether a 2xx response body means success (nil: any 2xx).
	ok func(status int, body []byte) error
}

// post sends the request with retries. It returns nil, the last error, or a
// *PermanentError for answers that retrying cannot fix.
func post(ctx context.Context, c *http.Client, r Retry, req request) error {
	r = r.withDefaults()
	var last error
	for try := 1; try <= r.Attempts; try++ {
		wait, err := postOnce(ctx, c, req)
		if err == nil {
			return nil
		}
		last = err
		if IsPermanent(err) || try == r.Attempts {
			break
		}
		d := r.Backoff(try)
		if wait > 0 {
			d = min(max(d, wait), r.Max)
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (then %w)", last, ctx.Err())
		case <-t.C:
		}
	}
	return last
}

// postOnce makes one try; wait is the receiver's Retry-After, if any.
func postOnce(ctx context.Context, c *http.Client, req request) (wait time.Duration, err error) {
	body, header, err := req.build()
	if err != nil {
		return 0, &PermanentError{err}
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, req.url, bytes.NewReader(body))
	if err != nil {
		return 0, &PermanentError{fmt.Errorf("request: %w", err)}
	}
	hr.Header = header
	if hr.Header.Get("Content-Type") == "" {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("User-Agent", "leakwatch-alert/1")
	resp, err := c.Do(hr)
	if err != nil {
		return 0, fmt.Errorf("post: %w", redactURLError(err))
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if req.ok != nil {
			return 0, req.ok(resp.StatusCode, rb)
		}
		return 0, nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout ||
		resp.StatusCode == http.StatusTooEarly || resp.StatusCode >= 500:
		return retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("receiver answered %s: %s", resp.Status, snippet(rb))
	}
	return 0, &PermanentError{fmt.Errorf("receiver answered %s: %s", resp.Status, snippet(rb))}
}

// redactURLError drops the URL from *url.Error: webhook URLs may hold
// secrets (Slack's do).
func redactURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

func snippet(b []byte) string {
	const n = 200
	s := string(bytes.TrimSpace(b))
	if len(s) > n {
		s = s[:n] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return strconv.Quote(s)
}
