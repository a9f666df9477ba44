package textrec

import "testing"

func TestTextRecords(t *testing.T) {
	recs := FromFile("a.csv", "email,name\nx@example.com,X\n\"bad,row\nz@example.com,Z\n", 10)
	if len(recs) == 0 || recs[0].Values[0].Path != "email" {
		t.Fatalf("csv %v", recs)
	}
	recs = FromFile("b.tsv", "email\tname\nx@example.com\tX\n", 10)
	if len(recs) != 1 || recs[0].Values[1].Text != "X" {
		t.Fatalf("tsv %v", recs)
	}
	recs = FromLines("# c\nKEY=\"v\"\nexport B='w'\nplain line here\n\n", 10)
	if len(recs) != 3 || recs[0].Values[0].Path != "KEY" || recs[0].Values[0].Text != "v" || recs[2].Values[0].Path != "line" {
		t.Fatalf("lines %v", recs)
	}
	if len(FromLines("a\nb\nc\n", 2)) != 2 {
		t.Fatal("max not kept")
	}
	for name, want := range map[string]bool{"x.CSV": true, ".env": true, ".env.prod": true, "a.bin": false, "dir/notes.txt": true} {
		if IsSampled(name) != want {
			t.Errorf("IsSampled(%q) = %v", name, !want)
		}
	}
}

func FuzzTextRecords(f *testing.F) {
	f.Add("email,name\nx@example.com,X\n")
	f.Add("A=b\n\"unterminated,\n")
	f.Fuzz(func(t *testing.T, s string) {
		if len(FromCSV(s, ',', 3)) > 3 || len(FromLines(s, 3)) > 3 {
			t.Fatal("over max")
		}
	})
}
