// Package statefile is the one place where gofetchmail reads and writes
// the files it keeps state in: the idfile and its journals (fetch), the
// mbox dotlock's pid file (deliver), the pid file and the log file
// (cmd/gofetchmail). Such files often live where other users can write
// too: /tmp, a sticky world-writable spool, a shared home. Another user
// may plant a file there, or a symbolic link to one of the victim's files,
// before gofetchmail creates it (docs/security.md, "Local files on a
// shared machine").
//
// The contract:
//
//   - Reading: a state file is trusted only if it is a regular file (not
//     a symbolic link, FIFO or device), owned by the effective user, and
//     neither group- nor world-writable. ReadFile and Open check the file
//     they opened (fstat of the descriptor, opened with O_NOFOLLOW and
//     O_NONBLOCK so that a planted FIFO cannot hang the run), and return
//     an *UntrustedError otherwise: the caller ignores the file and says
//     so in one line. ReadOwnedFile relaxes the mode check for files whose
//     content is checked some other way (the pid file).
//   - Writing: a state file is never opened for writing by a name someone
//     else could have chosen first. Create uses O_CREATE|O_EXCL|O_NOFOLLOW;
//     CreateTemp and WriteFile make a file with an unpredictable name in the
//     target's directory (os.CreateTemp) and rename it into place, with
//     fsyncs of the file and the directory.
//   - Appending to a state file (the idfile's new lines): AppendSync opens
//     it with O_APPEND|O_NOFOLLOW and writes only if it is still the file
//     of the Version the caller read or wrote (ReadFileVersion,
//     WriteFileVersion): same device, inode, size and change time, owned
//     by the effective user, not writable by others; then fsyncs it.
//   - Appending to a log: OpenAppend never follows a symbolic link and
//     refuses a file owned by another user.
//
// The package holds no state of its own.
package statefile
