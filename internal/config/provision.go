package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/hashicorp/go-version"
)

// StackTagKey is the tag every resource of a stack carries; destroy's leftover
// check looks for it.
const StackTagKey = "graviton-cd:stack"

// StackIDTagKey is the tag that carries a stack's identity (Provision.StackID),
// unique to its state: proof that a resource belongs to this stack.
const StackIDTagKey = "graviton-cd:stack-id"

// DefaultTerraformVersion is the Terraform release installed with hc-install
// when neither terraform nor tofu is on PATH. 1.10 or later is needed for S3
// native state locking (use_lockfile).
const DefaultTerraformVersion = "1.11.4"

// Network modes of the ECS task definition.
const (
	NetworkModeAWSVPC = "awsvpc" // a task ENI and security group per task
	NetworkModeBridge = "bridge" // dynamic host ports on the instance
)

// State backends.
const (
	BackendLocal = "local" // terraform.tfstate inside the stack directory
	BackendS3    = "s3"    // S3 with a native lockfile
)

// Provision is the validated input of provision (and of destroy when it is
// given the same flags instead of --stack-dir).
type Provision struct {
	Name   string // stack name; prefixes every resource
	Region string
	Dir    string // stack directory: module, plan, local state, outputs.json

	InstanceType    string
	MinSize         int
	MaxSize         int
	DesiredCapacity int

	VPCCIDR        string   // a new VPC when VPCID is empty …
	PrivateSubnets bool     // … with instances and tasks in private subnets behind one NAT gateway
	VPCID          string   // an existing VPC …
	SubnetIDs      []string // … its subnets for instances and tasks …
	ALBSubnetIDs   []string // … and for the load balancer (SubnetIDs when not given)

	Image            string
	ContainerName    string
	ContainerPort    int
	DesiredCount     int
	CPU              int // task CPU units
	Memory           int // task memory, MiB
	HealthCheckPath  string
	NetworkMode      string
	LogRetentionDays int

	// The app's settings (app.go, docs/app-configuration.md).
	Env                []EnvVar // sorted by name
	Secrets            []Secret // sorted by name; ARNs only, never values
	SecretsKMSKeyARN   string   // the key the secrets are encrypted with, when not the AWS managed one
	TaskRolePolicyARNs []string // managed policies of the task role, as given
	CertificateARN     string   // ACM certificate: HTTPS on 443, port 80 redirects
	Domain             string   // the app's name in DNS: the url output, and the alias record's name
	HostedZoneID       string   // Route 53 zone that gets an alias record Domain -> load balancer
	EnableExec         bool     // ECS Exec into the tasks
	MinCount           int      // service auto scaling bounds (MaxCount 0: no auto scaling) …
	MaxCount           int
	CPUTarget          int // … and its target: average CPU percent of the service's tasks

	Tags  []Tag // sorted by key; never holds StackTagKey
	State StateBackend

	// StackID is the stack's identity, generated at its first provision and
	// kept with its state; every resource carries it as StackIDTagKey, so an
	// orphan of this stack can be told from a stranger under the same name.
	// Set by the stack lifecycle, never by a flag.
	StackID string
	// Ephemeral marks a throwaway stack (review app, per-branch stack): only
	// such a stack may be destroyed by destroy --only-if-ephemeral.
	Ephemeral bool

	RenderOnly bool
	PlanOnly   bool

	TerraformBinary  string // empty: terraform on PATH, else tofu, else install
	TerraformVersion string // installed when no binary is found
	EndpointURL      string // a local emulator; empty for real AWS
	ForceUnlock      string // lock ID to release before running
	Timeout          time.Duration
}

// Tag is one user tag, applied to every resource.
type Tag struct {
	Key   string
	Value string
}

// StateBackend says where Terraform keeps state.
type StateBackend struct {
	Kind   string // BackendLocal or BackendS3
	Bucket string // empty for S3: the default bucket, named once the account is known
	Key    string
	Region string
}

