//go:build interop

package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/gofetchmail/gofetchmail/imap"
	"github.com/gofetchmail/gofetchmail/interop/internal/rigmail"
)

// imapRC polls the rig's dovecot over IMAP on port with the given user
// options (a password is always given; PREAUTH ignores it).
func imapRC(port, extra string) string {
	return fmt.Sprintf(`defaults
user msingh is manish
no rewrite
poll 127.0.0.1 with protocol imap and port %s
  user msingh there is manish here password foobar %s
`, port, extra)
}

// mailUser returns the uid and gid of the rig's mail user.
func mailUser(t *testing.T) (int, int) {
	t.Helper()
	u, err := user.Lookup(rig["RIG_USER"])
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return uid, gid
}

// folderDir is the Maildir++ directory of an IMAP folder ("" or INBOX is
// the Maildir itself).
func folderDir(folder string) string {
	if folder == "" || folder == "INBOX" {
		return rig["RIG_MAILDIR"]
	}
	return filepath.Join(rig["RIG_MAILDIR"], "."+folder)
}

// fillFolders empties INBOX and the named folders and stores the given
// messages in each; the originals of all of them are what verify expects.
func fillFolders(t *testing.T, byFolder map[string][]rigmail.Message) {
	t.Helper()
	uid, gid := mailUser(t)
	tmp := t.TempDir()
	if _, ok := byFolder["INBOX"]; !ok {
		byFolder["INBOX"] = nil
	}
	i := 0
	for folder, msgs := range byFolder {
		dir := folderDir(folder)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		orig := filepath.Join(tmp, strconv.Itoa(i))
		i++
		if err := rigmail.Fill(dir, orig, msgs, uid, gid); err != nil {
			t.Fatalf("filling %s (the tests must run as root): %v", folder, err)
		}
	}
	// One originals folder for verify: the union.
	if err := rigmail.Fill(t.TempDir(), rig["RIG_ORIGINALS"], nil, -1, -1); err != nil {
		t.Fatal(err)
	}
	for _, msgs := range byFolder {
		addOriginals(t, msgs)
	}
}

func addOriginals(t *testing.T, msgs []rigmail.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := os.WriteFile(filepath.Join(rig["RIG_ORIGINALS"], m.Name), m.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// addFolderMail delivers msgs into a folder without emptying it, the Maildir
// way, and adds them to the originals.
func addFolderMail(t *testing.T, folder string, msgs []rigmail.Message) {
	t.Helper()
	uid, gid := mailUser(t)
	dir := folderDir(folder)
	for i, m := range msgs {
		name := fmt.Sprintf("%d.R%06dP%d.rigadd", time.Now().Unix(), i, time.Now().UnixNano())
		tmp := filepath.Join(dir, "tmp", name)
		if err := os.WriteFile(tmp, m.Data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Lchown(tmp, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "new", name)); err != nil {
			t.Fatal(err)
		}
	}
	addOriginals(t, msgs)
}

// folderHolds waits (at most 2 s) until a folder holds n messages.
func folderHolds(t *testing.T, folder string, n int) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(2 * time.Second); ; {
		var err error
		if got, err = rigmail.Count(folderDir(folder)); err != nil {
			t.Fatal(err)
		}
		if got == n || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got != n {
		t.Errorf("folder %s holds %d messages, want %d", folder, got, n)
	}
}

// otherClient logs in to the rig's IMAP as another mail client would and
// selects folder.
func otherClient(t *testing.T, folder string) *imap.Session {
	t.Helper()
	ctx := context.Background()
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", rig["RIG_IMAP_PORT"]))
	if err != nil {
		t.Fatal(err)
	}
	s, err := imap.Open(ctx, c, &imap.Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Login(ctx, rig["RIG_USER"], rig["RIG_PASSWORD"]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Select(ctx, folder, false); err != nil {
		t.Fatal(err)
	}
	return s
}

// imapQueryAll selects every message.
var imapQueryAll = imap.Query{}

// findOriginal returns the file name of the original of the index-th
// message (in UID order) of folder.
func findOriginal(t *testing.T, folder string, index int) string {
	t.Helper()
	c := otherClient(t, folder)
	ctx := context.Background()
	all, err := c.Search(ctx, imapQueryAll)
	if err != nil || len(all) <= index {
		t.Fatalf("%s: %v %v", folder, all, err)
	}
	var data []byte
	err = c.FetchBodies(ctx, all[index:index+1], func(b imap.Body) error {
		var err error
		data, err = io.ReadAll(b.R)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(rig["RIG_ORIGINALS"], "*.eml"))
	for _, n := range names {
		o, _ := os.ReadFile(n)
		if bytes.Equal(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), o) {
			return filepath.Base(n)
		}
	}
	t.Fatalf("message %d of %s matches no original", index, folder)
	return ""
}
