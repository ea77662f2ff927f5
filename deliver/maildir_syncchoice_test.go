package deliver

import (
	"testing"
	"time"
)

// TestSyncChooser: syncfs first, the fsyncs second, then the cheaper way,
// with the other probed every probeEvery-th batch; a way that grew dearer
// loses its place.
func TestSyncChooser(t *testing.T) {
	var c syncChooser
	cost := [2]time.Duration{viaFsync: 100 * time.Microsecond, viaSyncfs: 40 * time.Microsecond}
	var got []int
	for range 16 {
		w := c.pick()
		got = append(got, w)
		c.record(w, 64, 64*cost[w])
	}
	want := []int{viaSyncfs, viaFsync, viaSyncfs, viaSyncfs, viaSyncfs, viaSyncfs, viaSyncfs, viaFsync,
		viaSyncfs, viaSyncfs, viaSyncfs, viaSyncfs, viaSyncfs, viaSyncfs, viaSyncfs, viaFsync}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("batch %d took way %d, want %d (all: %v)", i+1, got[i], want[i], got)
		}
	}
	// The file system got busy: syncfs now costs ten times as much.
	cost[viaSyncfs] = time.Millisecond
	for range 4 {
		w := c.pick()
		c.record(w, 64, 64*cost[w])
	}
	if w := c.pick(); w != viaFsync {
		t.Errorf("after syncfs grew dearer than the fsyncs, the chooser still takes way %d", w)
	}
}
