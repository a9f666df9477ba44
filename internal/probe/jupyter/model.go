package jupyter

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// apiInfo is GET /api.
type apiInfo struct {
	Version string `json:"version"`
}

// parseAPI decodes GET /api: a JSON object whose "version" is a string.
func parseAPI(b []byte) (apiInfo, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return apiInfo{}, err
	}
	var info apiInfo
	v, ok := raw["version"]
	if !ok {
		return info, errors.New("no version field")
	}
	if err := json.Unmarshal(v, &info.Version); err != nil || info.Version == "" {
		return info, errors.New("version is not a string")
	}
	return info, nil
}

// entry is one item of a contents model (file, notebook or directory).
type entry struct {
	Name     string          `json:"name"`
	Path     string          `json:"path"`
	Type     string          `json:"type"`
	Format   *string         `json:"format"`
	Mimetype *string         `json:"mimetype"`
	Size     *int64          `json:"size"`
	Content  json.RawMessage `json:"content"`
}

// parseDirectory decodes a directory model from GET /api/contents/<dir>.
// It keeps at most maxEntries entries and returns the total count.
func parseDirectory(b []byte, maxEntries int) ([]entry, int, error) {
	var dir entry
	if err := json.Unmarshal(b, &dir); err != nil {
		return nil, 0, err
	}
	if dir.Type != "directory" {
		return nil, 0, errors.New("not a directory model")
	}
	var items []entry
	if len(dir.Content) > 0 && string(dir.Content) != "null" {
		if err := json.Unmarshal(dir.Content, &items); err != nil {
			return nil, 0, err
		}
	}
	n := len(items)
	if len(items) > maxEntries {
		items = items[:maxEntries]
	}
	return items, n, nil
}

// parseFile decodes a file or notebook model read with content=1 and
// returns its text (for a notebook: its cell sources).
func parseFile(b []byte) (entry, error) {
	var e entry
	if err := json.Unmarshal(b, &e); err != nil {
		return e, err
	}
	if e.Type != "file" && e.Type != "notebook" {
		return e, errors.New("not a file model")
	}
	return e, nil
}

// notebook is the part of an nbformat v4 document that holds code and text.
type notebook struct {
	Cells []struct {
		CellType string          `json:"cell_type"`
		Source   json.RawMessage `json:"source"`
	} `json:"cells"`
}

// cellSources returns the source text of each cell. Source is a string in
// API models and may be a list of lines in files.
func cellSources(content json.RawMessage) ([]string, error) {
	var nb notebook
	if err := json.Unmarshal(content, &nb); err != nil {
		return nil, err
	}
	out := make([]string, 0, len(nb.Cells))
	for _, c := range nb.Cells {
		var s string
		if err := json.Unmarshal(c.Source, &s); err != nil {
			var lines []string
			if err := json.Unmarshal(c.Source, &lines); err != nil {
				continue
			}
			s = strings.Join(lines, "")
		}
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// textContent returns a text file model's content (format "text").
func textContent(e entry) (string, bool) {
	if e.Format == nil || *e.Format != "text" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(e.Content, &s); err != nil {
		return "", false
	}
	return s, true
}

// isForbiddenJSON tells whether a body is Jupyter's JSON error shape
// ({"message": ..., "reason": ...}).
func isForbiddenJSON(b []byte) bool {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(b), &m); err != nil {
		return false
	}
	_, msg := m["message"]
	_, reason := m["reason"]
	return msg && reason
}
