// Package ftp probes FTP servers for anonymous access. An anonymous login
// (USER anonymous / PASS anonymous@) that the server accepts means the
// files are exposed; the prober then lists the login directory and one
// level of subdirectories through passive-mode data connections to the
// same target address, and reads a few small text-like files.
//
// Commands sent: USER, PASS, SYST, FEAT, PWD, TYPE, EPSV/PASV, MLSD/LIST,
// RETR, QUIT. Nothing is ever written.
package ftp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/textrec"
)

// Prober probes FTP.
type Prober struct {
	// forcePASV skips EPSV (tests exercise the PASV path with it).
	forcePASV bool
}

var _ probe.Prober = (*Prober)(nil)

// New returns the FTP prober.
func New() *Prober { return &Prober{} }

// Name is the service name in findings.
func (*Prober) Name() string { return "ftp" }

// DefaultPorts is FTP's control port.
// ServerFirst implements probe.ServerFirst: the server greets first.
func (*Prober) ServerFirst() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{21, 2121} }

const (
	// maxSubdirs bounds the subdirectories listed below the login directory.
	maxSubdirs = 20
	// maxFilesPerDir bounds the files read per sampled directory.
	maxFilesPerDir = 4
	// maxFileSize is the largest file (by its listed size) read.
	maxFileSize = 64 << 10
	// maxSampleTotal bounds all file bytes read from one server.
	maxSampleTotal = 256 << 10
)

// errForeignPASV is returned when a PASV reply names another host: the
// data connection would leave the target (FTP bounce, NAT leaks).
var errForeignPASV = errors.New("PASV reply points at another address; refused")

// session is one control connection.
type session struct {
	env  *probe.Env
	conn net.Conn
	br   *bufio.Reader
	res  *probe.Result
	// epsv is false once the server refused EPSV.
	epsv bool
	mlsd bool
}

// Probe logs in anonymously and, when that works, lists and samples.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	conn, err := env.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	defer conn.Close()
	s := &session{env: env, conn: conn, br: bufio.NewReaderSize(conn, 4096), epsv: !p.forcePASV}
	greet, err := readReply(s.br)
	if err != nil {
		return nil, classify220(err)
	}
	if err := checkGreeting(greet); err != nil {
		return nil, err
	}
	s.res = &probe.Result{Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	s.res.Product, s.res.Version = parseBanner(greet.Text())
	if err := s.login(); err != nil {
		if errors.Is(err, probe.ErrNotThisService) {
			return nil, err
		}
		s.res.AddError(err)
		return s.res, nil
	}
	env.Provisional(s.res) // identified: reported even if a limit stops the rest
	if s.res.Status == finding.StatusExposed {
		s.explore(ctx)
	}
	_ = s.send("QUIT")
	return s.res, nil
}

// classify220 maps a failure to read the greeting.
func classify220(err error) error {
	if errors.Is(err, errNotFTP) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return probe.NotThisService("no FTP greeting: %v", err)
	}
	return fmt.Errorf("ftp: read greeting: %w", err)
}

// checkGreeting accepts "220" (ready) and rejects other 220 protocols.
func checkGreeting(r reply) error {
	switch r.Code {
	case 220:
	case 120, 421:
		return fmt.Errorf("ftp: server not ready: %d %s", r.Code, truncate(r.Text(), 80))
	default:
		return probe.NotThisService("greeting code %d", r.Code)
	}
	up := strings.ToUpper(r.Text())
	if strings.Contains(up, "SMTP") || strings.Contains(up, " LMTP") {
		return probe.NotThisService("SMTP greeting")
	}
	return nil
}

// cmd sends one command and reads its reply.
func (s *session) cmd(line string) (reply, error) {
	if err := s.send(line); err != nil {
		return reply{}, err
	}
	verb, _, _ := strings.Cut(line, " ")
	r, err := readReply(s.br)
	if err != nil {
		return r, fmt.Errorf("ftp: %s: %w", verb, err)
	}
	return r, nil
}

func (s *session) send(line string) error {
	if _, err := io.WriteString(s.conn, line+"\r\n"); err != nil {
		verb, _, _ := strings.Cut(line, " ")
		return fmt.Errorf("ftp: send %s: %w", verb, err)
	}
	return nil
}

