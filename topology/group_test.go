package topology

import "testing"

// The expected partitions were computed with Java 17's String.hashCode
// (jshell: (g.hashCode() & 0x7fffffff) % 50), as the broker does.
func TestGroupPartition(t *testing.T) {
	for _, c := range []struct {
		group string
		n     int
		want  int
	}{
		{"my-group", 50, 36},
		{"stretchctl-drill", 50, 44},
		{"payments-consumer", 50, 22},
		{"\U0001F600-group", 50, 5}, // a surrogate pair
		{"zz", 50, 4},
		{"", 50, 0},
		{"my-group", 0, -1},
	} {
		if got := GroupPartition(c.group, c.n); got != c.want {
			t.Errorf("GroupPartition(%q, %d) = %d, want %d", c.group, c.n, got, c.want)
		}
	}
}
