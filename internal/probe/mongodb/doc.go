package mongodb

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// CommandError is a command answer with ok: 0 (or an OP_REPLY $err).
type CommandError struct {
	Code     int32
	CodeName string
	Message  string
}

func (e *CommandError) Error() string {
	if e.CodeName != "" {
		return fmt.Sprintf("command error %d (%s): %s", e.Code, e.CodeName, e.Message)
	}
	return fmt.Sprintf("command error %d: %s", e.Code, e.Message)
}

// Server error codes that mean "authenticate first".
const (
	codeUnauthorized         = 13
	codeAuthenticationFailed = 18
)

// isAuthError tells whether a command failed for lack of credentials.
func isAuthError(err error) bool {
	ce, ok := err.(*CommandError)
	if !ok {
		return false
	}
	if ce.Code == codeUnauthorized || ce.Code == codeAuthenticationFailed || ce.CodeName == "Unauthorized" {
		return true
	}
	m := strings.ToLower(ce.Message)
	return strings.Contains(m, "requires authentication") || strings.Contains(m, "not authorized") ||
		strings.Contains(m, "unauthorized")
}

// commandResult checks a command answer's ok field and turns a failure
// into a *CommandError.
func commandResult(doc bson.Raw, queryFailure bool) error {
	if queryFailure {
		return &CommandError{Code: int32Of(doc, "code"), Message: stringOf(doc, "$err")}
	}
	if okValue(doc.Lookup("ok")) {
		return nil
	}
	return &CommandError{Code: int32Of(doc, "code"), CodeName: stringOf(doc, "codeName"), Message: stringOf(doc, "errmsg")}
}

// okValue reads ok, which servers send as double, int32, int64 or bool.
func okValue(v bson.RawValue) bool {
	if b, ok := v.BooleanOK(); ok {
		return b
	}
	if f, ok := v.AsFloat64OK(); ok {
		return f == 1
	}
	return false
}

func stringOf(doc bson.Raw, key string) string {
	s, _ := doc.Lookup(key).StringValueOK()
	return s
}

func int32Of(doc bson.Raw, key string) int32 {
	n, _ := int64Of(doc, key)
	return int32(n)
}

// int64Of reads any numeric field as int64.
func int64Of(doc bson.Raw, key string) (int64, bool) {
	v := doc.Lookup(key)
	if n, ok := v.AsInt64OK(); ok {
		return n, true
	}
	if f, ok := v.DoubleOK(); ok {
		return int64(f), true
	}
	return 0, false
}

func boolOf(doc bson.Raw, key string) (bool, bool) {
	return doc.Lookup(key).BooleanOK()
}

// Flattening bounds for hostile documents (same as classify's for JSON).
const (
	maxDepth  = 32
	maxLeaves = 4096
)

// toRecords flattens documents into classifier records, one each.
func toRecords(docs []bson.Raw) []classify.Record {
	recs := make([]classify.Record, 0, len(docs))
	for _, doc := range docs {
		recs = append(recs, toRecord(doc))
	}
	return recs
}

// toRecord flattens a BSON document into a classifier record. Array
// indices are dropped from paths, binary values are skipped, ObjectIDs are
// written in hex and dates in RFC 3339.
func toRecord(doc bson.Raw) classify.Record {
	var r classify.Record
	flattenDoc(&r, "", doc, 0)
	return r
}

func flattenDoc(r *classify.Record, prefix string, doc bson.Raw, depth int) {
	if depth > maxDepth {
		return
	}
	elems, err := doc.Elements()
	if err != nil {
		return
	}
	for _, e := range elems {
		key, err := e.KeyErr()
		if err != nil {
			return
		}
		v, err := e.ValueErr()
		if err != nil {
			return
		}
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		flattenValue(r, path, v, depth+1)
	}
}

func flattenValue(r *classify.Record, path string, v bson.RawValue, depth int) {
	if depth > maxDepth || len(r.Values) >= maxLeaves {
		return
	}
	add := func(s string) { r.Values = append(r.Values, classify.Value{Path: path, Text: s}) }
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		if d, ok := v.DocumentOK(); ok {
			flattenDoc(r, path, d, depth)
		}
	case bson.TypeArray:
		a, ok := v.ArrayOK()
		if !ok {
			return
		}
		vals, err := a.Values()
		if err != nil {
			return
		}
		for _, e := range vals {
			flattenValue(r, path, e, depth+1)
		}
	case bson.TypeString:
		// The OK forms: a string whose length prefix is 0 passes
		// Validate but makes StringValue panic (found by FuzzParseReply).
		if s, ok := v.StringValueOK(); ok {
			add(s)
		}
	case bson.TypeSymbol:
		if s, ok := v.SymbolOK(); ok {
			add(s)
		}
	case bson.TypeInt32, bson.TypeInt64:
		add(strconv.FormatInt(v.AsInt64(), 10))
	case bson.TypeDouble:
		add(strconv.FormatFloat(v.Double(), 'f', -1, 64))
	case bson.TypeDecimal128:
		add(v.Decimal128().String())
	case bson.TypeBoolean:
		add(strconv.FormatBool(v.Boolean()))
	case bson.TypeObjectID:
		id := v.ObjectID()
		add(hex.EncodeToString(id[:]))
	case bson.TypeDateTime:
		add(time.UnixMilli(v.DateTime()).UTC().Format(time.RFC3339))
	case bson.TypeBinary:
		// Binary payloads (UUIDs, blobs) carry no text for the classifier;
		// a UUID subtype is written as hex (device ids are often UUIDs).
		if sub, data, ok := v.BinaryOK(); ok && (sub == bson.TypeBinaryUUID || sub == bson.TypeBinaryUUIDOld) && len(data) == 16 {
			add(hex.EncodeToString(data))
		}
	}
}
