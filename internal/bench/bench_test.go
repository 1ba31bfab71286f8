package bench

import (
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		name string
		in   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{3}, 3},
		{"odd, unsorted", []float64{9, 1, 5}, 5},
		{"even: mean of the middle two", []float64{4, 1, 3, 10}, 3.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := append([]float64(nil), c.in...)
			if got := Median(c.in); got != c.want {
				t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
			}
			for i := range in {
				if in[i] != c.in[i] {
					t.Fatalf("Median reordered its input: %v", c.in)
				}
			}
		})
	}
}

func TestReadSamples(t *testing.T) {
	s, err := ReadSamples(strings.NewReader("# comment\n\nstack.graviton-cd.total 170.5\nstack.graviton-cd.total\t160\ncoldstart.version 0.004\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m, n, ok := s.Median(StackOursTotal); !ok || n != 2 || m != 165.25 {
		t.Errorf("Median(%s) = %v, %d, %v; want 165.25, 2, true", StackOursTotal, m, n, ok)
	}
	if _, _, ok := s.Median(InstallFirst); ok {
		t.Errorf("Median of a name never measured says ok")
	}

	for _, bad := range []string{"name\n", "name 1 2\n", "name one\n"} {
		if _, err := ReadSamples(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadSamples(%q) accepted a malformed line", bad)
		}
	}
}

const followOutput = `goos: linux
goarch: amd64
pkg: github.com/graviton-cd/graviton-cd/internal/ecsdeploy
BenchmarkFollow/graviton-cd/happy-30s-2         	       3	  96725955 ns/op	        46.00 calls_1st_min	        46.00 describe_calls	         0 max_calls/60s_after	         0.9630 s_after_verdict_max	         0.7130 s_after_verdict_mean	         1.000 says_success	         1.000 verdict_right
BenchmarkFollow/graviton-cd/happy-30s-2         	       3	  90000000 ns/op	        46.00 calls_1st_min	        46.00 describe_calls	         0 max_calls/60s_after	         0.9630 s_after_verdict_max	         0.7130 s_after_verdict_mean	         1.000 says_success	         1.000 verdict_right
BenchmarkFollow/services-stable/happy-30s-2     	       3	  20744453 ns/op	         5.000 calls_1st_min	         5.000 describe_calls	         0 max_calls/60s_after	        14.96 s_after_verdict_max	         8.213 s_after_verdict_mean	         1.000 says_success	         1.000 verdict_right
BenchmarkFollow/graviton-cd/circuit-breaker-30s-2         	       3	 104814501 ns/op	        46.00 calls_1st_min	        46.00 describe_calls	         0 max_calls/60s_after	         0.9630 s_after_verdict_max	         0.7130 s_after_verdict_mean	         0 says_success	         1.000 verdict_right
BenchmarkFollow/services-stable/circuit-breaker-30s-2     	       3	  30879323 ns/op	         5.000 calls_1st_min	         9.000 describe_calls	         4.000 max_calls/60s_after	        74.96 s_after_verdict_max	        68.21 s_after_verdict_mean	         1.000 says_success	         0 verdict_right
PASS
ok  	github.com/graviton-cd/graviton-cd/internal/ecsdeploy	2.381s
`

func TestParseGoBench(t *testing.T) {
	gb, err := ParseGoBench(strings.NewReader(followOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got := gb["BenchmarkFollow/graviton-cd/happy-30s"]["ns/op"]; len(got) != 2 {
		t.Fatalf("ns/op of the -count 2 benchmark = %v, want two runs (the -2 GOMAXPROCS suffix stripped)", got)
	}
	if v, ok := gb.Metric("BenchmarkFollow/services-stable/circuit-breaker-30s", "max_calls/60s_after"); !ok || v != 4 {
		t.Errorf("max_calls/60s_after = %v, %v; want 4, true", v, ok)
	}
	if _, ok := gb.Metric("BenchmarkFollow/graviton-cd/happy-3m10s", "describe_calls"); ok {
		t.Errorf("a benchmark absent from the output says ok")
	}
}

func TestWriteMarkdown(t *testing.T) {
	gb, err := ParseGoBench(strings.NewReader(followOutput))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSamples(strings.NewReader(`
stack.graviton-cd.provision 110
stack.graviton-cd.destroy 62
stack.graviton-cd.total 172
stack.terraform.init-apply 104
stack.terraform.destroy 61
stack.terraform.total 165
size.linux_arm64 27262976
install.first 0.2
install.cached 0.05
`))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	rep := Report{Machine: "2 cores", Follow: gb, Samples: s, Notes: []string{"shared cores"}}
	if err := rep.WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Machine: 2 cores\n",
		"| measure | graviton-cd | compared with | ratio | goal |\n",
		// ours says failure, the waiter success, on the same rollback
		"| deploy wait, circuit-breaker rollback, FAILED at 30 s | exits 0.71 s after FAILED (max 0.96); 46 DescribeServices (46 in the 1st min, none later); says **failure** (right) | `aws ecs wait services-stable`: exits 68.21 s after FAILED (max 74.96); 9 DescribeServices (5 in the 1st min, then ≤ 4/min); says **success** (**wrong**) | n/a: the waiter's verdict is wrong | – |\n",
		"| 0.09 |", // happy 30 s: 0.713 / 8.213
		"| 172.0 |", "by hand: 165.0 | 1.04 | ≤ 1.10: met |",
		"| binary size, linux/arm64 (MiB) | 26.0 | – | – | ≤ 25: **missed** |",
		"| binary size, darwin/amd64 (MiB) | not measured |",
		"| cold start of `graviton-cd --version`, a fresh process each run (ms) | not measured |",
		"cached run (re-hash, no network): 50 | first run (checksums.txt, download, SHA-256): 200 | 0.25 |",
		"deploy wait, happy rollout, COMPLETED at 3 min 10 s | not measured | `aws ecs wait services-stable`: not measured | – |",
		"\n- shared cores\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q\n%s", want, out)
		}
	}
}
