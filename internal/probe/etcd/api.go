package etcd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// JSON shapes of etcd's v3 gRPC gateway. Keys and values travel base64
// encoded ([]byte in encoding/json); int64 fields arrive as strings.

// versionInfo is GET /version.
type versionInfo struct {
	Server  string `json:"etcdserver"`
	Cluster string `json:"etcdcluster"`
}

// parseVersion decodes /version; ok is false when it is not etcd's.
func parseVersion(b []byte) (versionInfo, bool) {
	var v versionInfo
	if err := json.Unmarshal(b, &v); err != nil {
		return versionInfo{}, false
	}
	return v, v.Server != "" && len(v.Server) < 64
}

// int64s is an int64 sent as a JSON string (or, leniently, a number).
type int64s int64

// UnmarshalJSON accepts "12" and 12.
func (n *int64s) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("int64 %q: %w", trim(s), err)
	}
	*n = int64s(v)
	return nil
}

// rangeRequest is the body of POST /v3/kv/range.
type rangeRequest struct {
	Key          []byte `json:"key"`
	RangeEnd     []byte `json:"range_end,omitempty"`
	Limit        int64  `json:"limit,omitempty"`
	KeysOnly     bool   `json:"keys_only,omitempty"`
	CountOnly    bool   `json:"count_only,omitempty"`
	Serializable bool   `json:"serializable,omitempty"`
}

// header is the response header every call carries.
type header struct {
	ClusterID string `json:"cluster_id"`
	MemberID  string `json:"member_id"`
	Revision  int64s `json:"revision"`
}

// keyValue is one stored pair.
type keyValue struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
}

// rangeResponse is the answer to a range.
type rangeResponse struct {
	Header header     `json:"header"`
	Kvs    []keyValue `json:"kvs"`
	More   bool       `json:"more"`
	Count  int64s     `json:"count"`
}

// gatewayError is the gateway's error body.
type gatewayError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// parseRange decodes a range answer.
func parseRange(b []byte) (rangeResponse, error) {
	var r rangeResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return rangeResponse{}, fmt.Errorf("decode range: %w", err)
	}
	return r, nil
}

// parseError decodes an error body; ok is false when there is none. The
// gateway may append an HTTP trailer to the body; only the JSON is read.
func parseError(b []byte) (gatewayError, bool) {
	var e gatewayError
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&e); err != nil {
		return gatewayError{}, false
	}
	if e.Message == "" {
		e.Message = e.Error
	}
	return e, e.Message != ""
}

// authRefusal tells whether an error message means credentials are needed.
func authRefusal(msg string) bool {
	for _, m := range []string{"user name is empty", "invalid auth token", "permission denied", "authentication failed", "auth: revision in header is old"} {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// statusInfo is POST /v3/maintenance/status.
type statusInfo struct {
	Version string `json:"version"`
	DBSize  int64s `json:"dbSize"`
	Leader  string `json:"leader"`
}

// prefixEnd is the range end that covers every key starting with p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return []byte{0} // all bytes 0xff: to the end of the keyspace
}

// prefixAt is the key's first depth path segments with the trailing
// separator ("/registry/pods/x" at depth 1 → "/registry/", at depth 2 →
// "/registry/pods/"; "app:cfg" → "app:"). ok is false when the key has
// fewer segments.
func prefixAt(key []byte, depth int) ([]byte, bool) {
	pos := 0
	if len(key) > 0 && key[0] == '/' {
		pos = 1
	}
	for d := 0; d < depth; d++ {
		i := bytes.IndexAny(key[pos:], "/:")
		if i < 0 {
			return nil, false
		}
		pos += i + 1
	}
	return key[:pos], true
}

func trim(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
