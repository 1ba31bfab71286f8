package config

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Deployment strategies of provision --strategy: rolling is ECS's rolling
// update; the others are ECS-native service deployments that shift load
// balancer traffic between two target groups and keep the old revision
// running through a bake time.
const (
	StrategyRolling   = "rolling"
	StrategyBlueGreen = "blue-green"
	StrategyCanary    = "canary"
	StrategyLinear    = "linear"
)

// Strategy defaults, shared with the CLI's --help.
const (
	DefaultBakeTime       = 10 * time.Minute
	DefaultCanaryPercent  = 10.0
	DefaultCanaryInterval = 5 * time.Minute
	DefaultLinearPercent  = 25.0
	DefaultLinearInterval = 5 * time.Minute
	maxStrategyMinutes    = 1440 // ECS: bake and step times are 0 to 1440 minutes
	maxRollbackAlarms     = 10
)

// Strategy is a validated deployment strategy.
type Strategy struct {
	Kind string // StrategyRolling, StrategyBlueGreen, StrategyCanary or StrategyLinear
	// BakeMinutes is how long both revisions run after all production
	// traffic moved, before ECS removes the old one.
	BakeMinutes int
	// StepPercent and StepMinutes are the canary's share of production
	// traffic and how long it stays there, or each linear step's share and
	// the wait after it.
	StepPercent float64
	StepMinutes int
	// RollbackAlarms are CloudWatch alarms ECS watches during a deployment
	// and rolls back on.
	RollbackAlarms []string
}

// Shifting says whether the strategy shifts load balancer traffic (blue/green,
// canary, linear): the stack then needs a second target group, listener rules
// and the ECS infrastructure role.
func (s Strategy) Shifting() bool {
	return s.Kind == StrategyBlueGreen || s.Kind == StrategyCanary || s.Kind == StrategyLinear
}

// ECSName is the strategy as ECS names it: ROLLING, BLUE_GREEN, CANARY, LINEAR.
func (s Strategy) ECSName() string {
	if s.Kind == "" {
		return "ROLLING"
	}
	return strings.ToUpper(strings.ReplaceAll(s.Kind, "-", "_"))
}

// StrategyInput is the raw strategy input; empty strings mean "not given".
type StrategyInput struct {
	Strategy                      string
	BakeTime                      string // a duration in whole minutes: 10m, 1h
	CanaryPercent, CanaryInterval string
	LinearPercent, LinearInterval string
	RollbackAlarms                []string
}

// alarmNameRE is what graviton-cd accepts as a CloudWatch alarm name: the
// printable ASCII CloudWatch allows, 1 to 255 characters.
var alarmNameRE = regexp.MustCompile(`^[\x20-\x7e]{1,255}$`)

