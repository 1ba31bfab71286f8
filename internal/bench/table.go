package bench

import (
	"fmt"
	"io"
	"strings"
)

// Sample names .ci/bench.sh writes, one "name value" line per run. Times are
// seconds, sizes bytes.
const (
	StackOursProvision = "stack.graviton-cd.provision"
	StackOursDestroy   = "stack.graviton-cd.destroy"
	StackOursTotal     = "stack.graviton-cd.total"
	StackByHandApply   = "stack.terraform.init-apply"
	StackByHandDestroy = "stack.terraform.destroy"
	StackByHandTotal   = "stack.terraform.total"
	ColdStart          = "coldstart.version"
	InstallFirst       = "install.first"
	InstallCached      = "install.cached"
	SizePrefix         = "size." // + linux_arm64 …
)

// The goals of issue 7.
const (
	StackRatioGoal       = 1.10 // graviton-cd ÷ Terraform by hand, provision + destroy
	LinuxArm64SizeGoalMB = 25.0 // MiB
)

// Platforms are the release platforms, in the order of the table.
var Platforms = []string{"linux_arm64", "linux_amd64", "darwin_arm64", "darwin_amd64"}

// followCase is one scripted rollout of internal/ecsdeploy's BenchmarkFollow.
type followCase struct {
	timeline string // the benchmark's sub-name
	label    string
	success  bool // the truth: the new revision deployed
}

var followCases = []followCase{
	{"happy-30s", "happy rollout, COMPLETED at 30 s", true},
	{"happy-3m10s", "happy rollout, COMPLETED at 3 min 10 s", true},
	{"circuit-breaker-30s", "circuit-breaker rollback, FAILED at 30 s", false},
	{"circuit-breaker-2m30s", "circuit-breaker rollback, FAILED at 2 min 30 s", false},
}

// Report is everything the table is made of.
type Report struct {
	Machine string   // one line: cores, memory, CPU model, Go version
	Follow  GoBench  // go test -bench output of internal/ecsdeploy
	Samples Samples  // what bench.sh timed and measured
	Notes   []string // printed under the table, one bullet each
}

type row struct{ measure, ours, other, ratio, goal string }

const notMeasured = "not measured"

// WriteMarkdown writes the machine line, the table and the notes.
func (r Report) WriteMarkdown(w io.Writer) error {
	var rows []row
	rows = append(rows, r.followRows()...)
	rows = append(rows, r.verifyRows()...)
	rows = append(rows, r.stackRows()...)
	rows = append(rows, r.binaryRows()...)
	rows = append(rows, r.installRows()...)

	var b strings.Builder
	fmt.Fprintf(&b, "Machine: %s\n\n", r.Machine)
	b.WriteString("| measure | graviton-cd | compared with | ratio | goal |\n")
	b.WriteString("| --- | --- | --- | --- | --- |\n")
	for _, x := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", x.measure, dash(x.ours), dash(x.other), dash(x.ratio), dash(x.goal))
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// followRows compare graviton-cd's follow with `aws ecs wait services-stable`
// on the same virtual timeline: time from the verdict to exit, calls, verdict.
func (r Report) followRows() []row {
	var rows []row
	for _, c := range followCases {
		ours, oursLag, okOurs := r.followCell("BenchmarkFollow/graviton-cd/"+c.timeline, c.success)
		waiter, waiterLag, okWaiter := r.followCell("BenchmarkFollow/services-stable/"+c.timeline, c.success)
		x := row{
			measure: "deploy wait, " + c.label,
			ours:    ours,
			other:   "`aws ecs wait services-stable`: " + waiter,
		}
		switch {
		case !okOurs || !okWaiter:
		case c.success:
			x.ratio = ratio(oursLag, waiterLag)
		default:
			x.ratio = "n/a: the waiter's verdict is wrong"
		}
		rows = append(rows, x)
	}
	return rows
}

// followCell describes one benchmark's runs and returns the mean time from
// the scripted verdict (COMPLETED when truth, else FAILED) to the exit.
func (r Report) followCell(bench string, truth bool) (string, float64, bool) {
	m := func(unit string) (float64, bool) { return r.Follow.Metric(bench, unit) }
	mean, ok1 := m("s_after_verdict_mean")
	worst, ok2 := m("s_after_verdict_max")
	calls, ok3 := m("describe_calls")
	first, ok4 := m("calls_1st_min")
	after, ok5 := m("max_calls/60s_after")
	says, ok6 := m("says_success")
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return notMeasured, 0, false
	}
	verdict := "failure"
	if says >= 0.5 {
		verdict = "success"
	}
	judged := "right"
	if (says >= 0.5) != truth {
		judged = "**wrong**"
	}
	later := "none later"
	if after > 0 {
		later = fmt.Sprintf("then ≤ %.0f/min", after)
	}
	state := "FAILED"
	if truth {
		state = "COMPLETED"
	}
	return fmt.Sprintf("exits %.2f s after %s (max %.2f); %.0f DescribeServices (%.0f in the 1st min, %s); says **%s** (%s)",
		mean, state, worst, calls, first, later, verdict, judged), mean, true
}