// ProvisionInput is the raw input as flags and environment give it. Empty
// strings mean "not given".
type ProvisionInput struct {
	Name, Region, Dir                                      string
	InstanceType                                           string
	MinSize, MaxSize, DesiredCapacity                      int
	VPCCIDR                                                string
	PrivateSubnets                                         bool
	VPCID                                                  string
	SubnetIDs                                              string // comma separated
	ALBSubnetIDs                                           string // comma separated
	Image, ContainerName                                   string
	ContainerPort, DesiredCount, CPU, Memory               int
	HealthCheckPath, NetworkMode                           string
	LogRetentionDays                                       int
	Env, Secrets                                           []string // KEY=VALUE, NAME=ARN (repeatable flags)
	SecretsKMSKeyARN                                       string
	TaskRolePolicyARNs                                     []string
	CertificateARN, Domain, HostedZoneID                   string
	EnableExec                                             bool
	MinCount                                               *int // nil: not given (the desired count)
	MaxCount, CPUTarget                                    int
	Tags                                                   string // k=v,k2=v2
	StateBackend, StateBucket, StateKey, StateRegion       string
	RenderOnly, PlanOnly                                   bool
	TerraformBinary, TerraformVersion, EndpointURL, Unlock string
	Timeout                                                time.Duration
}

// Provision defaults, shared with the CLI's --help.
const (
	DefaultInstanceType     = "t4g.small"
	DefaultVPCCIDR          = "10.0.0.0/16"
	DefaultImage            = "public.ecr.aws/nginx/nginx:stable-alpine"
	DefaultContainerName    = "app"
	DefaultContainerPort    = 80
	DefaultCPU              = 256
	DefaultMemory           = 512
	DefaultHealthCheckPath  = "/"
	DefaultLogRetentionDays = 30
	DefaultProvisionTimeout = 45 * time.Minute
)

var (
	stackNameRE      = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)
	containerNameRE  = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	vpcIDRE          = regexp.MustCompile(`^vpc-[0-9a-f]{8,17}$`)
	subnetIDRE       = regexp.MustCompile(`^subnet-[0-9a-f]{8,17}$`)
	bucketRE         = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	lockIDRE         = regexp.MustCompile(`^[A-Za-z0-9._:/-]{1,200}$`)
	regionRE         = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	releaseVersionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
)

// logRetentionDays are the values CloudWatch Logs accepts.
func logRetentionDays() []int {
	return []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
}

// ValidateProvision turns raw input into a Provision or a *UsageError that
// names the flag, says what is wrong and what would be right. It reads the
// environment only through the values passed in and touches nothing but PATH
// lookups for --terraform-binary.
func ValidateProvision(in ProvisionInput) (Provision, error) {
	p := Provision{
		Name: in.Name, Region: in.Region, Dir: in.Dir,
		InstanceType: in.InstanceType, MinSize: in.MinSize, MaxSize: in.MaxSize, DesiredCapacity: in.DesiredCapacity,
		Image: in.Image, ContainerName: in.ContainerName, ContainerPort: in.ContainerPort,
		DesiredCount: in.DesiredCount, CPU: in.CPU, Memory: in.Memory,
		HealthCheckPath: in.HealthCheckPath, NetworkMode: in.NetworkMode, LogRetentionDays: in.LogRetentionDays,
		RenderOnly: in.RenderOnly, PlanOnly: in.PlanOnly,
		TerraformBinary: in.TerraformBinary, TerraformVersion: in.TerraformVersion,
		EndpointURL: in.EndpointURL, ForceUnlock: in.Unlock, Timeout: in.Timeout,
	}
	checks := []func() error{
		func() error { return checkStackName(p.Name) },
		func() error { return checkRegion("region", p.Region, true) },
		func() error { return checkDir(p.Dir) },
		func() error { return CheckGravitonInstanceType(p.InstanceType) },
		p.checkCapacity,
		func() error { return p.checkNetwork(in) },
		func() error { return checkImageRef(p.Image) },
		p.checkContainer,
		p.checkTaskSize,
		p.checkHealthCheckPath,
		p.checkNetworkMode,
		p.checkFit,
		p.checkNames,
		p.checkLogRetention,
		func() error { return p.checkApp(in) },
		func() (err error) { p.Tags, err = ParseTags(in.Tags); return err },
		func() (err error) { p.State, err = checkState(in, p.Name, p.Region); return err },
		p.checkModes,
		p.checkTerraform,
		p.checkEndpoint,
		p.checkUnlock,
		p.checkTimeout,
	}
	if err := firstError(checks); err != nil {
		return Provision{}, err
	}
	return p, nil
}

// Stack name lengths: the launch template needs 3 characters, and
// "<name>-tg-<8 hex>" must fit a target group's 32.
const (
	minStackName = 3
	maxStackName = 20
)

