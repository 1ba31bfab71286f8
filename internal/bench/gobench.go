package bench

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// GoBench holds the custom metrics of `go test -bench` output: benchmark name
// (without the -GOMAXPROCS suffix) → metric unit → one value per -count run.
type GoBench map[string]map[string][]float64

// procsSuffix is the "-2" go test appends to a benchmark name for GOMAXPROCS.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseGoBench reads the result lines of `go test -bench` output: a name, an
// iteration count, then value/unit pairs. Other lines (goos, PASS, ok) are
// skipped.
func ParseGoBench(r io.Reader) (GoBench, error) {
	gb := GoBench{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue // not a result line: a benchmark's own log output
		}
		name := procsSuffix.ReplaceAllString(f[0], "")
		if gb[name] == nil {
			gb[name] = map[string][]float64{}
		}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("parse benchmark %s: value %q of %s: %w", name, f[i], f[i+1], err)
			}
			gb[name][f[i+1]] = append(gb[name][f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return gb, nil
}

// Metric is the median of one metric of one benchmark over its -count runs;
// ok is false when the benchmark or the metric is missing.
func (gb GoBench) Metric(bench, unit string) (float64, bool) {
	v := gb[bench][unit]
	if len(v) == 0 {
		return 0, false
	}
	return Median(v), true
}
