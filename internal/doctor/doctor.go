// Package doctor checks, without changing anything, that a machine can run
// graviton-cd's subcommands: who the AWS credentials belong to
// (sts:GetCallerIdentity), that the AWS endpoints answer, that a Terraform
// CLI and the AWS provider are at hand, and, where IAM lets the caller ask
// (iam:SimulatePrincipalPolicy), that the caller holds the permissions the
// subcommands need (the actions of internal/iampolicy).
//
// Missing credentials or region are found before doctor runs (awsx.Load, exit
// 2); what doctor reports are problems with what was found.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/iampolicy"
)

// Status is how one check went.
type Status string

// The statuses of a check. Only failed makes doctor exit 1.
const (
	OK      Status = "ok"
	Failed  Status = "failed"
	Note    Status = "note"    // could not be checked, or works with a caveat
	Skipped Status = "skipped" // not needed for the steps asked about
)

// Check is one line of the report.
type Check struct {
	Name    string `json:"name"` // region, credentials, endpoints, terraform, provider, permissions
	Status  Status `json:"status"`
	Message string `json:"message"`
}

// Endpoint is one AWS endpoint and whether it answered.
type Endpoint struct {
	Service   string  `json:"service"`
	URL       string  `json:"url"`
	Reachable bool    `json:"reachable"`
	Error     *string `json:"error"` // why it did not answer; null when it did
}

// Terraform is the CLI and provider found.
type Terraform struct {
	Binary           *string  `json:"binary"`  // null when none is on PATH or in the cache
	Version          *string  `json:"version"` // null when it could not be read
	ProviderVersions []string `json:"provider_versions"`
	ProviderSource   *string  `json:"provider_source"` // the mirror or cache that holds them; null when init will download
}

// Permissions is the dry permission check.
type Permissions struct {
	Checked   bool     `json:"checked"`   // false when IAM would not simulate the caller's policies
	Principal *string  `json:"principal"` // the role or user simulated
	Denied    []string `json:"denied"`    // actions the caller's policies do not allow
	Undecided []string `json:"undecided"` // allowed only under conditions the simulation cannot know (resource tags)
	Note      *string  `json:"note"`
}

// Report is doctor's result.
type Report struct {
	Region      string       `json:"region"`
	Account     *string      `json:"account"`
	ARN         *string      `json:"arn"`
	EndpointURL *string      `json:"endpoint_url"` // a custom endpoint (local emulator); null for AWS's own
	For         []string     `json:"for"`
	Checks      []Check      `json:"checks"`
	Endpoints   []Endpoint   `json:"endpoints"`
	Terraform   *Terraform   `json:"terraform"`   // null when no step asked about runs terraform
	Permissions *Permissions `json:"permissions"` // null when the credentials were not accepted
}

// Failed lists the checks that failed.
func (r Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Failed {
			out = append(out, c)
		}
	}
	return out
}

// Err is nil when no check failed, else a *FailedError.
func (r Report) Err() error {
	if f := r.Failed(); len(f) > 0 {
		return &FailedError{Failed: f}
	}
	return nil
}

// FailedError names the checks that failed.
type FailedError struct{ Failed []Check }

func (e *FailedError) Error() string {
	parts := make([]string, len(e.Failed))
	for i, c := range e.Failed {
		parts[i] = c.Name + ": " + c.Message
	}
	return "doctor found problems: " + strings.Join(parts, "; ")
}

// STSAPI is the part of STS doctor uses.
type STSAPI interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// IAMAPI is the part of IAM doctor uses.
type IAMAPI interface {
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	SimulatePrincipalPolicy(context.Context, *iam.SimulatePrincipalPolicyInput, ...func(*iam.Options)) (*iam.SimulatePrincipalPolicyOutput, error)
}

var (
	_ STSAPI = (*sts.Client)(nil)
	_ IAMAPI = (*iam.Client)(nil)
)

// Input is what doctor checks.
type Input struct {
	Config    aws.Config       // loaded, with region and credentials
	Steps     []iampolicy.Step // the subcommands to check for; nil means all
	Stack     string           // --name, to narrow the simulated resources like iam-policy does
	STS       STSAPI
	IAM       IAMAPI
	HTTP      *http.Client // endpoint probes; nil: a client with a 5s timeout
	Endpoints []Endpoint   // the endpoints to probe (see Endpoints)
	Terraform func(ctx context.Context) (*Terraform, []Check)
}

