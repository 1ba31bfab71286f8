package config

import (
	"slices"
	"strings"
	"testing"
)

func TestNetworkFlags(t *testing.T) {
	const (
		vpc = "vpc-0123456789abcdef0"
		s1  = "subnet-0aaaaaaaaaaaaaaa1"
		s2  = "subnet-0aaaaaaaaaaaaaaa2"
		p1  = "subnet-0bbbbbbbbbbbbbbb1"
		p2  = "subnet-0bbbbbbbbbbbbbbb2"
	)
	cases := []struct {
		name    string
		edit    func(*ProvisionInput)
		wantErr string
		check   func(t *testing.T, p Provision)
	}{
		{"new VPC, public by default", func(in *ProvisionInput) {}, "", func(t *testing.T, p Provision) {
			if p.PrivateSubnets || p.VPCCIDR != DefaultVPCCIDR {
				t.Errorf("got %+v", p)
			}
		}},
		{"new VPC, private subnets", func(in *ProvisionInput) { in.PrivateSubnets = true }, "", func(t *testing.T, p Provision) {
			if !p.PrivateSubnets {
				t.Error("PrivateSubnets not set")
			}
		}},
		{"existing VPC, one list for everything", func(in *ProvisionInput) { in.VPCID, in.SubnetIDs = vpc, s1+","+s2 }, "", func(t *testing.T, p Provision) {
			if !slices.Equal(p.ALBSubnetIDs, []string{s1, s2}) {
				t.Errorf("ALB subnets = %v, want the instances' subnets", p.ALBSubnetIDs)
			}
		}},
		{"existing VPC, ALB subnets apart", func(in *ProvisionInput) { in.VPCID, in.SubnetIDs, in.ALBSubnetIDs = vpc, s1, p1+","+p2 }, "", func(t *testing.T, p Provision) {
			if !slices.Equal(p.SubnetIDs, []string{s1}) || !slices.Equal(p.ALBSubnetIDs, []string{p1, p2}) {
				t.Errorf("subnets = %v, ALB subnets = %v", p.SubnetIDs, p.ALBSubnetIDs)
			}
		}},
		{"one ALB subnet", func(in *ProvisionInput) { in.VPCID, in.SubnetIDs, in.ALBSubnetIDs = vpc, s1+","+s2, p1 }, "--alb-subnet-ids: give at least two public subnets", nil},
		{"one subnet, no ALB subnets", func(in *ProvisionInput) { in.VPCID, in.SubnetIDs = vpc, s1 }, "--subnet-ids: give at least two subnets", nil},
		{"ALB subnets without subnets", func(in *ProvisionInput) { in.VPCID, in.ALBSubnetIDs = vpc, p1+","+p2 }, "--vpc-id needs --subnet-ids", nil},
		{"ALB subnets without VPC", func(in *ProvisionInput) { in.SubnetIDs, in.ALBSubnetIDs = s1, p1+","+p2 }, "--vpc-id: --subnet-ids needs --vpc-id", nil},
		{"ALB subnets only, new VPC", func(in *ProvisionInput) { in.ALBSubnetIDs = p1 + "," + p2 }, "--alb-subnet-ids needs --vpc-id and --subnet-ids", nil},
		{"bad ALB subnet ID", func(in *ProvisionInput) { in.VPCID, in.SubnetIDs, in.ALBSubnetIDs = vpc, s1, "subnet-xyz,"+p2 }, `--alb-subnet-ids: "subnet-xyz" is not a subnet ID`, nil},
		{"ALB subnet twice", func(in *ProvisionInput) { in.VPCID, in.SubnetIDs, in.ALBSubnetIDs = vpc, s1, p1+","+p1 }, "--alb-subnet-ids: " + p1 + " is listed twice", nil},
		{"private subnets in an existing VPC", func(in *ProvisionInput) { in.VPCID, in.SubnetIDs, in.PrivateSubnets = vpc, s1+","+s2, true }, "--private-subnets: builds private subnets in a new VPC", nil},
		{"vpc-cidr with ALB subnets", func(in *ProvisionInput) {
			in.VPCCIDR, in.VPCID, in.SubnetIDs, in.ALBSubnetIDs = "10.1.0.0/16", vpc, s1, p1+","+p2
		}, "--vpc-cidr: conflicts", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := baseInput(t)
			tc.edit(&in)
			p, err := ValidateProvision(in)
			if tc.wantErr != "" {
				if !IsUsage(err) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want a usage error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, p)
		})
	}
}

