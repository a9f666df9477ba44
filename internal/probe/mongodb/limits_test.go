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
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) {
		b.MaxResponseBytes = 700
		b.SampleBytes = 1000
	}, probe.FlagDatasetsTruncated)
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
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

// TestCollectionCapFlagged: once MaxListed collections are listed, the
// databases left (and a database's collections past the cap) were
// skipped without a flag; now the result says datasets-truncated. The
// default budget lists them all, unflagged.
func TestCollectionCapFlagged(t *testing.T) {
	s := testenv.StartFerret(t, testenv.FerretOptions{})
	c := s.Client(t)
	ctx := context.Background()
	for i := range 4 {
		coll := c.Database(fmt.Sprintf("db%d", i)).Collection("people")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "email", Value: fmt.Sprintf("p%d@example.com", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	unchanged := probetest.Unchanged(t, s.Digest)
	b := probetest.Budget()
	b.MaxListed = 2
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	if len(res.Datasets) != 2 || !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("%d datasets, flags %v: want 2 and %s", len(res.Datasets), res.Flags, probe.FlagDatasetsTruncated)
	}
	res, err = probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil || len(res.Datasets) != 4 || slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("default budget: %v, %d datasets, flags %v", err, len(res.Datasets), res.Flags)
	}
	unchanged()
}

// TestSampleRetryFlagged: a find answer past the byte budget is asked
// again for fewer documents; the documents left out were dropped without
// a flag. Ten 15 KB documents (150 KB, past 20 KB + framing) come back as
// one, flagged sample-truncated.
func TestSampleRetryFlagged(t *testing.T) {
	s := testenv.StartFerret(t, testenv.FerretOptions{})
	coll := s.Client(t).Database("shop").Collection("blobs")
	for i := range 10 {
		if _, err := coll.InsertOne(context.Background(), bson.D{{Key: "n", Value: i}, {Key: "note", Value: strings.Repeat("z", 15000)}}); err != nil {
			t.Fatal(err)
		}
	}
	b := probetest.Budget()
	b.SampleRecords = 10
	b.SampleBytes = 20000
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil || res.Status != finding.StatusExposed || len(res.Datasets) != 1 {
		t.Fatalf("probe: %v %+v", err, res)
	}
	d := res.Datasets[0]
	t.Logf("sampled %d, flags %v", d.Sampled, d.Flags)
	if d.Sampled == 0 || d.Sampled >= 10 || !slices.Contains(d.Flags, probe.FlagSampleTruncated) {
		t.Errorf("sampled %d of 10, flags %v: want a flagged partial sample", d.Sampled, d.Flags)
	}
	if slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
		t.Errorf("flags %v: no document is larger than the budget", d.Flags)
	}
}
