package main

import (
	"testing"

	"github.com/gofetchmail/gofetchmail/fetch"
	"github.com/gofetchmail/gofetchmail/rcparse"
)

func TestDueJobsInterval(t *testing.T) {
	cfg, _, err := rcparse.Parse("rc", []byte("poll every user a password x\npoll third interval 3 user b password y\n"), rcparse.Options{Home: t.TempDir(), User: "me"})
	if err != nil {
		t.Fatal(err)
	}
	all, err := selectJobs(cfg, nil)
	if err != nil || len(all) != 2 {
		t.Fatalf("selectJobs: %v, %d jobs", err, len(all))
	}
	names := func(js []fetch.Job) (out []string) {
		for _, j := range js {
			out = append(out, j.Server.Pollname)
		}
		return out
	}
	for cycle, want := range map[int]int{0: 2, 1: 1, 2: 1, 3: 2, 4: 1, 6: 2} {
		if got := dueJobs(all, cycle); len(got) != want {
			t.Errorf("cycle %d polls %v, want %d entries", cycle, names(got), want)
		}
	}
}
