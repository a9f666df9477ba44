package classify

import (
	"strings"
	"unsafe"
)

// placeholderSecret reports values that stand where a credential would go
// but are none: variable and template references ($DB_PASSWORD, ${X},
// {{ .Password }}, %(password)s, <password>, %PASSWORD%), environment
// variable names (DB_PASSWORD, YOUR_API_KEY), fill-in words (changeme,
// your-token-here, replace_me), masks and runs (********, xxxxxxxx-xxxx-…,
// 0000…, 1234567890abcdef…). It applies to credential values found by a
// key, a URL or a header, whatever their length.
func placeholderSecret(v string) bool {
	return placeholderCheck(v, true)
}

// fillInKey reports a key-shaped value that is a fill-in: a reference or
// template, an environment variable's name, a fill-in word, a mask or a
// run of one character — placeholderSecret without its counting-run test,
// which documentation keys such as ghp_aBcDeF…0123456789 fail while a real
// key's random body never holds a long x or * run.
func fillInKey(v string) bool {
	return placeholderCheck(v, false)
}

// placeholderCheck is placeholderSecret, with the counting-run test when
// seq is set. It lower-cases short values on the stack and looks for the
// template markers only in values that hold one of their bytes.
func placeholderCheck(v string, seq bool) bool {
	n := len(v)
	if n == 0 {
		return true
	}
	switch c := v[0]; {
	case c == '$' && n > 1 && (credLetter(v[1]) || v[1] == '{' || v[1] == '(' || v[1] == '_'):
		return true // $VAR, ${VAR}, $(cmd)
	case c == '<' || c == '[' && v[n-1] == ']' || c == '%' && v[n-1] == '%' && n > 2:
		return true // <password>, [PASSWORD], %PASSWORD%
	case c == '!' || c == '&' || c == '*' && n > 1 && credLetter(v[1]):
		return true // YAML tags (!vault, !Ref), anchors and aliases
	}
	upper, marker := false, false
	for i := 0; i < n; i++ {
		switch c := v[i]; {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c == '$' || c == '{' || c == '}' || c == '%' || c == '#' || c == '<':
			marker = true // every template marker below holds one of these
		}
	}
	if marker && (strings.Contains(v, "${") || strings.Contains(v, "{{") || strings.Contains(v, "}}") ||
		strings.Contains(v, "%(") || strings.Contains(v, "#{") || strings.Contains(v, "<%") ||
		strings.Contains(v, "{%")) {
		return true
	}
	if upper && envVarName(v) {
		return true
	}
	if placeholderWordIn(v) || maskRun(v) {
		return true
	}
	if !upper {
		_, whole := placeholderWhole[v]
		return whole || seq && sequential(v)
	}
	if n > placeholderWholeMax && !seq {
		return false
	}
	lo := v
	var buf [256]byte
	if n <= len(buf) {
		b := appendLower(buf[:0], v)
		lo = unsafe.String(&b[0], len(b))
	} else {
		lo = lowerASCII(v)
	}
	_, whole := placeholderWhole[lo]
	return whole || seq && sequential(lo)
}

// placeholderWords mark fill-in values wherever they stand in the value.
var placeholderWords = []string{
	"changeme", "change_me", "change-me", "changethis", "change_this", "change-this",
	"replace_me", "replace-me", "replaceme", "replace_with", "replace-with", "replacewith",
	"your_", "your-", "yourpassword", "yoursecret", "yourtoken", "yourkey", "yourapikey",
	"placeholder", "_here", "-here", "fixme", "todo_", "insert_", "insert-", "put_your", "put-your",
	"enter_", "enter-", "<", ">", "example", "dummy", "redacted", "not_a_real", "not-a-real",
	"notareal", "fake_", "fake-", "sample_", "sample-", "xxxx", "****", "••", "...",
}

