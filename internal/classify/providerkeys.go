package classify

import "strings"

// Provider key formats beyond secretKind's first table, from the providers'
// own documentation of their token prefixes (and the public secret-scanning
// rule sets that list them): a fixed prefix, then a body of a known
// alphabet and length range. Each is a cloud or provider credential
// (api_key) except the Facebook user access token, an OAuth bearer token
// (auth_token).

type providerFormat struct {
	prefix     string
	min, max   int // length of the body after the prefix
	alpha      func(byte) bool
	label      string
	class      class
	showPrefix bool
}

func hexLower(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
func alnumDot(c byte) bool { return isAlnum(c) || c == '.' }
func b64urlDot(c byte) bool {
	return b64urlByte(c) || c == '.'
}
func base32Upper(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '2' && c <= '7' }
func azureSecretByte(c byte) bool {
	return isAlnum(c) || c == '_' || c == '.' || c == '-' || c == '~'
}

// providerFormats is looked up by the value's first byte.
var providerFormats = func() (t [256][]providerFormat) {
	for _, f := range []providerFormat{
		{"shpat_", 32, 32, hexLower, "shopify token", cAPIKey, true},
		{"shpss_", 32, 32, hexLower, "shopify secret", cAPIKey, true},
		{"shpca_", 32, 32, hexLower, "shopify token", cAPIKey, true},
		{"shppa_", 32, 32, hexLower, "shopify token", cAPIKey, true},
		{"hf_", 30, 40, isAlnum, "hugging face token", cAPIKey, true},
		{"dop_v1_", 64, 64, hexLower, "digitalocean token", cAPIKey, true},
		{"doo_v1_", 64, 64, hexLower, "digitalocean token", cAPIKey, true},
		{"dor_v1_", 64, 64, hexLower, "digitalocean token", cAPIKey, true},
		{"glsa_", 32, 48, b64urlByte, "grafana token", cAPIKey, true},
		{"glc_", 32, 400, b64Byte, "grafana token", cAPIKey, true},
		{"xkeysib-", 70, 90, b64urlByte, "brevo key", cAPIKey, true},
		{"xsmtpsib-", 70, 90, b64urlByte, "brevo key", cAPIKey, true},
		{"key-", 32, 32, hexLower, "mailgun key", cAPIKey, true},
		{"pypi-AgEIcHlwaS5vcmc", 50, 300, b64urlByte, "pypi token", cAPIKey, true},
		{"PMAK-", 59, 59, func(c byte) bool { return hexLower(c) || c == '-' }, "postman key", cAPIKey, true},
		{"dp.pt.", 40, 50, isAlnum, "doppler token", cAPIKey, true},
		{"dp.st.", 40, 80, func(c byte) bool { return isAlnum(c) || c == '_' || c == '.' }, "doppler token", cAPIKey, true},
		{"hvs.", 24, 200, b64urlByte, "vault token", cAPIKey, true},
		{"hvb.", 24, 200, b64urlByte, "vault token", cAPIKey, true},
		{"lin_api_", 40, 40, isAlnum, "linear key", cAPIKey, true},
		{"ntn_", 40, 50, isAlnum, "notion token", cAPIKey, true},
		{"sk-svcacct-", 40, 200, b64urlByte, "ai provider key", cAPIKey, true},
		{"sk-admin-", 40, 200, b64urlByte, "ai provider key", cAPIKey, true},
		{"gsk_", 48, 56, isAlnum, "groq key", cAPIKey, true},
		{"r8_", 37, 40, isAlnum, "replicate token", cAPIKey, true},
		{"GOCSPX-", 28, 28, b64urlByte, "google client secret", cAPIKey, true},
		{"dapi", 32, 34, func(c byte) bool { return hexLower(c) || c == '-' }, "databricks token", cAPIKey, true},
		{"NRAK-", 27, 27, upperDigit, "new relic key", cAPIKey, true},
		{"NRII-", 32, 32, b64urlByte, "new relic key", cAPIKey, true},
		{"ATATT3", 150, 260, func(c byte) bool { return b64urlByte(c) || c == '=' }, "atlassian token", cAPIKey, true},
		{"CFPAT-", 43, 43, b64urlByte, "contentful token", cAPIKey, true},
		{"figd_", 40, 45, b64urlByte, "figma token", cAPIKey, true},
		{"sntrys_", 50, 200, b64Byte, "sentry token", cAPIKey, true},
		{"sntryu_", 64, 64, hexLower, "sentry token", cAPIKey, true},
		{"pul-", 40, 40, hexLower, "pulumi token", cAPIKey, true},
		{"bkua_", 40, 40, hexLower, "buildkite token", cAPIKey, true},
		{"whsec_", 24, 64, b64Byte, "webhook secret", cAPIKey, true},
		{"AGE-SECRET-KEY-1", 58, 58, base32Upper, "age key", cAPIKey, false},
		{"sbp_", 40, 40, hexLower, "supabase token", cAPIKey, true},
		{"nfp_", 36, 40, isAlnum, "netlify token", cAPIKey, true},
		{"pscale_tkn_", 32, 64, b64urlByte, "planetscale token", cAPIKey, true},
		{"pscale_pw_", 32, 64, b64urlByte, "planetscale password", cAPIKey, true},
		{"dt0c01.", 24 + 1 + 64, 24 + 1 + 64, alnumDot, "dynatrace token", cAPIKey, true},
		{"LTAI", 12, 30, isAlnum, "alibaba key", cAPIKey, true},
		{"AKID", 32, 32, isAlnum, "tencent key", cAPIKey, true},
		{"sq0atp-", 22, 22, b64urlByte, "square token", cAPIKey, true},
		{"sq0csp-", 43, 43, b64urlByte, "square secret", cAPIKey, true},
		{"EAAA", 60, 60, b64urlByte, "square token", cAPIKey, true},
		{"EAA", 90, 400, isAlnum, "facebook token", cAuthToken, true},
		{"glptt-", 40, 40, hexLower, "gitlab token", cAPIKey, true},
		{"gldt-", 20, 20, b64urlByte, "gitlab token", cAPIKey, true},
		{"tfp_", 40, 60, b64urlByte, "typeform token", cAPIKey, true},
		{"dckr_pat_", 27, 27, b64urlByte, "docker token", cAPIKey, true},
		{"rubygems_", 48, 48, hexLower, "rubygems key", cAPIKey, true},
		{"oy2", 43, 43, func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }, "nuget key", cAPIKey, true},
	} {
		t[f.prefix[0]] = append(t[f.prefix[0]], f)
	}
	return
}()

