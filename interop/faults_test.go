//go:build interop

package interop

import (
	"fmt"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// cutProxy forwards loopback TCP connections to target. With cutAt >= 0
// it cuts every connection (closes both sides) once cutAt bytes have
// passed in the counted direction: server to client, or client to server
// when up is set. It counts the bytes that passed and the cuts made.
type cutProxy struct {
	ln     net.Listener
	target string
	cutAt  atomic.Int64
	up     atomic.Bool
	down   atomic.Int64 // bytes server -> client, all connections
	sent   atomic.Int64 // bytes client -> server, all connections
	cuts   atomic.Int64
	wg     sync.WaitGroup
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	p.cutAt.Store(-1)
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	return p
}

func (p *cutProxy) port() string {
	_, port, _ := net.SplitHostPort(p.ln.Addr().String())
	return port
}

// reset sets the cut offset for the next connections and zeroes the
// byte counters.
func (p *cutProxy) reset(cutAt int64, up bool) {
	p.cutAt.Store(cutAt)
	p.up.Store(up)
	p.down.Store(0)
	p.sent.Store(0)
}

func (p *cutProxy) serve(client net.Conn) {
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	var once sync.Once
	closeBoth := func() { once.Do(func() { client.Close(); server.Close() }) }
	left := p.cutAt.Load()
	up := p.up.Load()
	pump := func(dst, src net.Conn, counted bool, total *atomic.Int64) {
		defer closeBoth()
		buf := make([]byte, 16*1024)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				if counted && left >= 0 && int64(n) >= left {
					dst.Write(buf[:left])
					total.Add(left)
					p.cuts.Add(1)
					return
				}
				if counted && left >= 0 {
					left -= int64(n)
				}
				if _, err := dst.Write(buf[:n]); err != nil {
					return
				}
				total.Add(int64(n))
			}
			if err != nil {
				return
			}
		}
	}
	done := make(chan struct{})
	go func() { pump(client, server, !up, &p.down); close(done) }()
	pump(server, client, up, &p.sent)
	<-done
}

// popRC polls dovecot's plain POP3 at port (the rig's, or a proxy's) with
// a 10 s timeout; extra goes at the end of the user options.
func popRC(port, extra string) string {
	return fmt.Sprintf(`poll 127.0.0.1 with protocol pop3 and port %s timeout 10
  user msingh there is manish here password foobar sslproto '' no rewrite %s
`, port, extra)
}

// checkNoLoss checks a maildir against the last fill of n messages after a
// failed run: nothing duplicated, nothing foreign or partial, and every
// message missing from the maildir still on the server.
func checkNoLoss(t *testing.T, md string, n int) (delivered int) {
	t.Helper()
	var r rigmail.Report
	if _, err := os.Stat(md); err == nil {
		if r, err = rigmail.Verify(md, rig["RIG_ORIGINALS"]); err != nil {
			t.Fatalf("verify %s: %v", md, err)
		}
	} else {
		r.Missing = n
	}
	onServer, err := rigmail.Count(rig["RIG_MAILDIR"])
	if err != nil {
		t.Fatal(err)
	}
	if r.Duplicated != 0 || r.Unexpected != 0 {
		t.Errorf("after the fault: %v, %d unexpected (partial or foreign)", r, r.Unexpected)
	}
	if r.Missing > onServer {
		t.Errorf("after the fault: %d messages neither delivered nor on the server (%d there): LOST", r.Missing, onServer)
	}
	if tmp, _ := os.ReadDir(filepath.Join(md, "tmp")); len(tmp) > 0 {
		t.Errorf("after the fault: %d files left in %s/tmp", len(tmp), md)
	}
	return r.Verified
}

// noCrash fails the test if a run died of a panic or a signal, or exited
// with a status fetchmail does not have.
func noCrash(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine ") || r.code < 0 || (r.code > 14 && r.code != 23) {
		t.Fatalf("gofetchmail crashed:\n%v", r)
	}
}