// login tries the anonymous account. It sets Status/Auth; it returns
// ErrNotThisService when USER is not understood (another protocol that
// also greets with 220).
func (s *session) login() error {
	r, err := s.cmd("USER anonymous")
	if err != nil {
		return err
	}
	switch {
	case r.Code == 331 || r.Code == 332:
		r, err = s.cmd("PASS anonymous@")
		if err != nil {
			return err
		}
	case r.Code == 230:
	case r.Code == 500 || r.Code == 502:
		return probe.NotThisService("USER not understood: %d", r.Code)
	}
	switch {
	case r.Code == 230:
		s.res.AddEvidence("anonymous_login", true)
	case r.Code >= 530 && r.Code <= 534, r.Code == 550:
		s.res.Status, s.res.Auth = finding.StatusProtected, finding.AuthRequired
		s.res.AddEvidence("anonymous_login", false)
		s.res.AddEvidence("login_reply", r.Code)
		return nil
	default:
		return fmt.Errorf("ftp: anonymous login: unexpected reply %d", r.Code)
	}
	// Second signal: the session works (PWD answers a directory).
	r, err = s.cmd("PWD")
	if err != nil {
		return err
	}
	if r.Code != 257 {
		return fmt.Errorf("ftp: PWD after login: reply %d", r.Code)
	}
	s.res.Status, s.res.Auth = finding.StatusExposed, finding.AuthNone
	s.res.AddEvidence("cwd", quotedPath(r.Text()))
	return nil
}