// ValidateStrategy turns raw strategy input into a Strategy or a *UsageError
// naming the flag. Settings of another strategy than the one chosen are
// refused, so that a typo in --strategy cannot silently drop them.
func ValidateStrategy(in StrategyInput) (Strategy, error) {
	s := Strategy{Kind: strings.TrimSpace(in.Strategy)}
	if s.Kind == "" {
		s.Kind = StrategyRolling
	}
	switch s.Kind {
	case StrategyRolling, StrategyBlueGreen, StrategyCanary, StrategyLinear:
	default:
		return Strategy{}, Usagef("strategy", "%q is not a strategy: use rolling (the default: tasks replaced in place), blue-green, canary or linear (ECS shifts load balancer traffic and keeps the old revision through --bake-time)", in.Strategy)
	}
	given := func(v string) bool { return strings.TrimSpace(v) != "" }
	misplaced := []struct {
		flag, value string
		kinds       []string
	}{
		{"bake-time", in.BakeTime, []string{StrategyBlueGreen, StrategyCanary, StrategyLinear}},
		{"canary-percent", in.CanaryPercent, []string{StrategyCanary}},
		{"canary-interval", in.CanaryInterval, []string{StrategyCanary}},
		{"linear-percent", in.LinearPercent, []string{StrategyLinear}},
		{"linear-interval", in.LinearInterval, []string{StrategyLinear}},
	}
	for _, m := range misplaced {
		if given(m.value) && !slices.Contains(m.kinds, s.Kind) {
			return Strategy{}, Usagef(m.flag, "applies to --strategy %s, not %s: add the right --strategy or drop this flag", strings.Join(m.kinds, " or "), s.Kind)
		}
	}
	var alarms []string
	for _, a := range in.RollbackAlarms {
		if a = strings.TrimSpace(a); a != "" {
			alarms = append(alarms, a)
		}
	}
	if len(alarms) > 0 && !s.Shifting() {
		return Strategy{}, Usagef("rollback-alarm", "applies to --strategy blue-green, canary or linear: with rolling, ECS's circuit breaker rolls back failed deployments")
	}
	if !s.Shifting() {
		return s, nil
	}
	var err error
	if s.BakeMinutes, err = minutes("bake-time", in.BakeTime, DefaultBakeTime); err != nil {
		return Strategy{}, err
	}
	switch s.Kind {
	case StrategyCanary:
		if s.StepPercent, err = percent("canary-percent", in.CanaryPercent, DefaultCanaryPercent, 0.1); err != nil {
			return Strategy{}, err
		}
		if s.StepMinutes, err = minutes("canary-interval", in.CanaryInterval, DefaultCanaryInterval); err != nil {
			return Strategy{}, err
		}
	case StrategyLinear:
		if s.StepPercent, err = percent("linear-percent", in.LinearPercent, DefaultLinearPercent, 3); err != nil {
			return Strategy{}, err
		}
		if s.StepMinutes, err = minutes("linear-interval", in.LinearInterval, DefaultLinearInterval); err != nil {
			return Strategy{}, err
		}
	}
	if len(alarms) > maxRollbackAlarms {
		return Strategy{}, Usagef("rollback-alarm", "%d alarms: ECS watches at most %d per service", len(alarms), maxRollbackAlarms)
	}
	seen := map[string]bool{}
	for _, a := range alarms {
		if !alarmNameRE.MatchString(a) {
			return Strategy{}, Usagef("rollback-alarm", "%q is not a CloudWatch alarm name: give the name (not the ARN) of an alarm in the stack's region, 1 to 255 printable characters", a)
		}
		if strings.HasPrefix(a, "arn:") {
			return Strategy{}, Usagef("rollback-alarm", "%q is an ARN: give the alarm's name, such as web-5xx", a)
		}
		if !seen[a] {
			seen[a] = true
			s.RollbackAlarms = append(s.RollbackAlarms, a)
		}
	}
	return s, nil
}

// minutes parses a duration in whole minutes from 0 to 1440 (ECS's range for
// bake and step times).
func minutes(flag, v string, def time.Duration) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return int(def / time.Minute), nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		if _, numErr := strconv.Atoi(v); numErr == nil {
			return 0, Usagef(flag, "%q has no unit: write %sm (minutes)", v, v)
		}
		return 0, Usagef(flag, "%q is not a duration: write whole minutes such as 10m or 1h", v)
	}
	if d < 0 || d%time.Minute != 0 || d > maxStrategyMinutes*time.Minute {
		return 0, Usagef(flag, "%s is not whole minutes from 0 to 24h: ECS counts this time in minutes, up to 1440", v)
	}
	return int(d / time.Minute), nil
}

// percent parses a share of production traffic from low to 100.
func percent(flag, v string, def, low float64) (float64, error) {
	v = strings.TrimSuffix(strings.TrimSpace(v), "%")
	if v == "" {
		return def, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < low || f > 100 {
		return 0, Usagef(flag, "%q is not a share of production traffic: use a percentage from %g to 100 (ECS's range), such as %g", v, low, def)
	}
	return f, nil
}

// AlternateTargetGroupName is the second target group of a blue/green,
// canary or linear stack: ECS registers the new revision's tasks in whichever
// group production traffic does not use. Its name carries the same hash as
// the first group's (seven digits, to stay within the 32 characters AWS
// allows a target group name).
func (p Provision) AlternateTargetGroupName() string {
	return p.Name + "-tg2-" + p.targetGroupSuffix()[:7]
}

// InfrastructureRoleName is the role ECS assumes to move the listener rules'
// traffic between the two target groups.
func (p Provision) InfrastructureRoleName() string {
	return p.Name + "-" + p.Region + "-ecs-infra"
}