// faultStats is what a fault test injected, for its log line (quoted in
// docs/reliability.md).
type faultStats struct {
	faults, messages, runs int
}

func (s faultStats) log(t *testing.T, what string, seed int) {
	if seed >= 0 {
		what += fmt.Sprintf(", seed %d", seed)
	}
	t.Logf("%s: %d faults injected over %d runs, %d messages, 0 lost, 0 duplicated", what, s.faults, s.runs, s.messages)
}

// TestProxyCutsPOP3 cuts the POP3 connection between gofetchmail and
// dovecot at seeded random byte offsets (server to client and client to
// server, most of them inside a message, a few at the very start and end),
// then lets a normal run finish: every message exactly once, none left.
// INTEROP_FAULT_SEED picks the offsets (default 1).
func TestProxyCutsPOP3(t *testing.T) {
	fseed := envInt("INTEROP_FAULT_SEED", 1)
	rng := rand.New(rand.NewSource(int64(fseed)))
	const n = 30
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	p := newCutProxy(t, "127.0.0.1:"+rig["RIG_POP3_PORT"])
	rc := h.rc(t, popRC(p.port(), ""))

	// Calibrate: the bytes of an uninterrupted session each way.
	fill(t, n)
	md := filepath.Join(h.dir, "Maildir-calibration")
	expectExit(t, h.runArgs(t, "-f", rc, "--maildir", md), 0)
	verify(t, md, n)
	down, up := p.down.Load(), p.sent.Load()
	t.Logf("an uninterrupted session of %d messages: %d bytes from the server, %d to it", n, down, up)

	type cut struct {
		at int64
		up bool
	}
	cuts := []cut{{0, false}, {1, false}, {down - 3, false}, {0, true}, {up - 2, true}}
	for i := 0; i < 8; i++ {
		cuts = append(cuts, cut{down/20 + rng.Int63n(down*9/10), false})
	}
	for i := 0; i < 3; i++ {
		cuts = append(cuts, cut{rng.Int63n(up), true})
	}
	var st faultStats
	for i, c := range cuts {
		fill(t, n)
		md := filepath.Join(h.dir, fmt.Sprintf("Maildir-%02d", i))
		before := p.cuts.Load()
		p.reset(c.at, c.up)
		r := h.runArgs(t, "-f", rc, "--maildir", md)
		noCrash(t, r)
		cutNow := p.cuts.Load() > before
		if cutNow {
			st.faults++
			if r.code == 0 && c.at < down/2 {
				t.Errorf("cut at %d (up %v): the run reports success:\n%v", c.at, c.up, r)
			}
		}
		got := checkNoLoss(t, md, n)
		p.reset(-1, false)
		r2 := h.runArgs(t, "-f", rc, "--maildir", md)
		if r2.code != 0 && r2.code != 1 {
			t.Fatalf("cut %d at %d: the run after the cut: %v", i, c.at, r2)
		}
		verify(t, md, n)
		serverHolds(t, 0)
		st.runs += 2
		st.messages += n
		t.Logf("cut %2d at byte %6d %s: cut %v, exit %d, %d delivered before the cut", i, c.at, map[bool]string{true: "client->server", false: "server->client"}[c.up], cutNow, r.code, got)
		if t.Failed() {
			t.Fatalf("cut %d at %d (seed %d) failed", i, c.at, fseed)
		}
	}
	if st.faults < len(cuts)-2 {
		t.Errorf("only %d of %d cuts happened", st.faults, len(cuts))
	}
	st.log(t, "POP3 connection cuts", fseed)
}