func TestResourceNames(t *testing.T) {
	in := baseInput(t)
	p, err := ValidateProvision(in)
	if err != nil {
		t.Fatal(err)
	}
	n := p.Names()
	if n.InstanceRole != "demo-us-east-1-ecs-instance" || n.TaskExecutionRole != "demo-us-east-1-task-execution" || n.InstanceProfile != "demo-us-east-1-ecs-instance" {
		t.Errorf("IAM names = %q %q %q: want the region in them", n.InstanceRole, n.TaskExecutionRole, n.InstanceProfile)
	}
	if !strings.HasPrefix(n.TargetGroup, "demo-tg-") || len(n.TargetGroup) != len("demo-tg-")+8 {
		t.Errorf("target group = %q, want demo-tg-<8 hex>", n.TargetGroup)
	}

	// The suffix follows what replaces the group, and only that.
	tg := func(edit func(*ProvisionInput)) string {
		in := baseInput(t)
		edit(&in)
		p, err := ValidateProvision(in)
		if err != nil {
			t.Fatal(err)
		}
		return p.Names().TargetGroup
	}
	base := tg(func(*ProvisionInput) {})
	for name, edit := range map[string]func(*ProvisionInput){
		"port":         func(in *ProvisionInput) { in.ContainerPort = 8080 },
		"network mode": func(in *ProvisionInput) { in.NetworkMode = NetworkModeBridge },
		"VPC CIDR":     func(in *ProvisionInput) { in.VPCCIDR = "10.1.0.0/16" },
		"existing VPC": func(in *ProvisionInput) {
			in.VPCID, in.SubnetIDs = "vpc-0123456789abcdef0", "subnet-0aaaaaaaaaaaaaaa1,subnet-0aaaaaaaaaaaaaaa2"
		},
	} {
		if got := tg(edit); got == base {
			t.Errorf("a new %s keeps target group name %s", name, got)
		}
	}
	if got := tg(func(in *ProvisionInput) { in.HealthCheckPath, in.DesiredCount = "/healthz", 2 }); got != base {
		t.Errorf("health check path or desired count changed the target group name: %s → %s", base, got)
	}

	// The longest stack name in the longest region still fits every limit.
	in = baseInput(t)
	in.Name, in.Region = "abcdefghijklmnopqrst", "ap-southeast-2"
	if p, err := ValidateProvision(in); err != nil {
		t.Fatalf("20-character name refused: %v", err)
	} else if l := len(p.Names().TargetGroup); l > 32 {
		t.Errorf("target group name is %d characters", l)
	}
}

func TestNameLimits(t *testing.T) {
	cases := []struct {
		name, region, want string
	}{
		{"ab", "us-east-1", `--name: "ab" is 2 characters: use at least 3`},
		{"abcdefghijklmnopqrstu", "us-east-1", "use at most 20"},
		{"abcdefghijklmnopqrst", "xx-verylongregionnamethatnobodyhasyet-1", `the IAM role name "abcdefghijklmnopqrst-xx-verylongregionnamethatnobodyhasyet-1-ecs-instance" would be 73 characters and AWS allows 64: shorten --name by 11 characters`},
	}
	for _, tc := range cases {
		in := baseInput(t)
		in.Name, in.Region = tc.name, tc.region
		_, err := ValidateProvision(in)
		if !IsUsage(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s/%s: err = %v, want %q", tc.name, tc.region, err, tc.want)
		}
	}
}
