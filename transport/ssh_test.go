package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/gofetchmail/gofetchmail/transport/sshtest"
)

// rig is an sshtest server plus a fake home directory for the client.
type rig struct {
	srv     *sshtest.Server
	home    string
	keyFile string // home/.ssh/id_ed25519, authorized for alice
	signer  ssh.Signer
	popped  chan string // host:port of each forward served by the hook
}

func newRig(t *testing.T, mod func(*sshtest.ServerOptions)) *rig {
	t.Helper()
	t.Setenv("SSH_AUTH_SOCK", "") // keep a developer's agent out of the tests
	signer, pemBytes, err := sshtest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{home: t.TempDir(), signer: signer, popped: make(chan string, 10)}
	r.keyFile = writeFile(t, filepath.Join(r.home, ".ssh", "id_ed25519"), pemBytes)
	opts := sshtest.ServerOptions{
		Users:          map[string]string{"alice": "s3cret"},
		AuthorizedKeys: map[string][]ssh.PublicKey{"alice": {signer.PublicKey()}},
		Forward: func(host string, port int) (net.Conn, error) {
			// An in-process "POP3 server" that greets and echoes lines.
			r.popped <- net.JoinHostPort(host, fmt.Sprint(port))
			a, b := net.Pipe()
			go func() {
				defer b.Close()
				fmt.Fprintf(b, "+OK hello from %s:%d\r\n", host, port)
				io.Copy(b, b)
			}()
			return a, nil
		},
	}
	if mod != nil {
		mod(&opts)
	}
	r.srv, err = sshtest.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.srv.Close() })
	return r
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

func (r *rig) trust(t *testing.T) {
	writeFile(t, filepath.Join(r.home, ".ssh", "known_hosts"), []byte(r.srv.KnownHostsLine()+"\n"))
}

func (r *rig) target() SSHTarget {
	return SSHTarget{User: "alice", Host: "127.0.0.1", Port: r.srv.Port()}
}

func (r *rig) opts() SSHOptions {
	return SSHOptions{Home: r.home, LocalUser: "tester", ConnectTimeout: 10 * time.Second}
}

// roundTrip opens a channel to popserver:110 and checks the greeting and an
// echoed line.
func roundTrip(t *testing.T, c *SSHClient) {
	t.Helper()
	conn, err := c.DialContext(context.Background(), "tcp", "popserver:110")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	buf := make([]byte, 100)
	n, err := io.ReadAtLeast(conn, buf, len("+OK hello from popserver:110\r\n"))
	if err != nil || string(buf[:n]) != "+OK hello from popserver:110\r\n" {
		t.Fatalf("greeting %q, %v", buf[:n], err)
	}
	if _, err := io.WriteString(conn, "CAPA\r\n"); err != nil {
		t.Fatal(err)
	}
	n, err = io.ReadAtLeast(conn, buf, 6)
	if err != nil || string(buf[:n]) != "CAPA\r\n" {
		t.Fatalf("echo %q, %v", buf[:n], err)
	}
}

