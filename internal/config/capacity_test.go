package config

import (
	"strings"
	"testing"
	"time"
)

// baseInput is a valid provision input; cases change what they test.
func baseInput(t *testing.T) ProvisionInput {
	return ProvisionInput{
		Name: "demo", Region: "us-east-1", Dir: t.TempDir(), InstanceType: DefaultInstanceType,
		MinSize: 1, MaxSize: 2, DesiredCapacity: 1, Image: DefaultImage, ContainerName: "app",
		ContainerPort: 80, DesiredCount: 1, CPU: 256, Memory: 512, HealthCheckPath: "/", LogRetentionDays: 30,
		Timeout: time.Hour,
	}
}

func TestCapacityCheck(t *testing.T) {
	cases := []struct {
		name string
		edit func(*ProvisionInput)
		want []string // substrings of the usage error; none: accepted
	}{
		{"t4g.small carries two awsvpc tasks, so 2 instances hold desired 3 plus one", func(in *ProvisionInput) { in.DesiredCount = 3 }, nil},
		{"desired 5 on 2 × t4g.small", func(in *ProvisionInput) { in.DesiredCount = 5 }, []string{
			"--desired-count: 5 needs 6 task slots during a deploy",
			"2 × t4g.small give 4 (2 awsvpc tasks of 256 CPU units and 512 MiB each, limited by 3 ENIs, one for the instance)",
			"use --max-size 3 or --instance-type t4g.xlarge or --desired-count 3",
		}},
		{"desired 4 on 2 × t4g.small", func(in *ProvisionInput) { in.DesiredCount = 4 }, []string{"4 needs 5 task slots", "give 4 (2 awsvpc tasks", "--max-size 3"}},
		{"one t4g.small holds desired 1 plus one", func(in *ProvisionInput) { in.MaxSize, in.DesiredCapacity = 1, 1 }, nil},
		{"one t4g.small cannot hold desired 2 plus one", func(in *ProvisionInput) { in.MaxSize, in.DesiredCapacity, in.DesiredCount = 1, 1, 2 },
			[]string{"2 needs 3 task slots", "1 × t4g.small give 2 (2 awsvpc tasks", "--max-size 2", "--instance-type t4g.xlarge"}},
		{"m7g.large has 3 ENIs too", func(in *ProvisionInput) { in.InstanceType, in.DesiredCount = "m7g.large", 5 },
			[]string{"2 × m7g.large give 4 (2 awsvpc tasks of 256 CPU units and 512 MiB each, limited by 3 ENIs", "--instance-type m7g.xlarge"}},
		{"m7g.4xlarge: 8 ENIs give 7 slots", func(in *ProvisionInput) { in.InstanceType, in.DesiredCount = "m7g.4xlarge", 13 }, nil},
		{"bridge mode: ENIs do not limit, memory does", func(in *ProvisionInput) {
			in.NetworkMode, in.DesiredCount, in.Memory = NetworkModeBridge, 7, 512
		}, []string{"7 needs 8 task slots", "2 × t4g.small give 6 (3 bridge tasks of 256 CPU units and 512 MiB each, limited by 1730 MiB for tasks)", "--max-size 3"}},
		{"bridge mode: CPU limits", func(in *ProvisionInput) {
			in.NetworkMode, in.DesiredCount, in.CPU, in.Memory = NetworkModeBridge, 4, 1024, 256
		}, []string{"4 needs 5 task slots", "give 4 (2 bridge tasks of 1024 CPU units and 256 MiB each, limited by 2048 CPU units)"}},
		{"bridge mode fits what awsvpc would not", func(in *ProvisionInput) { in.NetworkMode, in.DesiredCount = NetworkModeBridge, 5 }, nil},
		{"task memory above the instance's", func(in *ProvisionInput) { in.Memory = 2048 },
			[]string{"--memory: a task of 2048 MiB does not fit a t4g.small: of its 2048 MiB the agent offers tasks 1730 (3% kernel, 256 MiB reserved", "--memory 1730", "t4g.medium"}},
		{"task CPU above the instance's", func(in *ProvisionInput) { in.CPU, in.Memory = 4096, 1024 },
			[]string{"--cpu: a task of 4096 CPU units does not fit a t4g.small (2 vCPUs = 2048 units)", "--cpu 2048", "t4g.xlarge"}},
		{"t4g.nano holds no 512 MiB task", func(in *ProvisionInput) { in.InstanceType = "t4g.nano" }, []string{"of its 512 MiB the agent offers tasks 240"}},
		{"desired 0 needs no slots", func(in *ProvisionInput) { in.DesiredCount, in.MaxSize = 0, 1; in.DesiredCapacity = 1 }, nil},
		{"a family without figures", func(in *ProvisionInput) { in.InstanceType = "g5g.xlarge" }, []string{"no capacity figures (vCPUs, memory, ENIs) for g5g.xlarge", "t4g", "m7g"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := baseInput(t)
			tc.edit(&in)
			_, err := ValidateProvision(in)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !IsUsage(err) {
				t.Fatalf("err = %v, want a usage error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message lacks %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestInstanceSpecTable(t *testing.T) {
	cases := map[string]InstanceSpec{
		"t4g.small":      {2, 2048, 3},
		"t4g.micro":      {2, 1024, 2},
		"t4g.2xlarge":    {8, 32768, 4},
		"m7g.large":      {2, 8192, 3},
		"c7g.medium":     {1, 2048, 2},
		"r8g.48xlarge":   {192, 1572864, 15},
		"m8g.metal-24xl": {96, 393216, 15},
		"c6g.16xlarge":   {64, 131072, 15},
		"x2gd.xlarge":    {4, 65536, 4},
		"a1.metal":       {16, 32768, 8},
	}
	for it, want := range cases {
		if got, ok := LookupInstanceSpec(it); !ok || got != want {
			t.Errorf("%s = %+v (%v), want %+v", it, got, ok, want)
		}
	}
	for _, missing := range []string{"c6gn.metal", "m7g.24xlarge", "m8g.metal", "t4g.4xlarge"} {
		if _, ok := LookupInstanceSpec(missing); ok {
			t.Errorf("%s is in the table; AWS has no such type", missing)
		}
	}
	// Every type in the table is a Graviton type the stack accepts.
	for it := range gravitonSpecs() {
		if err := CheckGravitonInstanceType(it); err != nil {
			t.Errorf("%s in the table but refused: %v", it, err)
		}
	}
}
