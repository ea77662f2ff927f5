//go:build !linux

package deliver

import (
	"errors"
	"os"
)

// syncfsUsable is false where there is no syncfs(2): a batch is made
// durable with an fsync per file.
func syncfsUsable(string) bool { return false }

func syncfs(*os.File) error { return errors.ErrUnsupported }

const dirtyLimit = 0

func othersDirty() int64 { return -1 }