// TestProxyCutsSSH drops the SSH connection (a cutting proxy in front of
// the rig's sshd, which ~/.ssh/config names) at seeded random offsets
// inside the transfer, then lets a normal run finish.
func TestProxyCutsSSH(t *testing.T) {
	fseed := envInt("INTEROP_FAULT_SEED", 1)
	rng := rand.New(rand.NewSource(int64(fseed) + 1000))
	const n = 30
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	p := newCutProxy(t, "127.0.0.1:"+rig["RIG_SSH_PORT"])
	writeFile(t, filepath.Join(h.dir, ".ssh", "config"), fmt.Sprintf(
		"Host popserver\n  HostName 127.0.0.1\n  Port %s\n  User msingh\n  IdentityFile %s\n",
		p.port(), rig["RIG_CLIENT_KEY"]), 0o600)
	writeFile(t, filepath.Join(h.dir, ".ssh", "known_hosts"),
		fmt.Sprintf("[127.0.0.1]:%s %s\n", p.port(), rig["RIG_SSH_HOST_KEY"]), 0o600)
	rc := h.rc(t, seed(rig["RIG_PASSWORD"]))

	fill(t, n)
	md := filepath.Join(h.dir, "Maildir-calibration")
	expectExit(t, h.runArgs(t, "-f", rc, "--maildir", md), 0)
	verify(t, md, n)
	down := p.down.Load()
	t.Logf("an uninterrupted SSH session of %d messages: %d bytes from the server", n, down)

	var st faultStats
	const rounds = 5
	for i := 0; i < rounds; i++ {
		fill(t, n)
		md := filepath.Join(h.dir, fmt.Sprintf("Maildir-%02d", i))
		// Inside the transfer: past the handshake, before the end.
		at := down/4 + rng.Int63n(down/2)
		before := p.cuts.Load()
		p.reset(at, false)
		r := h.runArgs(t, "-f", rc, "--maildir", md)
		noCrash(t, r)
		if p.cuts.Load() > before {
			st.faults++
			if r.code == 0 {
				t.Errorf("SSH cut at %d: the run reports success:\n%v", at, r)
			}
		}
		got := checkNoLoss(t, md, n)
		p.reset(-1, false)
		r2 := h.runArgs(t, "-f", rc, "--maildir", md)
		if r2.code != 0 && r2.code != 1 {
			t.Fatalf("SSH cut %d at %d: the run after the cut: %v", i, at, r2)
		}
		verify(t, md, n)
		serverHolds(t, 0)
		st.runs += 2
		st.messages += n
		t.Logf("SSH cut %d at byte %d: exit %d, %d delivered before the cut", i, at, r.code, got)
		if t.Failed() {
			t.Fatalf("SSH cut %d at %d (seed %d) failed", i, at, fseed)
		}
	}
	if st.faults != rounds {
		t.Errorf("only %d of %d SSH cuts happened", st.faults, rounds)
	}
	st.log(t, "SSH connection cuts", fseed)
}

// smallFS mounts a tmpfs of size at a new directory and returns it; the
// test is skipped if mounting is not allowed here.
func smallFS(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func remount(t *testing.T, dir, opts string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,"+opts, dir).CombinedOutput(); err != nil {
		t.Fatalf("remount %s %s: %v %s", dir, opts, err, out)
	}
}

