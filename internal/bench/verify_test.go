package bench

import (
	"strings"
	"testing"
)

const verifyOutput = `BenchmarkVerifyRollback/graviton-cd/bake-10m-2         	       1	  62649551 ns/op	        30.00 s_fail_to_old_serving	         0 s_fail_to_rollback_request	         2.000 service_changes
BenchmarkVerifyRollback/by-hand/bake-10m-2             	       1	 467785215 ns/op	       675.8 s_fail_to_old_serving	       613.8 s_fail_to_rollback_request	         2.000 service_changes
`

func TestVerifyRows(t *testing.T) {
	gb, err := ParseGoBench(strings.NewReader(verifyOutput))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := (Report{Machine: "m", Follow: gb}).WriteMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| blue/green with a 10 min bake, new revision fails its check: from the failed check to the rollback request | request after 0.0 s; old revision serves all production traffic after 30 s; 2 calls that change the service | wait for the bake, then deploy the old revision: request after 613.8 s; old revision serves all production traffic after 676 s; 2 calls that change the service | 614 s sooner | – |",
		"| blue/green with a 30 min bake, new revision fails its check: from the failed check to the rollback request | not measured | wait for the bake, then deploy the old revision: not measured | – | – |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
