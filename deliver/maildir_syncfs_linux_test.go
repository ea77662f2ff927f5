//go:build linux

package deliver

import "testing"

func TestKernelAtLeast(t *testing.T) {
	for _, c := range []struct {
		release string
		want    bool
	}{
		{"5.8.0", true}, {"5.7.19-foo", false}, {"6.1.0-18-amd64", true}, {"4.19.0", false},
		{"5.10", true}, {"10.0.1", true}, {"", false}, {"x.y", false},
	} {
		if got := kernelAtLeast(c.release, 5, 8); got != c.want {
			t.Errorf("kernelAtLeast(%q, 5, 8) = %v, want %v", c.release, got, c.want)
		}
	}
}

func TestOthersDirtyReadsMeminfo(t *testing.T) {
	if d := othersDirty(); d < 0 {
		t.Errorf("othersDirty() = %d: /proc/meminfo not understood", d)
	}
}
