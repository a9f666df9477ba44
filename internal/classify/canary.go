package classify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Canary records
//
// A canary is a value that looks ordinary ("anna.k7x2qpm3d9ab@example.com",
// "anna_k7x2qpm3d9ab", a 40-character token) and that a team plants in a
// production table. When a scan samples it from some other store, that
// store holds a copy of the production data.
//
// Every canary carries a 12-character code = tag ‖ check:
//   - tag   = base36(HMAC(key, "lw-canary-label|"+label))[:6] names the label;
//   - check = base36(HMAC(key, "lw-canary/v1|"+kind+"|"+body+"|"+tag))[:6]
//     binds the code to the ordinary-looking part (body) and the kind.
//
// The check makes a value recognisable from the installation key alone
// (about 2^31 to one against a random look-alike; tokens carry a 12-char
// base62 check, about 2^71): the engine needs no list of planted values.
// (Token-shaped canaries are checked only when their tag names a
// registered label: 40-character tokens and hex digests are too common to
// pay an HMAC each.)
// The registry therefore stores only kinds and labels, which are not
// secret; values are re-derived from key+kind+label when listed. A valid
// canary whose tag matches no registered label is still reported, as
// "unregistered:<tag>", so losing the registry loses names, not detection.

// Canary kinds.
const (
	CanaryEmail     = "email"
	CanaryUsername  = "username"
	CanaryAuthToken = "auth_token"
	CanaryAPIKey    = "api_key"
)

// CanaryKinds lists the kinds MintCanary accepts.
var CanaryKinds = []string{CanaryEmail, CanaryUsername, CanaryAuthToken, CanaryAPIKey}

// Canary is one registered canary. Value is filled by Registry.List (and
// never written to the registry file).
type Canary struct {
	Kind    string    `json:"kind"`
	Label   string    `json:"label"`
	Domain  string    `json:"domain,omitempty"`
	Created time.Time `json:"created"`
	Value   string    `json:"-"`
}

const (
	b36 = "abcdefghijklmnopqrstuvwxyz0123456789"
	b62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

var canaryNames = []string{
	"anna", "ben", "clara", "david", "elena", "felix", "greta", "hugo", "ines", "jonas",
	"karla", "leo", "mia", "nils", "olga", "paul", "rosa", "sam", "tina", "umar",
	"vera", "will", "xenia", "yusuf", "zoe", "maria", "john", "lena", "omar", "sara", "ivan", "nora",
}

func hmacSum(key []byte, parts ...string) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return h.Sum(nil)
}

func encode(sum []byte, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[int(sum[i])%len(alphabet)]
	}
	return string(b)
}

// canaryTag names a label inside canary values.
func canaryTag(key []byte, label string) string {
	return encode(hmacSum(key, "lw-canary-label|", label), b36, 6)
}

func canaryCheck(key []byte, kind, body, tag string, alphabet string, n int) string {
	return encode(hmacSum(key, "lw-canary/v1|", kind, "|", body, "|", tag), alphabet, n)
}

// MintCanary derives the canary value of a kind for a label. The same key,
// kind and label always give the same value. Emails use example.com; see
// MintCanaryDomain to choose the domain.
func MintCanary(key []byte, kind, label string) (string, error) {
	return MintCanaryDomain(key, kind, label, "")
}

// MintCanaryDomain is MintCanary with the email domain chosen (a domain
// the organisation owns, so mail to the canary bounces or is caught).
func MintCanaryDomain(key []byte, kind, label, domain string) (string, error) {
	if len(key) < 16 {
		return "", errors.New("classify: canary key must be at least 16 bytes")
	}
	if strings.TrimSpace(label) == "" {
		return "", errors.New("classify: canary label is empty")
	}
	if domain == "" {
		domain = "example.com"
	}
	domain = strings.ToLower(domain)
	if !domainOK(domain) {
		return "", fmt.Errorf("classify: canary domain %q is not a valid domain", domain)
	}
	tag := canaryTag(key, label)
	seed := hmacSum(key, "lw-canary-body|", kind, "|", label)
	name := canaryNames[int(seed[0])%len(canaryNames)]
	switch kind {
	case CanaryEmail:
		return name + "." + tag + canaryCheck(key, kind, name, tag, b36, 6) + "@" + domain, nil
	case CanaryUsername:
		return name + "_" + tag + canaryCheck(key, kind, name, tag, b36, 6), nil
	case CanaryAuthToken:
		body := tag + encode(seed[1:], b62, 22)
		return body + canaryCheck(key, kind, body, "", b62, 12), nil
	case CanaryAPIKey:
		body := tag + encode(seed[1:], b62, 22)
		return "key_" + body + canaryCheck(key, kind, body, "", b62, 12), nil
	}
	return "", fmt.Errorf("classify: unknown canary kind %q (want one of %s)", kind, strings.Join(CanaryKinds, ", "))
}