func (r Report) stackRows() []row {
	s := r.Samples
	total, n, okOurs := s.Median(StackOursTotal)
	byHand, m, okHand := s.Median(StackByHandTotal)
	prov, _, _ := s.Median(StackOursProvision)
	dest, _, _ := s.Median(StackOursDestroy)
	apply, _, _ := s.Median(StackByHandApply)
	handDest, _, _ := s.Median(StackByHandDestroy)
	if !okOurs || !okHand {
		return []row{{measure: "provision + destroy of the rendered module on the local stack (s)", ours: notMeasured, other: notMeasured}}
	}
	goal := fmt.Sprintf("≤ %.2f: %s", StackRatioGoal, metOrMissed(total/byHand <= StackRatioGoal))
	return []row{
		{
			measure: fmt.Sprintf("provision + destroy of the same rendered module on the local stack (s, %s)", medianOf(n, m)),
			ours:    fmt.Sprintf("%.1f", total),
			other:   fmt.Sprintf("`terraform init`, `apply -auto-approve`, `destroy -auto-approve` by hand: %.1f", byHand),
			ratio:   ratio(total, byHand),
			goal:    goal,
		},
		{
			measure: "… of which provision (render, init, plan, show, apply, output) vs init + apply (s)",
			ours:    fmt.Sprintf("%.1f", prov),
			other:   fmt.Sprintf("%.1f", apply),
			ratio:   ratio(prov, apply),
		},
		{
			measure: "… of which destroy (terraform destroy, deregister revisions, leftover check) vs destroy (s)",
			ours:    fmt.Sprintf("%.1f", dest),
			other:   fmt.Sprintf("%.1f", handDest),
			ratio:   ratio(dest, handDest),
		},
	}
}

func (r Report) binaryRows() []row {
	var rows []row
	for _, p := range Platforms {
		size, _, ok := r.Samples.Median(SizePrefix + p)
		x := row{measure: "binary size, " + strings.Replace(p, "_", "/", 1) + " (MiB)", ours: notMeasured}
		if ok {
			mib := size / (1 << 20)
			x.ours = fmt.Sprintf("%.1f", mib)
			if p == "linux_arm64" {
				x.goal = fmt.Sprintf("≤ %.0f: %s", LinuxArm64SizeGoalMB, metOrMissed(mib <= LinuxArm64SizeGoalMB))
			}
		}
		rows = append(rows, x)
	}
	cold, n, ok := r.Samples.Median(ColdStart)
	x := row{measure: "cold start of `graviton-cd --version`, a fresh process each run (ms)", ours: notMeasured}
	if ok {
		x.measure = fmt.Sprintf("cold start of `graviton-cd --version`, a fresh process each run (ms, %s)", medianOf(n, n))
		x.ours = fmt.Sprintf("%.1f", cold*1000)
	}
	return append(rows, x)
}

func (r Report) installRows() []row {
	cached, n, okCached := r.Samples.Median(InstallCached)
	first, m, okFirst := r.Samples.Median(InstallFirst)
	x := row{measure: "orb install step (src/scripts/install.sh) against a file server on 127.0.0.1 (ms)", ours: notMeasured, other: notMeasured}
	if okCached {
		x.measure = fmt.Sprintf("orb install step (src/scripts/install.sh) against a file server on 127.0.0.1 (ms, %s)", medianOf(n, m))
		x.ours = fmt.Sprintf("cached run (re-hash, no network): %.0f", cached*1000)
	}
	if okFirst {
		x.other = fmt.Sprintf("first run (checksums.txt, download, SHA-256): %.0f", first*1000)
	}
	if okCached && okFirst {
		x.ratio = ratio(cached, first)
	}
	return []row{x}
}

// medianOf says over how many runs the medians of a row were taken.
func medianOf(n, m int) string {
	if n == m && n == 1 {
		return "1 run"
	}
	if n == m {
		return fmt.Sprintf("median of %d runs", n)
	}
	return fmt.Sprintf("medians of %d and %d runs", n, m)
}

func ratio(a, b float64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", a/b)
}

func metOrMissed(met bool) string {
	if met {
		return "met"
	}
	return "**missed**"
}
