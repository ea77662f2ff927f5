package deliver

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

var keyCounter atomic.Uint64

// keyHost and keyPid are looked up once per process: a key stays unique
// through its counter and random part even if the host is renamed.
var keyHost = sync.OnceValue(func() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	host = strings.ReplaceAll(host, "/", `\057`)
	return strings.ReplaceAll(host, ":", `\072`)
})

var keyPid = os.Getpid()

// newKey returns a unique Maildir file name in the modern form
// "SECS.MusecPpidQnRrand.host" (go-maildir v0.6.0 keeps its generator
// unexported). "/" and ":" in the host name are escaped as the spec asks.
func newKey() (string, error) {
	var r [8]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", fmt.Errorf("maildir key: %w", err)
	}
	now := time.Now()
	host := keyHost()
	// One allocation a message: the key is made for every one.
	b := make([]byte, 0, 64+len(host))
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, ".M"...)
	b = strconv.AppendInt(b, int64(now.Nanosecond()/1000), 10)
	b = append(b, 'P')
	b = strconv.AppendInt(b, int64(keyPid), 10)
	b = append(b, 'Q')
	b = strconv.AppendUint(b, keyCounter.Add(1), 10)
	b = append(b, 'R')
	b = hex.AppendEncode(b, r[:])
	b = append(b, '.')
	b = append(b, host...)
	return string(b), nil
}
