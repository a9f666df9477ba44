package mongodb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestListingsPastCapStayExposed is issue 8 item 6 against a real server:
// listDatabases and listCollections answers larger than the response cap
// used to fail and leave an open server "unknown". The cap is made small
// (instead of creating tens of thousands of databases); the entries read
// before the cut are kept and the result is flagged. A document larger
// than the sample budget is flagged record-too-large (item 10).
func TestListingsPastCapStayExposed(t *testing.T) {
	s := testenv.StartFerret(t, testenv.FerretOptions{})
	c := s.Client(t)
	ctx := context.Background()
	for i := range 12 {
		db := c.Database(fmt.Sprintf("tenant_%02d_%s", i, strings.Repeat("x", 40)))
		for j := range 3 {
			coll := db.Collection(fmt.Sprintf("records_%d_%s", j, strings.Repeat("y", 40)))
			if _, err := coll.InsertOne(ctx, bson.D{{Key: "note", Value: strings.Repeat("z", 3000)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := probetest.Budget()
	b.MaxResponseBytes = 700
	b.SampleBytes = 1000
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed {
		t.Fatalf("status %s (error %q, evidence %v), want exposed", res.Status, res.Error, res.Evidence)
	}
	if !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("flags %v lack %s", res.Flags, probe.FlagDatasetsTruncated)
	}
	tooLarge := 0
	for _, d := range res.Datasets {
		if slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
			tooLarge++
		}
	}
	if tooLarge == 0 {
		t.Errorf("no dataset flagged %s: %+v", probe.FlagRecordTooLarge, res.Datasets)
	}
}

func TestCutList(t *testing.T) {
	doc, err := bson.Marshal(bson.D{{Key: "ok", Value: 1}, {Key: "databases", Value: bson.A{
		bson.D{{Key: "name", Value: "a"}}, bson.D{{Key: "name", Value: "b"}}, bson.D{{Key: "name", Value: "c"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	prev := -1
	for cut := 0; cut <= len(doc); cut++ {
		got := cutList(doc[:cut], "databases")
		if len(got) < prev {
			t.Fatalf("cut at %d: %d entries, fewer than at a shorter cut", cut, len(got))
		}
		prev = len(got)
	}
	if prev != 3 {
		t.Fatalf("whole document: %d entries", prev)
	}
}