// NeedsTerraform reports whether any of steps runs terraform.
func NeedsTerraform(steps []iampolicy.Step) bool {
	return len(steps) == 0 || slices.Contains(steps, iampolicy.Provision) || slices.Contains(steps, iampolicy.Destroy)
}

// Run runs every check and returns the report; a check that fails is in the
// report, not an error.
func Run(ctx context.Context, in Input) Report {
	rep := Report{Region: in.Config.Region, For: []string{}, Checks: []Check{}, Endpoints: []Endpoint{}}
	steps := in.Steps
	if len(steps) == 0 {
		steps = iampolicy.Steps()
	}
	for _, s := range steps {
		rep.For = append(rep.For, string(s))
	}
	if in.Config.BaseEndpoint != nil {
		rep.EndpointURL = in.Config.BaseEndpoint
	}
	rep.Checks = append(rep.Checks, Check{Name: "region", Status: OK, Message: in.Config.Region})

	rep.Endpoints = probe(ctx, in.httpClient(), in.Endpoints)
	rep.Checks = append(rep.Checks, endpointsCheck(rep.Endpoints))

	id, err := in.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		rep.Checks = append(rep.Checks, Check{Name: "credentials", Status: Failed, Message: credentialsMessage(err)})
	} else {
		rep.Account, rep.ARN = id.Account, id.Arn
		rep.Checks = append(rep.Checks, Check{Name: "credentials", Status: OK,
			Message: fmt.Sprintf("account %s, %s", aws.ToString(id.Account), aws.ToString(id.Arn))})
	}

	if NeedsTerraform(in.Steps) && in.Terraform != nil {
		tf, checks := in.Terraform(ctx)
		rep.Terraform = tf
		rep.Checks = append(rep.Checks, checks...)
	} else {
		rep.Checks = append(rep.Checks, Check{Name: "terraform", Status: Skipped, Message: "not needed by " + strings.Join(rep.For, ", ")})
	}

	if err == nil {
		perm, c := permissions(ctx, in, aws.ToString(id.Account), aws.ToString(id.Arn))
		rep.Permissions = perm
		rep.Checks = append(rep.Checks, c)
	} else {
		rep.Checks = append(rep.Checks, Check{Name: "permissions", Status: Skipped, Message: "the credentials were not accepted"})
	}
	return rep
}

func (in Input) httpClient() *http.Client {
	if in.HTTP != nil {
		return in.HTTP
	}
	return &http.Client{Timeout: 5 * time.Second}
}

// credentialsMessage says why GetCallerIdentity failed, in the user's terms.
func credentialsMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException":
			return "AWS rejected the credentials (" + api.ErrorCode() + "): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile"
		case "ExpiredToken", "ExpiredTokenException", "RequestExpired":
			return "the session has expired (" + api.ErrorCode() + "): get fresh credentials (aws sso login, or rerun the job)"
		}
		return "sts:GetCallerIdentity failed: " + api.ErrorCode() + ": " + api.ErrorMessage()
	}
	return "sts:GetCallerIdentity got no answer: check the network, the region and AWS_ENDPOINT_URL"
}

// probe sends one GET to each distinct URL at once; any HTTP answer, even an
// error status, means the endpoint is reachable.
func probe(ctx context.Context, hc *http.Client, eps []Endpoint) []Endpoint {
	out := make([]Endpoint, len(eps))
	if len(eps) == 0 {
		return []Endpoint{}
	}
	var wg sync.WaitGroup
	for i, ep := range eps {
		if ep.Error != nil {
			out[i] = ep
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = ep
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL, nil)
			if err == nil {
				var resp *http.Response
				if resp, err = hc.Do(req); err == nil {
					resp.Body.Close()
				}
			}
			out[i].Reachable = err == nil
			if err != nil {
				msg := unwrapURLError(err)
				out[i].Error = &msg
			}
		}()
	}
	wg.Wait()
	return out
}

// unwrapURLError drops net/http's "Get \"url\": " prefix: the URL is shown
// next to it.
func unwrapURLError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "\": "); i >= 0 && strings.HasPrefix(msg, "Get \"") {
		return msg[i+3:]
	}
	return msg
}

func endpointsCheck(eps []Endpoint) Check {
	var down []string
	for _, e := range eps {
		if !e.Reachable {
			down = append(down, fmt.Sprintf("%s (%s): %s", e.Service, e.URL, aws.ToString(e.Error)))
		}
	}
	if len(down) > 0 {
		return Check{Name: "endpoints", Status: Failed, Message: "no answer from " + strings.Join(down, "; ") + ": check the network, proxy settings and AWS_ENDPOINT_URL"}
	}
	return Check{Name: "endpoints", Status: OK, Message: fmt.Sprintf("%d endpoints answered", len(eps))}
}

