package cli

// The --output json contract. Every subcommand, on every exit code, prints
// exactly one Envelope on stdout; flag-parse and usage errors caught before a
// command runs included. A command gives its result to runEnv.result (or
// runEnv.setResult); RunIO wraps it with the exit code and the error and
// prints it once, at the end. docs/json-output.md documents the contract and
// docs/schema/output.schema.json holds its JSON Schema, one result
// definition per command.
//
// A new subcommand plugs in by: calling newRunEnv first; handing its result
// struct (json tags, absent values as pointers so they print null) to
// env.result or env.setResult, also when it fails after learning something;
// returning its error (a *config.UsageError for bad input); adding its result
// definition to the schema and a case to envelope_schema_test.go. errorKind
// classifies the error; add a kind there when the command's errors need one.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"

	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-exec/tfexec"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/doctor"
	"github.com/graviton-cd/graviton-cd/internal/ecsdeploy"
	"github.com/graviton-cd/graviton-cd/internal/imagecheck"
	"github.com/graviton-cd/graviton-cd/internal/smoketest"
	"github.com/graviton-cd/graviton-cd/internal/stack"
	"github.com/graviton-cd/graviton-cd/internal/terraform"
)

// SchemaVersion is the envelope's schema_version. It changes only when a
// field is removed or changes meaning; new fields keep it.
const SchemaVersion = 1

// Envelope is the one object --output json prints.
type Envelope struct {
	SchemaVersion int            `json:"schema_version"`
	Command       *string        `json:"command"` // null when no subcommand was recognised
	OK            bool           `json:"ok"`      // exit_code == 0
	ExitCode      int            `json:"exit_code"`
	Error         *EnvelopeError `json:"error"`  // null when ok
	Result        any            `json:"result"` // the command's result; null when it has none
}

// EnvelopeError is why the command did not succeed.
type EnvelopeError struct {
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"` // the same text as stderr's "graviton-cd: error:" line
}

// ErrorKind says what kind of failure an error is, for scripts to branch on.
type ErrorKind string

// The error kinds. Exit 2 comes with usage, credentials, region or
// not_found; every other kind exits 1.
const (
	KindUsage            ErrorKind = "usage"             // bad flag, value or combination (exit 2)
	KindCredentials      ErrorKind = "credentials"       // no usable AWS credentials or profile (exit 2)
	KindRegion           ErrorKind = "region"            // no AWS region (exit 2)
	KindNotFound         ErrorKind = "not_found"         // the stack, cluster or service named does not exist (exit 2)
	KindAWS              ErrorKind = "aws"               // an AWS API call failed
	KindTerraform        ErrorKind = "terraform"         // terraform or tofu failed, or none was found
	KindStateLocked      ErrorKind = "state_locked"      // the Terraform state is locked by another run
	KindDeploymentFailed ErrorKind = "deployment_failed" // ECS failed, rolled back, superseded or lost the deployment
	KindTimeout          ErrorKind = "timeout"           // --timeout passed before a verdict
	KindInterrupted      ErrorKind = "interrupted"       // the job was cancelled (SIGINT, SIGTERM)
	KindChecksFailed     ErrorKind = "checks_failed"     // smoke-test checks or doctor checks failed
	KindNotSteady        ErrorKind = "not_steady"        // status: the service is not steady
	KindLeftovers        ErrorKind = "leftovers"         // destroy: resources tagged with the stack remain
	KindNotOwned         ErrorKind = "not_owned"         // destroy: the state holds nothing, but tagged resources exist
	KindTaskFailed       ErrorKind = "task_failed"       // run-task: the container exited non-zero or never ran
	KindFailed           ErrorKind = "failed"            // any other failure (exit 1)
)

// ErrorKinds lists every kind, in the order above (the schema's enum).
var ErrorKinds = []ErrorKind{
	KindUsage, KindCredentials, KindRegion, KindNotFound, KindAWS, KindTerraform, KindStateLocked,
	KindDeploymentFailed, KindTimeout, KindInterrupted, KindChecksFailed, KindNotSteady,
	KindLeftovers, KindNotOwned, KindTaskFailed, KindFailed,
}

// errorKind classifies err, which made the command exit with code.
func errorKind(err error, code int) ErrorKind {
	var (
		interrupted *terraform.InterruptedError
		timeout     *ecsdeploy.DeploymentTimeoutError
		taskTimeout *ecsdeploy.TaskTimeoutError
		taskFailed  *ecsdeploy.TaskFailedError
		notActive   *ecsdeploy.ServiceNotActiveError
		creds       *awsx.CredentialsError
		region      *awsx.RegionError
		lock        *terraform.LockError
		failed      *smoketest.FailedError
		notSteady   *stack.NotSteadyError
		leftovers   *stack.LeftoversError
		notOwned    *stack.NotOwnedError
		checks      *doctor.FailedError
		exitErr     *exec.ExitError
		noBinary    *tfexec.ErrNoSuitableBinary
		apiErr      smithy.APIError
		opErr       *smithy.OperationError
	)
	switch {
	case errors.As(err, &creds):
		return KindCredentials
	case errors.As(err, &region), code == ExitUsage && isNoRegion(err):
		return KindRegion
	case errors.As(err, &notActive) && notActive.BadInput, code == ExitUsage && isNotFound(err):
		return KindNotFound
	case code == ExitUsage:
		return KindUsage
	case errors.As(err, &interrupted):
		if errors.Is(interrupted.Err, context.DeadlineExceeded) {
			return KindTimeout
		}
		return KindInterrupted
	case errors.As(err, &timeout), errors.As(err, &taskTimeout), errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.As(err, &taskFailed):
		return KindTaskFailed
	case errors.Is(err, context.Canceled):
		return KindInterrupted
	case errors.As(err, &lock):
		return KindStateLocked
	case errors.As(err, &failed), errors.As(err, &checks):
		return KindChecksFailed
	case errors.As(err, &notSteady):
		return KindNotSteady
	case errors.As(err, &leftovers):
		return KindLeftovers
	case errors.As(err, &notOwned):
		return KindNotOwned
	case isDeploymentFailure(err), errors.As(err, &notActive):
		return KindDeploymentFailed
	case errors.As(err, &exitErr), errors.As(err, &noBinary):
		return KindTerraform
	case errors.As(err, &apiErr), errors.As(err, &opErr):
		return KindAWS
	}
	return KindFailed
}

