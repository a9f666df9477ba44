// Package classify decides which kinds of personal data and secrets a
// dataset holds, from its schema (field names, mappings) and a bounded sample
// of records, and aggregates the answer per dataset. Raw values never leave
// this package: results carry masked examples and keyed hashes only.
package classify

import "github.com/leakwatch/leakwatch/internal/finding"

// Input is one dataset to classify.
type Input struct {
	// Schema is the dataset's field names/types from metadata (may be empty).
	Schema []finding.Field
	// Sample is the bounded sample of records (may be empty).
	Sample []Record
	// Records is the dataset's size as the store reports it (nil: unknown).
	Records *int64
}

// Output is the classification of one dataset.
type Output struct {
	Classes []finding.ClassCount
	// Canaries lists the labels of canary values found in the sample.
	Canaries []string
}

// Classifier classifies datasets. Implementations are safe for concurrent use.
type Classifier interface {
	Classify(in Input) Output
}
