package deliver

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// BSMTPOptions tune a BSMTP deliverer. The zero value (or nil) gives the
// defaults.
type BSMTPOptions struct {
	// Address is the domain appended to local recipients in RCPT TO
	// (fetchmail's "smtpaddress"). Default: "localhost".
	Address string
	// Name, when set, replaces every RCPT TO address ("smtpname").
	Name string
	// Stdout receives the output when the path is "-" (tests). Default:
	// os.Stdout.
	Stdout io.Writer
}

// BSMTP appends each message to a file as a batch SMTP transaction, as
// fetchmail's "bsmtp FILE" does: MAIL FROM, one RCPT TO per recipient,
// DATA, the dot-stuffed message and a line with a single dot, all with CRLF
// line ends. The path "-" means standard output.
//
// The file is locked (flock) during each message. Abort truncates the file
// back to where the message began; Commit flushes it to disk. On standard
// output a partial message cannot be taken back.
type BSMTP struct {
	path string
	opts BSMTPOptions
	f    *os.File // nil for standard output
}

// NewBSMTP prepares appending to path ("-" for standard output).
func NewBSMTP(path string, opts *BSMTPOptions) (*BSMTP, error) {
	if path == "" {
		return nil, errors.New("bsmtp: empty path")
	}
	b := &BSMTP{path: path}
	if opts != nil {
		b.opts = *opts
	}
	if b.opts.Address == "" {
		b.opts.Address = "localhost"
	}
	if b.opts.Stdout == nil {
		b.opts.Stdout = os.Stdout
	}
	if path != "-" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("bsmtp: %w", err)
		}
		b.f = f
	}
	return b, nil
}

// String returns "bsmtp PATH".
func (b *BSMTP) String() string { return "bsmtp " + b.path }

// Close closes the file.
func (b *BSMTP) Close() error {
	if b.f == nil {
		return nil
	}
	err := b.f.Close()
	b.f = nil
	return err
}

// Begin locks the file and writes the envelope commands.
func (b *BSMTP) Begin(ctx context.Context, env Envelope) (Tx, error) {
	if len(env.To) == 0 {
		return nil, errors.New("bsmtp: no recipients")
	}
	for _, a := range append([]string{env.From}, env.To...) {
		if strings.ContainsAny(a, "\r\n") {
			return nil, fmt.Errorf("bsmtp: address %q contains a line break", a)
		}
	}
	tx := &bsmtpTx{b: b, off: -1}
	out := b.opts.Stdout
	if b.f != nil {
		if err := unix.Flock(int(b.f.Fd()), unix.LOCK_EX); err != nil {
			return nil, fmt.Errorf("bsmtp %s: lock: %w", b.path, err)
		}
		fi, err := b.f.Stat()
		if err != nil {
			unix.Flock(int(b.f.Fd()), unix.LOCK_UN)
			return nil, fmt.Errorf("bsmtp %s: %w", b.path, err)
		}
		tx.off = fi.Size()
		out = b.f
	}
	tx.bw = bufio.NewWriter(out)
	fmt.Fprintf(tx.bw, "MAIL FROM:<%s>\r\n", env.From)
	to := env.To
	if b.opts.Name != "" {
		to = to[:1]
	}
	for _, r := range to {
		addr := b.opts.Name
		switch {
		case addr != "":
		case strings.Contains(r, "@"):
			addr = r
		default:
			addr = r + "@" + b.opts.Address
		}
		fmt.Fprintf(tx.bw, "RCPT TO:<%s>\r\n", addr)
	}
	tx.bw.WriteString("DATA\r\n")
	tx.dw = textproto.NewWriter(tx.bw).DotWriter()
	return tx, nil
}

// bsmtpTx is one message being appended.
type bsmtpTx struct {
	b   *BSMTP
	bw  *bufio.Writer
	dw  io.WriteCloser
	off int64 // where the message began in the file; -1 for stdout
	txState
}

// Write appends message bytes, dot-stuffed, with CRLF line ends.
func (tx *bsmtpTx) Write(p []byte) (int, error) {
	return tx.write(tx.dw, p, func(err error) error { return fmt.Errorf("bsmtp %s: %w", tx.b.path, err) })
}

// Commit writes the final dot, flushes and syncs the file.
func (tx *bsmtpTx) Commit() error {
	if tx.done {
		return errTxDone
	}
	if tx.err == nil {
		if err := tx.dw.Close(); err != nil { // writes ".\r\n" and flushes
			tx.err = fmt.Errorf("bsmtp %s: %w", tx.b.path, err)
		}
	}
	if tx.err == nil && tx.b.f != nil {
		if err := tx.b.f.Sync(); err != nil {
			tx.err = fmt.Errorf("bsmtp %s: sync: %w", tx.b.path, err)
		}
	}
	if tx.err != nil {
		err := tx.err
		tx.Abort()
		return err
	}
	tx.done = true
	tx.unlock()
	return nil
}

// Abort truncates the file back to where the message began.
func (tx *bsmtpTx) Abort() error {
	if tx.done {
		return nil
	}
	tx.done = true
	defer tx.unlock()
	if tx.b.f == nil {
		return nil
	}
	if err := tx.b.f.Truncate(tx.off); err != nil {
		return fmt.Errorf("bsmtp %s: truncate: %w", tx.b.path, err)
	}
	return nil
}

func (tx *bsmtpTx) unlock() {
	if tx.b.f != nil {
		unix.Flock(int(tx.b.f.Fd()), unix.LOCK_UN)
	}
}