// isDeploymentFailure reports the deploy verdicts that are not a timeout.
func isDeploymentFailure(err error) bool {
	var (
		f  *ecsdeploy.DeploymentFailedError
		rb *ecsdeploy.DeploymentRolledBackError
		sp *ecsdeploy.DeploymentSupersededError
		vn *ecsdeploy.DeploymentVanishedError
		na *imagecheck.NoArm64Error
	)
	return errors.As(err, &f) || errors.As(err, &rb) || errors.As(err, &sp) || errors.As(err, &vn) || errors.As(err, &na)
}

// isNoRegion reports config's "no AWS region" usage error (provision and
// the stack flags check the region before loading the AWS configuration).
func isNoRegion(err error) bool {
	var u *config.UsageError
	return errors.As(err, &u) && strings.HasPrefix(u.Msg, "no AWS region")
}

// isNotFound reports a usage error that says the stack named by --name does
// not exist (stack.Find's "no stack ..." messages), or the log group or task
// definition revision named.
func isNotFound(err error) bool {
	var u *config.UsageError
	if !errors.As(err, &u) {
		return false
	}
	// logs: the log group; rollback, run-task: the revision named.
	if (u.Flag == "log-group" || u.Flag == "to" || u.Flag == "task-definition") && strings.Contains(u.Msg, " not found: ") {
		return true
	}
	return u.Flag == "name" && strings.HasPrefix(u.Msg, "no stack ")
}

// outcome collects what RunIO prints as the envelope: which command ran and
// its result. One lives in the app's Metadata for the length of a run.
type outcome struct {
	json    bool      // --output json was asked for
	stdout  io.Writer // where the envelope goes (the app's Writer is stderr in JSON mode)
	command string
	result  any
}

const outcomeKey = "graviton-cd/outcome"

// outcomeOf returns the run's outcome. Every run goes through RunIO, which
// prints it; an app made without one (newApp alone) gets a fresh outcome
// that nothing prints.
func outcomeOf(md map[string]any, w io.Writer) *outcome {
	if o, ok := md[outcomeKey].(*outcome); ok {
		return o
	}
	return &outcome{stdout: w}
}

// envelope builds the object for a run that ended with err and code.
func (o *outcome) envelope(err error, code int, mask func(string) string) Envelope {
	env := Envelope{SchemaVersion: SchemaVersion, OK: code == ExitOK, ExitCode: code, Result: o.result}
	if o.command != "" {
		env.Command = &o.command
	}
	if err != nil {
		env.Error = &EnvelopeError{Kind: errorKind(err, code), Message: mask(userMessage(err))}
	}
	return env
}

// print writes the envelope as one indented JSON object, every secret
// masked, as it is written in JSON too (a secret with a quote in it).
func (o *outcome) print(e Envelope, sec secrets) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(e); err != nil {
		return err
	}
	s := b.String()
	for _, v := range sec {
		for _, f := range secretForms(v) {
			if q, err := json.Marshal(f); err == nil {
				s = strings.ReplaceAll(s, string(q[1:len(q)-1]), "***")
			}
		}
	}
	_, err := io.WriteString(o.stdout, sec.mask(s))
	return err
}

// jsonRequested reads --output from the raw arguments (and then
// GRAVITON_CD_OUTPUT), so that errors the flag parser finds before any
// command runs are printed as an envelope too. The last --output wins, as
// with the flag parser; only an exact "json" counts: a bad --output value is
// itself reported as text.
func jsonRequested(args []string) bool {
	value, given := "", false
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		name, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "output" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			v = args[i]
		}
		value, given = v, true
	}
	if !given {
		value = os.Getenv("GRAVITON_CD_OUTPUT")
	}
	return value == "json"
}

// commandIn finds the subcommand in the raw arguments: the first word that
// is not a flag or a global flag's value. It is "" when there is none or it
// is not one of names.
func commandIn(args []string, names []string) string {
	if i := firstWord(args); i >= 0 && slices.Contains(names, args[i]) {
		return args[i]
	}
	return ""
}

// firstWord is the index of the first argument that is neither a flag nor
// a global flag's value, or -1.
func firstWord(args []string) int {
	valued := map[string]bool{"region": true, "output": true, "log-level": true}
	for i := 1; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return i
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if valued[name] && !hasValue {
			i++
		}
	}
	return -1
}