func TestDialSSHIdentityFile(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	c, err := DialSSH(context.Background(), r.target(), r.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr() != r.srv.Addr {
		t.Errorf("RemoteAddr = %q, want %q", c.RemoteAddr(), r.srv.Addr)
	}
	if id := c.Identity(); !strings.Contains(id, "SHA256:") || !strings.HasSuffix(id, "("+r.keyFile+")") {
		t.Errorf("Identity = %q, want the key of %s", id, r.keyFile)
	}
	roundTrip(t, c)
	roundTrip(t, c) // the client survives closing a channel
	if n := r.srv.ForwardCount(); n != 2 {
		t.Errorf("ForwardCount = %d, want 2", n)
	}
	if got := <-r.popped; got != "popserver:110" {
		t.Errorf("server forwarded to %q", got)
	}
}

func TestDialSSHPassword(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	os.Remove(r.keyFile)
	var prompts []string
	opts := r.opts()
	opts.Password = func(prompt string) (string, error) {
		prompts = append(prompts, prompt)
		return "s3cret", nil
	}
	c, err := DialSSH(context.Background(), r.target(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip(t, c)
	if len(prompts) != 1 || !strings.Contains(prompts[0], "alice@127.0.0.1") {
		t.Errorf("prompts = %q", prompts)
	}

	opts.Password = func(string) (string, error) { return "wrong", nil }
	_, err = DialSSH(context.Background(), r.target(), opts)
	var aerr *AuthError
	if !errors.As(err, &aerr) {
		t.Fatalf("wrong password: err = %v, want *AuthError", err)
	}
	if aerr.User != "alice" || !contains(aerr.Methods, "password") {
		t.Errorf("AuthError = %+v", aerr)
	}
}

func TestDialSSHWrongKey(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	_, other, err := sshtest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, r.keyFile, other)
	_, err = DialSSH(context.Background(), r.target(), r.opts())
	var aerr *AuthError
	if !errors.As(err, &aerr) {
		t.Fatalf("err = %v, want *AuthError", err)
	}
	if !contains(aerr.Methods, "publickey") || contains(aerr.Methods, "password") {
		t.Errorf("methods = %q: want publickey tried and no password without a prompt", aerr.Methods)
	}
	if !strings.Contains(err.Error(), "alice@"+r.srv.Addr) {
		t.Errorf("message %q does not name the user and host", err)
	}
}

func TestDialSSHPassphraseKey(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	signer, pemBytes, err := sshtest.GenerateKeyWithPassphrase("open sesame")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, r.keyFile, pemBytes)
	r.srv.Close()
	r.srv, err = sshtest.NewServer(sshtest.ServerOptions{
		HostKey:        r.srv.HostKey,
		AuthorizedKeys: map[string][]ssh.PublicKey{"alice": {signer.PublicKey()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.srv.Close()
	r.trust(t)

	// Without a prompt the key is skipped.
	var aerr *AuthError
	if _, err := DialSSH(context.Background(), r.target(), r.opts()); !errors.As(err, &aerr) {
		t.Fatalf("no prompt: err = %v, want *AuthError", err)
	}
	opts := r.opts()
	var prompts []string
	opts.Password = func(p string) (string, error) { prompts = append(prompts, p); return "open sesame", nil }
	c, err := DialSSH(context.Background(), r.target(), opts)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if len(prompts) != 1 || !strings.Contains(prompts[0], r.keyFile) {
		t.Errorf("prompts = %q, want one passphrase prompt naming the key", prompts)
	}
}

func TestDialSSHUnknownHostKey(t *testing.T) {
	r := newRig(t, nil)
	_, err := DialSSH(context.Background(), r.target(), r.opts())
	var herr *HostKeyError
	if !errors.As(err, &herr) || herr.Kind != "unknown" {
		t.Fatalf("err = %v, want unknown *HostKeyError", err)
	}
	fp := ssh.FingerprintSHA256(r.srv.HostKey.PublicKey())
	msg := err.Error()
	for _, want := range []string{fmt.Sprintf("[127.0.0.1]:%d", r.srv.Port()), fp, "accept-new",
		fmt.Sprintf("ssh -p %d alice@127.0.0.1", r.srv.Port())} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if herr.Fingerprint != fp {
		t.Errorf("Fingerprint = %q, want %q", herr.Fingerprint, fp)
	}
	if r.srv.LoginCount() != 0 {
		t.Error("client logged in to an unverified server")
	}
}

func TestDialSSHChangedHostKey(t *testing.T) {
	r := newRig(t, nil)
	impostor, _, err := sshtest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other := knownLine(r.srv, "otherhost", r.srv.HostKey.PublicKey())
	stale := knownLine(r.srv, r.srv.Addr, impostor.PublicKey())
	kh := writeFile(t, filepath.Join(r.home, ".ssh", "known_hosts"), []byte("# comment\n"+other+"\n"+stale+"\n"))
	for _, strict := range []string{"yes", "accept-new", "no"} {
		tgt := r.target()
		tgt.Options = map[string]string{"StrictHostKeyChecking": strict}
		_, err = DialSSH(context.Background(), tgt, r.opts())
		var herr *HostKeyError
		if !errors.As(err, &herr) || herr.Kind != "changed" {
			t.Fatalf("StrictHostKeyChecking %s: err = %v, want changed *HostKeyError", strict, err)
		}
		if herr.KnownHostsFile != kh || herr.Line != 3 {
			t.Errorf("old key at %s:%d, want %s:3", herr.KnownHostsFile, herr.Line, kh)
		}
		if msg := err.Error(); !strings.Contains(msg, kh+" line 3") || !strings.Contains(msg, "attack") {
			t.Errorf("message %q", msg)
		}
	}
	if r.srv.LoginCount() != 0 {
		t.Error("client logged in despite a changed host key")
	}
}

func knownLine(s *sshtest.Server, host string, k ssh.PublicKey) string {
	return strings.Replace(s.KnownHostsLine(host), strings.TrimSpace(string(ssh.MarshalAuthorizedKey(s.HostKey.PublicKey()))),
		strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k))), 1)
}

func TestDialSSHAcceptNew(t *testing.T) {
	r := newRig(t, nil)
	// Identity outside ~/.ssh so that ~/.ssh does not exist yet.
	key := filepath.Join(t.TempDir(), "key")
	b, _ := os.ReadFile(r.keyFile)
	writeFile(t, key, b)
	os.RemoveAll(filepath.Join(r.home, ".ssh"))

	tgt := r.target()
	tgt.IdentityFiles = []string{key}
	tgt.Options = map[string]string{"StrictHostKeyChecking": "accept-new", "HostKeyAlias": "mailgw"}
	c, err := DialSSH(context.Background(), tgt, r.opts())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	kh := filepath.Join(r.home, ".ssh", "known_hosts")
	data, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	if want := r.srv.KnownHostsLine("mailgw") + "\n"; string(data) != want {
		t.Errorf("known_hosts = %q, want %q", data, want)
	}
	for name, mode := range map[string]os.FileMode{kh: 0o600, filepath.Dir(kh): 0o700} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}

	// Now known: strict checking passes.
	tgt.Options = map[string]string{"HostKeyAlias": "mailgw"}
	c, err = DialSSH(context.Background(), tgt, r.opts())
	if err != nil {
		t.Fatalf("second dial: %v", err)
	}
	c.Close()

	// A different server under the same alias is a changed key, even with accept-new.
	r2 := newRig(t, nil)
	tgt2 := r2.target()
	tgt2.IdentityFiles = []string{r2.keyFile}
	tgt2.Options = map[string]string{"StrictHostKeyChecking": "accept-new", "HostKeyAlias": "mailgw"}
	_, err = DialSSH(context.Background(), tgt2, r.opts())
	var herr *HostKeyError
	if !errors.As(err, &herr) || herr.Kind != "changed" {
		t.Fatalf("err = %v, want changed *HostKeyError", err)
	}
}

func TestDialSSHConfigFile(t *testing.T) {
	r := newRig(t, nil)
	// Key and known_hosts in non-default places, found only through the config.
	b, _ := os.ReadFile(r.keyFile)
	os.Remove(r.keyFile)
	writeFile(t, filepath.Join(r.home, "keys", "mail_alice"), b)
	writeFile(t, filepath.Join(r.home, "kh", "known_127.0.0.1"), []byte(r.srv.KnownHostsLine()+"\n"))
	cfg := fmt.Sprintf(`# gofetchmail test
Host mail popserver
    HostName 127.0.0.1
    Port %d
    User alice
    IdentityFile ~/keys/mail_%%r
    UserKnownHostsFile %%d/kh/known_%%h
    ConnectTimeout 7

Host *
    User nobody
`, r.srv.Port())
	writeFile(t, filepath.Join(r.home, ".ssh", "config"), []byte(cfg))
	c, err := DialSSH(context.Background(), SSHTarget{Host: "popserver"}, r.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.RemoteAddr() != r.srv.Addr || c.User() != "alice" {
		t.Errorf("connected to %s as %s", c.RemoteAddr(), c.User())
	}
	roundTrip(t, c)

	// The command line overrides the config: -l bob is refused by the server.
	_, err = DialSSH(context.Background(), SSHTarget{Host: "mail", User: "bob"}, r.opts())
	var aerr *AuthError
	if !errors.As(err, &aerr) || aerr.User != "bob" {
		t.Errorf("User override: err = %v", err)
	}
}

func TestDialSSHUnsupportedConfig(t *testing.T) {
	r := newRig(t, nil)
	tgt := r.target()
	tgt.Options = map[string]string{"ProxyCommand": "nc %h %p"}
	if _, err := DialSSH(context.Background(), tgt, r.opts()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("err = %v, want ErrUnsupported", err)
	}
}

func TestDialSSHAgent(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	os.Remove(r.keyFile)
	keyring := agent.NewKeyring()
	signer, pemBytes, err := sshtest.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ssh.ParseRawPrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if err := keyring.Add(agent.AddedKey{PrivateKey: raw}); err != nil {
		t.Fatal(err)
	}
	r.srv.Close()
	r.srv, err = sshtest.NewServer(sshtest.ServerOptions{
		HostKey:        r.srv.HostKey,
		AuthorizedKeys: map[string][]ssh.PublicKey{"alice": {signer.PublicKey()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.srv.Close()
	r.trust(t)

	dir, err := os.MkdirTemp("", "agent")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	c, err := DialSSH(context.Background(), r.target(), r.opts())
	if err != nil {
		t.Fatal(err)
	}
	if want := ssh.FingerprintSHA256(signer.PublicKey()) + " (ssh-agent)"; !strings.HasSuffix(c.Identity(), want) {
		t.Errorf("Identity = %q, want ...%q", c.Identity(), want)
	}
	c.Close()

	// IdentitiesOnly keeps only agent keys named by an IdentityFile, which
	// may be the public half alone.
	pub := writeFile(t, filepath.Join(r.home, "agentkey.pub"), ssh.MarshalAuthorizedKey(signer.PublicKey()))
	tgt := r.target()
	tgt.IdentityFiles = []string{pub}
	tgt.Options = map[string]string{"IdentitiesOnly": "yes"}
	if c, err := DialSSH(context.Background(), tgt, r.opts()); err != nil {
		t.Errorf("IdentitiesOnly with the agent key's .pub: %v", err)
	} else {
		c.Close()
	}
	tgt.IdentityFiles = nil
	var aerr *AuthError
	if _, err := DialSSH(context.Background(), tgt, r.opts()); !errors.As(err, &aerr) {
		t.Errorf("IdentitiesOnly without a matching identity: err = %v, want *AuthError", err)
	}

	// IdentityAgent none turns the agent off.
	tgt = r.target()
	tgt.Options = map[string]string{"IdentityAgent": "none"}
	if _, err := DialSSH(context.Background(), tgt, r.opts()); !errors.As(err, &aerr) {
		t.Errorf("IdentityAgent none: err = %v, want *AuthError", err)
	}
}

// silentListener accepts connections and never says anything.
func silentListener(t *testing.T) (addr string, port int) {
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
			t.Cleanup(func() { c.Close() })
		}
	}()
	return ln.Addr().String(), ln.Addr().(*net.TCPAddr).Port
}

func TestDialSSHStalledHandshake(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	_, port := silentListener(t)
	tgt := SSHTarget{User: "alice", Host: "127.0.0.1", Port: port}
	opts := SSHOptions{Home: t.TempDir(), LocalUser: "tester", ConnectTimeout: 100 * time.Millisecond}
	if _, err := DialSSH(context.Background(), tgt, opts); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: err = %v, want DeadlineExceeded", err)
	}

	opts.ConnectTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := DialSSH(ctx, tgt, opts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancel: err = %v, want Canceled", err)
	}
}

func TestChannelConnDeadline(t *testing.T) {
	closed := make(chan error, 1)
	r := newRig(t, func(o *sshtest.ServerOptions) {
		o.Forward = func(string, int) (net.Conn, error) {
			a, b := net.Pipe()
			go func() {
				// Never writes; reports when the client side goes away.
				_, err := io.Copy(io.Discard, b)
				closed <- err
			}()
			return a, nil
		}
	})
	r.trust(t)
	c, err := DialSSH(context.Background(), r.target(), r.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.DialContext(context.Background(), "tcp", "popserver:110")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	// A deadline moved away before it passes does no harm.
	conn.SetDeadline(time.Now().Add(20 * time.Millisecond))
	conn.SetDeadline(time.Time{})
	if _, err := conn.Write([]byte("USER alice\r\n")); err != nil {
		t.Fatal(err)
	}

	conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err = conn.Read(make([]byte, 10))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read after deadline: %v, want a timeout", err)
	}
	if _, err := conn.Write([]byte("x")); err == nil {
		t.Error("Write after an expired deadline succeeded")
	}
	if err := <-closed; err != nil {
		t.Errorf("server side: %v", err)
	}
	// The SSH connection itself is still usable.
	roundTripFails := r.srv.ForwardCount()
	if _, err := c.DialContext(context.Background(), "tcp", "popserver:110"); err != nil {
		t.Errorf("new channel after deadline: %v", err)
	}
	if r.srv.ForwardCount() != roundTripFails+1 {
		t.Error("no new channel opened")
	}
}

func TestKeepalive(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	c, err := DialSSH(context.Background(), r.target(), r.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.StartKeepalive(10*time.Millisecond, 2)
	time.Sleep(60 * time.Millisecond)
	roundTrip(t, c) // answered keepalives keep the client open

	hung := newRig(t, func(o *sshtest.ServerOptions) { o.StallGlobalRequests = true })
	hung.trust(t)
	c2, err := DialSSH(context.Background(), hung.target(), hung.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	c2.StartKeepalive(10*time.Millisecond, 2)
	done := make(chan struct{})
	go func() { c2.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("client to a hung server was not closed by keepalive")
	}
	if _, err := c2.DialContext(context.Background(), "tcp", "popserver:110"); err == nil {
		t.Error("channel opened on a closed client")
	}
}

func TestDialContextLoopbackEcho(t *testing.T) {
	r := newRig(t, func(o *sshtest.ServerOptions) { o.Forward = nil })
	r.trust(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	c, err := DialSSH(context.Background(), r.target(), r.opts())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn, err := c.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 4096) // several SSH packets
	go conn.Write(payload)
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(conn, got); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("echo mismatch: %v", err)
	}

	// The default server forwards only to loopback.
	if _, err := c.DialContext(context.Background(), "tcp", "192.0.2.1:110"); err == nil {
		t.Error("non-loopback forward was allowed")
	} else if !strings.Contains(err.Error(), "192.0.2.1:110") {
		t.Errorf("error %q does not name the target", err)
	}
}

// A server with several host keys must be asked for the type known_hosts
// has; x/crypto/ssh would otherwise prefer ECDSA and see a "changed" key.
func TestDialSSHPrefersKnownHostKeyType(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecSigner, err := ssh.NewSignerFromKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, func(o *sshtest.ServerOptions) { o.ExtraHostKeys = []ssh.Signer{ecSigner} })
	r.trust(t) // records the ed25519 key only
	c, err := DialSSH(context.Background(), r.target(), r.opts())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
}

func TestDialSSHUnparsableConfig(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	writeFile(t, filepath.Join(r.home, ".ssh", "config"), []byte("Match exec \"true\"\n  User bob\n"))
	if _, err := DialSSH(context.Background(), r.target(), r.opts()); !errors.Is(err, ErrUnsupported) {
		t.Errorf("err = %v, want ErrUnsupported", err)
	}
}

func TestDialForward(t *testing.T) {
	r := newRig(t, nil)
	r.trust(t)
	f, err := ParseSSHForward(fmt.Sprintf("ssh -C -f -p %d -i %s alice@127.0.0.1 -L 11110:popserver:110 sleep 5", r.srv.Port(), r.keyFile))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Matches("localhost", 11110) {
		t.Fatal("forward does not match localhost:11110")
	}
	var logs bytes.Buffer
	opts := r.opts()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conn, err := DialForward(context.Background(), f, opts)
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != "+OK hello from popserver:110\r\n" {
		t.Errorf("greeting %q, %v", line, err)
	}
	if err := conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if !strings.Contains(logs.String(), "compression") {
		t.Errorf("no debug note about -C in the log:\n%s", logs.String())
	}
	if r.srv.ForwardCount() != 1 {
		t.Errorf("ForwardCount = %d", r.srv.ForwardCount())
	}
}

func TestDialSSHProxyJump(t *testing.T) {
	r := newRig(t, nil) // the target, serving popserver:110
	jump, err := sshtest.NewServer(sshtest.ServerOptions{
		AuthorizedKeys: map[string][]ssh.PublicKey{"jumper": {r.signer.PublicKey()}},
	}) // forwards to loopback only, which is where the target listens
	if err != nil {
		t.Fatal(err)
	}
	defer jump.Close()
	writeFile(t, filepath.Join(r.home, ".ssh", "known_hosts"),
		[]byte(r.srv.KnownHostsLine("target")+"\n"+jump.KnownHostsLine()+"\n"))
	writeFile(t, filepath.Join(r.home, ".ssh", "config"), []byte(fmt.Sprintf(
		"Host target\n  HostName 127.0.0.1\n  Port %d\n  HostKeyAlias target\n  ProxyJump jumper@127.0.0.1:%d\n",
		r.srv.Port(), jump.Port())))
	c, err := DialSSH(context.Background(), SSHTarget{User: "alice", Host: "target"}, r.opts())
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, c)
	if jump.ForwardCount() != 1 || r.srv.ForwardCount() != 1 {
		t.Errorf("forwards: jump %d, target %d; want 1 and 1", jump.ForwardCount(), r.srv.ForwardCount())
	}
	c.Close()

	// A loop (the jump host jumps through itself) is cut off.
	writeFile(t, filepath.Join(r.home, ".ssh", "config"), []byte("Host *\n  ProxyJump loop\n"))
	if _, err := DialSSH(context.Background(), SSHTarget{Host: "loop"}, r.opts()); err == nil || !strings.Contains(err.Error(), "hops") {
		t.Errorf("loop: err = %v", err)
	}
}

func TestDialSSHRevokedHostKey(t *testing.T) {
	r := newRig(t, nil)
	kh := writeFile(t, filepath.Join(r.home, ".ssh", "known_hosts"),
		[]byte(r.srv.KnownHostsLine()+"\n@revoked * "+strings.TrimSpace(string(ssh.MarshalAuthorizedKey(r.srv.HostKey.PublicKey())))+"\n"))
	_, err := DialSSH(context.Background(), r.target(), r.opts())
	var herr *HostKeyError
	if !errors.As(err, &herr) || herr.Kind != "revoked" || herr.KnownHostsFile != kh || herr.Line != 2 {
		t.Fatalf("err = %v (%+v), want revoked at %s:2", err, herr, kh)
	}
}
