//go:build interop

package interop

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// retriever runs one program (gofetchmail or the real fetchmail) in a
// private directory that serves as HOME and FETCHMAILHOME.
type retriever struct {
	name string // "gofetchmail" or "fetchmail"
	path string
	dir  string
	env  []string // added to the environment of its runs
}

// newRetriever makes a fresh directory for a run of the program at path;
// it holds a maildir (md) and an MDA script (mda) that delivers into it, so
// that both programs deliver the same way.
func newRetriever(t *testing.T, name, path string) *retriever {
	t.Helper()
	r := &retriever{name: name, path: path, dir: t.TempDir()}
	for _, d := range []string{"md/new", "md/cur", "md/tmp"} {
		if err := os.MkdirAll(filepath.Join(r.dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	mda := fmt.Sprintf("#!/bin/sh\nf=$(date +%%s%%N).$$\ncat > %[1]s/md/tmp/$f && mv %[1]s/md/tmp/$f %[1]s/md/new/$f\n", r.dir)
	writeFile(t, filepath.Join(r.dir, "mda"), mda, 0o755)
	return r
}

func (r *retriever) maildir() string { return filepath.Join(r.dir, "md") }
func (r *retriever) idfile() string  { return filepath.Join(r.dir, ".fetchids") }
func (r *retriever) pidfile() string { return filepath.Join(r.dir, "fetchmail.pid") }

// rc writes the rc file; %MDA% in text becomes the MDA script's path.
func (r *retriever) rc(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(r.dir, "fetchmailrc")
	writeFile(t, path, strings.ReplaceAll(text, "%MDA%", filepath.Join(r.dir, "mda")), mode)
	return path
}

// delivered counts the messages in the maildir.
func (r *retriever) delivered(t *testing.T) int {
	t.Helper()
	n := 0
	for _, sub := range []string{"new", "cur"} {
		es, err := os.ReadDir(filepath.Join(r.maildir(), sub))
		if err != nil {
			t.Fatal(err)
		}
		n += len(es)
	}
	return n
}

// run runs the program with args (the rc, idfile and pid file of r come
// first) and gives up after a minute.
func (r *retriever) run(t *testing.T, args ...string) result {
	t.Helper()
	all := append([]string{"-f", filepath.Join(r.dir, "fetchmailrc"), "-i", r.idfile(), "--pidfile", r.pidfile()}, args...)
	return r.runRaw(t, all...)
}

// runRaw runs the program with exactly args.
func (r *retriever) runRaw(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.path, args...)
	cmd.Dir = r.dir
	cmd.Env = append([]string{"HOME=" + r.dir, "FETCHMAILHOME=" + r.dir, "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C"}, r.env...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within a minute:\n%v", r.name, res)
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("running %s: %v", r.name, err)
	}
	return res
}

// realFetchmail is the installed fetchmail, or "" when there is none.
func realFetchmail() string {
	p, err := exec.LookPath("fetchmail")
	if err != nil {
		return ""
	}
	return p
}

// fakePOP3 serves POP3 on a loopback port with canned answers: greeting,
// then for each command the answer whose key prefixes it ("" answers
// everything else with +OK). An answer "hang" reads on without replying.
func fakePOP3(t *testing.T, greeting string, answers map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				fmt.Fprintf(c, "%s\r\n", greeting)
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					cmd := strings.ToUpper(sc.Text())
					reply := "+OK"
					for k, v := range answers {
						if k != "" && strings.HasPrefix(cmd, k) {
							reply = v
						}
					}
					if strings.HasPrefix(cmd, "CAPA") && answers["CAPA"] == "" {
						reply = "+OK\r\nUIDL\r\nUSER\r\n."
					}
					if reply == "hang" {
						continue
					}
					fmt.Fprintf(c, "%s\r\n", reply)
					if strings.HasPrefix(cmd, "QUIT") {
						return
					}
				}
			}(c)
		}
	}()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// exitCase is one row of the exit-code table.
type exitCase struct {
	name string
	want int
	fill int    // messages put on the server before each run (-1: leave)
	rc   string // rc text; %MDA% is the MDA, %PORT% the rig's POP3 port
	mode os.FileMode
	args []string
	env  []string
	// prepare runs before each program's run (for example a first fetch).
	prepare func(t *testing.T, r *retriever)
	// differs marks a documented difference (docs/options.md): the real
	// fetchmail exits with realWant instead of want.
	differs  bool
	realWant int
	// check runs after each program's run.
	check func(t *testing.T, r *retriever, res result)
}