// placeholderPairs marks the first two bytes of every placeholder word of
// two bytes or more: a value without such a pair (and without '<' or '>',
// the one-byte words) holds none of them.
var placeholderPairs = func() (t [1 << 16 / 64]uint64) {
	for _, w := range placeholderWords {
		if len(w) >= 2 {
			k := int(w[0])<<8 | int(w[1])
			t[k>>6] |= 1 << (k & 63)
		}
	}
	return
}()

// placeholderByPair lists the placeholder words of two bytes or more by
// their first two bytes.
var placeholderByPair = func() map[uint16][]string {
	m := map[uint16][]string{}
	for _, w := range placeholderWords {
		if len(w) >= 2 {
			k := uint16(w[0])<<8 | uint16(w[1])
			m[k] = append(m[k], w)
		}
	}
	return m
}()

// placeholderWordIn reports whether v, lower-cased, holds one of
// placeholderWords (as strings.Contains would for each): at each position
// whose two bytes start some word, only those words are compared (ASCII
// case folded; the words are lower case).
func placeholderWordIn(v string) bool {
	for i := 0; i+1 < len(v); i++ {
		k := int(lowerTab[v[i]])<<8 | int(lowerTab[v[i+1]])
		if placeholderPairs[k>>6]&(1<<(k&63)) == 0 {
			continue
		}
		for _, w := range placeholderByPair[uint16(k)] {
			if hasPrefixLower(v[i:], w) {
				return true
			}
		}
	}
	for _, w := range placeholderWords {
		if len(w) < 2 && strings.Contains(v, w) {
			return true
		}
	}
	return false
}

// hasPrefixLower: s lower-cased (ASCII) starts with the lower-case w.
func hasPrefixLower(s, w string) bool {
	if len(s) < len(w) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if lowerTab[s[i]] != w[i] {
			return false
		}
	}
	return true
}

// placeholderWholeMax is the longest placeholderWhole entry: a longer
// value is none of them.
var placeholderWholeMax = func() (n int) {
	for w := range placeholderWhole {
		n = max(n, len(w))
	}
	return n
}()

// placeholderWhole are fill-in values as a whole (after lower-casing).
var placeholderWhole = toSet(
	"password", "passwd", "pass", "pwd", "passw0rd", "p@ssw0rd", "p@ssword", "mypassword", "my_password",
	"my-password", "mysecret", "my_secret", "token", "mytoken", "my_token", "apikey", "api_key", "key",
	"secretkey", "secret_key", "secret-key", "accesskey", "access_key", "username", "user", "foo", "bar",
	"foobar", "baz", "test", "testing", "test123", "password1", "password123", "string", "str", "required",
	"optional", "none", "nil", "null", "undefined", "false", "true", "env", "environ", "value", "values",
	"abc", "abc123", "abcdef", "qwerty", "demo", "sample", "default", "hidden",
	"censored", "omitted", "private", "confidential", "sensitive", "encrypted", "hash", "bearer", "basic",
	"token_here", "secret_here", "api_key_here", "your_token", "xxx", "tbd", "n/a",
)

