// Package hostile holds the hostile-server suite (issue 8): hand-written
// servers that misbehave the way no real data store does — tarpits, drips,
// resets, endless streams, TLS stalls, compression bombs, absurd and
// negative lengths and counts, deep nesting, invalid UTF-8, duplicate keys,
// control and bidi characters, hostile names in every position, and
// servers that try to steer the scanner out of scope. Every behaviour runs
// through the real engine (all probers, real classifier) and every output
// writer; the tests assert a deadline, a memory bound, no panic, output
// valid against leakwatch.finding/v1, no raw planted value in any output
// and no connection outside scope. The suite is test code only.
package hostile
