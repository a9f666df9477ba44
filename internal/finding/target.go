package finding

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// TargetKind says what a Target names. The zero value is a network
// endpoint, the only kind scans, history and alerts know.
type TargetKind string

const (
	// TargetNetwork: Host, Port and Hostname; written without a kind, so
	// network findings are byte for byte what v1 always was.
	TargetNetwork TargetKind = ""
	// TargetFile: a file on this machine (`leakwatch classify`), Path
	// only. It has no address: it is never dialled, never in a scope,
	// never recorded in the history.
	TargetFile TargetKind = "file"
)

// StdinPath is the Path of a file target read from standard input.
const StdinPath = "-"

// FileTarget is the target of a local file; path should be absolute (the
// finding id is the fingerprint of the path, so the same file keeps its
// id however it was named on the command line) or StdinPath.
func FileTarget(path string) Target { return Target{Kind: TargetFile, Path: path} }

// IsFile tells whether t is a local file.
func (t Target) IsFile() bool { return t.Kind == TargetFile }

// Name is what a person calls the target: host:port, the file's path, or
// "stdin". It is raw text (a path may hold any byte but NUL): writers
// escape it like every other untrusted string.
func (t Target) Name() string {
	switch {
	case t.Kind == TargetNetwork:
		return t.Addr()
	case t.Path == StdinPath:
		return "stdin"
	}
	return t.Path
}

// Validate refuses a target that names nothing or two things: a network
// target needs an address (host and a port 1–65535) and no path; a file
// target needs a path (without NUL) and no host, port or hostname.
func (t Target) Validate() error {
	switch t.Kind {
	case TargetNetwork:
		switch {
		case t.Path != "":
			return errors.New("finding: network target with a path")
		case t.Host == "":
			return errors.New("finding: network target without an address")
		case t.Port < 1 || t.Port > 65535:
			return fmt.Errorf("finding: network target port %d outside 1-65535", t.Port)
		}
	case TargetFile:
		switch {
		case t.Path == "":
			return errors.New("finding: file target without a path")
		case strings.IndexByte(t.Path, 0) >= 0:
			return errors.New("finding: file target path holds NUL")
		case t.Host != "" || t.Port != 0 || t.Hostname != "":
			return errors.New("finding: file target with a host or port")
		}
	default:
		return fmt.Errorf("finding: unknown target kind %q", VisibleText(string(t.Kind)))
	}
	return nil
}

// MarshalJSON writes a network target exactly as v1 always did
// ({"host","port","hostname"}) and a file target as {"kind":"file",
// "path"}. A target that mixes the two or has an unknown kind is refused
// (an error, which the writers turn into a write-error record) rather
// than written with a part silently dropped. A network target without an
// address is still written (history rows from before may hold one);
// Validate refuses it.
func (t Target) MarshalJSON() ([]byte, error) {
	var v any
	if t.Kind == TargetNetwork && t.Path == "" {
		v = networkJSON{t.Host, t.Port, t.Hostname}
	} else {
		if err := t.Validate(); err != nil {
			return nil, err
		}
		v = fileJSON{t.Kind, t.Path}
	}
	// No HTML escaping here: the outer encoder applies its own setting
	// when it copies these bytes, as it does for plain struct fields.
	e := targetEncoders.Get().(*targetEncoder)
	defer targetEncoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))), nil
}

// The JSON shapes of the two kinds.
type (
	networkJSON struct {
		Host     string `json:"host"`
		Port     int    `json:"port"`
		Hostname string `json:"hostname"`
	}
	fileJSON struct {
		Kind TargetKind `json:"kind"`
		Path string     `json:"path"`
	}
)

// targetEncoder is a reusable encoder without HTML escaping.
type targetEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var targetEncoders = sync.Pool{New: func() any {
	e := &targetEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}
