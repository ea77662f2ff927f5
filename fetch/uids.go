package fetch

import "github.com/gofetchmail/gofetchmail/ledger"

// UIDStore is the idfile (package ledger owns it).
type UIDStore = ledger.UIDStore

// LoadUIDStore reads the idfile at path (ledger.LoadUIDStore).
func LoadUIDStore(path string) (*UIDStore, error) { return ledger.LoadUIDStore(path) }

// AccountKey is the idfile key of a user entry (ledger.AccountKey).
func AccountKey(remotename, queryname string) string {
	return ledger.AccountKey(remotename, queryname)
}