// TestDiskFull delivers into a maildir on a 256 KiB tmpfs more mail than
// fits. The run that fills the disk must say so, delete nothing it did not
// deliver and leave no partial message; a second run while the disk is
// still full must fail (non-zero exit) and delete nothing; after the space
// is freed (remounted larger) a normal run delivers the rest, each once.
func TestDiskFull(t *testing.T) {
	mnt := smallFS(t, "256k")
	const n = 200 // about 1.3 MB
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	md := filepath.Join(mnt, "Maildir")
	rc := h.rc(t, popRC(rig["RIG_POP3_PORT"], ""))
	fill(t, n)
	r := h.runArgs(t, "-f", rc, "--maildir", md)
	noCrash(t, r)
	if !strings.Contains(r.stdout+r.stderr, "no space left on device") {
		t.Errorf("the error does not say the disk is full:\n%v", r)
	}
	got := checkNoLoss(t, md, n)
	// Exit 0 here: fetchmail's rule, some mail was delivered; the
	// messages that did not fit are reported one by one and stay.
	t.Logf("disk fills up: exit %d, %d of %d delivered", r.code, got, n)
	// Whatever room the first run left (a failed write frees its pages),
	// a filler takes, so that the second run meets a really full disk.
	if f, err := os.Create(filepath.Join(mnt, "filler")); err == nil {
		page := make([]byte, 4096)
		for {
			if _, err := f.Write(page); err != nil {
				break
			}
		}
		f.Close()
	}
	left, err := rigmail.Count(rig["RIG_MAILDIR"])
	if err != nil {
		t.Fatal(err)
	}
	r = h.runArgs(t, "-f", rc, "--maildir", md)
	noCrash(t, r)
	if r.code == 0 || r.code == 1 {
		t.Errorf("a run into a full disk exits %d:\n%v", r.code, r)
	}
	checkNoLoss(t, md, n)
	serverHolds(t, left)
	remount(t, mnt, "size=16m")
	expectExit(t, h.runArgs(t, "-f", rc, "--maildir", md), 0)
	verify(t, md, n)
	serverHolds(t, 0)
	faultStats{faults: 2, messages: n, runs: 3}.log(t, "disk full", -1)
}

// TestReadOnlyMaildir delivers into a maildir on a read-only filesystem
// (root ignores file modes, so the filesystem itself is remounted ro).
func TestReadOnlyMaildir(t *testing.T) {
	mnt := smallFS(t, "4m")
	const n = 10
	h := newHome(t, rig["RIG_CLIENT_KEY"], true)
	md := filepath.Join(mnt, "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	remount(t, mnt, "ro")
	rc := h.rc(t, popRC(rig["RIG_POP3_PORT"], ""))
	fill(t, n)
	r := h.runArgs(t, "-f", rc, "--maildir", md)
	noCrash(t, r)
	if r.code == 0 || r.code == 1 {
		t.Fatalf("a read-only maildir went unnoticed:\n%v", r)
	}
	if !strings.Contains(r.stdout+r.stderr, "read-only file system") {
		t.Errorf("the error does not say the maildir is read-only:\n%v", r)
	}
	checkNoLoss(t, md, n)
	serverHolds(t, n)
	remount(t, mnt, "rw")
	expectExit(t, h.runArgs(t, "-f", rc, "--maildir", md), 0)
	verify(t, md, n)
	serverHolds(t, 0)
	faultStats{faults: 1, messages: n, runs: 2}.log(t, "read-only maildir", -1)
}

// TestMDAFaults: an MDA that fails after reading half the message, and one
// that is killed (SIGKILL) mid-message. Nothing is deleted that the MDA did
// not accept; a working MDA then gets every message once.
func TestMDAFaults(t *testing.T) {
	const n = 5
	var st faultStats
	defer func() { st.log(t, "failing MDAs", -1) }()
	for _, c := range []struct{ name, mda string }{
		{"fails-midway", "head -c 100 >/dev/null; exit 1"},
		{"killed", "head -c 100 >/dev/null; kill -9 $$"},
		{"tempfail", "cat >/dev/null; exit 75"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHome(t, rig["RIG_CLIENT_KEY"], true)
			fill(t, n)
			rc := popRC(rig["RIG_POP3_PORT"], fmt.Sprintf("mda %q", c.mda))
			r := h.runArgs(t, "-f", h.rc(t, rc))
			noCrash(t, r)
			if r.code == 0 {
				t.Errorf("a failing MDA exited 0:\n%v", r)
			}
			serverHolds(t, n)
			md := h.maildir()
			good := popRC(rig["RIG_POP3_PORT"], "")
			expectExit(t, h.runArgs(t, "-f", h.rc(t, good), "--maildir", md), 0)
			verify(t, md, n)
			serverHolds(t, 0)
			st.faults, st.runs, st.messages = st.faults+1, st.runs+2, st.messages+n
		})
	}
}
