package bench

import "fmt"

// verifyBakes are the bake times of internal/ecsdeploy's
// BenchmarkVerifyRollback, as its sub-names spell them.
var verifyBakes = []struct{ name, label string }{
	{"bake-10m", "10 min"},
	{"bake-30m", "30 min"},
}

// verifyRows compare deploy --verify-checks on a blue/green service (a failed
// check stops the deployment with ROLLBACK at once) with what a user does
// without it: wait for the bake to end, then deploy the old revision again.
// Both are on the virtual clock, from the moment the check failed.
func (r Report) verifyRows() []row {
	var rows []row
	for _, c := range verifyBakes {
		ours, oursReq, okOurs := r.verifyCell("BenchmarkVerifyRollback/graviton-cd/" + c.name)
		other, otherReq, okOther := r.verifyCell("BenchmarkVerifyRollback/by-hand/" + c.name)
		x := row{
			measure: "blue/green with a " + c.label + " bake, new revision fails its check: from the failed check to the rollback request",
			ours:    ours,
			other:   "wait for the bake, then deploy the old revision: " + other,
		}
		if okOurs && okOther {
			x.ratio = fmt.Sprintf("%.0f s sooner", otherReq-oursReq)
		}
		rows = append(rows, x)
	}
	return rows
}

func (r Report) verifyCell(bench string) (string, float64, bool) {
	req, ok1 := r.Follow.Metric(bench, "s_fail_to_rollback_request")
	serving, ok2 := r.Follow.Metric(bench, "s_fail_to_old_serving")
	changes, ok3 := r.Follow.Metric(bench, "service_changes")
	if !(ok1 && ok2 && ok3) {
		return notMeasured, 0, false
	}
	return fmt.Sprintf("request after %.1f s; old revision serves all production traffic after %.0f s; %.0f calls that change the service", req, serving, changes), req, true
}