func rigRC(extra string) string {
	return `poll 127.0.0.1 with protocol pop3 and port %PORT%
  user msingh there is manish here password foobar sslproto '' mda "%MDA%" ` + extra + "\n"
}

// TestExitCodes reproduces each of fetchmail's exit codes with the real
// dovecot (or a fake POP3 server where dovecot cannot produce the case) and
// runs the real fetchmail in the same situation: both must exit with the
// code of the table.
func TestExitCodes(t *testing.T) {
	inUse := fakePOP3(t, "+OK fake", map[string]string{"PASS": "-ERR [IN-USE] mailbox locked by another session"})
	silent := fakePOP3(t, "+OK fake", map[string]string{"USER": "hang"})
	cases := []exitCase{
		{name: "success", want: 0, fill: 3, rc: rigRC(""), check: func(t *testing.T, r *retriever, res result) {
			if n := r.delivered(t); n != 3 {
				t.Errorf("%s delivered %d messages, want 3\n%v", r.name, n, res)
			}
			serverHolds(t, 0)
		}},
		{name: "nomail", want: 1, fill: 0, rc: rigRC("")},
		{name: "keep-then-nothing-new", want: 1, fill: 3, rc: rigRC("keep"),
			prepare: func(t *testing.T, r *retriever) {
				if res := r.run(t); res.code != 0 {
					t.Fatalf("%s first run: %v", r.name, res)
				}
			}},
		{name: "connection-refused", want: 2, fill: -1,
			rc: "poll 127.0.0.1 with protocol pop3 and port 1\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		{name: "wrong-password", want: 3, fill: 1,
			rc: "poll 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password wrong sslproto '' mda \"%MDA%\"\n"},
		{name: "rc-syntax", want: 5, fill: -1, rc: "poll 127.0.0.1 with proto pop3 user\n"},
		{name: "no-mailservers", want: 5, fill: -1, rc: "set daemon 0\n"},
		{name: "bad-option-value", want: 5, fill: -1, rc: rigRC(""), args: []string{"-d", "x"}},
		{name: "preconnect-fails", want: 5, fill: 1, rc: rigRC(`preconnect "exit 3"`)},
		{name: "rc-permissions", want: 6, fill: -1, rc: rigRC(""), mode: 0o644},
		// --configdump checks the mode too, and prints nothing (it would
		// print the password).
		{name: "configdump-rc-permissions", want: 6, fill: -1, rc: rigRC(""), mode: 0o644, args: []string{"--configdump"},
			check: func(t *testing.T, r *retriever, res result) {
				if res.stdout != "" || strings.Contains(res.stderr, "foobar") {
					t.Errorf("%s printed the configuration:\n%v", r.name, res)
				}
			}},
		// -f naming a missing file: an empty configuration, "no mailservers".
		{name: "rc-missing", want: 5, fill: -1, rc: rigRC(""), args: []string{"-f", "no-such.rc"}},
		// An ssh -L preconnect whose SSH server refuses the connection:
		// fetchmail's ssh exits 255, a failed preconnect; gofetchmail's
		// translation of it says the same.
		{name: "preconnect-ssh-unreachable", want: 5, fill: 1, check: holds(0, 1),
			rc: "poll localhost with protocol pop3 and port 36998\n  user msingh password foobar sslproto '' mda \"%MDA%\" preconnect \"ssh -f -p 1 msingh@127.0.0.1 -L 36998:127.0.0.1:110 sleep 5\"\n"},
		// The SSH server's host key is not in known_hosts: the real ssh
		// refuses it (255, a failed preconnect, 5); gofetchmail says 2,
		// its status for a refused host key (a documented difference).
		{name: "preconnect-ssh-hostkey-unknown", want: 2, differs: true, realWant: 5, fill: 1, check: holds(0, 1),
			rc: "poll localhost with protocol pop3 and port 36998\n  user msingh password foobar sslproto '' mda \"%MDA%\" preconnect \"ssh -f -p %SSHPORT% msingh@127.0.0.1 -L 36998:127.0.0.1:%PORT% sleep 5\"\n"},
		{name: "quit-nothing-running", want: 8, fill: -1, rc: rigRC(""), args: []string{"--quit"}},
		// The pid file: a live instance's refuses the run, a dead one's
		// is removed and the run goes on, one that cannot be created
		// refuses the run ("lock creation failed").
		{name: "pidfile-live", want: 8, fill: 2, rc: rigRC(""), check: holds(0, 2),
			prepare: func(t *testing.T, r *retriever) { writePidfile(t, r.pidfile(), livePid(t)) }},
		{name: "pidfile-stale", want: 0, fill: 2, rc: rigRC(""), check: func(t *testing.T, r *retriever, res result) {
			holds(2, 0)(t, r, res)
			if _, err := os.Stat(r.pidfile()); !os.IsNotExist(err) {
				t.Errorf("%s left its pid file behind (%v)", r.name, err)
			}
		}, prepare: func(t *testing.T, r *retriever) { writePidfile(t, r.pidfile(), deadPid(t)) }},
		{name: "pidfile-uncreatable", want: 8, fill: 2, rc: rigRC(""), check: holds(0, 2),
			args: []string{"--pidfile", "/nonexistent-gofetchmail-dir/fetchmail.pid"}},
		{name: "lock-busy", want: 9, fill: -1,
			rc: "poll 127.0.0.1 with protocol pop3 and port " + inUse + "\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		// fetchmail 6.4 gives PS_SOCKET, not PS_ERROR, for a server that stops answering.
		{name: "timeout", want: 2, fill: -1, args: []string{"-t", "1"},
			rc: "poll 127.0.0.1 with protocol pop3 and port " + silent + "\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		{name: "fetchlimit", want: 13, fill: 5, rc: rigRC("fetchlimit 2"), check: func(t *testing.T, r *retriever, res result) {
			if n := r.delivered(t); n != 2 {
				t.Errorf("%s delivered %d messages, want 2\n%v", r.name, n, res)
			}
			serverHolds(t, 3)
		}},
		{name: "fetchlimit-option", want: 13, fill: 4, rc: rigRC(""), args: []string{"-B", "1"}},
		{name: "check-waiting", want: 0, fill: 3, rc: rigRC(""), args: []string{"-c"}, check: func(t *testing.T, r *retriever, _ result) {
			if n := r.delivered(t); n != 0 {
				t.Errorf("%s -c delivered %d messages", r.name, n)
			}
			serverHolds(t, 3)
		}},
		{name: "check-empty", want: 1, fill: 0, rc: rigRC(""), args: []string{"-c"}},
		{name: "check-all-seen", want: 1, fill: 2, rc: rigRC("keep"), args: []string{"-c"},
			prepare: func(t *testing.T, r *retriever) {
				if res := r.run(t); res.code != 0 {
					t.Fatalf("%s first run: %v", r.name, res)
				}
			}},
		{name: "limit", want: 0, fill: 3, rc: rigRC("limit 2150"), check: holds(2, 1)},
		{name: "limit-all-oversized", want: 1, fill: 2, rc: rigRC("limit 100"), check: holds(0, 2)},
		{name: "limitflush", want: 0, fill: 3, rc: rigRC("limit 2150 limitflush"), check: holds(2, 0)},
		{name: "limitflush-all-oversized", want: 1, fill: 2, rc: rigRC("limit 100"), args: []string{"--limitflush"}, check: holds(0, 0)},
		{name: "flush-with-keep", want: 1, fill: 3, rc: rigRC("keep"), args: []string{"-F"}, check: holds(3, 0),
			prepare: func(t *testing.T, r *retriever) {
				if res := r.run(t); res.code != 0 {
					t.Fatalf("%s first run: %v", r.name, res)
				}
			}},
		{name: "fetchall-option", want: 0, fill: 3, rc: rigRC("keep"), args: []string{"-a"}, check: holds(6, 3), prepare: firstRun},
		{name: "nokeep-option", want: 0, fill: 3, rc: rigRC("keep"), args: []string{"-K"}, check: holds(3, 0)},
		{name: "keep-option", want: 0, fill: 3, rc: rigRC(""), args: []string{"-k"}, check: holds(3, 3)},
		{name: "limit-option", want: 1, fill: 2, rc: rigRC(""), args: []string{"-l", "100"}, check: holds(0, 2)},
		{name: "service-option", want: 0, fill: 2, args: []string{"-P", "%PORT%"}, check: holds(2, 0),
			rc: "poll 127.0.0.1 with protocol pop3 and port 1\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		{name: "username-option", want: 0, fill: 2, args: []string{"-u", "msingh"}, check: holds(2, 0),
			rc: "poll 127.0.0.1 with protocol pop3 and port %PORT%\n  user nobody password foobar sslproto '' mda \"%MDA%\"\n"},
		{name: "mda-option", want: 0, fill: 2, args: []string{"-m", "%MDA%"}, check: holds(2, 0),
			rc: "poll 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password foobar sslproto '' mda \"/bin/false\"\n"},
		{name: "protocol-option", want: 0, fill: 1, args: []string{"-p", "pop3"}, check: holds(1, 0),
			rc: "poll 127.0.0.1 with protocol imap and port %PORT%\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		{name: "entries-first-fails", want: 0, fill: 2, rc: refusedEntry + rigRC(""), check: holds(2, 0)},
		{name: "entries-first-fails-then-nomail", want: 1, fill: 0, rc: refusedEntry + rigRC("")},
		{name: "entries-nomail-then-last-fails", want: 2, fill: 0, rc: rigRC("") + refusedEntry},
		{name: "server-name-selects", want: 0, fill: 2, args: []string{"good"}, check: holds(2, 0),
			rc: refusedEntry + "poll good via 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		// Named entries are polled in file order: the status is the good
		// entry's "no mail", not the refused one named last.
		{name: "server-names-file-order", want: 1, fill: 0, args: []string{"good", "broken"},
			rc: refusedEntry + "poll good via 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		{name: "server-names-file-order-2", want: 2, fill: 0, args: []string{"broken", "good"},
			rc: "poll good via 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n" + refusedEntry},
		{name: "skip-entry-named", want: 0, fill: 2, args: []string{"good"}, check: holds(2, 0),
			rc: "skip good via 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		{name: "skip-entry-unnamed", want: 1, fill: -1,
			rc: "skip good via 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"},
		// An MDA that fails leaves the mail on the server; fetchmail 6.4
		// still exits 0, gofetchmail says 10 (delivery failed).
		{name: "mda-fails", want: 10, differs: true, realWant: 0, fill: 2, check: holds(0, 2),
			rc: "poll 127.0.0.1 with protocol pop3 and port %PORT%\n  user msingh password foobar sslproto '' mda \"/bin/false\"\n"},
		{name: "abbreviated-option", want: 13, fill: 3, rc: rigRC(""), args: []string{"--fetchl", "1"}},
		{name: "ambiguous-option", want: 0, fill: -1, rc: rigRC(""), args: []string{"--s"}},
		{name: "smtphost-twice", want: 5, fill: -1, rc: rigRC(""), args: []string{"-S", "a", "-S", "b"}},
		// No password and no terminal: status 3 before any connection (the
		// server refuses connections, which would be 2).
		{name: "no-password", want: 3, fill: -1,
			rc: "poll 127.0.0.1 with protocol pop3 and port 1\n  user msingh sslproto '' mda \"%MDA%\"\n"},
		{name: "no-password-skipped-entry", want: 0, fill: 1, check: holds(1, 0),
			rc: "skip other via 127.0.0.1 with protocol pop3 and port 1\n  user msingh sslproto '' mda \"%MDA%\"\n" + rigRC("")},
		{name: "qmailinject-set", want: 23, fill: -1, rc: rigRC(""), args: []string{"--help"}, env: []string{"QMAILINJECT=x"}},
		{name: "nullmailer-flags-set", want: 23, fill: -1, rc: rigRC(""), env: []string{"NULLMAILER_FLAGS=s"}},
		{name: "qmailinject-empty", want: 1, fill: 0, rc: rigRC(""), env: []string{"QMAILINJECT="}},
		// With "set daemon" in the rc file, -d0 and -c make a one-shot run.
		{name: "d0-overrides-set-daemon", want: 0, fill: 2, rc: "set daemon 3600\n" + rigRC(""), args: []string{"-d0"}, check: holds(2, 0)},
		{name: "check-overrides-set-daemon", want: 0, fill: 2, rc: "set daemon 3600\n" + rigRC(""), args: []string{"-c"}, check: holds(0, 2)},
		{name: "unknown-option", want: 0, fill: -1, rc: rigRC(""), args: []string{"--no-such-option"}},
		{name: "help", want: 0, fill: -1, rc: rigRC(""), args: []string{"--help"}},
	}
	progs := []struct{ name, path string }{{"gofetchmail", binary}}
	if fm := realFetchmail(); fm != "" {
		progs = append(progs, struct{ name, path string }{"fetchmail", fm})
	} else {
		t.Log("no fetchmail installed: gofetchmail is checked against the table only")
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]int{}
			for _, p := range progs {
				r := newRetriever(t, p.name, p.path)
				r.env = tc.env
				mode := tc.mode
				if mode == 0 {
					mode = 0o600
				}
				r.rc(t, strings.NewReplacer("%PORT%", rig["RIG_POP3_PORT"], "%SSHPORT%", rig["RIG_SSH_PORT"]).Replace(tc.rc), mode)
				if tc.fill >= 0 {
					settledFill(t, tc.fill)
				}
				if tc.prepare != nil {
					tc.prepare(t, r)
				}
				args := make([]string, len(tc.args))
				for i, a := range tc.args {
					args[i] = strings.ReplaceAll(strings.ReplaceAll(a, "%PORT%", rig["RIG_POP3_PORT"]), "%MDA%", filepath.Join(r.dir, "mda"))
				}
				res := r.run(t, args...)
				got[p.name] = res.code
				want := tc.want
				if tc.differs && p.name == "fetchmail" {
					want = tc.realWant
				}
				if res.code != want {
					t.Errorf("%s exited %d, want %d\n%v", p.name, res.code, want, res)
				}
				if tc.check != nil {
					tc.check(t, r, res)
				}
			}
			t.Logf("exit codes: %v", got)
		})
	}
}

