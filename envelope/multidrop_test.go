package envelope

import (
	"reflect"
	"testing"

	"github.com/gofetchmail/gofetchmail/rcparse"
)

func multidropJob(t *testing.T, src string) Entry {
	t.Helper()
	cfg, _, err := rcparse.Parse("t.rc", []byte(src), rcparse.Options{User: "tester", Home: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return Entry{Config: cfg, Server: cfg.Servers[0], User: cfg.Servers[0].Users[0]}
}

func TestMultidropRecipients(t *testing.T) {
	cases := []struct {
		name, rc, header string
		want             []string
	}{
		{
			name:   "names from To and Cc, foreign domains ignored",
			rc:     `poll pop.example.org proto pop3 no envelope user "box" there is kilo lima here password x`,
			header: "To: Kilo <kilo@pop.example.org>, stranger@elsewhere.net\nCc: lima@pop.example.org, kilo@pop.example.org\n",
			want:   []string{"kilo", "lima"},
		},
		{
			name:   "envelope header wins over To",
			rc:     `poll pop.example.org proto pop3 envelope "X-Original-To" user "box" there is kilo lima here password x`,
			header: "X-Original-To: lima@pop.example.org\nTo: kilo@pop.example.org\n",
			want:   []string{"lima"},
		},
		{
			name:   "Received for clause, envskip",
			rc:     `poll pop.example.org proto pop3 envelope 1 "Received" user "box" there is kilo lima here password x`,
			header: "Received: from a by b for <kilo@pop.example.org>; date\nReceived: from c by d for <lima@pop.example.org>; date\n",
			want:   []string{"lima"},
		},
		{
			name:   "localdomains and the wildcard",
			rc:     `poll pop.example.org proto pop3 no envelope localdomains example.com user "box" there is kilo * here password x`,
			header: "To: mike@mail.example.com, kilo@example.com\n",
			want:   []string{"mike", "kilo"},
		},
		{
			name:   "mapping and qvirtual",
			rc:     `poll pop.example.org proto pop3 no envelope qvirtual "v-" user "box" there is "sales"=kilo lima here password x`,
			header: "To: v-sales@pop.example.org\n",
			want:   []string{"kilo"},
		},
		{
			name:   "no match goes to the postmaster",
			rc:     "set postmaster \"pm\"\n" + `poll pop.example.org proto pop3 no envelope user "box" there is kilo lima here password x`,
			header: "To: nobody@pop.example.org\n",
			want:   []string{"pm"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			j := multidropJob(t, c.rc)
			if !IsMultidrop(j.User) {
				t.Fatal("entry is not multidrop")
			}
			got := Recipients(j, UnfoldHeader([]byte(c.header)))
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("recipients %v, want %v", got, c.want)
			}
		})
	}
}

func TestSingleDropIsNotMultidrop(t *testing.T) {
	j := multidropJob(t, `poll h proto pop3 user a there is manish here password x`)
	if IsMultidrop(j.User) {
		t.Error("one local name is single-drop")
	}
}
