package jupyter

import (
	"testing"
)

const dirModel = `{"name": "", "path": "", "type": "directory", "format": "json", "content": [
 {"name": "sub", "path": "sub", "type": "directory", "content": null, "size": null},
 {"name": "a.ipynb", "path": "a.ipynb", "type": "notebook", "content": null, "size": 170},
 {"name": "x.csv", "path": "x.csv", "type": "file", "mimetype": "text/csv", "content": null, "size": 4}]}`

func TestParseModels(t *testing.T) {
	items, n, err := parseDirectory([]byte(dirModel), 2)
	if err != nil || n != 3 || len(items) != 2 || items[1].Type != "notebook" || *items[1].Size != 170 {
		t.Fatalf("dir: %v %d %v", items, n, err)
	}
	if _, _, err := parseDirectory([]byte(`{"type": "file"}`), 2); err == nil {
		t.Error("file taken for a directory")
	}
	f, err := parseFile([]byte(`{"name": "a.ipynb", "type": "notebook", "format": "json", "content": {"cells": [
	  {"cell_type": "code", "source": "x = 1"}, {"cell_type": "markdown", "source": ["a\n", "b"]}, {"source": ""}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := cellSources(f.Content)
	if err != nil || len(srcs) != 2 || srcs[1] != "a\nb" {
		t.Fatalf("cells %q %v", srcs, err)
	}
	f, _ = parseFile([]byte(`{"type": "file", "format": "text", "content": "email,name\nx@example.com,X\n"}`))
	text, ok := textContent(f)
	if !ok {
		t.Fatal("text content")
	}
	if text != "email,name\nx@example.com,X\n" {
		t.Errorf("text %q", text)
	}
	if info, err := parseAPI([]byte(`{"version": "6.4.12"}`)); err != nil || info.Version != "6.4.12" {
		t.Errorf("api %v %v", info, err)
	}
	for _, bad := range []string{`{"version": 6}`, `{"status": "ok"}`, `[]`, `<html>`} {
		if _, err := parseAPI([]byte(bad)); err == nil {
			t.Errorf("api accepted %s", bad)
		}
	}
	if !isForbiddenJSON([]byte(`{"message": "Forbidden", "reason": null}`)) || isForbiddenJSON([]byte(`{"message": "x"}`)) {
		t.Error("forbidden json")
	}
}

func FuzzParseModels(f *testing.F) {
	f.Add([]byte(dirModel))
	f.Add([]byte(`{"version": "6.4.12"}`))
	f.Add([]byte(`{"type": "notebook", "content": {"cells": [{"source": ["a", "b"]}]}}`))
	f.Add([]byte(`{"type": "file", "format": "text", "content": "a,b\n\"1,2\n"}`))
	f.Add([]byte(`{"message": "Forbidden", "reason": null}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseAPI(b)
		if items, n, err := parseDirectory(b, 3); err == nil && (len(items) > 3 || n < len(items)) {
			t.Fatalf("items %d n %d", len(items), n)
		}
		if e, err := parseFile(b); err == nil {
			_, _ = cellSources(e.Content)
			_, _ = textContent(e)
		}
		_ = isForbiddenJSON(b)
	})
}
