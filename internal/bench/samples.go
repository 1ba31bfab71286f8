// Package bench turns what `make bench` (.ci/bench.sh) measured into one
// markdown table: medians of several runs, and ratios wherever two things are
// compared. The script measures; this package only reads and summarises, so
// that the arithmetic (medians, ratios, goals) is tested Go rather than awk.
package bench

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Samples are named measurements, one value per run, in the order measured.
type Samples map[string][]float64

// ReadSamples reads lines of "name value" (whitespace separated); blank lines
// and lines starting with # are skipped.
func ReadSamples(r io.Reader) (Samples, error) {
	s := Samples{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("read samples: line %d: want \"name value\", got %q", n, line)
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			return nil, fmt.Errorf("read samples: line %d: value of %s: %w", n, f[0], err)
		}
		s[f[0]] = append(s[f[0]], v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read samples: %w", err)
	}
	return s, nil
}

// Median returns the median of name's values and how many there are; ok is
// false when nothing was measured under that name.
func (s Samples) Median(name string) (median float64, runs int, ok bool) {
	v := s[name]
	if len(v) == 0 {
		return 0, 0, false
	}
	return Median(v), len(v), true
}

// Median is the middle value, or the mean of the two middle values.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	v := slices.Clone(values)
	slices.Sort(v)
	mid := len(v) / 2
	if len(v)%2 == 1 {
		return v[mid]
	}
	return (v[mid-1] + v[mid]) / 2
}
