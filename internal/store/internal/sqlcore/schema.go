package sqlcore

import "strings"

// Migration is one schema version. Its statements use the type macros
// {{TS}} (timestamp), {{ID}} (auto-increment primary key), {{BIGINT}},
// {{JSON}} and {{BOOL}}, which each dialect expands.
type Migration struct {
	Version int
	Name    string
	SQL     []string
}

// Migrations are applied in order; never edit a released one, add a new one.
var Migrations = []Migration{
	{Version: 1, Name: "history", SQL: []string{
		`CREATE TABLE assets (
			host       TEXT PRIMARY KEY,
			hostname   TEXT NOT NULL DEFAULT '',
			first_seen {{TS}} NOT NULL,
			last_seen  {{TS}} NOT NULL
		)`,
		// services: every host:port:service ever checked; id is
		// finding.Fingerprint and is shared with findings.
		`CREATE TABLE services (
			id           TEXT PRIMARY KEY,
			host         TEXT NOT NULL REFERENCES assets(host),
			port         INTEGER NOT NULL,
			service      TEXT NOT NULL,
			scope        TEXT NOT NULL DEFAULT '',
			first_seen   {{TS}} NOT NULL,
			last_seen    {{TS}} NOT NULL,
			last_outcome TEXT NOT NULL
		)`,
		`CREATE INDEX services_host ON services(host, port)`,
		`CREATE TABLE scan_runs (
			id          TEXT PRIMARY KEY,
			scope       TEXT NOT NULL,
			status      TEXT NOT NULL,
			started_at  {{TS}} NOT NULL,
			finished_at {{TS}},
			cursor      TEXT NOT NULL DEFAULT '',
			cursor_at   {{TS}},
			error       TEXT NOT NULL DEFAULT ''
		)`,
		`CREATE INDEX scan_runs_scope ON scan_runs(scope, status, started_at)`,
		// observations: one per (scan, service), the idempotency key.
		`CREATE TABLE observations (
			id          {{ID}},
			scan_id     TEXT NOT NULL,
			service_id  TEXT NOT NULL REFERENCES services(id),
			scope       TEXT NOT NULL DEFAULT '',
			observed_at {{TS}} NOT NULL,
			recorded_at {{TS}} NOT NULL,
			outcome     TEXT NOT NULL,
			reason      TEXT NOT NULL DEFAULT '',
			auth        TEXT NOT NULL DEFAULT '',
			severity    TEXT NOT NULL DEFAULT '',
			product     TEXT NOT NULL DEFAULT '',
			version     TEXT NOT NULL DEFAULT '',
			records     {{BIGINT}} NOT NULL DEFAULT 0,
			datasets    INTEGER NOT NULL DEFAULT 0,
			classes     TEXT NOT NULL DEFAULT '[]',
			flags       TEXT NOT NULL DEFAULT '[]',
			stale       {{BOOL}} NOT NULL DEFAULT {{FALSE}},
			finding     {{JSON}},
			UNIQUE (scan_id, service_id)
		)`,
		`CREATE INDEX observations_service ON observations(service_id, observed_at)`,
		// findings: the current lifecycle state of services that were
		// exposed at least once; state holds lifecycle.State as JSON.
		`CREATE TABLE findings (
			id             TEXT PRIMARY KEY REFERENCES services(id),
			status         TEXT NOT NULL,
			severity       TEXT NOT NULL,
			severity_rank  INTEGER NOT NULL,
			scope          TEXT NOT NULL DEFAULT '',
			host           TEXT NOT NULL,
			port           INTEGER NOT NULL,
			service        TEXT NOT NULL,
			first_seen     {{TS}} NOT NULL,
			last_seen      {{TS}} NOT NULL,
			last_seen_open {{TS}} NOT NULL,
			changed_at     {{TS}},
			closed_at      {{TS}},
			reopen_count   INTEGER NOT NULL DEFAULT 0,
			closing_streak INTEGER NOT NULL DEFAULT 0,
			state          {{JSON}} NOT NULL,
			updated_at     {{TS}} NOT NULL
		)`,
		`CREATE INDEX findings_status ON findings(status, severity_rank)`,
		`CREATE INDEX findings_scope ON findings(scope, status)`,
		`CREATE TABLE events (
			id             {{ID}},
			finding_id     TEXT NOT NULL REFERENCES findings(id),
			observation_id {{BIGINT}} NOT NULL REFERENCES observations(id),
			kind           TEXT NOT NULL,
			at             {{TS}} NOT NULL,
			severity       TEXT NOT NULL,
			summary        TEXT NOT NULL,
			payload        {{JSON}} NOT NULL,
			UNIQUE (observation_id, kind)
		)`,
		`CREATE INDEX events_finding ON events(finding_id, at)`,
		// outbox: one row per (event, route) until delivered or given up.
		`CREATE TABLE outbox (
			id           {{ID}},
			event_id     {{BIGINT}} NOT NULL REFERENCES events(id),
			route        TEXT NOT NULL,
			dedup_key    TEXT NOT NULL UNIQUE,
			scope        TEXT NOT NULL DEFAULT '',
			created_at   {{TS}} NOT NULL,
			attempts     INTEGER NOT NULL DEFAULT 0,
			next_attempt {{TS}} NOT NULL,
			lease_until  {{TS}},
			claimed_by   TEXT NOT NULL DEFAULT '',
			last_error   TEXT NOT NULL DEFAULT '',
			delivered_at {{TS}},
			gave_up_at   {{TS}}
		)`,
		`CREATE INDEX outbox_due ON outbox(next_attempt, id) WHERE delivered_at IS NULL AND gave_up_at IS NULL`,
		`CREATE INDEX outbox_event ON outbox(event_id)`,
	}},
	{Version: 2, Name: "acknowledgements", SQL: migrationAcks},
}

// expand replaces the type macros.
func expand(stmt string, types map[string]string) string {
	for k, v := range types {
		stmt = strings.ReplaceAll(stmt, "{{"+k+"}}", v)
	}
	return stmt
}
