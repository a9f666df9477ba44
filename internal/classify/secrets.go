package classify

import (
	"strconv"
	"strings"
	"time"
)

// secretKind recognises provider key formats and private keys. It returns
// the rule id, a short label for the masked example, the class and the
// length of the known prefix that may be shown.
type secretHit struct {
	rule   string
	label  string
	class  class
	prefix int
	conf   float32
}

func allIn(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func upperDigit(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
func b64urlByte(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }
func b64Byte(c byte) bool    { return isAlnum(c) || c == '+' || c == '/' || c == '=' }

var awsPrefixes = []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ABIA", "ACCA"}

// awsExamples are the access key ids AWS prints in its documentation.
var awsExamples = toSet("AKIAIOSFODNN7EXAMPLE", "AKIAI44QH8DHBEXAMPLE", "AKIAIOSFODNN7EXAMPLF")

func secretKind(s string) (secretHit, bool) {
	n := len(s)
	switch {
	case n == 20 && hasAnyPrefix(s, awsPrefixes) && allIn(s, upperDigit):
		if awsExamples[s] {
			return secretHit{}, false
		}
		return secretHit{"value:aws_access_key_id", "aws key", cAPIKey, 4, 0.95}, true
	case n == 39 && strings.HasPrefix(s, "AIza") && allIn(s[4:], b64urlByte):
		return secretHit{"value:gcp_api_key", "gcp key", cAPIKey, 4, 0.95}, true
	case strings.HasPrefix(s, "xox") && n >= 15 && n <= 255 && len(s) > 4 && strings.IndexByte("abposr", s[3]) >= 0 && s[4] == '-' && allIn(s, func(c byte) bool { return isAlnum(c) || c == '-' }):
		return secretHit{"value:slack_token", "slack token", cAPIKey, 5, 0.95}, true
	case strings.HasPrefix(s, "https://hooks.slack.com/services/T"):
		return secretHit{"value:slack_webhook", "slack webhook", cAPIKey, 0, 0.9}, true
	case n == 40 && len(s) > 4 && (strings.HasPrefix(s, "ghp_") || strings.HasPrefix(s, "gho_") || strings.HasPrefix(s, "ghu_") || strings.HasPrefix(s, "ghs_") || strings.HasPrefix(s, "ghr_")) && allIn(s[4:], isAlnum):
		return secretHit{"value:github_token", "github token", cAPIKey, 4, 0.95}, true
	case strings.HasPrefix(s, "github_pat_") && n >= 70 && allIn(s, b64urlByte):
		return secretHit{"value:github_pat", "github token", cAPIKey, 11, 0.95}, true
	case (strings.HasPrefix(s, "sk_live_") || strings.HasPrefix(s, "rk_live_")) && n >= 20 && allIn(s[8:], isAlnum):
		return secretHit{"value:stripe_live_key", "stripe live key", cAPIKey, 8, 0.95}, true
	case (strings.HasPrefix(s, "sk_test_") || strings.HasPrefix(s, "rk_test_")) && n >= 20 && allIn(s[8:], isAlnum):
		return secretHit{"value:stripe_test_key", "stripe test key", cAPIKey, 8, 0.7}, true
	case strings.HasPrefix(s, "glpat-") && n >= 26 && allIn(s[6:], b64urlByte):
		return secretHit{"value:gitlab_pat", "gitlab token", cAPIKey, 6, 0.95}, true
	case strings.HasPrefix(s, "npm_") && n == 40 && allIn(s[4:], isAlnum):
		return secretHit{"value:npm_token", "npm token", cAPIKey, 4, 0.9}, true
	case strings.HasPrefix(s, "SG.") && n == 69 && s[25] == '.' && allIn(s[3:25], b64urlByte) && allIn(s[26:], b64urlByte):
		return secretHit{"value:sendgrid_key", "sendgrid key", cAPIKey, 3, 0.95}, true
	case (strings.HasPrefix(s, "sk-proj-") || strings.HasPrefix(s, "sk-ant-")) && n >= 40 && allIn(s, b64urlByte):
		return secretHit{"value:ai_provider_key", "ai provider key", cAPIKey, 7, 0.95}, true
	case strings.HasPrefix(s, "ya29.") && n >= 40 && allIn(s[5:], func(c byte) bool { return b64urlByte(c) || c == '.' }):
		return secretHit{"value:google_oauth_token", "google oauth", cAuthToken, 5, 0.9}, true
	case strings.Contains(s, "AccountKey=") && strings.Contains(s, "AccountName="):
		return secretHit{"value:azure_storage_connection_string", "azure storage key", cAPIKey, 0, 0.95}, true
	case strings.HasPrefix(s, "-----BEGIN") && strings.Contains(s[:min(n, 64)], "PRIVATE KEY-----"):
		return secretHit{"value:pem_private_key", "private key", cAPIKey, 0, 0.99}, true
	}
	return providerKey(s)
}

func hasAnyPrefix(s string, ps []string) bool {
	for _, p := range ps {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// azureKeyShape: an Azure storage account key is 64 random bytes, base64
// (88 chars ending "=="). Only counted with a key-ish field name.
func azureKeyShape(s string) bool {
	return len(s) == 88 && strings.HasSuffix(s, "==") && allIn(s, b64Byte)
}

// opaqueToken reports whether s looks like a random credential: 16–4096
// bytes of token alphabet (base64/base64url/hex and a few separators), no
// spaces, mixing digits and letters or long enough to be random.
// tokenTab classes the bytes of an opaque token (0: not allowed).
const (
	tokDigit = 1 + iota
	tokLower
	tokUpper
	tokPunct
)

var tokenTab = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = tokDigit
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = tokLower
		t[c-'a'+'A'] = tokUpper
	}
	for _, c := range "-_.+/=~:%" {
		t[c] = tokPunct
	}
	return
}()

func opaqueToken(s string) bool {
	if len(s) < 16 || len(s) > 4096 {
		return false
	}
	var n [5]int // by tokenTab class
	for i := 0; i < len(s); i++ {
		k := tokenTab[s[i]]
		if k == 0 {
			return false
		}
		n[k]++
	}
	digits, upper := n[tokDigit], n[tokUpper]
	letters := n[tokLower] + upper
	if letters == 0 {
		return len(s) >= 20 && digits >= 20
	}
	return digits > 0 || upper > 0 && upper < letters || len(s) >= 24
}

// parseDate recognises the usual date spellings (ISO, European dotted and
// slashed, US slashed, compact YYYYMMDD, and ISO timestamps) and returns
// the year. Dates in the future or before 1900 are rejected.
func parseDate(s string, now time.Time) (int, bool) {
	if len(s) > 35 || len(s) < 8 {
		return 0, false
	}
	if t := strings.IndexByte(s, 'T'); t == 10 {
		s = s[:10]
	} else if sp := strings.IndexByte(s, ' '); sp == 10 {
		s = s[:10]
	}
	var y, m, d int
	num := func(a string) int {
		v, err := strconv.Atoi(a)
		if err != nil {
			return -1
		}
		return v
	}
	switch {
	case len(s) == 10 && (s[4] == '-' || s[4] == '/' || s[4] == '.') && s[7] == s[4]:
		y, m, d = num(s[:4]), num(s[5:7]), num(s[8:10])
	case len(s) == 10 && (s[2] == '.' || s[2] == '/' || s[2] == '-') && s[5] == s[2]:
		a, b := num(s[:2]), num(s[3:5])
		y = num(s[6:10])
		if s[2] == '/' && a <= 12 && b > 12 {
			m, d = a, b // US
		} else {
			d, m = a, b
			if m > 12 && d <= 12 {
				d, m = m, d
			}
		}
	case len(s) == 8 && isDigits(s):
		y, m, d = num(s[:4]), num(s[4:6]), num(s[6:8])
	default:
		return 0, false
	}
	if !pastDate(y, m, d, now) {
		return 0, false
	}
	return y, true
}

// pastDate: y-m-d is a date from 1900 up to now.
func pastDate(y, m, d int, now time.Time) bool {
	if y < 1900 || y > now.Year() || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	return !time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).After(now)
}

// latLonPair parses "lat,lon" / "lat, lon" / "POINT (lon lat)" with both
// parts in range and at least one decimal place (whole numbers are rarely
// coordinates).
func latLonPair(s string) bool {
	t := s
	if strings.HasPrefix(t, "POINT") {
		t = strings.TrimSpace(strings.TrimPrefix(t, "POINT"))
		if len(t) < 5 || t[0] != '(' || t[len(t)-1] != ')' {
			return false
		}
		t = strings.TrimSpace(t[1 : len(t)-1])
		sp := strings.IndexByte(t, ' ')
		if sp < 0 {
			return false
		}
		lon, ok1 := coord(t[:sp], 180)
		lat, ok2 := coord(strings.TrimSpace(t[sp+1:]), 90)
		return ok1 && ok2 && (lon != 0 || lat != 0)
	}
	t = strings.TrimPrefix(strings.TrimSuffix(t, "]"), "[")
	c := strings.IndexByte(t, ',')
	if c < 0 || strings.Count(t, ",") != 1 {
		return false
	}
	a, b := strings.TrimSpace(t[:c]), strings.TrimSpace(t[c+1:])
	if !strings.Contains(a, ".") || !strings.Contains(b, ".") {
		return false
	}
	lat, ok1 := coord(a, 90)
	lon, ok2 := coord(b, 180)
	if !ok1 || !ok2 {
		// [lon, lat] order (GeoJSON, ES arrays)
		lon, ok1 = coord(a, 180)
		lat, ok2 = coord(b, 90)
	}
	return ok1 && ok2 && (lon != 0 || lat != 0)
}

func coord(s string, limit float64) (float64, bool) {
	if s == "" || len(s) > 24 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+') {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < -limit || v > limit {
		return 0, false
	}
	return v, true
}
