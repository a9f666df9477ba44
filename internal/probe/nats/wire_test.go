package nats

import (
	"errors"
	"testing"
)

func TestParseInfo(t *testing.T) {
	si, err := parseInfo(`INFO {"server_id":"NDJ5","server_name":"n1","version":"2.9.10","proto":1,"go":"go1.19.8","headers":true,"auth_required":true,"max_payload":1048576,"jetstream":true,"client_id":5}`)
	if err != nil || si.Version != "2.9.10" || !si.AuthRequired || !si.JetStream || si.MaxPayload != 1048576 {
		t.Fatalf("%+v %v", si, err)
	}
	for _, bad := range []string{"+OK", "INFO nope", `INFO {"version":"1"}`, "-ERR 'Authorization Violation'"} {
		if _, err := parseInfo(bad); !errors.Is(err, errProtocol) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestDecodeAPI(t *testing.T) {
	var sn streamNames
	err := decodeAPI([]byte(`{"type":"io.nats.jetstream.api.v1.stream_names_response","total":2,"offset":0,"limit":1024,"streams":["A","B"]}`), &sn, func() *apiError { return sn.Error })
	if err != nil || sn.Total != 2 || len(sn.Streams) != 2 {
		t.Fatalf("%+v %v", sn, err)
	}
	var m storedMessage
	err = decodeAPI([]byte(`{"error":{"code":404,"err_code":10037,"description":"no message found"}}`), &m, func() *apiError { return m.Error })
	if err == nil {
		t.Fatal("api error not reported")
	}
	if validStreamName("A.>") || !validStreamName("ORDERS") {
		t.Fatal("validStreamName")
	}
	if got := subjectPattern("users.1001.created"); got != "users.*.created" {
		t.Fatal(got)
	}
}

// FuzzWire checks INFO and JetStream API decoding never panic.
func FuzzWire(f *testing.F) {
	f.Add(`INFO {"server_id":"x","version":"2.9.10","auth_required":false}`)
	f.Add(`{"config":{"name":"S","subjects":["a.>"]},"state":{"messages":3,"bytes":10,"first_seq":1,"last_seq":3}}`)
	f.Add(`{"message":{"subject":"a.b","seq":1,"data":"eyJhIjoxfQ=="}}`)
	f.Fuzz(func(t *testing.T, s string) {
		if si, err := parseInfo(s); err == nil && si.ServerID == "" {
			t.Fatal("empty server id accepted")
		}
		var si streamInfo
		_ = decodeAPI([]byte(s), &si, func() *apiError { return si.Error })
		var m storedMessage
		if decodeAPI([]byte(s), &m, func() *apiError { return m.Error }) == nil {
			toRecord(m.Message.Subject, m.Message.Data)
		}
	})
}