func checkStackName(n string) error {
	switch {
	case n == "":
		return Usagef("name", "a stack name is required: %d-%d lowercase letters, digits and hyphens, starting with a letter (for example demo-app)", minStackName, maxStackName)
	case len(n) < minStackName:
		return Usagef("name", "%q is %d characters: use at least %d (it names the launch template, which EC2 wants 3 characters long at least)", n, len(n), minStackName)
	case len(n) > maxStackName:
		return Usagef("name", "%q is %d characters: use at most %d (it prefixes load balancer and target group names, which AWS caps at 32)", n, len(n), maxStackName)
	case !stackNameRE.MatchString(n):
		return Usagef("name", "%q is not a stack name: use lowercase letters, digits and hyphens, starting with a letter (for example demo-app)", n)
	case strings.HasSuffix(n, "-"):
		return Usagef("name", "%q ends with a hyphen: end it with a letter or digit", n)
	}
	for _, reserved := range []string{"aws", "ecs", "fargate"} {
		if strings.HasPrefix(n, reserved) {
			return Usagef("name", "%q starts with %q, which ECS reserves for capacity provider names: choose another first word (for example app-%s)", n, reserved, n)
		}
	}
	return nil
}

func checkRegion(flag, r string, required bool) error {
	if r == "" {
		if required {
			return Usagef(flag, "no AWS region: pass --%s or set AWS_REGION (for example us-east-1)", flag)
		}
		return nil
	}
	if !regionRE.MatchString(r) {
		return Usagef(flag, "%q is not an AWS region name: use for example us-east-1", r)
	}
	return nil
}

func checkDir(dir string) error {
	if strings.TrimSpace(dir) == "" {
		return Usagef("dir", "a stack directory is required: for example --dir graviton-cd-stack")
	}
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		return Usagef("dir", "%s is a file: give a directory (it will hold the module, state and outputs.json)", dir)
	}
	return nil
}

func (p *Provision) checkCapacity() error {
	switch {
	case p.MinSize < 0:
		return Usagef("min-size", "%d is negative: use 0 or more instances", p.MinSize)
	case p.MaxSize < 1:
		return Usagef("max-size", "%d leaves no room for an instance: use 1 or more", p.MaxSize)
	case p.MaxSize > maxInstances:
		return Usagef("max-size", "%d instances is more than this tool allows (%d): raise it in AWS directly if you need more", p.MaxSize, maxInstances)
	case p.MinSize > p.MaxSize:
		return Usagef("min-size", "%d is above --max-size %d: make min-size <= desired-capacity <= max-size", p.MinSize, p.MaxSize)
	case p.DesiredCapacity < p.MinSize || p.DesiredCapacity > p.MaxSize:
		return Usagef("desired-capacity", "%d is outside --min-size %d .. --max-size %d: make min-size <= desired-capacity <= max-size", p.DesiredCapacity, p.MinSize, p.MaxSize)
	}
	return nil
}

func (p *Provision) checkNetwork(in ProvisionInput) error {
	subnets, albSubnets := splitComma(in.SubnetIDs), splitComma(in.ALBSubnetIDs)
	if in.VPCID == "" && len(subnets) == 0 && len(albSubnets) == 0 {
		p.PrivateSubnets = in.PrivateSubnets
		return p.checkVPCCIDR(in.VPCCIDR)
	}
	existing := "--vpc-id, --subnet-ids and --alb-subnet-ids"
	switch {
	case in.VPCCIDR != "":
		return Usagef("vpc-cidr", "conflicts with %s: give --vpc-cidr (and --private-subnets) for a new VPC, or --vpc-id and --subnet-ids for an existing one", existing)
	case in.PrivateSubnets:
		return Usagef("private-subnets", "builds private subnets in a new VPC and conflicts with %s: in an existing VPC give private subnets as --subnet-ids and public ones as --alb-subnet-ids", existing)
	case in.VPCID == "" && len(subnets) > 0:
		return Usagef("vpc-id", "--subnet-ids needs --vpc-id: give the VPC that holds those subnets (vpc-0123456789abcdef0)")
	case in.VPCID == "":
		return Usagef("vpc-id", "--alb-subnet-ids needs --vpc-id and --subnet-ids: give the VPC that holds those subnets (vpc-0123456789abcdef0)")
	case !vpcIDRE.MatchString(in.VPCID):
		return Usagef("vpc-id", "%q is not a VPC ID: use for example vpc-0123456789abcdef0", in.VPCID)
	case len(subnets) == 0:
		return Usagef("subnet-ids", "--vpc-id needs --subnet-ids: give at least two subnets for instances and tasks, comma separated, in different availability zones")
	case len(albSubnets) == 0 && len(subnets) < 2:
		return Usagef("subnet-ids", "give at least two subnets in different availability zones, comma separated (an Application Load Balancer needs two; or give its public subnets as --alb-subnet-ids): got %d", len(subnets))
	case len(albSubnets) == 1:
		return Usagef("alb-subnet-ids", "give at least two public subnets in different availability zones, comma separated (an Application Load Balancer needs two): got 1")
	}
	if err := checkSubnetList("subnet-ids", subnets); err != nil {
		return err
	}
	if err := checkSubnetList("alb-subnet-ids", albSubnets); err != nil {
		return err
	}
	p.VPCID, p.SubnetIDs, p.ALBSubnetIDs = in.VPCID, subnets, albSubnets
	if len(albSubnets) == 0 {
		p.ALBSubnetIDs = subnets
	}
	return nil
}

