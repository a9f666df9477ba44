package store

// CommitHook, when non-nil, is called inside every write transaction of the
// SQL stores (sqlite, postgres) just before COMMIT, with the transaction
// still open; the function it returns, if non-nil, runs after the commit
// returned successfully.
//
// Tests only: the kill -9 crash tests install it (in the child process,
// before any store is opened) to learn, and prove, that a SIGKILL landed
// while a transaction was open. Production code never sets it.
var CommitHook func() (after func())
