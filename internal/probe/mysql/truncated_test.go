package mysql

import (
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestLimitsFlagged: rows left unread because the sample byte budget was
// reached flag the dataset sample-truncated, and tables past MaxListed
// flag the result datasets-truncated — a limit never drops data silently.
func TestLimitsFlagged(t *testing.T) {
	t.Parallel()
	s := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	s.Seed(t)
	probetest.SampleCutFlagged(t, func() probe.Prober { return New() }, s.Addr, s.Port)
}