// checkSubnetList checks subnet IDs' format and that none is given twice.
func checkSubnetList(flag string, subnets []string) error {
	seen := map[string]bool{}
	for _, s := range subnets {
		if !subnetIDRE.MatchString(s) {
			return Usagef(flag, "%q is not a subnet ID: use for example subnet-0123456789abcdef0", s)
		}
		if seen[s] {
			return Usagef(flag, "%s is listed twice: give each subnet once", s)
		}
		seen[s] = true
	}
	return nil
}

func (p *Provision) checkVPCCIDR(cidr string) error {
	if cidr == "" {
		cidr = DefaultVPCCIDR
	}
	pfx, err := netip.ParsePrefix(cidr)
	if err != nil || !pfx.Addr().Is4() {
		return Usagef("vpc-cidr", "%q is not an IPv4 CIDR block: use for example 10.0.0.0/16", cidr)
	}
	if pfx.Bits() < 16 || pfx.Bits() > 24 {
		return Usagef("vpc-cidr", "/%d is outside what this stack supports: use a prefix from /16 to /24 (for example 10.0.0.0/16)", pfx.Bits())
	}
	if pfx.Masked() != pfx {
		return Usagef("vpc-cidr", "%s has host bits set: use %s", cidr, pfx.Masked())
	}
	p.VPCCIDR = pfx.String()
	return nil
}

// checkImageRef accepts what docker pull accepts: registry/repo:tag or @digest.
func checkImageRef(ref string) error {
	if ref == "" {
		return Usagef("image", "a container image is required: for example public.ecr.aws/nginx/nginx:stable-alpine")
	}
	if _, err := name.ParseReference(ref); err != nil || strings.ContainsAny(ref, " \t\n") {
		return Usagef("image", "%q is not an image reference: use registry/repository:tag or @sha256:digest (for example public.ecr.aws/nginx/nginx:stable-alpine)", ref)
	}
	return nil
}

func (p *Provision) checkContainer() error {
	if p.ContainerName == "" || len(p.ContainerName) > 255 || !containerNameRE.MatchString(p.ContainerName) {
		return Usagef("container-name", "%q is not a container name: use 1-255 letters, digits, hyphens and underscores (for example app)", p.ContainerName)
	}
	if p.ContainerPort < 1 || p.ContainerPort > 65535 {
		return Usagef("container-port", "%d is not a TCP port: use 1-65535 (for example 80 or 8080)", p.ContainerPort)
	}
	if p.DesiredCount < 0 || p.DesiredCount > 100 {
		return Usagef("desired-count", "%d tasks is out of range: use 0-100", p.DesiredCount)
	}
	return nil
}

func (p *Provision) checkTaskSize() error {
	if p.CPU < 128 || p.CPU > 16384 {
		return Usagef("cpu", "%d CPU units is out of range: use 128-16384, where 1024 is one vCPU (for example 256)", p.CPU)
	}
	if p.Memory < 128 || p.Memory > 122880 {
		return Usagef("memory", "%d MiB is out of range: use 128-122880 MiB (for example 512)", p.Memory)
	}
	return nil
}

func (p *Provision) checkHealthCheckPath() error {
	hp := p.HealthCheckPath
	if !strings.HasPrefix(hp, "/") || len(hp) > 1024 {
		return Usagef("health-check-path", "%q is not a URL path: start it with / and keep it under 1024 characters (for example /healthz)", hp)
	}
	for _, r := range hp {
		if r <= ' ' || r > '~' {
			return Usagef("health-check-path", "%q holds a space or a non-ASCII character: percent-encode it", hp)
		}
	}
	if u, err := url.ParseRequestURI(hp); err != nil || u.Host != "" {
		return Usagef("health-check-path", "%q is not a URL path: use for example /healthz", hp)
	}
	return nil
}

