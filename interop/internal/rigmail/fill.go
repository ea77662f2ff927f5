package rigmail

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Fill empties the Maildir at maildir (its new, cur and tmp folders; index
// files are left to the server) and the originals folder, then stores each
// message twice: in maildir/new as a file owned by uid:gid (-1 keeps the
// caller's) and in originals under its Name.
func Fill(maildir, originals string, msgs []Message, uid, gid int) error {
	for _, sub := range []string{"new", "cur", "tmp"} {
		dir := filepath.Join(maildir, sub)
		if err := emptyDir(dir, "*"); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("rigmail: %w", err)
		}
		if err := os.Lchown(dir, uid, gid); err != nil {
			return fmt.Errorf("rigmail: %w", err)
		}
	}
	if err := emptyDir(originals, "*.eml"); err != nil {
		return err
	}
	if err := os.MkdirAll(originals, 0o755); err != nil {
		return fmt.Errorf("rigmail: %w", err)
	}
	// Fresh file names at every fill: dovecot keys its UID list by file
	// name, so reused names could bring back a deleted message's UID.
	fillID := time.Now().UnixNano()
	for i, m := range msgs {
		if err := os.WriteFile(filepath.Join(originals, m.Name), m.Data, 0o644); err != nil {
			return fmt.Errorf("rigmail: %w", err)
		}
		// Deliver the Maildir way: write into tmp, then rename into new.
		name := fmt.Sprintf("%d.R%06dF%x.rigfill", 1767322800+i, i+1, fillID)
		tmp := filepath.Join(maildir, "tmp", name)
		if err := os.WriteFile(tmp, m.Data, 0o600); err != nil {
			return fmt.Errorf("rigmail: %w", err)
		}
		if err := os.Lchown(tmp, uid, gid); err != nil {
			return fmt.Errorf("rigmail: %w", err)
		}
		if err := os.Rename(tmp, filepath.Join(maildir, "new", name)); err != nil {
			return fmt.Errorf("rigmail: %w", err)
		}
	}
	return nil
}

// emptyDir removes the entries of dir that match pattern; a missing dir is
// already empty.
func emptyDir(dir, pattern string) error {
	names, err := filepath.Glob(filepath.Join(dir, pattern))
	if err != nil {
		return fmt.Errorf("rigmail: %w", err)
	}
	for _, name := range names {
		if err := os.RemoveAll(name); err != nil {
			return fmt.Errorf("rigmail: %w", err)
		}
	}
	return nil
}

// Count returns how many messages the Maildir at maildir holds in new and
// cur.
func Count(maildir string) (int, error) {
	files, err := maildirFiles(maildir)
	return len(files), err
}

// maildirFiles lists the message files in maildir/new and maildir/cur.
func maildirFiles(maildir string) ([]string, error) {
	var files []string
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(maildir, sub))
		if err != nil {
			return nil, fmt.Errorf("rigmail: %w", err)
		}
		for _, e := range entries {
			if e.Type().IsRegular() && e.Name()[0] != '.' {
				files = append(files, filepath.Join(maildir, sub, e.Name()))
			}
		}
	}
	return files, nil
}
