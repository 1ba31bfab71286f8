package hclgen

import (
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// resourceBlock returns the body of resource typ.name in src, or nil.
func resourceBlock(t *testing.T, src []byte, typ, name string) *hclsyntax.Body {
	t.Helper()
	for _, b := range parseModule(t, src).Body.(*hclsyntax.Body).Blocks {
		if b.Type == "resource" && b.Labels[0] == typ && b.Labels[1] == name {
			return b.Body
		}
	}
	return nil
}

// policyStatements evaluates an inline policy's jsonencode(...) argument
// (all literals) and returns each statement's actions and resources.
func policyStatements(t *testing.T, body *hclsyntax.Body) map[string][2][]string {
	t.Helper()
	ctx := &hcl.EvalContext{Functions: map[string]function.Function{"jsonencode": stdlib.JSONEncodeFunc}}
	v, diags := body.Attributes["policy"].Expr.Value(ctx)
	if diags.HasErrors() {
		t.Fatalf("policy is not a literal document: %s", diags)
	}
	doc, err := stdlib.JSONDecode(v)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2][]string{}
	for it := doc.GetAttr("Statement").ElementIterator(); it.Next(); {
		_, st := it.Element()
		strs := func(v cty.Value) []string {
			var ss []string
			for e := v.ElementIterator(); e.Next(); {
				_, s := e.Element()
				ss = append(ss, s.AsString())
			}
			return ss
		}
		out[st.GetAttr("Sid").AsString()] = [2][]string{strs(st.GetAttr("Action")), strs(st.GetAttr("Resource"))}
	}
	return out
}

// TestRenderSecretsPolicyExact: the execution role reads exactly the named
// parameters and secrets and decrypts with exactly the named key; nothing
// with a wildcard, and a secret's JSON key or version is not part of what
// the role may read.
func TestRenderSecretsPolicyExact(t *testing.T) {
	p := validated(t, func(in *config.ProvisionInput) {
		appInput(in)
		in.Secrets = append(in.Secrets,
			"API_TOKEN_USER=arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/api-token-AbCdEf:username:AWSCURRENT:",
			"DB_PASSWORD_AGAIN=arn:aws:ssm:us-east-1:123456789012:parameter/demo/db-password")
	})
	src := mustRender(t, p)
	pol := resourceBlock(t, src, "aws_iam_role_policy", "task_execution_secrets")
	if pol == nil {
		t.Fatal("no aws_iam_role_policy.task_execution_secrets")
	}
	got := policyStatements(t, pol)
	want := map[string][2][]string{
		"ReadParameters": {{"ssm:GetParameters"}, {"arn:aws:ssm:us-east-1:123456789012:parameter/demo/db-password"}},
		"ReadSecrets":    {{"secretsmanager:GetSecretValue"}, {"arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/api-token-AbCdEf"}},
		"DecryptSecrets": {{"kms:Decrypt"}, {"arn:aws:kms:us-east-1:123456789012:key/0123abcd-4567-89ef-0123-456789abcdef"}},
	}
	if len(got) != len(want) {
		t.Fatalf("statements %v, want %v", got, want)
	}
	for sid, w := range want {
		g := got[sid]
		if !slices.Equal(g[0], w[0]) || !slices.Equal(g[1], w[1]) {
			t.Errorf("%s = %v, want %v", sid, g, w)
		}
		for _, r := range g[1] {
			if strings.ContainsAny(r, "*?") {
				t.Errorf("%s has a wildcard resource %q", sid, r)
			}
		}
	}
	// The task definition keeps the reference as given (ECS picks the key).
	if !strings.Contains(string(src), `valueFrom = "arn:aws:secretsmanager:us-east-1:123456789012:secret:demo/api-token-AbCdEf:username:AWSCURRENT:"`) {
		t.Error("the task definition lost the JSON key of API_TOKEN_USER")
	}
}

// TestRenderAppOff: without app settings the module has none of their
// resources, and the url is plain http on the load balancer.
func TestRenderAppOff(t *testing.T) {
	src := mustRender(t, validated(t, nil))
	for _, r := range [][2]string{
		{"aws_iam_role_policy", "task_execution_secrets"}, {"aws_iam_role", "task"}, {"aws_iam_role_policy", "task_exec"},
		{"aws_lb_listener", "https"}, {"aws_route53_record", "app"},
		{"aws_appautoscaling_target", "service"}, {"aws_appautoscaling_policy", "cpu"},
	} {
		if resourceBlock(t, src, r[0], r[1]) != nil {
			t.Errorf("module has %s.%s without the setting that asks for it", r[0], r[1])
		}
	}
	for _, bad := range []string{"task_role_arn", "enable_execute_command", "environment", "secrets", "443"} {
		if strings.Contains(string(src), bad) {
			t.Errorf("module holds %q", bad)
		}
	}
	if !strings.Contains(string(src), `value       = format("http://%s", aws_lb.this.dns_name)`) {
		t.Error("url is not http on the load balancer's name")
	}
	// Production defaults.
	for _, want := range []string{`name  = "containerInsights"`, "AmazonSSMManagedInstanceCore", `managed_draining               = "ENABLED"`, `scale_in_protected_instances = "Refresh"`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("module lacks %q", want)
		}
	}
}

// TestRenderHTTPS: port 80 redirects, 443 forwards with the certificate and
// the TLS 1.3 policy, the load balancer's group opens 443, the service waits
// for the HTTPS listener, and the url is https (on the load balancer's name
// without --domain).
func TestRenderHTTPS(t *testing.T) {
	src := mustRender(t, validated(t, func(in *config.ProvisionInput) {
		in.CertificateARN = "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"
	}))
	s := string(src)
	for _, want := range []string{
		`status_code = "HTTP_301"`, `ssl_policy        = "` + config.TLSPolicy + `"`,
		`description = "HTTPS from anywhere"`, `from_port   = 443`,
		`depends_on = [aws_lb_listener.https,`,
		`value       = format("https://%s", aws_lb.this.dns_name)`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("module lacks %q", want)
		}
	}
	if resourceBlock(t, src, "aws_route53_record", "app") != nil {
		t.Error("an alias record without --hosted-zone-id")
	}
}
