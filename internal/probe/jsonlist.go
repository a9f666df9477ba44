package probe

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// EachJSON decodes the array found under keys (object keys, or
// FirstElement; an empty path: the body is the array) one element at a time and calls each with every element that
// decodes into T, until each returns false. The body may have been cut at
// a response cap: every element complete before the cut is delivered and
// cut reports that the list broke off (also when the cut came before the
// array began). Elements of another shape are skipped. err is set only
// when the body is not such a document at all — so a caller can keep
// "answered with a list" apart from "answered something else", and a size
// limit never turns a readable listing into an unreadable one.
func EachJSON[T any](body []byte, each func(T) bool, keys ...string) (cut bool, err error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return false, errors.New("json list: empty body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for _, key := range keys {
		if key == FirstElement {
			if err := wantDelim(dec, '['); err != nil {
				return isCut(err), ignoreCut(err)
			}
			if !dec.More() {
				return false, errors.New("json list: empty array on the path")
			}
			continue
		}
		if err := wantDelim(dec, '{'); err != nil {
			return isCut(err), ignoreCut(err)
		}
		for {
			tok, err := dec.Token()
			if err != nil {
				return isCut(err), ignoreCut(err)
			}
			if d, ok := tok.(json.Delim); ok && d == '}' {
				return false, fmt.Errorf("json list: no %q", key)
			}
			if name, _ := tok.(string); name == key {
				break
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return isCut(err), ignoreCut(err)
			}
		}
	}
	if err := wantDelim(dec, '['); err != nil {
		return isCut(err), ignoreCut(err)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return true, nil
		}
		var v T
		if json.Unmarshal(raw, &v) != nil {
			continue
		}
		if !each(v) {
			return false, nil
		}
	}
	if _, err := dec.Token(); err != nil {
		return true, nil
	}
	return false, nil
}

// FirstElement in EachJSON's path steps into the first element of an
// array ({"results":[{"series":[…]}]}: "results", FirstElement, "series").
const FirstElement = "[0]"

// errCut marks a body that ended (or broke) before the list did.
var errCut = errors.New("json list: body ends early")

func wantDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return errCut
		}
		return fmt.Errorf("json list: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("json list: want %q, got %v", want, tok)
	}
	return nil
}

func isCut(err error) bool {
	return errors.Is(err, errCut) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

func ignoreCut(err error) error {
	if isCut(err) {
		return nil
	}
	return err
}