// providerKeyWords are the lower-cased prefixes for the value keyword
// pre-filter (kgSecret): a value holding none of them skips the lookup.
var providerKeyWords = []string{"shpat_", "shpss_", "shpca_", "shppa_", "hf_", "dop_v1_", "doo_v1_", "dor_v1_",
	"glsa_", "glc_", "xkeysib-", "xsmtpsib-", "key-", "pypi-ageichlwas5vcmc", "pmak-", "dp.pt.", "dp.st.", "hvs.",
	"hvb.", "lin_api_", "ntn_", "t3blbkfj", "sk-svcacct-", "sk-admin-", "gsk_", "r8_", "gocspx-", "dapi",
	"nrak-", "nrii-", "atatt3", "cfpat-", "figd_", "sntrys_", "sntryu_", "pul-", "bkua_", "whsec_",
	"age-secret-key-1", "sbp_", "nfp_", "pscale_", "dt0c01.", "ltai", "akid", "sq0atp-", "sq0csp-", "eaa",
	"glptt-", "gldt-", "tfp_", "dckr_pat_", "rubygems_", "oy2", "q~"}

// providerKey recognises the formats of providerFormats, OpenAI's legacy
// keys (sk-…T3BlbkFJ…) and Azure AD client secrets (three characters, a
// digit, "Q~", the rest).
func providerKey(s string) (secretHit, bool) {
	n := len(s)
	if n < 16 || n > 512 {
		return secretHit{}, false
	}
	for _, f := range providerFormats[s[0]] {
		if !strings.HasPrefix(s, f.prefix) {
			continue
		}
		body := s[len(f.prefix):]
		if len(body) < f.min || len(body) > f.max || !allIn(body, f.alpha) || !mixedBody(body) {
			continue
		}
		p := 0
		if f.showPrefix {
			p = len(f.prefix)
		}
		return secretHit{"value:" + strings.ReplaceAll(f.label, " ", "_"), f.label, f.class, p, 0.9}, true
	}
	switch {
	case strings.HasPrefix(s, "sk-") && n >= 40 && n <= 220 && strings.Contains(s, "T3BlbkFJ") && allIn(s[3:], b64urlByte):
		return secretHit{"value:ai_provider_key", "ai provider key", cAPIKey, 3, 0.95}, true
	case n >= 38 && n <= 48 && s[5] == '~' && s[4] == 'Q' && s[3] >= '0' && s[3] <= '9' && allIn(s, azureSecretByte) && mixedBody(s):
		return secretHit{"value:azure_client_secret", "azure client secret", cAPIKey, 0, 0.9}, true
	}
	return secretHit{}, false
}

// providerSecret: a provider key of any of the tables (prefixed or by
// shape) that is no fill-in.
func providerSecret(v string) (secretHit, bool) {
	h, ok := secretKind(v)
	if !ok {
		h, ok = shapedKey(v)
	}
	return h, ok && !fillInKey(v)
}

// mixedBody: a random body mixes digits and letters, or upper and lower
// case in a long body (a run of one
// character or a word is a fill-in: sk_test_XXXXXXXX, key-xxxxxxxx…).
func mixedBody(b string) bool {
	var digits, upper, lower int
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= 'a' && c <= 'z':
			lower++
		}
	}
	return (digits > 0 && upper+lower > 0 || upper > 0 && lower > 0 && len(b) >= 20) && !maskRun(b)
}

// shapedKey recognises provider keys without a distinctive prefix by
// their exact shape: Mailchimp (32 hex, "-us", data-centre number),
// Twilio API key SIDs ("SK" + 32 hex) and Telegram bot tokens
// (bot id ":" 35 base64url characters).
func shapedKey(s string) (secretHit, bool) {
	n := len(s)
	switch {
	case n >= 36 && n <= 37 && s[32] == '-' && s[33] == 'u' && s[34] == 's' && allIn(s[:32], hexLower) && isDigits(s[35:]) && mixedBody(s[:32]):
		return secretHit{"value:mailchimp_key", "mailchimp key", cAPIKey, 0, 0.9}, true
	case n == 34 && s[0] == 'S' && s[1] == 'K' && allIn(s[2:], hexLower) && mixedBody(s[2:]):
		return secretHit{"value:twilio_key", "twilio key", cAPIKey, 2, 0.85}, true
	case n >= 44 && n <= 47:
		c := strings.IndexByte(s, ':')
		if c >= 8 && c <= 10 && n-c-1 == 35 && isDigits(s[:c]) && s[c+1] == 'A' && allIn(s[c+1:], b64urlByte) && mixedBody(s[c+1:]) {
			return secretHit{"value:telegram_bot_token", "telegram bot token", cAPIKey, 0, 0.9}, true
		}
	}
	return secretHit{}, false
}
