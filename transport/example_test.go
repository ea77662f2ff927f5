package transport_test

import (
	"fmt"

	"github.com/gofetchmail/gofetchmail/transport"
)

func ExampleParseSSHForward() {
	f, err := transport.ParseSSHForward("ssh -C -f msingh@popserver -L 11110:popserver:110 sleep 5")
	if err != nil {
		fmt.Println("run it through the shell:", err)
		return
	}
	// The rc file polls localhost port 11110: that is this forward's local end,
	// so DialForward(ctx, f, opts) replaces the ssh process.
	fmt.Println(f.Matches("localhost", 11110), f.Target.User, f.Target.Host, f.RemoteAddr())

	_, err = transport.ParseSSHForward("ssh -f popserver -L 11110:popserver:110 sleep 5 && echo up")
	fmt.Println(err)
	// Output:
	// true msingh popserver popserver:110
	// not a single ssh -L port forward: the command uses the shell operator '&'
}
