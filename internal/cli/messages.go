package cli

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// userMessage is err's message in the user's terms: an AWS SDK call's error
// ("operation error ECS: DescribeServices, https response error StatusCode:
// …, deserialization failed, …") becomes the service, the call and what went
// wrong; a permissions hint stays only when AWS said access was denied.
func userMessage(err error) string {
	msg := err.Error()
	var op *smithy.OperationError
	if !errors.As(err, &op) {
		return msg
	}
	// The caller's own words may already say where to look.
	hint := !strings.Contains(strings.Replace(msg, op.Error(), "", 1), "AWS_ENDPOINT_URL")
	msg = strings.Replace(msg, op.Error(), operationMessage(op, hint), 1)
	var api smithy.APIError
	if !errors.As(err, &api) || !strings.Contains(api.ErrorCode(), "AccessDenied") && !strings.Contains(api.ErrorCode(), "Unauthorized") {
		msg = roleHint.ReplaceAllString(msg, "")
	}
	return msg
}

// roleHint is the " (the role needs ecs:X)" a failed call's error carries.
var roleHint = regexp.MustCompile(` \(the role needs [^)]*\)`)

// operationMessage says what went wrong with the call, and with hint where
// to look.
func operationMessage(op *smithy.OperationError, hint bool) string {
	call := op.ServiceID + " " + op.OperationName
	where := func(s string) string {
		if !hint {
			return ""
		}
		return s
	}
	var (
		api  smithy.APIError
		resp *awshttp.ResponseError
		nerr *net.OpError
		dns  *net.DNSError
	)
	switch {
	case errors.As(op.Err, &api):
		return fmt.Sprintf("%s: %s: %s", call, api.ErrorCode(), api.ErrorMessage())
	case errors.As(op.Err, &dns):
		return fmt.Sprintf("%s: no answer: the endpoint's name %s does not resolve%s", call, dns.Name, where(" (check the region and AWS_ENDPOINT_URL)"))
	case errors.As(op.Err, &nerr):
		return fmt.Sprintf("%s: no answer from %s: %v%s", call, nerr.Addr, nerr.Err, where(" (check the network and AWS_ENDPOINT_URL)"))
	case errors.As(op.Err, &resp):
		return fmt.Sprintf("%s: the endpoint answered HTTP %d, not as AWS does%s", call, resp.HTTPStatusCode(), where(" (check AWS_ENDPOINT_URL)"))
	}
	return call + " failed"
}

// ecsName is what ECS takes as a cluster or service name.
var ecsName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)

// ecsARN is an ECS cluster or service ARN: arn:PARTITION:ecs:REGION:ACCOUNT:KIND/...
var ecsARN = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:(cluster|service)/[A-Za-z0-9_/-]+$`)

// checkECSName refuses a --cluster or --service value ECS would reject, so
// that the mistake is bad input (exit 2) rather than a failed call.
func checkECSName(flag, kind, v string) error {
	if v == "" || ecsName.MatchString(v) {
		return nil
	}
	if strings.HasPrefix(v, "arn:") {
		if m := ecsARN.FindStringSubmatch(v); m != nil && m[1] == kind {
			return nil
		}
		return config.Usagef(flag, "%q is not an ECS %s ARN: use its name, or arn:aws:ecs:REGION:ACCOUNT:%s/NAME", v, kind, kind)
	}
	return config.Usagef(flag, "%q is not an ECS %s name: use up to 255 letters, digits, hyphens and underscores, or its ARN", v, kind)
}