// canaryIn returns the label of a canary in v (whole value or a word of
// free text), "" when none. Cheap shape tests come first; only candidates
// pay for an HMAC.
func (e *RuleClassifier) canaryIn(v string, space bool) string {
	if len(v) < 16 {
		return ""
	}
	if len(v) > 64 || space {
		// Email and username canaries in free text: look around each '@'
		// and '_'. Token canaries only when token labels are registered.
		for off := 0; off < len(v); {
			k := strings.IndexAny(v[off:], "@_")
			if k < 0 {
				break
			}
			k += off
			i, j := k, k
			for i > 0 && !isTextSep(v[i-1]) {
				i--
			}
			for j < len(v) && !isTextSep(v[j]) {
				j++
			}
			if j-i >= 16 && j-i <= 64 {
				if l := e.canaryWord(trimWord(v[i:j])); l != "" {
					return l
				}
			}
			off = j + 1
		}
		if e.tokenCanaries {
			for i := 0; i < len(v); {
				for i < len(v) && isTextSep(v[i]) {
					i++
				}
				j := i
				for j < len(v) && !isTextSep(v[j]) {
					j++
				}
				if n := len(trimWord(v[i:j])); n == 40 || n == 44 {
					if l := e.canaryWord(trimWord(v[i:j])); l != "" {
						return l
					}
				}
				i = j
			}
		}
		return ""
	}
	return e.canaryWord(v)
}

func (e *RuleClassifier) canaryWord(v string) string {
	n := len(v)
	if n < 16 || n > 64 {
		return ""
	}
	if at := strings.IndexByte(v, '@'); at > 0 {
		local := v[:at]
		dot := strings.LastIndexByte(local, '.')
		if dot > 0 && len(local)-dot-1 == 12 {
			return e.canaryCode(CanaryEmail, local[:dot], local[dot+1:])
		}
		return ""
	}
	if us := strings.LastIndexByte(v, '_'); us > 0 && n-us-1 == 12 && !strings.HasPrefix(v, "key_") {
		return e.canaryCode(CanaryUsername, v[:us], v[us+1:])
	}
	if n == 40 && allIn(v, isAlnum) {
		return e.canaryToken(CanaryAuthToken, v)
	}
	if n == 44 && strings.HasPrefix(v, "key_") && allIn(v[4:], isAlnum) {
		return e.canaryToken(CanaryAPIKey, v[4:])
	}
	return ""
}

func (e *RuleClassifier) canaryCode(kind, body, code string) string {
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	tag := code[:6]
	var buf [32]byte
	sum := e.mac(buf[:0], "lw-canary/v1|", kind, "|", body, "|", tag)
	for i := 0; i < 6; i++ {
		if code[6+i] != b36[int(sum[i])%len(b36)] {
			return ""
		}
	}
	return e.canaryLabel(tag)
}

func (e *RuleClassifier) canaryToken(kind, v string) string {
	body := v[:28]
	// 40-character tokens and hex digests are common: only those whose
	// tag names a registered label pay for the HMAC (token canaries are
	// recognised for registered labels only).
	if _, ok := e.canaryTags[strings.ToLower(body[:6])]; !ok {
		return ""
	}
	var buf [32]byte
	sum := e.mac(buf[:0], "lw-canary/v1|", kind, "|", body, "|", "")
	for i := 0; i < 12; i++ {
		if v[28+i] != b62[int(sum[i])%len(b62)] {
			return ""
		}
	}
	return e.canaryLabel(strings.ToLower(body[:6]))
}

func (e *RuleClassifier) canaryLabel(tag string) string {
	if l, ok := e.canaryTags[tag]; ok {
		return l
	}
	return "unregistered:" + tag
}

// Registry is the list of planted canaries, kept in a small JSON file.
type Registry struct {
	Version  int      `json:"version"`
	Canaries []Canary `json:"canaries"`
}