// holds checks that a run delivered local messages and left server ones.
func holds(local, server int) func(t *testing.T, r *retriever, res result) {
	return func(t *testing.T, r *retriever, res result) {
		t.Helper()
		if n := r.delivered(t); n != local {
			t.Errorf("%s delivered %d messages, want %d\n%v", r.name, n, local, res)
		}
		serverHolds(t, server)
	}
}

// settledFill empties the server's mailbox and stores n generated
// messages under file names never used before. rigmail.Fill reuses its
// names on every fill, and dovecot then sometimes maps a refilled file to
// the UID its uidlist kept for the old one, so UIDs change between two
// sessions on the same mailbox: a UID test cannot run on that.
func settledFill(t *testing.T, n int) {
	t.Helper()
	fill(t, 0)
	addMail(t, n)
}

// addMail stores n more generated messages in the server's mailbox, with
// file names never used before.
func addMail(t *testing.T, n int) {
	t.Helper()
	uid, gid := rigUser(t)
	md := rig["RIG_MAILDIR"]
	for i, m := range rigmail.Generate(n, 2048) {
		name := fmt.Sprintf("%d.G%d.addmail", time.Now().UnixNano(), i)
		tmp := filepath.Join(md, "tmp", name)
		if err := os.WriteFile(tmp, m.Data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(tmp, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(md, "new", name)); err != nil {
			t.Fatal(err)
		}
	}
}

// refusedEntry is an rc entry whose server refuses connections.
const refusedEntry = "poll broken via 127.0.0.1 with protocol pop3 and port 1\n  user msingh password foobar sslproto '' mda \"%MDA%\"\n"

// firstRun is a prepare step: one plain run that must succeed.
func firstRun(t *testing.T, r *retriever) {
	t.Helper()
	if res := r.run(t); res.code != 0 {
		t.Fatalf("%s first run: %v", r.name, res)
	}
}

// writePidfile writes a pid file in fetchmail's format for pid.
func writePidfile(t *testing.T, path string, pid int) {
	t.Helper()
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d\n", pid)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// livePid is the pid of a process that runs until the test ends.
func livePid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// deadPid is the pid of a process that has exited (and was reaped).
func deadPid(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}
