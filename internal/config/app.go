package config

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The app's own settings: container environment and secrets, a task role,
// HTTPS and service auto scaling (docs/app-configuration.md).

// EnvVar is one container environment variable. Its value is written into
// the task definition as it is: environment variables are not secret.
type EnvVar struct {
	Name  string
	Value string
}

// Secret is one container secret: ECS reads it from ARN when a task starts
// and hands it to the container as the variable Name. graviton-cd handles
// the ARN only, never the value.
type Secret struct {
	Name string
	ARN  string // as given: the task definition's valueFrom
	// Resource is the ARN the execution role may read: ARN itself for a
	// parameter, the secret's own ARN (without a JSON key, version stage or
	// version ID) for Secrets Manager.
	Resource string
	Kind     string // SecretKindSSM or SecretKindSecretsManager
}

// Kinds of secret.
const (
	SecretKindSSM            = "ssm"            // SSM Parameter Store parameter
	SecretKindSecretsManager = "secretsmanager" // Secrets Manager secret
)

// App auto scaling defaults.
const (
	DefaultCPUTarget = 60 // percent of the tasks' CPU, averaged over the service
	maxTaskCount     = 100
)

// TLSPolicy is the HTTPS listener's security policy: TLS 1.3, and TLS 1.2
// with forward-secret AES-GCM ciphers only, with post-quantum hybrid key
// exchange. The Elastic Load Balancing guide ("Security policies for your
// Application Load Balancer") names it the console's default, the current
// recommendation; the CLI, CloudFormation and an HTTPS listener without a
// policy still get ELBSecurityPolicy-2016-08 (TLS 1.0).
const TLSPolicy = "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"

