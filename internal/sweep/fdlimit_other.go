//go:build !unix

package sweep

// RaiseFDLimit does nothing where there is no RLIMIT_NOFILE; 0 means no
// known limit.
func RaiseFDLimit() (uint64, error) { return 0, nil }