// quotedPath takes the directory out of `257 "/pub" is the current directory`.
func quotedPath(text string) string {
	i := strings.IndexByte(text, '"')
	if i < 0 {
		return "/"
	}
	rest := text[i+1:]
	var b strings.Builder
	for j := 0; j < len(rest); j++ {
		if rest[j] == '"' {
			if j+1 < len(rest) && rest[j+1] == '"' {
				b.WriteByte('"')
				j++
				continue
			}
			break
		}
		b.WriteByte(rest[j])
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// explore reads system facts, lists the tree and samples files.
func (s *session) explore(ctx context.Context) {
	if r, err := s.cmd("SYST"); err == nil && r.Code == 215 {
		s.res.AddEvidence("syst", truncate(r.Text(), 80))
	}
	if r, err := s.cmd("FEAT"); err == nil && r.Code == 211 {
		var feats []string
		for _, l := range r.Lines[1:] {
			f := strings.ToUpper(strings.TrimSpace(l))
			if f == "" || strings.HasPrefix(f, "END") {
				continue
			}
			name, _, _ := strings.Cut(f, " ")
			feats = append(feats, name)
			if name == "MLSD" || name == "MLST" {
				s.mlsd = true
			}
		}
		if len(feats) > 32 {
			feats = feats[:32]
		}
		s.res.AddEvidence("features", feats)
	}
	if _, err := s.cmd("TYPE I"); err != nil {
		s.res.AddError(err)
		return
	}
	root, _ := s.res.Evidence["cwd"].(string)
	dirs, err := s.listTree(ctx, root)
	if err != nil {
		s.res.AddError(err)
	}
	first := len(s.res.Datasets)
	for _, d := range dirs {
		s.res.Datasets = append(s.res.Datasets, d.ds)
	}
	s.sample(ctx, dirs, s.res.Datasets[first:])
}

// dir is one listed directory.
type dir struct {
	ds    probe.Dataset
	path  string
	files []dirEntry
}

// listTree lists root and its subdirectories (one level).
func (s *session) listTree(ctx context.Context, root string) ([]*dir, error) {
	maxListed := s.env.Budget.MaxListed
	top, subdirs, err := s.listDir(ctx, root, maxListed)
	if err != nil {
		return nil, err
	}
	dirs := []*dir{top}
	listed := len(top.files) + len(subdirs)
	for i, name := range subdirs {
		if i >= maxSubdirs || listed >= maxListed || ctx.Err() != nil {
			s.res.AddEvidence("listing_truncated", true)
			s.res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		d, more, err := s.listDir(ctx, path.Join(root, name), maxListed-listed)
		if err != nil {
			return dirs, err
		}
		listed += len(d.files) + len(more)
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// listDir lists one directory; files become the dataset's records,
// subdirectory names are returned.
func (s *session) listDir(ctx context.Context, p string, max int) (*dir, []string, error) {
	var (
		body      []byte
		truncated bool
		err       error
	)
	mlsd := s.mlsd
	if mlsd {
		body, truncated, err = s.transfer(ctx, "MLSD "+p, s.env.Budget.MaxResponseBytes)
		if err != nil && !isTransportErr(err) {
			mlsd = false // advertised but refused: fall back to LIST
		}
	}
	if !mlsd {
		body, truncated, err = s.transfer(ctx, "LIST -a "+p, s.env.Budget.MaxResponseBytes)
		if err != nil && !isTransportErr(err) {
			body, truncated, err = s.transfer(ctx, "LIST "+p, s.env.Budget.MaxResponseBytes)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	entries, n := parseListing(body, mlsd, max)
	d := &dir{path: p, ds: probe.Dataset{Dataset: finding.Dataset{Name: p, Kind: "directory"}}}
	var (
		subdirs     []string
		files, size int64
	)
	for _, e := range entries {
		if e.Dir {
			subdirs = append(subdirs, e.Name)
			continue
		}
		files++
		if e.Size > 0 {
			size += e.Size
		}
		if !e.Link {
			d.files = append(d.files, e)
		}
	}
	if !truncated && n == len(entries) {
		d.ds.Records = finding.Int64(files)
		d.ds.Bytes = finding.Int64(size)
	}
	return d, subdirs, nil
}

// isTransportErr tells a broken connection from a refused command.
func isTransportErr(err error) bool {
	var re *replyError
	return !errors.As(err, &re) || errors.Is(err, errForeignPASV)
}

// replyError is a command the server answered with a failure code.
type replyError struct {
	cmd  string
	code int
}

func (e *replyError) Error() string { return fmt.Sprintf("ftp: %s: reply %d", e.cmd, e.code) }

// transfer runs a command that answers over a data connection and reads
// at most limit bytes of it.
func (s *session) transfer(ctx context.Context, command string, limit int64) ([]byte, bool, error) {
	data, err := s.openData(ctx)
	if err != nil {
		return nil, false, err
	}
	defer data.Close()
	verb, _, _ := strings.Cut(command, " ")
	r, err := s.cmd(command)
	if err != nil {
		return nil, false, err
	}
	if r.Code != 125 && r.Code != 150 {
		return nil, false, &replyError{cmd: verb, code: r.Code}
	}
	body, truncated, err := probe.ReadLimited(data, limit)
	data.Close()
	if err != nil {
		return nil, false, fmt.Errorf("ftp: %s: read data: %w", verb, err)
	}
	// The closing reply: 226/250 when complete, 426/451 when we hung up.
	end, err := readReply(s.br)
	if err != nil {
		return nil, false, fmt.Errorf("ftp: %s: closing reply: %w", verb, err)
	}
	if !truncated && end.Code >= 400 {
		return nil, false, &replyError{cmd: verb, code: end.Code}
	}
	return body, truncated, nil
}

// openData opens a passive data connection to the target's own address.
func (s *session) openData(ctx context.Context) (net.Conn, error) {
	if s.epsv {
		r, err := s.cmd("EPSV")
		if err != nil {
			return nil, err
		}
		if r.Code == 229 {
			port, err := parseEPSV(r.Text())
			if err != nil {
				return nil, fmt.Errorf("ftp: %w", err)
			}
			s.res.AddEvidence("data_channel", "epsv")
			return s.env.DialPort(ctx, port)
		}
		s.epsv = false
	}
	r, err := s.cmd("PASV")
	if err != nil {
		return nil, err
	}
	if r.Code != 227 {
		return nil, &replyError{cmd: "PASV", code: r.Code}
	}
	addr, port, err := parsePASV(r.Text())
	if err != nil {
		return nil, fmt.Errorf("ftp: %w", err)
	}
	if addr != s.env.Target.Addr.Unmap() {
		s.res.AddEvidence("pasv_foreign_address", true)
		return nil, fmt.Errorf("ftp: %w", errForeignPASV)
	}
	s.res.AddEvidence("data_channel", "pasv")
	return s.env.DialPort(ctx, port)
}

// sample reads small text-like files of the largest directories (most
// files first) into datasets[i], the dataset of dirs[i].
func (s *session) sample(ctx context.Context, dirs []*dir, datasets []probe.Dataset) {
	order := probe.OrderBy(len(dirs), func(i int) int64 { return int64(len(dirs[i].files)) })
	b := s.env.Budget
	var total int64
	_ = probe.SampleInOrder(ctx, s.res, b, datasets, order, func(ctx context.Context, i int, ds *probe.Dataset) error {
		if total >= maxSampleTotal {
			return probe.ErrNotSampled // the probe's sample total is spent: no directory is read
		}
		d := dirs[i]
		var (
			recs []classify.Record
			size int64
			read int
			lost error // the control connection is gone
		)
		for _, f := range d.files {
			if read >= maxFilesPerDir || len(recs) >= b.SampleRecords || size >= b.SampleBytes || total >= maxSampleTotal {
				break
			}
			if !textrec.IsSampled(f.Name) || f.Size == 0 {
				continue
			}
			if f.Size > maxFileSize {
				// A sampleable file too large to read: not silently.
				ds.AddFlag(probe.FlagRecordTooLarge)
				continue
			}
			read++
			limit := min(int64(maxFileSize), maxSampleTotal-total)
			body, _, err := s.transfer(ctx, "RETR "+path.Join(d.path, f.Name), limit)
			if err != nil {
				if isTransportErr(err) {
					lost = err
					break
				}
				continue
			}
			total += int64(len(body))
			recs = ds.AppendWithin(recs, textrec.FromFile(f.Name, string(body), b.SampleRecords-len(recs)), &size, b.SampleBytes)
		}
		ds.Sample = recs
		ds.Sampled = len(recs)
		return lost
	})
}
