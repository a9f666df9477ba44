package dashboard

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// CookieName is the session cookie.
const CookieName = "leakwatch_session"

// maxSessions bounds the session table; the oldest session goes first.
const maxSessions = 1000

// session is one login.
type session struct {
	csrf    string
	by      string // "token N": which API token logged in
	created time.Time
	expires time.Time
}

// sessions are the logins of this process, keyed by the SHA-256 of the
// cookie value (the table never holds a usable cookie).
type sessions struct {
	mu      sync.Mutex
	m       map[[32]byte]*session
	ttl     time.Duration
	now     func() time.Time
	fails   *rate.Limiter // failed logins, process-wide
	reports *rate.Limiter // logged CSP reports
}

func newSessions(ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{m: map[[32]byte]*session{}, ttl: ttl, now: now, fails: rate.NewLimiter(rate.Limit(2), 10), reports: rate.NewLimiter(rate.Limit(1), 20)}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hash8(b []byte) uint64 {
	h := sha256.Sum256(b)
	return binary.BigEndian.Uint64(h[:8])
}

// create starts a session and returns its cookie value.
func (ss *sessions) create(by string) (string, *session) {
	id := randomToken()
	now := ss.now()
	s := &session{csrf: randomToken(), by: by, created: now, expires: now.Add(ss.ttl)}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, v := range ss.m {
		if !now.Before(v.expires) {
			delete(ss.m, k)
		}
	}
	if len(ss.m) >= maxSessions {
		var oldest [32]byte
		first := true
		for k, v := range ss.m {
			if first || v.created.Before(ss.m[oldest].created) {
				oldest, first = k, false
			}
		}
		delete(ss.m, oldest)
	}
	ss.m[sha256.Sum256([]byte(id))] = s
	return id, s
}

// get returns the request's live session.
func (ss *sessions) get(r *http.Request) (*session, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, false
	}
	k := sha256.Sum256([]byte(c.Value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.m[k]
	if !ok {
		return nil, false
	}
	if !ss.now().Before(s.expires) {
		delete(ss.m, k)
		return nil, false
	}
	return s, true
}

func (ss *sessions) drop(r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		ss.mu.Lock()
		delete(ss.m, sha256.Sum256([]byte(c.Value)))
		ss.mu.Unlock()
	}
}

// sessionKey is the context key of the request's session.
type sessionKey struct{}

// auth lets requests with a live session through; pages without one go to
// the login form, everything else gets 401.
func (d *Dashboard) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.sessions.get(r)
		if !ok {
			if r.Method == http.MethodGet && r.URL.Path != "/ui/events" {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			d.plain(w, http.StatusUnauthorized, "log in first")
			return
		}
		next.ServeHTTP(w, r.WithContext(withSession(r.Context(), s)))
	})
}

// sameOrigin refuses a request whose Origin (or, failing that,
// Sec-Fetch-Site) names another site.
func sameOrigin(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(o)
		return err == nil && u.Host == r.Host
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// csrf requires the session's CSRF token in the form field "csrf" (or the
// X-CSRF-Token header) and a same-origin request: 403 otherwise.
func (d *Dashboard) csrf(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := sessionOf(r.Context())
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		tok := r.Header.Get("X-CSRF-Token")
		if tok == "" {
			tok = r.PostFormValue("csrf")
		}
		if s == nil || tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(s.csrf)) != 1 || !sameOrigin(r) {
			d.plain(w, http.StatusForbidden, "missing or invalid CSRF token: reload the page and try again")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// safeNext keeps a post-login redirect on the dashboard.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/ui/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n") || strings.HasPrefix(u.Path, "/ui/login") {
		return "/ui/"
	}
	return u.RequestURI()
}

type loginData struct {
	Next  string
	Error string
}

func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := d.sessions.get(r); ok {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	d.render(w, http.StatusOK, "login", loginData{Next: safeNext(r.URL.Query().Get("next"))})
}

// login exchanges an API token for a session cookie.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !sameOrigin(r) {
		d.plain(w, http.StatusForbidden, "cross-site login refused")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	idx := d.tokens.Match(strings.TrimSpace(r.PostFormValue("token")))
	if idx == 0 {
		if !d.sessions.fails.Allow() {
			d.render(w, http.StatusTooManyRequests, "login", loginData{Next: next, Error: "Too many failed logins: wait a few seconds."})
			return
		}
		d.o.Logger.Warn("dashboard: login refused", "remote", r.RemoteAddr)
		d.render(w, http.StatusUnauthorized, "login", loginData{Next: next, Error: "That token was refused."})
		return
	}
	id, _ := d.sessions.create(fmt.Sprintf("token %d", idx))
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: d.o.SecureCookie || r.TLS != nil, MaxAge: int(d.o.SessionTTL / time.Second),
	})
	d.o.Logger.Info("dashboard: login", "by", fmt.Sprintf("token %d", idx), "remote", r.RemoteAddr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	d.sessions.drop(r)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: d.o.SecureCookie || r.TLS != nil, MaxAge: -1})
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// cspReport logs Content-Security-Policy violation reports (no session:
// browsers send them without cookies). Bodies are bounded and kept as
// escaped text.
func (d *Dashboard) cspReport(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 8<<10))
	rep := strings.ToValidUTF8(string(b), "?")
	if d.sessions.reports.Allow() { // anyone can post here: bound the log
		d.o.Logger.Warn("dashboard: CSP violation", "report", rep)
	}
	d.cspMu.Lock()
	if len(d.csp) >= 100 {
		d.csp = d.csp[1:]
	}
	d.csp = append(d.csp, rep)
	d.cspMu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}
