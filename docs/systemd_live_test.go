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
	dir, err := os.MkdirTemp("", "sdu")
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
	return m
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
