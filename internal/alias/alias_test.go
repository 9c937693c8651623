package alias

import "testing"

func TestOffset(t *testing.T) {
	b := make([]byte, 100, 200)
	other := make([]byte, 100)
	for _, c := range []struct {
		name string
		b    []byte
		part []byte
		want int
	}{
		{"the whole", b, b, 0},
		{"inside", b, b[10:20], 10},
		{"inside, capacity cut", b, b[10:20:20], 10},
		{"at the end", b, b[90:100], 90},
		{"past the end", b, b[95:105], -1},
		{"within capacity, past length", b, b[100:110], -1},
		{"before the start", b[10:], b[5:15], -1},
		{"empty", b, b[10:10], -1},
		{"another slice", b, other[10:20], -1},
		{"into nothing", nil, b[:1], -1},
	} {
		if got := Offset(c.b, c.part); got != c.want {
			t.Errorf("%s: Offset = %d, want %d", c.name, got, c.want)
		}
	}
}
