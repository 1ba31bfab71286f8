package terraform

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/graviton-cd/graviton-cd/internal/progress"
)

// feed runs a recorded UI stream through a printer, in writes that split
// lines where they fall, and returns the log lines without their timestamps
// (the fake clock stands still) and the printer.
func feed(t *testing.T, file string, debug bool) ([]string, *uiPrinter) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	at := time.Date(2026, 12, 2, 4, 0, 0, 0, time.UTC)
	p := newUIPrinter(progress.New(&out, func() time.Time { return at }, debug))
	p.begin()
	w := &lineSplitter{line: p.handle}
	for len(b) > 0 {
		n := min(len(b), 97) // not on line boundaries
		if _, err := w.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	w.flush()
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		ts, rest, _ := strings.Cut(l, " ")
		if ts != "2026-12-02T04:00:00Z" {
			t.Errorf("line %q: timestamp not RFC 3339 UTC from the logger's clock", l)
		}
		lines = append(lines, rest)
	}
	return lines, p
}

func TestUIPrinterApply(t *testing.T) {
	got, p := feed(t, "apply-ui.jsonl", false)
	want := []string{
		"> aws_launch_template.this imported (lt-0abc)",
		"~ aws_security_group.instances updated in 1s",
		// A minute and more with nothing printed: the longest in flight.
		"aws_lb.this still creating (1m10s); 1 more in progress",
		// Printed once, though terraform said it twice.
		"warning: Argument is deprecated (aws_iam_role.task): inline_policy is deprecated.",
		"+ aws_lb.this created in 2m14s",
		"! aws_autoscaling_group.this create failed after 2m17s",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The error is not printed: it is the command's error, printed once by
	// whoever prints that.
	diags := p.errors()
	if len(diags) != 1 || diags[0].Address != "aws_autoscaling_group.this" {
		t.Fatalf("error diagnostics = %+v", diags)
	}
	err := &DiagnosticsError{Op: "terraform apply", Diagnostics: diags}
	wantErr := "terraform apply: error: creating Auto Scaling Group (demo): operation error Auto Scaling: CreateAutoScalingGroup, api error ValidationError: You must use a valid fully-formed launch template. (aws_autoscaling_group.this)"
	if err.Error() != wantErr {
		t.Errorf("error = %q\nwant    %q", err.Error(), wantErr)
	}
}

// A destroy recorded from OpenTofu 1.12.6 (terraform_data resources): its
// own plan's summary, one line per resource, the destroy's summary.
func TestUIPrinterDestroyOpenTofu(t *testing.T) {
	got, _ := feed(t, "destroy-ui-tofu.jsonl", false)
	want := []string{
		"plan: 0 to add, 0 to change, 2 to destroy",
		"- terraform_data.slow destroyed in 0s",
		"- terraform_data.a destroyed in 0s",
		"destroy complete: 2 destroyed",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// With --log-level debug every message's own text is streamed too.
func TestUIPrinterDebugStreamsEverything(t *testing.T) {
	got, _ := feed(t, "plan-ui.jsonl", true)
	want := []string{
		"terraform: Terraform 1.11.4",
		"terraform: terraform_data.a: Plan to create",
		"terraform: terraform_data.slow: Plan to create",
		"terraform: Plan: 2 to add, 0 to change, 0 to destroy.",
		"plan: 2 to add, 0 to change, 0 to destroy",
		"terraform: Outputs: 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSummaryLine(t *testing.T) {
	cases := []struct {
		s    uiChangeSummary
		want string
	}{
		{uiChangeSummary{Operation: "plan"}, "plan: no changes"},
		{uiChangeSummary{Add: 26, Operation: "plan"}, "plan: 26 to add, 0 to change, 0 to destroy"},
		{uiChangeSummary{Import: 1, Add: 2, Change: 1, Operation: "plan"}, "plan: 1 to import, 2 to add, 1 to change, 0 to destroy"},
		{uiChangeSummary{Remove: 1, Forget: 2, Operation: "plan"}, "plan: 0 to add, 0 to change, 1 to destroy, 2 to forget"},
		{uiChangeSummary{Import: 1, Add: 25, Operation: "apply"}, "apply complete: 1 imported, 25 added, 0 changed, 0 destroyed"},
		{uiChangeSummary{Remove: 26, Operation: "destroy"}, "destroy complete: 26 destroyed"},
	}
	for _, tc := range cases {
		if got := summaryLine(tc.s); got != tc.want {
			t.Errorf("summaryLine(%+v) = %q, want %q", tc.s, got, tc.want)
		}
	}
}

// The parsers that read a failed command's details see the diagnostics
// whole: the lock holder, the draining error named only in the detail.
func TestDiagnosticsErrorKeepsDetails(t *testing.T) {
	lock := &DiagnosticsError{Op: "terraform plan", Diagnostics: []tfjson.Diagnostic{{
		Severity: tfjson.DiagnosticSeverityError, Summary: "Error acquiring the state lock",
		Detail: "Error message: resource temporarily unavailable\nLock Info:\n  ID:        0e1d2c3b\n  Path:      terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       ci@other-job\n  Version:   1.11.4\n  Created:   2026-11-26 03:00:00 +0000 UTC\n  Info:\n",
	}}}
	le, ok := ParseLockError(lock)
	if !ok || le.ID != "0e1d2c3b" || le.Who != "ci@other-job" {
		t.Errorf("ParseLockError = %+v, %v", le, ok)
	}
	drain := &DiagnosticsError{Op: "terraform destroy", Diagnostics: []tfjson.Diagnostic{{
		Severity: tfjson.DiagnosticSeverityError, Summary: "deleting EC2 Subnet (subnet-1)",
		Detail: "operation error EC2: DeleteSubnet\n\napi error DependencyViolation: The subnet has dependencies",
	}}}
	if !IsDraining(drain) {
		t.Error("a DependencyViolation in the detail is not seen as draining")
	}
	if strings.Contains(drain.Error(), "DependencyViolation") {
		t.Errorf("the one-line summary carries the detail's later lines: %q", drain.Error())
	}
}
