package classify

import (
	"crypto/sha256"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/coregx/ahocorasick"
)

// Options configure a RuleClassifier.
type Options struct {
	// Key is the per-installation secret (≥16 bytes) for keyed hashes and
	// canary recognition. See LoadOrCreateKey.
	Key []byte
	// Canaries are the registered canaries; only their labels are needed
	// (values are recognised from the key alone, see canary.go).
	Canaries []Canary
	// MaxExamples bounds masked examples per class (default 3).
	MaxExamples int
	// MaxHashes bounds keyed hashes per class (default 20).
	MaxHashes int
	// DefaultRegion is the ISO country used to read phone numbers written
	// without a country code (default "US").
	DefaultRegion string
	// Now is the clock for date plausibility (default time.Now).
	Now func() time.Time
}

// RuleClassifier is the rules-based classifier (keyword pre-filter, patterns,
// validators, context score) behind the Classifier interface; New builds it.
// (It is not engine.Engine, which runs probers.) It is safe for concurrent use.
type RuleClassifier struct {
	key         []byte
	maxExamples int
	maxHashes   int
	region      string
	now         func() time.Time

	terms   *termMatcher
	values  *ahocorasick.Automaton
	kwGroup []uint8 // value keyword id → group

	canaryTags    map[string]string // tag → label
	tokenCanaries bool              // some registered canary is token-shaped
	innerState    []byte            // marshaled SHA-256 state after the inner pad
	outerState    []byte            // … after the outer pad
	macs          sync.Pool

	runs sync.Pool // *run

	pathMu    sync.RWMutex
	pathCache map[string]*pathInfo
}

var _ Classifier = (*RuleClassifier)(nil)

// New builds a RuleClassifier.
func New(opts Options) (*RuleClassifier, error) {
	if len(opts.Key) < 16 {
		return nil, errors.New("classify: key must be at least 16 bytes")
	}
	e := &RuleClassifier{
		key:         append([]byte(nil), opts.Key...),
		maxExamples: opts.MaxExamples,
		maxHashes:   opts.MaxHashes,
		region:      opts.DefaultRegion,
		now:         opts.Now,
	}
	if e.maxExamples <= 0 {
		e.maxExamples = 3
	}
	if e.maxHashes <= 0 {
		e.maxHashes = 20
	}
	if e.region == "" {
		e.region = "US"
	}
	if e.now == nil {
		e.now = time.Now
	}
	tm, err := newTermMatcher()
	if err != nil {
		return nil, fmt.Errorf("classify: build field matcher: %w", err)
	}
	e.terms = tm
	var pats []string
	for _, kw := range valueKeywords {
		pats = append(pats, kw.word)
		e.kwGroup = append(e.kwGroup, kw.group)
	}
	e.values, err = ahocorasick.NewBuilder().AddStrings(pats).Build()
	if err != nil {
		return nil, fmt.Errorf("classify: build value matcher: %w", err)
	}
	e.canaryTags = map[string]string{}
	for _, c := range opts.Canaries {
		e.canaryTags[canaryTag(e.key, c.Label)] = c.Label
		if c.Kind == CanaryAuthToken || c.Kind == CanaryAPIKey {
			e.tokenCanaries = true
		}
	}
	e.pathCache = make(map[string]*pathInfo, 256)
	k := e.key
	if len(k) > sha256.BlockSize {
		h := sha256.Sum256(k)
		k = h[:]
	}
	var ipad, opad [sha256.BlockSize]byte
	copy(ipad[:], k)
	copy(opad[:], k)
	for i := range ipad {
		ipad[i] ^= 0x36
		opad[i] ^= 0x5c
	}
	for _, st := range []struct {
		pad []byte
		dst *[]byte
	}{{ipad[:], &e.innerState}, {opad[:], &e.outerState}} {
		h := sha256.New()
		h.Write(st.pad)
		b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("classify: prepare hmac: %w", err)
		}
		*st.dst = b
	}
	e.macs.New = func() any {
		return &macState{in: sha256.New(), out: sha256.New(), sum: make([]byte, 0, 32), buf: make([]byte, 0, 128)}
	}
	return e, nil
}

// macState is a pooled pair of SHA-256 digests and scratch space.
type macState struct {
	in, out  hash.Hash
	sum, buf []byte
}