// LoadRegistry reads a registry file; a missing file is an empty registry.
func LoadRegistry(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Registry{Version: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("classify: read canary registry: %w", err)
	}
	var r Registry
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("classify: parse canary registry %s: %w", path, err)
	}
	if r.Version == 0 {
		r.Version = 1
	}
	return &r, nil
}

// Save writes the registry (0600, atomically via a temp file).
func (r *Registry) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("classify: create registry dir: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("classify: write canary registry: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("classify: write canary registry: %w", err)
	}
	return nil
}

// Add mints a canary, records its kind and label and returns it with its
// value. A label is unique per kind; labels whose tags collide are refused.
func (r *Registry) Add(key []byte, kind, label, domain string, now time.Time) (Canary, error) {
	v, err := MintCanaryDomain(key, kind, label, domain)
	if err != nil {
		return Canary{}, err
	}
	tag := canaryTag(key, label)
	for _, c := range r.Canaries {
		if c.Label == label && c.Kind == kind {
			return Canary{}, fmt.Errorf("classify: canary %s/%s already exists", kind, label)
		}
		if c.Label != label && canaryTag(key, c.Label) == tag {
			return Canary{}, fmt.Errorf("classify: label %q collides with %q; choose another label", label, c.Label)
		}
	}
	c := Canary{Kind: kind, Label: label, Created: now.UTC().Truncate(time.Second)}
	if kind == CanaryEmail && domain != "" {
		c.Domain = strings.ToLower(domain)
	}
	r.Canaries = append(r.Canaries, c)
	c.Value = v
	return c, nil
}

// List returns the canaries sorted by label with their values re-derived
// from the key.
func (r *Registry) List(key []byte) []Canary {
	out := make([]Canary, 0, len(r.Canaries))
	for _, c := range r.Canaries {
		c.Value, _ = MintCanaryDomain(key, c.Kind, c.Label, c.Domain)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Label != out[j].Label {
			return out[i].Label < out[j].Label
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// DefaultKeyPath is where the per-installation key lives by default:
// $XDG_CONFIG_HOME/leakwatch/key (or the OS equivalent).
func DefaultKeyPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("classify: find config dir: %w", err)
	}
	return filepath.Join(dir, "leakwatch", "key"), nil
}

// DefaultRegistryPath is the default canary registry file, beside the key.
func DefaultRegistryPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("classify: find config dir: %w", err)
	}
	return filepath.Join(dir, "leakwatch", "canaries.json"), nil
}

// LoadOrCreateKey reads the installation key from path, or creates it: 32
// random bytes, hex-encoded, file mode 0600, directory 0700. The key stays
// outside findings; whoever holds it can test guesses against the keyed
// hashes and recognise canaries.
func LoadOrCreateKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		k, derr := decodeKey(b)
		if derr != nil {
			return nil, fmt.Errorf("classify: key file %s: %w", path, derr)
		}
		warnIfLoose(path)
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("classify: read key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("classify: create key dir: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("classify: generate key: %w", err)
	}
	// The key is written whole to a private temporary file and then linked
	// into place: the link fails if the path exists, and a process that
	// reads the path never sees a half-written key (several leakwatch
	// processes starting at once on a fresh host, e.g. a coordinator and its
	// workers, each try to create it).
	tmp, err := os.CreateTemp(filepath.Dir(path), ".key-*")
	if err != nil {
		return nil, fmt.Errorf("classify: create key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("classify: create key: %w", err)
	}
	if _, err := fmt.Fprintf(tmp, "%x\n", key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("classify: write key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("classify: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("classify: write key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			// Another process created it first: use theirs.
			return LoadOrCreateKey(path)
		}
		return nil, fmt.Errorf("classify: create key: %w", err)
	}
	return key, nil
}

// warnIfLoose warns (slog.Default, stderr in the CLI) when group or others
// may read the key file: whoever holds the key can test guesses against the
// keyed hashes and recognise canaries.
func warnIfLoose(path string) bool {
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return false
	}
	slog.Warn("key file is readable or writable by others; restrict it with chmod 600", "path", path, "mode", fi.Mode().Perm().String())
	return true
}

func decodeKey(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	k := make([]byte, len(s)/2)
	if _, err := fmt.Sscanf(s, "%x", &k); err != nil || len(k) < 16 {
		return nil, errors.New("not a hex key of at least 16 bytes")
	}
	return k, nil
}
