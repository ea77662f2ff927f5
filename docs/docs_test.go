// Package docs holds gofetchmail's documentation; its test runs the
// examples that are programs.
package docs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The ip-up hook maps gofetchmail's exit codes: 0 and 1 succeed, others fail
// with a message naming the problem; "down" events do nothing.
func TestIPUpHook(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "gofetchmail")
	log := filepath.Join(dir, "calls")
	os.WriteFile(fake, []byte("#!/bin/sh\necho \"$@\" >>"+log+"\nexit $FAKE_STATUS\n"), 0o755)
	me, _ := exec.Command("id", "-un").Output()
	run := func(status, action string) (int, string) {
		cmd := exec.Command("./ip-up/gofetchmail-ip-up", "ppp0", action)
		cmd.Env = append(os.Environ(), "GOFETCHMAIL="+fake, "FAKE_STATUS="+status,
			"MAILUSER="+strings.TrimSpace(string(me)), "PATH=/nonexistent:/usr/bin:/bin")
		out, _ := cmd.CombinedOutput()
		return cmd.ProcessState.ExitCode(), string(out)
	}
	for status, want := range map[string]int{"0": 0, "1": 0, "2": 1, "3": 1} {
		if got, out := run(status, "up"); got != want {
			t.Errorf("gofetchmail exit %s: hook exit %d, want %d (%s)", status, got, want, out)
		}
	}
	os.Remove(log)
	if got, _ := run("2", "down"); got != 0 {
		t.Errorf("down event: exit %d, want 0", got)
	}
	if _, err := os.Stat(log); err == nil {
		t.Error("a down event ran gofetchmail")
	}
}

// The systemd user unit runs gofetchmail in the foreground with a poll
// interval as a Type=notify service with a watchdog; it has no ExecStop=
// (systemd's SIGTERM stops the daemon; a --quit there would fail once the
// rc file is broken) and no network-online.target, which a user manager
// does not have. systemd-analyze verify --user accepts it, and the commands
// in its header comment are commands that exist.
func TestSystemdUnit(t *testing.T) {
	unit := checkUnitFile(t, "gofetchmail.service", true, []string{
		"\nType=notify\n", "\nExecStart=%h/go/bin/gofetchmail --nodetach -d 300\n", "\nWatchdogSec=", "[Install]\n"})
	settings := unitSettings(unit)
	for _, bad := range []string{"ExecStop=", "network-online.target", "User="} {
		if strings.Contains(settings, bad) {
			t.Errorf("the user unit has %q", bad)
		}
	}
}

// unitSettings is the unit without its comments.
func unitSettings(unit string) string {
	var b strings.Builder
	for _, l := range strings.Split(unit, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// The system-wide template runs one daemon per user (User=%i, in the user's
// home), as a Type=notify service with a watchdog, with hardening that does
// not stop setgid MDAs (no NoNewPrivileges=yes nor an option that implies
// it); systemd-analyze verify accepts it as a system unit.
func TestSystemdTemplateUnit(t *testing.T) {
	unit := checkUnitFile(t, "gofetchmail@.service", false, []string{
		"\nType=notify\n", "\nUser=%i\n", "\nWorkingDirectory=~\n", "\nExecStart=/usr/local/bin/gofetchmail --nodetach -d 300\n",
		"\nWatchdogSec=", "\nProtectSystem=full\n", "\nPrivateTmp=yes\n", "\nAfter=network-online.target\n", "[Install]\n"})
	// The options that imply NoNewPrivileges=yes for a service with User=
	// (systemd.exec(5)); with it, procmail, maildrop and postfix's
	// sendmail lose their setgid and cannot deliver.
	for _, opt := range []string{"NoNewPrivileges=yes", "DynamicUser=", "LockPersonality=", "MemoryDenyWriteExecute=",
		"PrivateDevices=", "ProtectClock=", "ProtectHostname=", "ProtectKernelLogs=", "ProtectKernelModules=",
		"ProtectKernelTunables=", "RestrictAddressFamilies=", "RestrictNamespaces=", "RestrictRealtime=",
		"RestrictSUIDSGID=", "SystemCallArchitectures=", "SystemCallFilter=", "SystemCallLog=", "ProtectHome=", "ExecStop="} {
		if strings.Contains(unitSettings(unit), "\n"+opt) {
			t.Errorf("the template sets %s, which breaks delivery or stopping", opt)
		}
	}
}

// checkUnitFile reads docs/systemd/NAME, checks that it contains each of
// want, runs checkUnit on it (as a user unit or a system unit), and checks
// the commands of its header comment. It returns the unit's text.
func checkUnitFile(t *testing.T, name string, user bool, want []string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("systemd", name))
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, w := range want {
		if !strings.Contains(unit, w) {
			t.Errorf("%s lacks %q", name, strings.TrimSpace(w))
		}
	}
	checkUnitAs(t, name, unit, user)
	n := 0
	for _, l := range strings.Split(unit, "\n") {
		if cmd, ok := strings.CutPrefix(l, "#   "); ok {
			checkCommandLine(t, cmd)
			n++
		}
	}
	if n == 0 {
		t.Errorf("%s: its comment shows no install commands", name)
	}
	return unit
}

// The ip-up hook is a valid sh script, and the cron line in its comment is
// a crontab entry running gofetchmail with options it has.
func TestIPUpHookCron(t *testing.T) {
	b, err := os.ReadFile("ip-up/gofetchmail-ip-up")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("sh", "-n", "ip-up/gofetchmail-ip-up").CombinedOutput(); err != nil {
		t.Errorf("sh -n: %v\n%s", err, out)
	}
	_, cron, ok := strings.Cut(string(b), "# From cron, every 10 minutes:")
	if !ok {
		t.Fatal("the hook's comment has no cron line")
	}
	cron, _, _ = strings.Cut(cron, "\n")
	if !strings.Contains(cron, "gofetchmail") {
		t.Errorf("cron line %q does not run gofetchmail", cron)
	}
	checkCron(t, cron)
}

// The man page renders without groff warnings, and mandoc's lint (where
// mandoc is installed) finds nothing, style included.
func TestManPage(t *testing.T) {
	if mandoc, err := exec.LookPath("mandoc"); err == nil {
		if out, err := exec.Command(mandoc, "-T", "lint", "-W", "style", "gofetchmail.1").CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("mandoc -T lint: %v\n%s", err, out)
		}
	}
	if _, err := exec.LookPath("man"); err != nil {
		t.Skip("man not installed")
	}
	out := renderMan(t, "-l", "gofetchmail.1")
	for _, want := range []string{"SYNOPSIS", "EXIT STATUS", "sshtunnel", "--maildir"} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}

// renderMan runs man with args, 80 columns wide, and returns the page; any
// warning from man or groff fails the test.
func renderMan(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("man", append([]string{"--warnings"}, args...)...)
	cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("man %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("man %s: warnings:\n%s", strings.Join(args, " "), stderr.String())
	}
	return string(out)
}
