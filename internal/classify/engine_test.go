package classify

import (
	"encoding/json"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func TestBreachRecordClasses(t *testing.T) {
	e, err := New(Options{Key: []byte("0123456789abcdef0123")})
	if err != nil {
		t.Fatal(err)
	}
	docs := []string{
		`{"user":{"name":"Jane Doe","email":"jane.doe@example.com","username":"jdoe77"},"camera":{"name":"Nest Cam IQ","model":"NC-200","mac":"a4:5e:60:12:34:56","id":"CAM-00012345"},"wifi":{"ssid":"DoeFamily-5G"},"login_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U","session_token":"a8f5f167f44f4964e6c998dee827110c9a8f","ip":"203.0.113.7","phone":"+1 415 555 2671","location":"48.8566,2.3522","card":"4539 1488 0343 6467","dob":"1984-03-02","password":"hunter2!","password_hash":"$2b$12$KIXQJ8z3bC1rYr4h0lK0UeFh1yq0y7hQ6o3bP9uF6Qw8bqN7Yk1eS","aws":"AKIAZ4DXQ7MPL2RSVW3T","created_at":"2019-12-01T10:00:00Z","device_uuid":"7c9e6679-7425-40de-944b-e07fc1f90ae7","note":"contact me at bob.smith@corp.example.org or +44 20 7946 0958"}`,
	}
	var recs []Record
	for _, d := range docs {
		r, err := FromJSONBytes([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	out := e.Classify(Input{Sample: recs, Records: finding.Int64(1000), Schema: []finding.Field{{Name: "geo", Type: "geo_point"}, {Name: "user.email", Type: "keyword"}}})
	b, _ := json.MarshalIndent(out, "", " ")
	got := map[string]bool{}
	for _, c := range out.Classes {
		got[c.Class] = true
	}
	for _, want := range []string{"email", "person_name", "username", "password", "password_hash", "auth_token", "api_key", "wifi_ssid", "device_id", "device_model", "mac_address", "ip_address", "phone", "geo_location", "payment_card", "date_of_birth"} {
		if !got[want] {
			t.Errorf("class %s missing", want)
		}
	}
	if t.Failed() {
		t.Log(string(b))
	}
}