func (p *Provision) checkNetworkMode() error {
	if p.NetworkMode == "" {
		p.NetworkMode = NetworkModeAWSVPC
	}
	if p.NetworkMode != NetworkModeAWSVPC && p.NetworkMode != NetworkModeBridge {
		return Usagef("network-mode", "%q is not a network mode: use awsvpc (default) or bridge", p.NetworkMode)
	}
	return nil
}

func (p *Provision) checkLogRetention() error {
	days := logRetentionDays()
	if slices.Contains(days, p.LogRetentionDays) {
		return nil
	}
	return Usagef("log-retention-days", "%d is not a retention CloudWatch Logs offers: use one of %s", p.LogRetentionDays, strings.Trim(fmt.Sprint(days), "[]"))
}

// ParseTags parses "k=v,k2=v2". Keys are unique; the stack tag is reserved.
// Values may hold any printable text: the renderer writes them as literal
// strings, never as template source.
func ParseTags(s string) ([]Tag, error) {
	var tags []Tag
	seen := map[string]bool{}
	for _, item := range splitComma(s) {
		k, v, ok := strings.Cut(item, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case !ok || k == "":
			return nil, Usagef("tags", "%q is not key=value: give tags as k=v,k2=v2 (for example team=web,env=prod)", item)
		case len(k) > 128:
			return nil, Usagef("tags", "key %.20q… is %d characters: AWS allows 128", k, len(k))
		case len(v) > 256:
			return nil, Usagef("tags", "value of %q is %d characters: AWS allows 256", k, len(v))
		case strings.HasPrefix(strings.ToLower(k), "aws:"):
			return nil, Usagef("tags", "key %q starts with aws:, which AWS reserves: choose another key", k)
		case k == StackTagKey:
			return nil, Usagef("tags", "key %s is set by graviton-cd from --name: leave it out", StackTagKey)
		case seen[k]:
			return nil, Usagef("tags", "key %q is given twice: give each key once", k)
		}
		for _, r := range k + v {
			if r < ' ' || r == 0x7f {
				return nil, Usagef("tags", "tag %q holds a control character: remove it", k)
			}
		}
		seen[k] = true
		tags = append(tags, Tag{Key: k, Value: v})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	return tags, nil
}

// ValidateStackRef checks what finds a stack by name: its name, region and
// state flags (in.Name, in.Region, in.EndpointURL and in.State*).
func ValidateStackRef(in ProvisionInput) (StateBackend, error) {
	if err := checkStackName(in.Name); err != nil {
		return StateBackend{}, err
	}
	if err := checkRegion("region", in.Region, true); err != nil {
		return StateBackend{}, err
	}
	if in.EndpointURL != "" {
		if err := checkEndpointURL(in.EndpointURL, true); err != nil {
			return StateBackend{}, err
		}
	}
	return checkState(in, in.Name, in.Region)
}

func checkState(in ProvisionInput, stackName, region string) (StateBackend, error) {
	sb := StateBackend{Kind: in.StateBackend}
	if sb.Kind == "" {
		sb.Kind = BackendS3
	}
	switch sb.Kind {
	case BackendLocal:
		for flag, v := range map[string]string{"state-bucket": in.StateBucket, "state-key": in.StateKey, "state-region": in.StateRegion} {
			if v != "" {
				return sb, Usagef(flag, "only applies to --state-backend s3: drop it, or add --state-backend s3")
			}
		}
		return sb, nil
	case BackendS3:
	default:
		return sb, Usagef("state-backend", "%q is not a state backend: use local (state in --dir) or s3", sb.Kind)
	}
	// No bucket: the stack lifecycle names (and creates) the default one,
	// graviton-cd-state-<account>-<region>, once it knows the account.
	if in.StateBucket != "" && !bucketRE.MatchString(in.StateBucket) || strings.Contains(in.StateBucket, "..") {
		return sb, Usagef("state-bucket", "%q is not an S3 bucket name: use 3-63 lowercase letters, digits, dots and hyphens", in.StateBucket)
	}
	sb.Bucket = in.StateBucket
	sb.Key = in.StateKey
	if sb.Key == "" {
		sb.Key = DefaultStateKey(stackName)
	}
	if strings.HasPrefix(sb.Key, "/") || strings.HasSuffix(sb.Key, "/") || len(sb.Key) > 1024 {
		return sb, Usagef("state-key", "%q is not an object key: use a path without a leading or trailing slash (for example graviton-cd/%s/terraform.tfstate)", sb.Key, stackName)
	}
	sb.Region = in.StateRegion
	if sb.Region == "" {
		sb.Region = region
	}
	return sb, checkRegion("state-region", sb.Region, false)
}

func (p *Provision) checkModes() error {
	if p.RenderOnly && p.PlanOnly {
		return Usagef("plan-only", "conflicts with --render-only: give one (render-only writes the module, plan-only also plans)")
	}
	return nil
}

func (p *Provision) checkTerraform() error {
	if p.TerraformVersion == "" {
		p.TerraformVersion = DefaultTerraformVersion
	}
	v, err := version.NewVersion(p.TerraformVersion)
	if err != nil || !releaseVersionRE.MatchString(p.TerraformVersion) {
		return Usagef("terraform-version", "%q is not a Terraform release: use MAJOR.MINOR.PATCH (for example %s)", p.TerraformVersion, DefaultTerraformVersion)
	}
	if v.LessThan(version.Must(version.NewVersion("1.10.0"))) && p.State.Kind == BackendS3 {
		return Usagef("terraform-version", "%s cannot lock S3 state with a lockfile: use 1.10.0 or later", p.TerraformVersion)
	}
	return CheckTerraformBinary(p.TerraformBinary)
}

// CheckTerraformBinary checks an explicit --terraform-binary: a path must be
// an executable file, a bare name must be found on PATH.
func CheckTerraformBinary(bin string) error {
	if bin == "" {
		return nil
	}
	if !strings.ContainsRune(bin, filepath.Separator) {
		if _, err := exec.LookPath(bin); err != nil {
			return Usagef("terraform-binary", "%s is not on PATH: give its full path, or leave the flag out to use terraform, tofu or an installed Terraform", bin)
		}
		return nil
	}
	fi, err := os.Stat(bin)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return Usagef("terraform-binary", "%s is not an executable file: give the path of terraform or tofu", bin)
	}
	return nil
}

