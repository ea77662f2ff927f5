package docs

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/pop3/pop3test"
)

// userManager is a real `systemd --user` started for a test: it runs as
// root with its own HOME and XDG_RUNTIME_DIR, in a cgroup of its own and a
// private mount namespace in which /run/systemd/system exists (systemd
// refuses to start a user manager on a machine not booted with systemd).
type userManager struct {
	home, runtime string
	env           []string
}

// startUserManager starts one, or skips the test saying why it cannot.
func startUserManager(t *testing.T) *userManager {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a systemd --user manager of its own needs root here (a cgroup and a mount namespace); not root")
	}
	systemd := "/lib/systemd/systemd"
	if _, err := os.Stat(systemd); err != nil {
		t.Skip("systemd is not installed (apt-get install systemd; scripts/test deps does)")
	}
	for _, p := range []string{"unshare", "systemctl"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("%s is not installed", p)
		}
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("this machine runs systemd: try the unit with your own `systemctl --user` instead of a test manager")
	}
	cgroot := "/sys/fs/cgroup"
	if _, err := os.Stat(filepath.Join(cgroot, "cgroup.controllers")); err != nil {
		cgroot = "/sys/fs/cgroup/unified" // hybrid hierarchy
		if _, err := os.Stat(filepath.Join(cgroot, "cgroup.controllers")); err != nil {
			t.Skip("no cgroup v2 hierarchy to give the user manager a cgroup in")
		}
	}
	// Short: the manager's sockets live under XDG_RUNTIME_DIR (108 bytes).
	// Neither under /tmp nor /run: the sandbox of a unit like the template
	// (PrivateTmp=yes, and under a user manager ProtectProc= and
	// ProtectControlGroups=) has its own, and could not reach its
	// NOTIFY_SOCKET there.
	dir, err := os.MkdirTemp(testBase(), "sdu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	m := &userManager{home: filepath.Join(dir, "home"), runtime: filepath.Join(dir, "run")}
	for _, d := range []string{m.home, m.runtime} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// A service run as another user (the template) must reach the
	// manager's notification socket, as it reaches /run/systemd/notify.
	for _, d := range []string{dir, m.runtime} {
		os.Chmod(d, 0o755)
	}
	cg := filepath.Join(cgroot, "gofetchmail-test-"+filepath.Base(dir))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Skipf("cannot create a cgroup for the user manager: %v", err)
	}
	t.Cleanup(func() { removeCgroup(cg) })
	m.env = []string{"HOME=" + m.home, "XDG_RUNTIME_DIR=" + m.runtime, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"}
	script := `set -e
echo $$ >"$1/cgroup.procs"
mount --make-rprivate /
mkdir -p /run/systemd
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/system
exec "$2" --user`
	cmd := exec.Command("unshare", "-m", "sh", "-c", script, "sh", cg, systemd)
	cmd.Env = append(m.env, "SYSTEMD_LOG_TARGET=console")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start systemd --user: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM) // the manager stops its units
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	for i := 0; ; i++ {
		select {
		case <-exited:
			t.Skipf("systemd --user cannot run here: %s", out.String())
		default:
		}
		if _, err := m.systemctl("show", "-p", "Version"); err == nil {
			break
		}
		if i == 300 {
			t.Fatalf("systemd --user did not come up in 30 s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Services run as another user (the template) reach the socket, as
	// they reach the system manager's /run/systemd/notify (mode 0777).
	if err := os.Chmod(filepath.Join(m.runtime, "systemd", "notify"), 0o777); err != nil {
		t.Fatal(err)
	}
	return m
}

// testBase is where the live tests make their directories: /home, which
// the template's sandbox leaves as it is, else the temporary directory.
func testBase() string {
	if fi, err := os.Stat("/home"); err == nil && fi.IsDir() {
		return "/home"
	}
	return ""
}

// removeCgroup removes a cgroup and the ones systemd made under it,
// deepest first.
func removeCgroup(cg string) {
	var dirs []string
	filepath.WalkDir(cg, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

func (m *userManager) systemctl(args ...string) (string, error) {
	cmd := exec.Command("systemctl", append([]string{"--user"}, args...)...)
	cmd.Env = m.env
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// show returns a unit's properties.
func (m *userManager) show(t *testing.T, unit string) map[string]string {
	t.Helper()
	out, err := m.systemctl("show", "-p", "ActiveState,SubState,Result,StatusText,MainPID,NRestarts,ExecMainStatus,WatchdogUSec", unit)
	if err != nil {
		t.Fatalf("systemctl --user show: %v\n%s", err, out)
	}
	props := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			props[k] = v
		}
	}
	return props
}

// The user unit, unchanged, under a real systemd --user: start returns once
// gofetchmail is ready, the status shows the last poll, the watchdog (made
// short here) is fed, and stop ends it cleanly even after an edit broke
// the rc file.
func TestSystemdUserUnitLive(t *testing.T) {
	m := startUserManager(t)
	bin := binary(t)

	box := pop3test.NewMailbox("u", "p",
		pop3test.Message{Data: []byte("From: a@example.org\nSubject: 1\n\none\n")},
		pop3test.Message{Data: []byte("From: a@example.org\nSubject: 2\n\ntwo\n")})
	srv, err := pop3test.NewServer(box, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Addr)

	// What a user has: the binary where go install puts it, an rc file,
	// the unit in ~/.config/systemd/user.
	gobin := filepath.Join(m.home, "go", "bin")
	units := filepath.Join(m.home, ".config", "systemd", "user")
	for _, d := range []string{gobin, units + "/gofetchmail.service.d"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gobin, "gofetchmail"), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("systemd/gofetchmail.service")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(units, "gofetchmail.service"), unit, 0o644); err != nil {
		t.Fatal(err)
	}
	// Keep-alives every second: a daemon that did not send them would be
	// killed within the test.
	if err := os.WriteFile(filepath.Join(units, "gofetchmail.service.d", "test.conf"), []byte("[Service]\nWatchdogSec=2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	maildir := filepath.Join(m.home, "Maildir")
	rc := filepath.Join(m.home, ".fetchmailrc")
	// The pid file is root's /var/run/fetchmail.pid unless set.
	rcText := fmt.Sprintf("set pidfile %q\npoll %s proto pop3 port %s user u password p sslproto '' maildir %q\n",
		filepath.Join(m.home, ".fetchmail.pid"), host, port, maildir)
	if err := os.WriteFile(rc, []byte(rcText), 0o600); err != nil {
		t.Fatal(err)
	}

	if out, err := m.systemctl("daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v\n%s", err, out)
	}
	if out, err := m.systemctl("start", "gofetchmail"); err != nil {
		t.Fatalf("systemctl --user start gofetchmail: %v\n%s", err, out)
	}
	p := m.show(t, "gofetchmail")
	if p["ActiveState"] != "active" || p["SubState"] != "running" {
		t.Fatalf("after start: %v", p)
	}
	if _, err := os.Stat(filepath.Join(m.home, ".fetchmail.pid")); err != nil {
		t.Errorf("start returned before the pid file was written: %v", err)
	}
	want := "last poll: 2 messages from 1 account, next in 300 s"
	for i := 0; p["StatusText"] != want; i++ {
		if i == 600 {
			t.Fatalf("status %q, want %q", p["StatusText"], want)
		}
		time.Sleep(100 * time.Millisecond)
		p = m.show(t, "gofetchmail")
	}
	pid := p["MainPID"]
	names, _ := filepath.Glob(filepath.Join(maildir, "new", "*"))
	if len(names) != 2 {
		t.Errorf("%d messages in the maildir, want 2", len(names))
	}

	// Three watchdog periods later, the same process runs on.
	time.Sleep(6 * time.Second)
	p = m.show(t, "gofetchmail")
	if p["ActiveState"] != "active" || p["MainPID"] != pid || p["NRestarts"] != "0" || p["WatchdogUSec"] != "2s" {
		t.Errorf("after three watchdog periods: %v, want the same main pid %s, active, no restart, WatchdogUSec=2s", p, pid)
	}

	// An edit breaks the rc file; stop works all the same.
	if err := os.WriteFile(rc, []byte("poll broken proto pop9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := m.systemctl("stop", "gofetchmail"); err != nil {
		t.Fatalf("systemctl --user stop gofetchmail: %v\n%s", err, out)
	}
	p = m.show(t, "gofetchmail")
	if p["ActiveState"] != "inactive" || p["Result"] != "success" || p["ExecMainStatus"] != "0" {
		t.Errorf("after stop: %v, want inactive, result success, exit status 0", p)
	}
	if _, err := os.Stat(filepath.Join(m.home, ".fetchmail.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left after stop: %v", err)
	}

	// A broken rc file at start: start fails, with gofetchmail's status.
	if out, err := m.systemctl("start", "gofetchmail"); err == nil {
		t.Errorf("systemctl --user start with a broken rc file succeeded:\n%s", out)
	}
	if p = m.show(t, "gofetchmail"); p["ExecMainStatus"] != "5" {
		t.Errorf("after a start with a broken rc file: %v, want exit status 5", p)
	}
	m.systemctl("stop", "gofetchmail") // no restart loop left behind
}

// tempUser creates a system user with a home of its own for the test and
// removes it (and its /var/mail spool) afterwards, or skips.
func tempUser(t *testing.T) (name, home string, uid, gid int) {
	t.Helper()
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("useradd is not installed")
	}
	// Not under /tmp: the template's PrivateTmp=yes hides it.
	base, err := os.MkdirTemp(testBase(), "gfmu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755) // the user must reach its home
	name = fmt.Sprintf("gfmt%d", os.Getpid()%1000000)
	home = filepath.Join(base, name)
	if out, err := exec.Command("useradd", "--system", "--no-create-home", "--home-dir", home, "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a test user: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("userdel", name).Run()
		os.Remove(filepath.Join("/var/mail", name))
	})
	u, err := exec.Command("id", "-u", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	g, err := exec.Command("id", "-g", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Sscan(string(u), &uid)
	fmt.Sscan(string(g), &gid)
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	return name, home, uid, gid
}

// The template, as installed, runs one user's daemon as that user, in that
// user's home, with the user's rc file and pid file, and its hardening
// leaves delivery working both into a maildir in the home and through a
// setgid MDA (maildrop, which locks /var/mail as group mail). It runs here
// under root's systemd --user, which may switch users as the system
// manager does and applies the same sandboxing.
func TestSystemdTemplateUnitLive(t *testing.T) {
	m := startUserManager(t)
	maildrop := "/usr/bin/maildrop"
	if fi, err := os.Stat(maildrop); err != nil || fi.Mode()&os.ModeSetgid == 0 {
		t.Skip("no setgid maildrop (apt-get install maildrop; scripts/test deps does)")
	}
	user, home, uid, gid := tempUser(t)

	msg := func(s string) pop3test.Message {
		return pop3test.Message{Data: []byte("From: a@example.org\nSubject: " + s + "\n\n" + s + "\n")}
	}
	var entries string
	var boxes []*pop3test.Mailbox
	for i, deliver := range []string{fmt.Sprintf("maildir %q", filepath.Join(home, "Maildir")), fmt.Sprintf("mda %q", maildrop)} {
		box := pop3test.NewMailbox("u", "p", msg(fmt.Sprintf("message-%d", i)))
		boxes = append(boxes, box)
		srv, err := pop3test.NewServer(box, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		host, port, _ := net.SplitHostPort(srv.Addr)
		entries += fmt.Sprintf("poll %s proto pop3 port %s user u password p sslproto '' %s\n", host, port, deliver)
	}
	rc := filepath.Join(home, ".fetchmailrc")
	if err := os.WriteFile(rc, []byte(entries), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chown(rc, uid, gid)

	// The binary where the user can run it; the template as make install
	// writes it for that place.
	bindir := filepath.Join(filepath.Dir(home), "bin")
	if err := os.Mkdir(bindir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bindir, "gofetchmail"), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("systemd/gofetchmail@.service")
	if err != nil {
		t.Fatal(err)
	}
	unit = []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/gofetchmail", filepath.Join(bindir, "gofetchmail")))
	units := filepath.Join(m.home, ".config", "systemd", "user")
	if err := os.MkdirAll(units, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(units, "gofetchmail@.service"), unit, 0o644); err != nil {
		t.Fatal(err)
	}
	// No journal here: the daemon's output goes to a file the test shows.
	logfile := filepath.Join(filepath.Dir(home), "output")
	if err := os.MkdirAll(filepath.Join(units, "gofetchmail@.service.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(units, "gofetchmail@.service.d", "output.conf"), []byte("[Service]\nStandardOutput=append:"+logfile+"\nStandardError=append:"+logfile+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if t.Failed() {
			out, _ := os.ReadFile(logfile)
			t.Logf("the daemon's output:\n%s", out)
		}
	}()
	if out, err := m.systemctl("daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v\n%s", err, out)
	}
	instance := "gofetchmail@" + user
	if out, err := m.systemctl("start", instance); err != nil {
		st, _ := m.systemctl("status", instance)
		t.Fatalf("systemctl start %s: %v\n%s\n%s", instance, err, out, st)
	}
	defer m.systemctl("stop", instance)
	p := m.show(t, instance)
	want := "last poll: 2 messages from 2 accounts, next in 300 s"
	for i := 0; p["StatusText"] != want; i++ {
		if i == 600 || strings.Contains(p["StatusText"], "failed") {
			t.Fatalf("status %q, want %q", p["StatusText"], want)
		}
		time.Sleep(100 * time.Millisecond)
		p = m.show(t, instance)
	}

	// It runs as the user, with its pid file in the user's home, and may
	// gain an MDA's setgid (no NoNewPrivileges).
	status, err := os.ReadFile("/proc/" + p["MainPID"] + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{fmt.Sprintf("\nUid:\t%d\t%d\t", uid, uid), "\nNoNewPrivs:\t0\n"} {
		if !strings.Contains(string(status), want) {
			t.Errorf("the daemon's /proc status lacks %q:\n%s", strings.TrimSpace(want), status)
		}
	}
	if fi, err := os.Stat(filepath.Join(home, ".fetchmail.pid")); err != nil {
		t.Errorf("no pid file in the user's home: %v", err)
	} else if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
		t.Errorf("the pid file belongs to uid %d, want %d", st.Uid, uid)
	}
	if names, _ := filepath.Glob(filepath.Join(home, "Maildir", "new", "*")); len(names) != 1 {
		t.Errorf("%d messages in the user's maildir, want 1", len(names))
	}
	if spool, err := os.ReadFile(filepath.Join("/var/mail", user)); err != nil || !strings.Contains(string(spool), "message-1") {
		t.Errorf("maildrop did not deliver to /var/mail/%s: %v\n%s", user, err, spool)
	}
	if out, err := m.systemctl("stop", instance); err != nil {
		t.Errorf("systemctl stop %s: %v\n%s", instance, err, out)
	}
	if p = m.show(t, instance); p["Result"] != "success" || p["ExecMainStatus"] != "0" {
		t.Errorf("after stop: %v", p)
	}

	// Why the template stops short of NoNewPrivileges=yes: with it,
	// maildrop cannot lock /var/mail, and that message stays on the server.
	boxes[0].Add(msg("message-2"))
	boxes[1].Add(msg("message-3"))
	if err := os.WriteFile(filepath.Join(units, "gofetchmail@.service.d", "nnp.conf"), []byte("[Service]\nNoNewPrivileges=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := m.systemctl("daemon-reload"); err != nil {
		t.Fatalf("daemon-reload: %v\n%s", err, out)
	}
	if out, err := m.systemctl("start", instance); err != nil {
		t.Fatalf("systemctl start %s with NoNewPrivileges=yes: %v\n%s", instance, err, out)
	}
	for i := 0; !strings.HasPrefix(p["StatusText"], "last poll"); i++ {
		if i == 600 {
			t.Fatalf("no status after the poll: %v", p)
		}
		time.Sleep(100 * time.Millisecond)
		p = m.show(t, instance)
	}
	if want := "last poll: 1 message from 1 account, 1 message left on the server (see the log), next in 300 s"; p["StatusText"] != want {
		t.Errorf("with NoNewPrivileges=yes: status %q, want %q", p["StatusText"], want)
	}
	if n := len(boxes[1].Messages()); n != 1 {
		t.Errorf("with NoNewPrivileges=yes, %d messages left on the maildrop entry's server, want 1 (kept, as it was not delivered)", n)
	}
}
