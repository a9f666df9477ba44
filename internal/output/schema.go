package output

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaPath is where the finding schema lives in the repository (and in
// SchemaFS).
const SchemaPath = "schema/finding-v1.schema.json"

// SchemaFS holds the JSON Schema (draft 2020-12) of leakwatch.finding/v1.
//
//go:embed schema/finding-v1.schema.json
var SchemaFS embed.FS

var (
	findingSchemaOnce sync.Once
	findingSchema     *jsonschema.Schema
	findingSchemaErr  error
)

// compiledSchema compiles the embedded schema once, with format assertions
// on (observed_at must be an RFC 3339 date-time).
func compiledSchema() (*jsonschema.Schema, error) {
	findingSchemaOnce.Do(func() {
		b, err := SchemaFS.ReadFile(SchemaPath)
		if err != nil {
			findingSchemaErr = fmt.Errorf("output: read schema: %w", err)
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			findingSchemaErr = fmt.Errorf("output: parse schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(SchemaPath, doc); err != nil {
			findingSchemaErr = fmt.Errorf("output: add schema: %w", err)
			return
		}
		findingSchema, findingSchemaErr = c.Compile(SchemaPath)
	})
	return findingSchema, findingSchemaErr
}

// ValidateFinding checks one JSON document against leakwatch.finding/v1.
func ValidateFinding(doc []byte) error {
	sch, err := compiledSchema()
	if err != nil {
		return err
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("output: not JSON: %w", err)
	}
	if err := sch.Validate(v); err != nil {
		return fmt.Errorf("output: does not match %s: %w", SchemaPath, err)
	}
	return nil
}

// ValidateJSONL checks that r is JSONL in the leakwatch.finding/v1
// contract: every line one JSON object matching the schema, every line
// (the last included) terminated by "\n", no blank lines. Empty input is
// valid (nothing found). Errors name the 1-based line.
func ValidateJSONL(r io.Reader) error {
	br := bufio.NewReader(r)
	var errs []error
	for n := 1; ; n++ {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if line[len(line)-1] != '\n' {
				errs = append(errs, fmt.Errorf("line %d: not terminated by a newline", n))
			}
			body := bytes.TrimSuffix(line, []byte("\n"))
			if len(bytes.TrimSpace(body)) == 0 {
				errs = append(errs, fmt.Errorf("line %d: blank line", n))
			} else if verr := ValidateFinding(body); verr != nil {
				errs = append(errs, fmt.Errorf("line %d: %w", n, verr))
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("output: read jsonl: %w", err)
		}
		if len(errs) >= 10 {
			errs = append(errs, errors.New("output: more errors not shown"))
			break
		}
	}
	return errors.Join(errs...)
}
