package nats

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// serverInfo is the INFO line a NATS server sends on connect (the fields
// leakwatch uses).
type serverInfo struct {
	ServerID     string `json:"server_id"`
	ServerName   string `json:"server_name"`
	Version      string `json:"version"`
	Go           string `json:"go"`
	Proto        int    `json:"proto"`
	MaxPayload   int64  `json:"max_payload"`
	Headers      bool   `json:"headers"`
	AuthRequired bool   `json:"auth_required"`
	TLSRequired  bool   `json:"tls_required"`
	TLSAvailable bool   `json:"tls_available"`
	JetStream    bool   `json:"jetstream"`
	Nonce        string `json:"nonce"`
	Cluster      string `json:"cluster"`
	Domain       string `json:"domain"`
}

// errProtocol marks a first line that is not a NATS INFO.
var errProtocol = errors.New("not a NATS INFO line")

// parseInfo parses "INFO {...}" (without the line end).
func parseInfo(line string) (serverInfo, error) {
	rest, ok := strings.CutPrefix(line, "INFO ")
	if !ok {
		return serverInfo{}, fmt.Errorf("first line %q: %w", trim(line), errProtocol)
	}
	var si serverInfo
	if err := json.Unmarshal([]byte(strings.TrimSpace(rest)), &si); err != nil {
		return serverInfo{}, fmt.Errorf("INFO json: %v: %w", err, errProtocol)
	}
	if si.ServerID == "" {
		return serverInfo{}, fmt.Errorf("INFO without server_id: %w", errProtocol)
	}
	return si, nil
}

// apiError is the error object of a JetStream API response.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

// streamNames is $JS.API.STREAM.NAMES's response.
type streamNames struct {
	Error   *apiError `json:"error"`
	Total   int       `json:"total"`
	Offset  int       `json:"offset"`
	Limit   int       `json:"limit"`
	Streams []string  `json:"streams"`
}

// streamInfo is $JS.API.STREAM.INFO.<name>'s response.
type streamInfo struct {
	Error  *apiError `json:"error"`
	Config struct {
		Name     string   `json:"name"`
		Subjects []string `json:"subjects"`
		Storage  string   `json:"storage"`
	} `json:"config"`
	State struct {
		Messages  int64 `json:"messages"`
		Bytes     int64 `json:"bytes"`
		FirstSeq  int64 `json:"first_seq"`
		LastSeq   int64 `json:"last_seq"`
		Consumers int   `json:"consumer_count"`
	} `json:"state"`
}

// storedMessage is $JS.API.STREAM.MSG.GET.<name>'s response.
type storedMessage struct {
	Error   *apiError `json:"error"`
	Message struct {
		Subject string `json:"subject"`
		Seq     int64  `json:"seq"`
		Data    []byte `json:"data"` // base64 in JSON
	} `json:"message"`
}

// accountInfo is $JS.API.INFO's response.
type accountInfo struct {
	Error     *apiError `json:"error"`
	Memory    int64     `json:"memory"`
	Storage   int64     `json:"storage"`
	Streams   int       `json:"streams"`
	Consumers int       `json:"consumers"`
}

// decodeAPI decodes a JetStream API response into v and returns its API
// error, if any.
func decodeAPI(b []byte, v any, errOf func() *apiError) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode jetstream response: %w", err)
	}
	if e := errOf(); e != nil {
		return fmt.Errorf("jetstream: %s (code %d/%d)", trim(e.Description), e.Code, e.ErrCode)
	}
	return nil
}

// validStreamName rejects names that would change the API subject.
func validStreamName(n string) bool {
	return n != "" && len(n) <= 255 && !strings.ContainsAny(n, " \t\r\n.*>")
}

func trim(s string) string {
	if len(s) > 48 {
		return s[:48] + "…"
	}
	return s
}