// principalOf turns the caller's ARN into what SimulatePrincipalPolicy
// takes: an assumed role's session ARN becomes its role's ARN (with the
// role's path, which only iam:GetRole knows); a user's ARN is used as it is.
func principalOf(ctx context.Context, api IAMAPI, arn string) (string, string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return "", "the caller's ARN " + arn + " is not one IAM can simulate"
	}
	partition, account, resource := parts[1], parts[4], parts[5]
	switch {
	case strings.HasPrefix(resource, "user/"):
		return arn, ""
	case strings.HasPrefix(resource, "assumed-role/"):
		role := strings.SplitN(strings.TrimPrefix(resource, "assumed-role/"), "/", 2)[0]
		if out, err := api.GetRole(ctx, &iam.GetRoleInput{RoleName: &role}); err == nil && out.Role != nil && out.Role.Arn != nil {
			return *out.Role.Arn, ""
		}
		// Without iam:GetRole the role's path is unknown; most roles have none.
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, role), ""
	case resource == "root":
		return "", "the caller is the account's root user, which IAM policies do not limit (use a role for CI)"
	}
	return "", "IAM cannot simulate the policies of " + arn
}

// permissions simulates each statement of the policy iam-policy would print
// for the steps (with this account, region and --name) against the caller's
// own policies.
func permissions(ctx context.Context, in Input, account, arn string) (*Permissions, Check) {
	p := &Permissions{Denied: []string{}, Undecided: []string{}}
	note := func(msg string) (*Permissions, Check) {
		p.Note = &msg
		return p, Check{Name: "permissions", Status: Note, Message: "not checked: " + msg + "; compare the role's policy with graviton-cd iam-policy"}
	}
	principal, why := principalOf(ctx, in.IAM, arn)
	if principal == "" {
		return note(why)
	}
	p.Principal = &principal
	doc := iampolicy.Policy(iampolicy.Options{Steps: in.Steps, Stack: in.Stack, AccountID: account, Region: in.Config.Region})
	for _, st := range doc.Statement {
		input := &iam.SimulatePrincipalPolicyInput{PolicySourceArn: &principal, ActionNames: st.Action}
		if !slices.Equal(st.Resource, []string{"*"}) {
			input.ResourceArns = st.Resource
		}
		pg := iam.NewSimulatePrincipalPolicyPaginator(in.IAM, input)
		for pg.HasMorePages() {
			out, err := pg.NextPage(ctx)
			if err != nil {
				var api smithy.APIError
				if errors.As(err, &api) {
					return note("IAM would not simulate the policies of " + principal + " (" + api.ErrorCode() + "; the role needs iam:SimulatePrincipalPolicy on itself and iam:GetRole)")
				}
				return note("iam:SimulatePrincipalPolicy gave no usable answer (an emulator such as moto does not implement it)")
			}
			for _, r := range out.EvaluationResults {
				a := aws.ToString(r.EvalActionName)
				switch {
				case r.EvalDecision == iamtypes.PolicyEvaluationDecisionTypeAllowed:
				case len(r.MissingContextValues) > 0:
					p.Undecided = append(p.Undecided, a)
				default:
					p.Denied = append(p.Denied, a)
				}
			}
		}
	}
	p.Checked = true
	slices.Sort(p.Denied)
	p.Denied = slices.Compact(p.Denied)
	slices.Sort(p.Undecided)
	p.Undecided = slices.Compact(p.Undecided)
	if len(p.Denied) > 0 {
		return p, Check{Name: "permissions", Status: Failed, Message: fmt.Sprintf("%s lacks %d actions that %s need: %s; attach the output of graviton-cd iam-policy --for %s",
			principal, len(p.Denied), strings.Join(forOf(in.Steps), ", "), strings.Join(p.Denied, ", "), strings.Join(forOf(in.Steps), ","))}
	}
	msg := fmt.Sprintf("%s may call every action %s need", principal, strings.Join(forOf(in.Steps), ", "))
	if len(p.Undecided) > 0 {
		msg += fmt.Sprintf(" (%d only on resources tagged with the stack, which a simulation cannot show)", len(p.Undecided))
	}
	return p, Check{Name: "permissions", Status: OK, Message: msg}
}

func forOf(steps []iampolicy.Step) []string {
	if len(steps) == 0 {
		steps = iampolicy.Steps()
	}
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = string(s)
	}
	return out
}