var (
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
	arnRE          = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov):([a-z0-9-]+):([a-z0-9-]*):([0-9]{12}|aws|):(.+)$`)
	ssmResourceRE  = regexp.MustCompile(`^parameter/[A-Za-z0-9_.\-/]+$`)
	smResourceRE   = regexp.MustCompile(`^secret:([A-Za-z0-9/_+=.@-]{1,512}-[A-Za-z0-9]{6})(:[^:]*:[^:]*:[^:]*)?$`)
	kmsResourceRE  = regexp.MustCompile(`^key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	acmResourceRE  = regexp.MustCompile(`^certificate/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	iamPolicyResRE = regexp.MustCompile(`^policy/([\x21-\x7e]*/)?[A-Za-z0-9+=,.@_-]{1,128}$`)
	hostedZoneRE   = regexp.MustCompile(`^[A-Z0-9]{1,32}$`) // AWS IDs start with Z; moto's do not
	dnsLabelRE     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// arn is a parsed Amazon Resource Name.
type arn struct {
	partition, service, region, account, resource string
}

func parseARN(s string) (arn, bool) {
	m := arnRE.FindStringSubmatch(s)
	if m == nil {
		return arn{}, false
	}
	return arn{partition: m[1], service: m[2], region: m[3], account: m[4], resource: m[5]}, true
}

// partitionOf is the partition of an AWS region.
func partitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// accountARN is one ARN that names an account, and the flag that gave it:
// all of them must name the same account.
type accountARN struct {
	flag, arn, account string
}

// checkApp validates the app settings of in into p. It runs after the
// container checks, so p.DesiredCount and p.Region are known.
func (p *Provision) checkApp(in ProvisionInput) error {
	var accounts []accountARN
	checks := []func() error{
		func() (err error) { p.Env, err = ParseEnv(in.Env); return err },
		func() (err error) {
			p.Secrets, err = ParseSecrets(in.Secrets, p.Region, p.Env)
			for _, s := range p.Secrets {
				accounts = append(accounts, accountARN{"secret", s.Resource, mustAccount(s.Resource)})
			}
			return err
		},
		func() error {
			a, err := p.checkKMSKey(in.SecretsKMSKeyARN)
			if a != nil {
				accounts = append(accounts, *a)
			}
			return err
		},
		func() (err error) {
			p.TaskRolePolicyARNs, accounts, err = parsePolicyARNs(in.TaskRolePolicyARNs, p.Region, accounts)
			return err
		},
		func() error {
			a, err := p.checkHTTPS(in)
			if a != nil {
				accounts = append(accounts, *a)
			}
			return err
		},
		func() error { return sameAccount(accounts) },
		func() error { p.EnableExec = in.EnableExec; return nil },
		func() error { return p.checkAutoScaling(in) },
		p.checkMaxCountFits,
	}
	return firstError(checks)
}

// ParseEnv parses --env KEY=VALUE items, sorted by name. A repeatable flag's value is split at
// commas (--env A=1,B=2 gives two); a piece without "=" continues the
// previous value, so --env GREETING=hello,world keeps its comma.
func ParseEnv(items []string) ([]EnvVar, error) {
	var joined []string
	for _, it := range nonEmpty(items) {
		if !strings.Contains(it, "=") && len(joined) > 0 {
			joined[len(joined)-1] += "," + it
			continue
		}
		joined = append(joined, it)
	}
	seen := map[string]bool{}
	var env []EnvVar
	for _, it := range joined {
		k, v, ok := strings.Cut(it, "=")
		switch {
		case !ok || k == "":
			return nil, Usagef("env", "%q is not KEY=VALUE: give one variable per --env (for example --env LOG_LEVEL=info)", it)
		case !envNameRE.MatchString(k):
			return nil, Usagef("env", "%q is not a variable name: use letters, digits and underscores, not starting with a digit (for example LOG_LEVEL)", k)
		case seen[k]:
			return nil, Usagef("env", "%s is given twice: give each variable once", k)
		case strings.HasPrefix(k, "ECS_"), strings.HasPrefix(k, "AWS_"):
			return nil, Usagef("env", "%s: the AWS_ and ECS_ prefixes belong to the ECS agent and the AWS SDKs (credentials, region): choose another name", k)
		}
		for _, r := range v {
			if r < ' ' && r != '\t' || r == 0x7f {
				return nil, Usagef("env", "the value of %s holds a control character: remove it", k)
			}
		}
		seen[k] = true
		env = append(env, EnvVar{Name: k, Value: v})
	}
	sort.Slice(env, func(i, j int) bool { return env[i].Name < env[j].Name })
	return env, nil
}

// ParseSecrets parses --secret NAME=ARN items, sorted by name: SSM
// parameter or Secrets Manager secret ARNs in region, all of one account,
// named apart from the environment variables env. It never sees a value.
func ParseSecrets(items []string, region string, env []EnvVar) ([]Secret, error) {
	p := &Provision{Region: region}
	seen := map[string]bool{}
	for _, e := range env {
		seen[e.Name] = true
	}
	var accounts []accountARN
	var secrets []Secret
	for _, it := range nonEmpty(items) {
		name, ref, ok := strings.Cut(it, "=")
		switch {
		case !ok || name == "":
			return nil, Usagef("secret", "%q is not NAME=ARN: give the variable name and the ARN of an SSM parameter or Secrets Manager secret (for example --secret DB_PASSWORD=arn:aws:ssm:%s:123456789012:parameter/app/db-password); never the value", redactedItem(it), p.regionOr("us-east-1"))
		case !envNameRE.MatchString(name):
			return nil, Usagef("secret", "%q is not a variable name: use letters, digits and underscores, not starting with a digit (for example DB_PASSWORD)", name)
		case seen[name]:
			return nil, Usagef("secret", "%s is given twice (as --env or --secret): give each variable once", name)
		}
		s, err := p.checkSecretARN(name, ref)
		if err != nil {
			return nil, err
		}
		seen[name] = true
		secrets = append(secrets, s)
		accounts = append(accounts, accountARN{"secret", s.Resource, mustAccount(s.Resource)})
	}
	if err := sameAccount(accounts); err != nil {
		return nil, err
	}
	sort.Slice(secrets, func(i, j int) bool { return secrets[i].Name < secrets[j].Name })
	return secrets, nil
}

// nonEmpty drops blank items: an orb passes an unused parameter as "".
func nonEmpty(items []string) []string {
	var out []string
	for _, it := range items {
		if strings.TrimSpace(it) != "" {
			out = append(out, it)
		}
	}
	return out
}

// redactedItem is an item of --secret as it may be shown: not an ARN means
// it may be a value pasted by mistake, so only its first characters show.
func redactedItem(it string) string {
	if name, ref, ok := strings.Cut(it, "="); ok && strings.HasPrefix(ref, "arn:") {
		return name + "=" + ref
	}
	if name, _, ok := strings.Cut(it, "="); ok {
		return name + "=…"
	}
	return "…"
}

func (p *Provision) regionOr(def string) string {
	if p.Region != "" {
		return p.Region
	}
	return def
}

func mustAccount(s string) string {
	a, _ := parseARN(s)
	return a.account
}

func (p *Provision) checkSecretARN(name, ref string) (Secret, error) {
	a, ok := parseARN(ref)
	if !ok || (a.service != "ssm" && a.service != "secretsmanager") {
		shown := ref
		if !strings.HasPrefix(ref, "arn:") {
			shown = "…" // not an ARN: perhaps the value itself; do not echo it
		}
		return Secret{}, Usagef("secret", "%s=%s is not an SSM parameter or Secrets Manager secret ARN: give arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME-AbCdEf, never the secret's value", name, shown)
	}
	s := Secret{Name: name, ARN: ref, Resource: ref}
	switch a.service {
	case "ssm":
		s.Kind = SecretKindSSM
		if !ssmResourceRE.MatchString(a.resource) {
			return Secret{}, Usagef("secret", "%s=%s is not an SSM parameter ARN: use arn:%s:ssm:%s:ACCOUNT:parameter/NAME (the parameter's name without its leading slash, for example parameter/app/db-password)", name, ref, partitionOf(p.Region), p.Region)
		}
	case "secretsmanager":
		s.Kind = SecretKindSecretsManager
		m := smResourceRE.FindStringSubmatch(a.resource)
		if m == nil {
			return Secret{}, Usagef("secret", "%s=%s is not a Secrets Manager secret ARN: use the full ARN the console shows, ending in the six random characters (arn:%s:secretsmanager:%s:ACCOUNT:secret:NAME-AbCdEf), optionally followed by :JSON-KEY:VERSION-STAGE:VERSION-ID", name, ref, partitionOf(p.Region), p.Region)
		}
		// The role reads the secret itself; ECS picks the key and version.
		s.Resource = fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s", a.partition, a.region, a.account, m[1])
	}
	if err := p.sameRegion("secret", name+"="+ref, a); err != nil {
		return Secret{}, err
	}
	return s, nil
}

// sameRegion refuses an ARN of another region or partition than the stack.
func (p *Provision) sameRegion(flag, shown string, a arn) error {
	if a.partition != partitionOf(p.Region) {
		return Usagef(flag, "%s is in partition %s and the stack in %s (region %s): give an ARN of the stack's partition", shown, a.partition, partitionOf(p.Region), p.Region)
	}
	if a.region != p.Region {
		return Usagef(flag, "%s is in region %s and the stack in %s: tasks would read it across regions (slower, and failing with that region); copy it to %s and give that ARN", shown, a.region, p.Region, p.Region)
	}
	if a.account == "" || a.account == "aws" {
		return Usagef(flag, "%s names no account: give the full ARN with the 12-digit account ID", shown)
	}
	return nil
}

func (p *Provision) checkKMSKey(ref string) (*accountARN, error) {
	p.SecretsKMSKeyARN = ref
	if ref == "" {
		return nil, nil
	}
	if len(p.Secrets) == 0 {
		return nil, Usagef("secrets-kms-key-arn", "only applies with --secret: it lets the task execution role decrypt the secrets; drop it, or add --secret NAME=ARN")
	}
	a, ok := parseARN(ref)
	if !ok || a.service != "kms" || !kmsResourceRE.MatchString(a.resource) {
		return nil, Usagef("secrets-kms-key-arn", "%q is not a KMS key ARN: use arn:%s:kms:%s:ACCOUNT:key/KEY-ID (a key ARN, not an alias: IAM matches kms:Decrypt on the key)", ref, partitionOf(p.Region), p.Region)
	}
	if err := p.sameRegion("secrets-kms-key-arn", ref, a); err != nil {
		return nil, err
	}
	return &accountARN{"secrets-kms-key-arn", ref, a.account}, nil
}

// parsePolicyARNs checks --task-role-policy-arn: IAM managed (AWS or
// customer) policy ARNs, each once, kept in the order given.
func parsePolicyARNs(items []string, region string, accounts []accountARN) ([]string, []accountARN, error) {
	seen := map[string]bool{}
	var out []string
	for _, ref := range nonEmpty(items) {
		a, ok := parseARN(ref)
		if !ok || a.service != "iam" || a.region != "" || a.account == "" || !iamPolicyResRE.MatchString(a.resource) {
			return nil, nil, Usagef("task-role-policy-arn", "%q is not an IAM policy ARN: use arn:%s:iam::ACCOUNT:policy/NAME for a customer managed policy or arn:%s:iam::aws:policy/NAME for an AWS managed one", ref, partitionOf(region), partitionOf(region))
		}
		if a.partition != partitionOf(region) {
			return nil, nil, Usagef("task-role-policy-arn", "%s is in partition %s and the stack in %s: give a policy of the stack's partition", ref, a.partition, partitionOf(region))
		}
		if seen[ref] {
			return nil, nil, Usagef("task-role-policy-arn", "%s is given twice: give each policy once", ref)
		}
		seen[ref] = true
		out = append(out, ref)
		if a.account != "aws" {
			accounts = append(accounts, accountARN{"task-role-policy-arn", ref, a.account})
		}
	}
	return out, accounts, nil
}

// sameAccount refuses ARNs of different accounts: the stack lives in one
// account, and reading another account's secret or key needs a resource
// policy there that graviton-cd cannot see. Which account the stack is in
// only sts:GetCallerIdentity can tell; CheckAccount holds the ARNs to it.
func sameAccount(accounts []accountARN) error {
	for _, a := range accounts[min(1, len(accounts)):] {
		if first := accounts[0]; a.account != first.account {
			return Usagef(a.flag, "%s is in account %s, but %s (--%s) is in account %s: a stack reads secrets, keys, certificates and policies of its own account only; give ARNs of the account the stack is provisioned in", a.arn, a.account, first.arn, first.flag, first.account)
		}
	}
	return nil
}

// Account returns the one account the app's ARNs name (secrets, KMS key,
// certificate, customer policies), or "" when they name none.
func (p Provision) Account() string {
	if len(p.Secrets) > 0 {
		return mustAccount(p.Secrets[0].Resource)
	}
	for _, ref := range []string{p.SecretsKMSKeyARN, p.CertificateARN} {
		if a := mustAccount(ref); a != "" {
			return a
		}
	}
	for _, ref := range p.TaskRolePolicyARNs {
		if a := mustAccount(ref); a != "aws" {
			return a
		}
	}
	return ""
}

// CheckAccount holds the app's ARNs to the account the credentials belong
// to (from sts:GetCallerIdentity): a usage error when they name another.
func (p Provision) CheckAccount(account string) error {
	if got := p.Account(); got != "" && account != "" && got != account {
		return Usagef("", "the secret, key, certificate or policy ARNs are in account %s, but the credentials are of account %s, where the stack would be provisioned: give ARNs of account %s, or provision with credentials of account %s", got, account, account, got)
	}
	return nil
}

func (p *Provision) checkHTTPS(in ProvisionInput) (*accountARN, error) {
	p.CertificateARN, p.Domain, p.HostedZoneID = in.CertificateARN, strings.TrimSuffix(strings.ToLower(in.Domain), "."), in.HostedZoneID
	if p.HostedZoneID != "" && p.Domain == "" {
		return nil, Usagef("hosted-zone-id", "needs --domain: the alias record's name (for example app.example.com), in that hosted zone")
	}
	if p.HostedZoneID != "" && !hostedZoneRE.MatchString(p.HostedZoneID) {
		return nil, Usagef("hosted-zone-id", "%q is not a Route 53 hosted zone ID: use the ID the console shows, for example Z0123456789ABCDEFGHIJ (without /hostedzone/)", p.HostedZoneID)
	}
	if p.Domain != "" {
		if err := checkDomain(p.Domain); err != nil {
			return nil, err
		}
	}
	if p.CertificateARN == "" {
		return nil, nil
	}
	a, ok := parseARN(p.CertificateARN)
	if !ok || a.service != "acm" || !acmResourceRE.MatchString(a.resource) {
		return nil, Usagef("certificate-arn", "%q is not an ACM certificate ARN: use arn:%s:acm:%s:ACCOUNT:certificate/ID (request or import the certificate in AWS Certificate Manager, in the stack's region)", p.CertificateARN, partitionOf(p.Region), p.Region)
	}
	if err := p.sameRegion("certificate-arn", p.CertificateARN, a); err != nil {
		return nil, err
	}
	return &accountARN{"certificate-arn", p.CertificateARN, a.account}, nil
}

func checkDomain(d string) error {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return Usagef("domain", "%q is not a domain name: use a fully qualified name such as app.example.com", d)
	}
	for _, l := range labels {
		if !dnsLabelRE.MatchString(l) {
			return Usagef("domain", "%q is not a domain name: use letters, digits and hyphens in dot-separated labels, such as app.example.com (an internationalized name in its xn-- form)", d)
		}
	}
	return nil
}

func (p *Provision) checkAutoScaling(in ProvisionInput) error {
	p.MaxCount, p.CPUTarget = in.MaxCount, in.CPUTarget
	p.MinCount = p.DesiredCount
	if in.MinCount != nil {
		p.MinCount = *in.MinCount
	}
	if p.MaxCount == 0 {
		switch {
		case in.MinCount != nil:
			return Usagef("min-count", "only applies with --max-count, which turns on service auto scaling: add --max-count N, or drop --min-count")
		case in.CPUTarget != 0 && in.CPUTarget != DefaultCPUTarget:
			return Usagef("cpu-target", "only applies with --max-count, which turns on service auto scaling: add --max-count N, or drop --cpu-target")
		}
		p.MinCount, p.CPUTarget = 0, 0
		return nil
	}
	if p.CPUTarget == 0 {
		p.CPUTarget = DefaultCPUTarget
	}
	switch {
	case p.MaxCount < 1 || p.MaxCount > maxTaskCount:
		return Usagef("max-count", "%d tasks is out of range: use 1-%d", p.MaxCount, maxTaskCount)
	case p.MaxCount < p.DesiredCount:
		return Usagef("max-count", "%d is below --desired-count %d: auto scaling keeps min-count <= tasks <= max-count, so raise --max-count to %d or more, or lower --desired-count", p.MaxCount, p.DesiredCount, p.DesiredCount)
	case p.MinCount < 0:
		return Usagef("min-count", "%d is negative: use 0 or more tasks", p.MinCount)
	case p.MinCount > p.DesiredCount:
		return Usagef("min-count", "%d is above --desired-count %d: make min-count <= desired-count <= max-count", p.MinCount, p.DesiredCount)
	case p.CPUTarget < 10 || p.CPUTarget > 90:
		return Usagef("cpu-target", "%d%% is out of range: use 10-90 (percent of the tasks' CPU, averaged over the service; default %d)", p.CPUTarget, DefaultCPUTarget)
	}
	return nil
}

// AutoScaling reports whether the service scales on CPU (--max-count).
func (p Provision) AutoScaling() bool { return p.MaxCount > 0 }

// HTTPS reports whether the load balancer serves HTTPS (--certificate-arn).
func (p Provision) HTTPS() bool { return p.CertificateARN != "" }

// TaskRole reports whether tasks get a role of their own: for the policies
// the user names, or for ECS Exec.
func (p Provision) TaskRole() bool { return len(p.TaskRolePolicyARNs) > 0 || p.EnableExec }

// checkMaxCountFits holds --max-count to what --max-size instances hold, as
// checkFit does for --desired-count: auto scaling asks for tasks that ECS
// managed scaling can place, or they wait PENDING for ever.
func (p *Provision) checkMaxCountFits() error {
	if !p.AutoScaling() {
		return nil
	}
	spec, ok := LookupInstanceSpec(p.InstanceType)
	if !ok {
		return nil // checkFit has refused it already
	}
	slots, limit := spec.taskSlots(p.NetworkMode, p.CPU, p.Memory)
	need := p.MaxCount + deployExtraTaskSlots
	if have := p.MaxSize * slots; have < need {
		fix := []string{}
		if n := (need + slots - 1) / slots; n <= maxInstances {
			fix = append(fix, fmt.Sprintf("--max-size %d", n))
		}
		if t := p.suggestType(need); t != "" {
			fix = append(fix, "--instance-type "+t)
		}
		fix = append(fix, fmt.Sprintf("--max-count %d", max(have-deployExtraTaskSlots, p.DesiredCount)))
		return Usagef("max-count", "%d tasks need %d task slots during a deploy; %d × %s give %d (%d %s tasks of %d CPU units and %d MiB each, limited by %s): use %s",
			p.MaxCount, need, p.MaxSize, p.InstanceType, have, slots, p.NetworkMode, p.CPU, p.Memory, limit, strings.Join(fix, " or "))
	}
	return nil
}