// envVarName: upper-case words joined by underscores (DB_PASSWORD,
// YOUR_API_KEY), the name of a variable rather than its value. Provider
// keys and random tokens mix digits in or have no underscore.
func envVarName(v string) bool {
	if len(v) < 4 || strings.IndexByte(v, '_') < 0 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// maskRun: one character repeated, or x/X/* with separators
// (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, ****-****).
func maskRun(lo string) bool { // (ASCII case folded)
	var first byte
	n := 0
	for i := 0; i < len(lo); i++ {
		c := lo[i]
		if c == '-' || c == '_' || c == '.' || c == ' ' || c == ':' {
			continue
		}
		c = lowerTab[c]
		if n == 0 {
			first = c
		} else if c != first {
			return false
		}
		n++
	}
	return n >= 3 && (n >= 6 || first == 'x' || first == '*')
}

// sequential: mostly counting runs (0123456789, 1234567890abcdef…,
// abcdefgh…), the filler of documentation and tests.
func sequential(lo string) bool {
	if len(lo) < 8 {
		return false
	}
	seq, pairs := 0, 0
	for i := 1; i < len(lo); i++ {
		a, b := lo[i-1], lo[i]
		if !isAlnum(a) || !isAlnum(b) {
			continue
		}
		pairs++
		if b == a+1 || a == '9' && (b == '0' || b == 'a') || a == 'z' && b == '0' || a == '0' && b == 'a' {
			seq++
		}
	}
	return pairs >= 7 && seq*10 >= pairs*7
}

// codeReference reports a value that is an expression of some program
// rather than a literal: auth.pass, self.password, process.env.DB_PASS,
// getPassword(), os.environ['X'], params[:password], :password, a type
// name, a bare lower-case word of prose.
func codeReference(v string, text bool) bool {
	n := len(v)
	if n == 0 {
		return true
	}
	if v[n-1] == ')' && strings.IndexByte(v, '(') > 0 || strings.Contains(v, "['") || strings.Contains(v, "[\"") ||
		strings.Contains(v, "[:") || strings.Contains(v, "->") || strings.Contains(v, "::") || v[0] == ':' && n > 1 && credLetter(v[1]) {
		return true
	}
	if callOrIndex(v) || filePath(v) {
		return true
	}
	if _, ok := typeWords[lowerASCII(v)]; ok {
		return true
	}
	if dottedIdentifier(v) {
		return true
	}
	// In prose a short lower-case word after "password:" is a word, not a
	// password ("the password: see the vault").
	if text && n <= 6 {
		for i := 0; i < n; i++ {
			if v[i] < 'a' || v[i] > 'z' {
				return false
			}
		}
		return true
	}
	return false
}

var typeWords = toSet("str", "string", "int", "integer", "bool", "boolean", "bytes", "byte", "char", "text",
	"varchar", "dict", "list", "any", "object", "optional", "required", "secretstr", "secret_str", "password",
	"passwordfield", "charfield", "textfield", "field", "column", "self", "this", "params", "param", "args",
	"kwargs", "input", "prompt", "getpass", "the", "your", "our", "their", "his", "her", "its", "a", "an",
	"is", "was", "will", "must", "should", "can", "not", "and", "or", "for", "from", "with", "see")

// dottedIdentifier: identifiers joined by dots (auth.pass,
// config.db.password, this.props.token), each starting with a letter, "_"
// or "$" — a member access, not a secret.
func dottedIdentifier(v string) bool {
	if strings.IndexByte(v, '.') <= 0 {
		return false
	}
	start := true
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.':
			if start {
				return false
			}
			start = true
		case start:
			if !(credLetter(c) || c == '_' || c == '$') {
				return false
			}
			start = false
		case !(isAlnum(c) || c == '_' || c == '$'):
			return false
		}
	}
	return !start
}

func credLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// callOrIndex: an identifier (or a dotted chain of them) followed by a call
// or an index: getpass.getpass(), env('X'), os.environ['X'],
// request.form["password"].
func callOrIndex(v string) bool {
	if !(credLetter(v[0]) || v[0] == '_' || v[0] == '$') {
		return false
	}
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '(' || c == '[':
			return true
		case !(isAlnum(c) || c == '_' || c == '$' || c == '.'):
			return false
		}
	}
	return false
}

// filePath: an absolute or home-relative path (/run/secrets/db_password,
// ~/.pgpass): where a secret is kept, not the secret.
func filePath(v string) bool {
	if strings.HasPrefix(v, "~/") || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "../") {
		return true
	}
	if len(v) < 2 || v[0] != '/' || strings.IndexByte(v[1:], '/') <= 0 || strings.ContainsAny(v, "+=") {
		return false // base64 keys may start with "/" too; they carry "+" or "=" or long runs
	}
	for _, seg := range strings.Split(v[1:], "/") {
		if len(seg) > 40 {
			return false
		}
	}
	return true
}
