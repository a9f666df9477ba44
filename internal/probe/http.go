package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// HTTPResponse is a fully read, size-capped HTTP response.
type HTTPResponse struct {
	StatusCode int
	Header     http.Header
	Body       []byte
	// Truncated is true when the body was cut at the read limit.
	Truncated bool
}

// HTTP is a bounded HTTP client for one target. It never follows redirects
// (a redirect could lead out of scope), sends no credentials unless told,
// and reads at most a given number of bytes of each body.
type HTTP struct {
	env    *Env
	scheme string
	client *http.Client
	// Header is added to every request (e.g. Authorization for a default
	// credential check).
	Header http.Header
}

// NewHTTP makes a client speaking scheme ("http" or "https") to env's target.
func NewHTTP(env *Env, scheme string) *HTTP {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return env.Dial(ctx)
		},
		TLSClientConfig:        env.TLSConfig(),
		TLSHandshakeTimeout:    env.Budget.IOTimeout,
		ResponseHeaderTimeout:  env.Budget.IOTimeout,
		MaxIdleConns:           2,
		MaxIdleConnsPerHost:    2,
		MaxResponseHeaderBytes: 64 << 10,
		DisableCompression:     true, // no decompression bombs: we ask for identity
		ForceAttemptHTTP2:      false,
	}
	return &HTTP{
		env:    env,
		scheme: scheme,
		client: &http.Client{
			Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Scheme is "http" or "https".
func (h *HTTP) Scheme() string { return h.scheme }

// BaseURL is scheme://host:port.
func (h *HTTP) BaseURL() string {
	host := h.env.Target.HostPort()
	if h.env.Target.Hostname != "" {
		host = net.JoinHostPort(h.env.Target.Hostname, fmt.Sprint(h.env.Target.Port))
	}
	return h.scheme + "://" + host
}

// Close releases idle connections.
func (h *HTTP) Close() { h.client.CloseIdleConnections() }

// Get reads path with the default response limit.
func (h *HTTP) Get(ctx context.Context, path string) (*HTTPResponse, error) {
	return h.Do(ctx, http.MethodGet, path, nil, "", h.env.Budget.MaxResponseBytes)
}

// Do sends one request and reads at most limit bytes of the body. Only
// read-only methods may be used; POST is allowed for query endpoints whose
// semantics are read-only (search, SQL SELECT over HTTP).
func (h *HTTP) Do(ctx context.Context, method, path string, body []byte, contentType string, limit int64) (*HTTPResponse, error) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodOptions:
	default:
		return nil, fmt.Errorf("http: method %s not allowed in a read-only probe", method)
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	h.env.requests.Add(1)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.BaseURL()+path, rd)
	if err != nil {
		return nil, fmt.Errorf("http: build request: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "leakwatch")
	req.Header.Set("Accept-Encoding", "identity")
	for k, vs := range h.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("http %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	out := &HTTPResponse{StatusCode: resp.StatusCode, Header: resp.Header}
	if method == http.MethodHead {
		return out, nil
	}
	out.Body, out.Truncated, err = ReadLimited(resp.Body, limit)
	if err != nil {
		return out, fmt.Errorf("http %s %s: read body: %w", method, path, err)
	}
	return out, nil
}

// ReadLimited reads r to EOF or limit bytes, whichever comes first.
func ReadLimited(r io.Reader, limit int64) ([]byte, bool, error) {
	if limit <= 0 {
		limit = 1 << 20
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	if err != nil && !errors.Is(err, io.EOF) {
		return buf.Bytes(), false, err
	}
	if n > limit {
		return buf.Bytes()[:limit], true, nil
	}
	return buf.Bytes(), false, nil
}

// DetectHTTP finds out whether the target speaks HTTP or HTTPS by fetching
// path both ways (plain first). It returns a client for the scheme that
// answered, and that first response.
func DetectHTTP(ctx context.Context, env *Env, path string) (*HTTP, *HTTPResponse, error) {
	plain := NewHTTP(env, "http")
	resp, err := plain.Get(ctx, path)
	if err == nil && !looksLikeTLSRequired(resp) {
		return plain, resp, nil
	}
	plain.Close()
	if ctx.Err() != nil {
		return nil, nil, err
	}
	sec := NewHTTP(env, "https")
	resp2, err2 := sec.Get(ctx, path)
	if err2 != nil {
		sec.Close()
		if err != nil {
			return nil, nil, err
		}
		return plain, resp, nil
	}
	return sec, resp2, nil
}

func looksLikeTLSRequired(r *HTTPResponse) bool {
	if r.StatusCode != http.StatusBadRequest {
		return false
	}
	b := bytes.ToLower(r.Body)
	return bytes.Contains(b, []byte("https")) || bytes.Contains(b, []byte("ssl")) || bytes.Contains(b, []byte("tls"))
}
