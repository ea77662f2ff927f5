package deliver

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMDAFetchmailForms runs the MDA command forms fetchmail accepts and
// records the arguments the program receives. fetchmail pastes %T as all
// recipients in one pair of single quotes ('a b') and %F as 'sender';
// gofetchmail passes the same values without letting the shell parse them.
// With one recipient the arguments are the same as fetchmail's; with
// several, an unquoted %T gives one argument per recipient (what
// "procmail -d", "maildrop -d" and "sendmail --" expect), and a quoted %T
// ('%T' or "%T", which fetchmail 6.4 refuses) gives fetchmail's single
// "a b" argument. Characters other than letters, digits and @ . _ + = -
// become '_' (fetchmail turns only ' into _; see mdaArg).
func TestMDAFetchmailForms(t *testing.T) {
	// args prints each argument of the "program" in brackets.
	const args = `cat >/dev/null; for a in `
	for _, tc := range []struct {
		name, cmd string
		env       Envelope
		want      string
	}{
		{"procmail -d %T", args + `%T; do echo "[$a]"; done >"$OUT"`, Envelope{To: []string{"joe"}}, "[joe]\n"},
		{"two recipients", args + `%T; do echo "[$a]"; done >"$OUT"`, Envelope{To: []string{"joe", "ann"}}, "[joe]\n[ann]\n"},
		{"legacy %s", args + `%s; do echo "[$a]"; done >"$OUT"`, Envelope{To: []string{"joe", "ann"}}, "[joe]\n[ann]\n"},
		{"single-quoted %T", args + `'%T'; do echo "[$a]"; done >"$OUT"`, Envelope{To: []string{"joe", "ann"}}, "[joe ann]\n"},
		{"double-quoted %T", args + `"%T"; do echo "[$a]"; done >"$OUT"`, Envelope{To: []string{"joe", "ann"}}, "[joe ann]\n"},
		{"sendmail -f %F -- %T", args + `-f %F -- %T; do echo "[$a]"; done >"$OUT"`, Envelope{From: "a b@x", To: []string{"joe"}},
			"[-f]\n[a_b@x]\n[--]\n[joe]\n"},
		{"bounce sender", args + `%F; do echo "[$a]"; done >"$OUT"`, Envelope{From: "", To: []string{"joe"}}, "[]\n"},
		{"inside a longer string", args + `"to=%T from=<%F>" 'to=%T from=<%F>'; do echo "[$a]"; done >"$OUT"`,
			Envelope{From: "s@x", To: []string{"joe", "ann"}}, "[to=joe ann from=<s@x>]\n[to=joe ann from=<s@x>]\n"},
		{"hostile values are made inert", args + `%F %T; do echo "[$a]"; done >"$OUT"`,
			Envelope{From: "$(echo pwned)'\"", To: []string{"`id`"}}, "[__echo_pwned___]\n[_id_]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			if err := runMDA(t, tc.cmd, &MDAOptions{Env: []string{"OUT=" + out}}, tc.env, []byte("\nx\n")); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(out)
			if string(got) != tc.want {
				t.Errorf("arguments\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
