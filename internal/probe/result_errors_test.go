package probe

import (
	"errors"
	"testing"
)

func TestAddErrorKeepsEveryErrorBounded(t *testing.T) {
	var r Result
	r.AddError(nil)
	if r.Error != "" {
		t.Fatalf("nil error recorded: %q", r.Error)
	}
	r.AddError(errors.New("list tables: timeout"))
	r.AddErrorf("sample %s: %v", "a.b", errors.New("EOF"))
	if r.Error != "list tables: timeout; sample a.b: EOF" {
		t.Fatalf("got %q", r.Error)
	}
	for i := range 10 {
		r.AddErrorf("e%d", i)
	}
	want := "list tables: timeout; sample a.b: EOF; e0; e1; e2; e3; e4; e5 (+4 more)"
	if r.Error != want {
		t.Fatalf("got %q\nwant %q", r.Error, want)
	}
}
