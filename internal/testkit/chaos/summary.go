package chaos

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
)

// Counter counts the events of a drill by name (deliveries, retries, kills, answers by
// status, ...). The zero value is ready; safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	n  map[string]int64
}

// Add adds d to name.
func (c *Counter) Add(name string, d int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int64{}
	}
	c.n[name] += d
}

// Get is name's count.
func (c *Counter) Get(name string) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[name]
}

// WithPrefix is every count whose name starts with prefix, by the rest of the name.
func (c *Counter) WithPrefix(prefix string) map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]int64{}
	for k, v := range c.n {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

// Summary is a drill's table: rows of a name and a value, printed in order.
type Summary struct {
	Title string
	rows  [][2]string
}

// Row adds a row.
func (s *Summary) Row(name string, value any) {
	s.rows = append(s.rows, [2]string{name, fmt.Sprint(value)})
}

// Counts adds one row per key of m, sorted, each name prefixed.
func (s *Summary) Counts(prefix string, m map[string]int64) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s.Row(prefix+k, m[k])
	}
}

// Faults adds a row per fault kind (zero ones too) and their total.
func (s *Summary) Faults(t Tally) {
	var total int64
	for _, k := range Kinds {
		s.Row("faults injected: "+string(k), t.Faults[k])
		total += t.Faults[k]
	}
	s.Row("faults injected: total", fmt.Sprintf("%d of %d AWS calls", total, t.Calls))
}

// Print writes the table to w.
func (s *Summary) Print(w io.Writer) {
	fmt.Fprintf(w, "\n%s\n", s.Title)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range s.rows {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	_ = tw.Flush()
}

// String is the printed table.
func (s *Summary) String() string {
	var b strings.Builder
	s.Print(&b)
	return b.String()
}