// mac computes HMAC-SHA256(key, parts...) (RFC 2104) and appends it to
// dst. The digests of the key's inner and outer pads are computed once and
// restored for each call, so a short message costs two SHA-256 block
// compressions and no allocation.
func (e *RuleClassifier) mac(dst []byte, parts ...string) []byte {
	m := e.macs.Get().(*macState)
	if m.in.(encoding.BinaryUnmarshaler).UnmarshalBinary(e.innerState) != nil ||
		m.out.(encoding.BinaryUnmarshaler).UnmarshalBinary(e.outerState) != nil {
		panic("classify: restore sha256 state")
	}
	m.buf = m.buf[:0]
	for _, p := range parts {
		m.buf = append(m.buf, p...)
	}
	m.in.Write(m.buf)
	m.sum = m.in.Sum(m.sum[:0])
	m.out.Write(m.sum)
	m.sum = m.out.Sum(m.sum[:0])
	dst = append(dst, m.sum...)
	e.macs.Put(m)
	return dst
}

// Value keyword groups: an Aho-Corasick hit of a group's keyword in a
// (lower-cased) value makes the group's detectors run on it.
const (
	kgAt uint8 = iota
	kgJWT
	kgSecret
	kgHash
	kgCtxPassword
	kgCtxToken
	kgCtxKey
	kgCtxCard
	kgCtxPhone
	kgCtxSSN
	kgCtxDOB
	kgCtxNeg
	kgCtxDevice
	kgCtxUser
	numGroups
)

type valueKeyword struct {
	word  string
	group uint8
}

var valueKeywords = func() []valueKeyword {
	var out []valueKeyword
	add := func(g uint8, words ...string) {
		for _, w := range words {
			out = append(out, valueKeyword{w, g})
		}
	}
	add(kgAt, "@")
	add(kgJWT, "eyj")
	add(kgSecret, "akia", "asia", "agpa", "aida", "aroa", "aipa", "anpa", "anva", "abia", "acca",
		"aiza", "xoxb-", "xoxa-", "xoxp-", "xoxo-", "xoxs-", "xoxr-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_",
		"github_pat_", "sk_live_", "rk_live_", "sk_test_", "rk_test_", "glpat-", "npm_", "sg.",
		"sk-proj-", "sk-ant-", "ya29.", "accountkey=", "-----begin", "hooks.slack.com")
	add(kgSecret, providerKeyWords...)
	add(kgHash, "$2a$", "$2b$", "$2y$", "$2x$", "$argon2", "$scrypt$", "$7$", "$y$", "$gy$", "$5$",
		"$6$", "$1$", "$apr1$", "pbkdf2", "{ssha", "{sha}", "{crypt}", "sha1$", "md5$", "argon2$")
	add(kgCtxPassword, "password", "passwd", "pwd", "pass", "passwort", "contraseña", "contrasena", "mot de passe", "kennwort", "senha")
	add(kgCtxToken, "token", "bearer", "session", "sessionid", "jsessionid", "authorization")
	add(kgCtxKey, "api_key", "apikey", "api-key", "secret", "client_secret", "access_key")
	add(kgCtxCard, "card", "visa", "mastercard", "amex", "credit", "kreditkarte", "tarjeta", "carte")
	add(kgCtxPhone, "phone", "tel", "mobile", "call", "whatsapp", "sms", "cell", "telefon", "teléfono", "handy", "fax",
		"answering", "dial", "reach me", "messages to", "puhelin", "telefoon", "téléphone", "portable", "móvil", "celular")
	add(kgCtxSSN, "ssn", "social security", "national insurance", "nino", "dni", "passport")
	add(kgCtxDOB, "born", "birthday", "birth", "dob", "geburtstag", "nacimiento", "naissance", "d.o.b", "geburtsdatum",
		"geboren", "geb.", "nacido", "nacida", "né le", "née le", "nato il", "nata il", "nascita", "nasceu", "nascimento",
		"fødselsdato", "fodselsdato", "födelsedatum", "syntymäaika", "urodzenia", "urodzony", "urodzona", "doğum",
		"geboortedatum")
	add(kgCtxDevice, "imei", "serial", "s/n", "seriennummer", "numéro de série", "numero de serie", "número de serie",
		"numero di serie", "android_id", "android id", "device", "udid", "idfa", "idfv", "iccid", "gerät", "appareil", "dispositivo")
	add(kgCtxUser, "user", "login", "utilisateur", "benutzer", "usuario", "utente", "gebruiker", "uname",
		"password for", "publickey for")
	add(kgCtxNeg, "test", "example", "sample", "dummy", "fake", "demo", "order", "invoice", "tracking", "version", "isbn", "ref", "build", "sku")
	return out
}()