// checkEndpoint holds the endpoint provision renders into the provider's
// endpoints to CheckEndpoint, and to no query string besides.
func (p *Provision) checkEndpoint() error {
	if p.EndpointURL == "" {
		return nil
	}
	return checkEndpointURL(p.EndpointURL, true)
}

// CheckEndpoint checks that an endpoint URL (--endpoint-url) is absolute
// http(s).
func CheckEndpoint(raw string) error { return checkEndpointURL(raw, false) }

func checkEndpointURL(raw string, noQuery bool) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (noQuery && u.RawQuery != "") {
		return Usagef("endpoint-url", "%q is not an http(s) URL: use for example http://127.0.0.1:5000", raw)
	}
	return nil
}

func (p *Provision) checkUnlock() error {
	if p.ForceUnlock != "" && !lockIDRE.MatchString(p.ForceUnlock) {
		return Usagef("force-unlock", "%q is not a lock ID: copy the ID from the \"state is locked\" error", p.ForceUnlock)
	}
	return nil
}

func (p *Provision) checkTimeout() error {
	if p.Timeout == 0 {
		p.Timeout = DefaultProvisionTimeout
	}
	if p.Timeout < time.Minute || p.Timeout > 24*time.Hour {
		return Usagef("timeout", "%s is out of range: use 1m to 24h (for example 45m)", p.Timeout)
	}
	return nil
}

// splitComma splits a comma separated list, trimming blanks and empty items.
func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// ValidateStackDirDestroy checks what destroy --stack-dir needs: the stack's
// name and region (from the stack directory, or --region), the endpoint, the
// Terraform settings, the lock ID and the timeout. Other fields stay zero.
func ValidateStackDirDestroy(p Provision) (Provision, error) {
	checks := []func() error{
		func() error { return checkStackName(p.Name) },
		func() error { return checkRegion("region", p.Region, true) },
		p.checkEndpoint,
		p.checkTerraform,
		p.checkUnlock,
		p.checkTimeout,
	}
	if err := firstError(checks); err != nil {
		return Provision{}, err
	}
	return p, nil
}

// firstError runs checks in order and returns the first error: one clear
// message at a time, in the order the flags appear in --help.
func firstError(checks []func() error) error {
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// DefaultStateKey is the S3 object key of a stack's state when --state-key is
// not given. iampolicy scopes the CI role to it.
func DefaultStateKey(stackName string) string {
	return "graviton-cd/" + stackName + "/terraform.tfstate"
}
