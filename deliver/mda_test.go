package deliver

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func runMDA(t *testing.T, command string, opts *MDAOptions, env Envelope, msg []byte) error {
	t.Helper()
	m, err := NewMDA(command, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	tx, err := m.Begin(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Write(msg); err != nil {
		tx.Abort()
		return err
	}
	return tx.Commit()
}

func TestMDACatByteExact(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	msg := append(testMessage(1), bytes.Repeat([]byte("line\n"), 30000)...) // past the buffer
	err := runMDA(t, `cat > "$OUT"`, &MDAOptions{Env: []string{"OUT=" + out}}, Envelope{From: "a@b"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("MDA got %d bytes, want %d, equal prefix %v", len(got), len(msg), bytes.HasPrefix(msg, got))
	}
}

func TestMDAFailureKeeps(t *testing.T) {
	err := runMDA(t, `cat >/dev/null; echo first >&2; echo "no such user" >&2; exit 75`, nil, Envelope{}, []byte("x\n"))
	var me *MDAError
	if !errors.As(err, &me) {
		t.Fatalf("error %v is not an *MDAError", err)
	}
	if me.ExitCode != 75 || me.Signal != "" || me.TimedOut {
		t.Errorf("MDAError %+v, want exit 75", me)
	}
	if me.Stderr != "first\nno such user\n" {
		t.Errorf("Stderr %q", me.Stderr)
	}
	if !strings.Contains(err.Error(), "status 75: no such user") {
		t.Errorf("message %q lacks status and stderr", err)
	}
}

func TestMDAStderrTail(t *testing.T) {
	err := runMDA(t, `cat >/dev/null; head -c 10000 /dev/zero | tr '\0' a >&2; echo END >&2; exit 1`, nil, Envelope{}, nil)
	var me *MDAError
	if !errors.As(err, &me) {
		t.Fatalf("error %v is not an *MDAError", err)
	}
	if len(me.Stderr) != 4096 || !strings.HasSuffix(me.Stderr, "aaaaEND\n") {
		t.Errorf("Stderr keeps %d bytes ending %q", len(me.Stderr), me.Stderr[max(len(me.Stderr)-10, 0):])
	}
}

func TestMDASignal(t *testing.T) {
	err := runMDA(t, `cat >/dev/null; kill -TERM $$`, nil, Envelope{}, nil)
	var me *MDAError
	if !errors.As(err, &me) {
		t.Fatalf("error %v is not an *MDAError", err)
	}
	if me.Signal != "terminated" || me.ExitCode != -1 || me.TimedOut {
		t.Errorf("MDAError %+v, want killed by SIGTERM", me)
	}
}

// TestMDAHostileSender runs placeholders in every quoting context, and in
// MDA commands that run a shell of their own on the value (sh -c '...',
// sh -c "...", eval), with senders full of shell syntax: nothing may run,
// and where the placeholder is one word the MDA sees the sender with every
// character but letters, digits and @ . _ + = - turned into '_'.
func TestMDAHostileSender(t *testing.T) {
	dir := t.TempDir()
	pwned := filepath.Join(dir, "pwned")
	out := filepath.Join(dir, "out")
	senders := []string{
		`'$(touch ` + pwned + `)'`,
		`$(touch ` + pwned + `)`,
		"`touch " + pwned + "`",
		`"; touch ` + pwned + `; echo "`,
		`'; touch ` + pwned + `; echo '`,
		"x\ntouch " + pwned + "\n",
		`\'; touch ` + pwned + `; '\`,
		`${IFS}$(touch${IFS}` + pwned + `)`,
		`$(touch${IFS}` + pwned + `)@evil.example`,
		`"$(touch${IFS}` + pwned + `)"@evil.example`,
		"a;touch " + pwned + "@evil.example",
		"a|touch " + pwned + "&@evil.example",
		"*",
		"~root",
		"{a,b}",
	}
	// safe is what mdaArg must make of s, written out independently.
	safe := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@._+=-", rune(c)) || (i == 0 && c == '-') {
				b[i] = '_'
			}
		}
		return string(b)
	}
	templates := []struct {
		cmd  string
		want func(sender string) string // what the MDA writes; nil: not checked
	}{
		{`printf "$FMT" %F > "$OUT"`, func(s string) string { return safe(s) + "|" }},
		{`printf "$FMT" '%F' > "$OUT"`, func(s string) string { return safe(s) + "|" }},
		{`printf "$FMT" "%F" > "$OUT"`, func(s string) string { return safe(s) + "|" }},
		{`printf "$FMT" "<%F>" > "$OUT"`, func(s string) string { return "<" + safe(s) + ">|" }},
		{`printf "$FMT" '<%F>' > "$OUT"`, func(s string) string { return "<" + safe(s) + ">|" }},
		{`printf "$FMT" -f%F > "$OUT"`, func(s string) string { return "-f" + safe(s) + "|" }},
		// The MDA runs its own shell on the value (ssh host procmail -f %F,
		// su -c '...' are the same).
		{`/bin/sh -c 'printf "$FMT" %F > "$OUT"'`, func(s string) string { return safe(s) + "|" }},
		{`/bin/sh -c "printf \"\$FMT\" %F > \"\$OUT\""`, func(s string) string { return safe(s) + "|" }},
		{`/bin/sh -c "printf '%%s|' '%F' > \"\$OUT\""`, nil},
		{`eval 'printf "$FMT" %F > "$OUT"'`, func(s string) string { return safe(s) + "|" }},
		{`eval "printf '|%%s|' %F" > "$OUT"`, nil},
		{`printf "$FMT" "$(echo %F)" > "$OUT"`, nil},
		{`printf "$FMT" "` + "`echo %F`" + `" > "$OUT"`, nil},
		{`printf "$FMT" $(printf "$FMT" %F) > "$OUT"`, nil},
	}
	for _, tc := range templates {
		for _, s := range senders {
			os.Remove(out)
			err := runMDA(t, `cat >/dev/null; `+tc.cmd, &MDAOptions{Env: []string{"OUT=" + out, "FMT=%s|"}},
				Envelope{From: s, To: []string{"me"}}, []byte("x\n"))
			if _, serr := os.Stat(pwned); serr == nil {
				t.Fatalf("template %q with sender %q ran injected code (err %v)", tc.cmd, s, err)
			}
			if tc.want == nil {
				continue
			}
			if err != nil {
				t.Errorf("template %q, sender %q: %v", tc.cmd, s, err)
				continue
			}
			got, _ := os.ReadFile(out)
			if want := tc.want(s); string(got) != want {
				t.Errorf("template %q, sender %q: MDA saw %q, want %q", tc.cmd, s, got, want)
			}
		}
	}
}

func TestMDARecipientsAndOptionLikeSender(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	env := Envelope{From: "-oQ/tmp", To: []string{"alice", "b o'b", "-x"}}
	err := runMDA(t, `cat >/dev/null; for r in %T; do echo "[$r]"; done > "$OUT"; echo "%F|%s" >> "$OUT"`,
		&MDAOptions{Env: []string{"OUT=" + out}}, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	want := "[alice]\n[b_o_b]\n[_x]\n_oQ_tmp|alice b_o_b _x\n"
	if string(got) != want {
		t.Errorf("MDA saw %q, want %q", got, want)
	}
}

func TestExpandMDA(t *testing.T) {
	for in, want := range map[string]string{
		"procmail -d %T":         `procmail -d "$@"`,
		"procmail -f %F -d '%T'": `procmail -f "$GOFETCHMAIL_SENDER" -d "$*"`,
		`deliver "%T" -f"%F"`:    `deliver "$*" -f"$GOFETCHMAIL_SENDER"`,
		`x "<%F>" '<%F>'`:        `x "<${GOFETCHMAIL_SENDER}>" '<'"$GOFETCHMAIL_SENDER"'>'`,
		`x \%F "\%F" '\'%F`:      `x \%F "\%F" '\'"$GOFETCHMAIL_SENDER"`,
		"x %% %d 100% %":         "x %% %d 100% %",
		`x "it's %s" 'say "%s"'`: `x "it's ${*}" 'say "'"$*"'"'`,
	} {
		if got := expandMDA(in); got != want {
			t.Errorf("expandMDA(%q) =\n%q, want\n%q", in, got, want)
		}
	}
}

func TestMDATimeoutKillsGroup(t *testing.T) {
	// The grandchild sleep keeps stderr open: only a group kill ends it
	// before WaitDelay.
	start := time.Now()
	err := runMDA(t, `cat >/dev/null; sleep 30 & sleep 30`, &MDAOptions{Timeout: 200 * time.Millisecond}, Envelope{}, nil)
	var me *MDAError
	if !errors.As(err, &me) || !me.TimedOut {
		t.Fatalf("error %v, want a timed-out *MDAError", err)
	}
	if time.Since(start) > 4*time.Second {
		t.Errorf("Commit took %v: the process group was not killed", time.Since(start))
	}
}

// TestMDAAbortKillsFirst shows Abort never lets the MDA see the end of a
// partial message: an MDA that delivers on EOF delivers nothing.
func TestMDAAbortKillsFirst(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	m, err := NewMDA(`cat > "$OUT.tmp" && mv "$OUT.tmp" "$OUT"`, &MDAOptions{Env: []string{"OUT=" + out}})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := m.Begin(context.Background(), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	tx.Write([]byte("partial"))
	if err := tx.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the MDA delivered a partial message (stat: %v)", err)
	}
}

func TestMDAWriteAfterExit(t *testing.T) {
	m, _ := NewMDA("exit 0", nil)
	tx, err := m.Begin(context.Background(), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("y\n"), 1<<20)
	_, werr := tx.Write(big)
	cerr := tx.Commit()
	if werr == nil && cerr == nil {
		t.Error("an MDA that read nothing of a 2 MiB message committed")
	}
}

// TestMDALeftoverChild: an MDA that exits 0 but leaves a background process
// holding stderr has delivered; Commit must not wait for that process nor
// report a failure (which would fetch the message again at every poll).
func TestMDALeftoverChild(t *testing.T) {
	old := mdaWaitDelay
	mdaWaitDelay = 100 * time.Millisecond
	defer func() { mdaWaitDelay = old }()
	m, err := NewMDA(`cat >/dev/null; sleep 30 & echo $$`, nil)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := m.Begin(context.Background(), Envelope{})
	if err != nil {
		t.Fatal(err)
	}
	// The sleep stays in the MDA's process group: end it with the test.
	pid := tx.(*mdaTx).cmd.Process.Pid
	defer syscall.Kill(-pid, syscall.SIGKILL)
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}
