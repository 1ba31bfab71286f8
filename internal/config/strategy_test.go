package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestValidateStrategy(t *testing.T) {
	ok := []struct {
		name string
		in   StrategyInput
		want Strategy
	}{
		{"default is rolling", StrategyInput{}, Strategy{Kind: StrategyRolling}},
		{"blue-green with its default bake", StrategyInput{Strategy: "blue-green"}, Strategy{Kind: StrategyBlueGreen, BakeMinutes: 10}},
		{"canary defaults", StrategyInput{Strategy: "canary"}, Strategy{Kind: StrategyCanary, BakeMinutes: 10, StepPercent: 10, StepMinutes: 5}},
		{"canary given", StrategyInput{Strategy: "canary", BakeTime: "1h", CanaryPercent: "5%", CanaryInterval: "15m", RollbackAlarms: []string{"web-5xx", " ", "web-5xx", "p99"}},
			Strategy{Kind: StrategyCanary, BakeMinutes: 60, StepPercent: 5, StepMinutes: 15, RollbackAlarms: []string{"web-5xx", "p99"}}},
		{"linear", StrategyInput{Strategy: "linear", LinearPercent: "20", LinearInterval: "0m", BakeTime: "0s"}, Strategy{Kind: StrategyLinear, StepPercent: 20}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValidateStrategy(tc.in)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ValidateStrategy = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
	bad := []struct {
		name, flag, msg string
		in              StrategyInput
	}{
		{"unknown", "strategy", "is not a strategy", StrategyInput{Strategy: "bluegreen"}},
		{"bake on rolling", "bake-time", "applies to --strategy", StrategyInput{BakeTime: "5m"}},
		{"canary setting on linear", "canary-percent", "applies to --strategy canary", StrategyInput{Strategy: "linear", CanaryPercent: "10"}},
		{"alarm on rolling", "rollback-alarm", "circuit breaker", StrategyInput{RollbackAlarms: []string{"a"}}},
		{"bake without unit", "bake-time", "has no unit", StrategyInput{Strategy: "blue-green", BakeTime: "10"}},
		{"bake in seconds", "bake-time", "whole minutes", StrategyInput{Strategy: "blue-green", BakeTime: "90s"}},
		{"bake over a day", "bake-time", "up to 1440", StrategyInput{Strategy: "blue-green", BakeTime: "25h"}},
		{"canary percent too small", "canary-percent", "from 0.1 to 100", StrategyInput{Strategy: "canary", CanaryPercent: "0.05"}},
		{"linear percent too small", "linear-percent", "from 3 to 100", StrategyInput{Strategy: "linear", LinearPercent: "2"}},
		{"alarm ARN", "rollback-alarm", "is an ARN", StrategyInput{Strategy: "canary", RollbackAlarms: []string{"arn:aws:cloudwatch:us-east-1:123456789012:alarm:x"}}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ValidateStrategy(tc.in)
			var u *UsageError
			if !errors.As(err, &u) || u.Flag != tc.flag || !strings.Contains(u.Msg, tc.msg) {
				t.Fatalf("ValidateStrategy = %v; want a usage error on --%s saying %q", err, tc.flag, tc.msg)
			}
		})
	}
}

func TestStrategyNamesFitAWSLimits(t *testing.T) {
	p := Provision{Name: "abcdefghijklmnopqrst", Region: "ap-southeast-2", ContainerPort: 80, VPCCIDR: DefaultVPCCIDR}
	if n := p.AlternateTargetGroupName(); len(n) > 32 || n == p.Names().TargetGroup {
		t.Errorf("alternate target group %q: %d characters, or the same as the first", n, len(n))
	}
	if n := p.InfrastructureRoleName(); len(n) > 64 {
		t.Errorf("infrastructure role %q: %d characters", n, len(n))
	}
	if got := (Strategy{Kind: StrategyBlueGreen}).ECSName(); got != "BLUE_GREEN" {
		t.Errorf("ECSName = %s", got)
	}
}
