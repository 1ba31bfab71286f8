package ecsfake

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Service deployments: the API ECS gives deployments of services with the
// BLUE_GREEN, CANARY and LINEAR strategies (and every other since 2024):
// ListServiceDeployments, DescribeServiceDeployments and
// StopServiceDeployment. A service deployment's timeline is scripted as
// SDFrames, one timeline per UpdateService call (Options.ServiceDeployments),
// played on the virtual clock like a rollout's Frames.
//
// Shapes follow the ECS API reference (ServiceDeployment,
// ServiceDeploymentBrief, ServiceRevisionSummary); the lifecycle stages and
// their order follow the ECS developer guide's "blue/green deployment
// lifecycle".

// Service deployment statuses (ServiceDeploymentStatus).
const (
	SDPending            = "PENDING"
	SDInProgress         = "IN_PROGRESS"
	SDSuccessful         = "SUCCESSFUL"
	SDStopRequested      = "STOP_REQUESTED"
	SDStopped            = "STOPPED"
	SDRollbackRequested  = "ROLLBACK_REQUESTED"
	SDRollbackInProgress = "ROLLBACK_IN_PROGRESS"
	SDRollbackSuccessful = "ROLLBACK_SUCCESSFUL"
	SDRollbackFailed     = "ROLLBACK_FAILED"
)

// SDFrame is the state of a service deployment from At (after the
// UpdateService that started it) until the next frame.
type SDFrame struct {
	At     time.Duration
	Status string // IN_PROGRESS when empty
	Stage  string // lifecycleStage: SCALE_UP, TEST_TRAFFIC_SHIFT, BAKE_TIME, ...
	Reason string // statusReason
	// ProductionPercent and TestPercent are the traffic weights of the new
	// (target) revision.
	ProductionPercent, TestPercent float64
	// TriggeredAlarms are alarms in ALARM that made ECS roll back.
	TriggeredAlarms []string
	// Events are service events added when the frame is reached.
	Events []string
}

// stages up to and including the test traffic shift, shared by every
// strategy: ECS scales the new revision up, then points the test listener
// rule at it.
func scaleUpAndTest(t time.Duration) []SDFrame {
	return []SDFrame{
		{At: 0, Stage: "PRE_SCALE_UP"},
		{At: t / 4, Stage: "SCALE_UP"},
		{At: t / 2, Stage: "POST_SCALE_UP"},
		{At: 3 * t / 4, Stage: "TEST_TRAFFIC_SHIFT", TestPercent: 100},
		{At: t, Stage: "POST_TEST_TRAFFIC_SHIFT", TestPercent: 100},
	}
}

// shiftedAt is the end of a timeline: bake with all production traffic on
// the new revision, clean up the old one, SUCCESSFUL.
func bakeAndFinish(frames []SDFrame, at, bake time.Duration) []SDFrame {
	return append(frames,
		SDFrame{At: at, Stage: "POST_PRODUCTION_TRAFFIC_SHIFT", ProductionPercent: 100, TestPercent: 100},
		SDFrame{At: at + time.Second, Stage: "BAKE_TIME", ProductionPercent: 100, TestPercent: 100},
		SDFrame{At: at + time.Second + bake, Stage: "CLEAN_UP", ProductionPercent: 100, TestPercent: 100},
		SDFrame{At: at + time.Second + bake + 10*time.Second, Status: SDSuccessful, Stage: "CLEAN_UP", ProductionPercent: 100, TestPercent: 100,
			Events: []string{"service deployment completed."}},
	)
}

// BlueGreen is a BLUE_GREEN service deployment: scale up and test traffic
// by ready, all production traffic shifted at once, then bake for bake and
// SUCCESSFUL 11 s after it.
func BlueGreen(ready, bake time.Duration) []SDFrame {
	f := scaleUpAndTest(ready)
	f = append(f, SDFrame{At: ready + time.Second, Stage: "PRODUCTION_TRAFFIC_SHIFT", ProductionPercent: 100, TestPercent: 100})
	return bakeAndFinish(f, ready+2*time.Second, bake)
}

// Canary is a CANARY service deployment: percent of production traffic for
// interval, then the rest, then the bake.
func Canary(ready time.Duration, percent float64, interval, bake time.Duration) []SDFrame {
	f := scaleUpAndTest(ready)
	at := ready + time.Second
	f = append(f,
		SDFrame{At: at, Stage: "PRODUCTION_TRAFFIC_SHIFT", ProductionPercent: percent, TestPercent: 100},
		SDFrame{At: at + interval, Stage: "PRODUCTION_TRAFFIC_SHIFT", ProductionPercent: 100, TestPercent: 100},
	)
	return bakeAndFinish(f, at+interval+time.Second, bake)
}

// Linear is a LINEAR service deployment: percent more production traffic
// every step until all of it, then the bake.
func Linear(ready time.Duration, percent float64, step, bake time.Duration) []SDFrame {
	f := scaleUpAndTest(ready)
	at := ready + time.Second
	for p := percent; ; p += percent {
		p = math.Min(p, 100)
		f = append(f, SDFrame{At: at, Stage: "PRODUCTION_TRAFFIC_SHIFT", ProductionPercent: p, TestPercent: 100})
		if p >= 100 {
			break
		}
		at += step
	}
	return bakeAndFinish(f, at+time.Second, bake)
}

// AlarmRollback cuts timeline at at, where alarm goes into ALARM and ECS
// rolls back, ending ROLLBACK_SUCCESSFUL takes later.
func AlarmRollback(timeline []SDFrame, at time.Duration, alarm string, takes time.Duration) []SDFrame {
	var out []SDFrame
	for _, f := range timeline {
		if f.At < at {
			out = append(out, f)
		}
	}
	reason := fmt.Sprintf("Service deployment rolled back because the CloudWatch alarm %s went into ALARM.", alarm)
	return append(out, rollbackFrames(at, takes, reason, []string{alarm}, false)...)
}

// rollbackFrames is ECS rolling a service deployment back from at: traffic
// goes back to the old revision, the new one scales in.
func rollbackFrames(at, takes time.Duration, reason string, alarms []string, fails bool) []SDFrame {
	end := SDRollbackSuccessful
	if fails {
		end = SDRollbackFailed
		reason += " The rollback failed: traffic could not be shifted back."
	}
	return []SDFrame{
		{At: at, Status: SDRollbackRequested, Stage: "PRODUCTION_TRAFFIC_SHIFT", Reason: reason, TriggeredAlarms: alarms, ProductionPercent: 100, TestPercent: 100},
		{At: at + time.Second, Status: SDRollbackInProgress, Stage: "PRODUCTION_TRAFFIC_SHIFT", Reason: reason, TriggeredAlarms: alarms, TestPercent: 100},
		{At: at + takes, Status: end, Stage: "CLEAN_UP", Reason: reason, TriggeredAlarms: alarms},
	}
}

// svcDeployment is one service deployment as the fake keeps it.
type svcDeployment struct {
	arn, targetRev, sourceRev        string
	status, stage, reason            string
	prod, test                       float64
	alarms                           []string
	createdAt, updatedAt, finishedAt time.Time
	start                            time.Time
	frames                           []SDFrame
	applied                          int
	rollbackStartedAt                time.Time
}

func (d *svcDeployment) final() bool {
	switch d.status {
	case SDSuccessful, SDStopped, SDRollbackSuccessful, SDRollbackFailed:
		return true
	}
	return false
}

// nonRolling says whether the service uses a strategy with service
// deployment timelines.
func (s *Server) nonRolling() bool {
	switch s.opts.Strategy {
	case "BLUE_GREEN", "CANARY", "LINEAR":
		return true
	}
	return false
}

// startServiceDeployment records the service deployment an UpdateService
// started (update is its 1-based number), with its scripted timeline.
func (s *Server) startServiceDeployment(update int, depID string, now time.Time) {
	v := s.svc
	rev := func(id string) string {
		return fmt.Sprintf("arn:aws:ecs:%s:%s:service-revision/%s/%s/%s", region, account, s.opts.Cluster, s.opts.Service, strings.TrimPrefix(id, "ecs-svc/"))
	}
	src := ""
	if len(v.prior) > 0 {
		src = rev(v.prior[0].id)
	}
	// A stopped-and-superseded deployment: ECS stops the one in flight when
	// a new one starts.
	for _, old := range s.sds {
		if !old.final() {
			old.status, old.reason, old.finishedAt, old.updatedAt = SDStopped, "Service deployment stopped: a newer one started.", now, now
		}
	}
	d := &svcDeployment{
		arn:       fmt.Sprintf("arn:aws:ecs:%s:%s:service-deployment/%s/%s/sd%06d", region, account, s.opts.Cluster, s.opts.Service, update),
		targetRev: rev(depID), sourceRev: src, status: SDPending,
		createdAt: now, updatedAt: now, start: now,
	}
	if update-1 < len(s.opts.ServiceDeployments) {
		d.frames = s.opts.ServiceDeployments[update-1]
	}
	s.sds = append(s.sds, d)
}

// advanceServiceDeployments applies the frames that are due.
func (s *Server) advanceServiceDeployments() {
	now := s.clock.Now()
	for _, d := range s.sds {
		for d.applied < len(d.frames) && !now.Before(d.start.Add(d.frames[d.applied].At)) {
			f := d.frames[d.applied]
			at := d.start.Add(f.At)
			d.status, d.stage, d.reason = cmp.Or(f.Status, SDInProgress), f.Stage, f.Reason
			d.prod, d.test, d.alarms, d.updatedAt = f.ProductionPercent, f.TestPercent, f.TriggeredAlarms, at
			if d.status == SDRollbackRequested && d.rollbackStartedAt.IsZero() {
				d.rollbackStartedAt = at
			}
			if d.final() {
				d.finishedAt = at
				if d.status == SDSuccessful && s.svc != nil && s.svc.newDep != nil {
					// The PRIMARY deployment is done too.
					s.svc.newDep.rollout, s.svc.newDep.running = "COMPLETED", s.svc.newDep.desired
				}
			}
			if s.svc != nil {
				for _, m := range f.Events {
					s.svc.events = append(s.svc.events, event{id: fmt.Sprintf("ev-%d", len(s.svc.events)+1), msg: s.svcMsg(m), at: at})
				}
			}
			d.applied++
		}
	}
}

func (s *Server) findServiceDeployment(arn string) *svcDeployment {
	for _, d := range s.sds {
		if d.arn == arn {
			return d
		}
	}
	return nil
}

// serviceDeploymentOp answers the three service deployment operations.
func (s *Server) serviceDeploymentOp(op string, in map[string]any) (any, string, string) {
	switch op {
	case "ListServiceDeployments":
		if !s.matchesCluster(str(in, "cluster")) {
			return nil, "ClusterNotFoundException", "Cluster not found."
		}
		if s.svc == nil || !s.matchesService(str(in, "service")) {
			return nil, "ServiceNotFoundException", "Service not found."
		}
		var after, before float64 = math.Inf(-1), math.Inf(1)
		if c, ok := in["createdAt"].(map[string]any); ok {
			if v, ok := c["after"].(float64); ok {
				after = v
			}
			if v, ok := c["before"].(float64); ok {
				before = v
			}
		}
		var statuses []any
		if st, ok := in["status"].([]any); ok {
			statuses = st
		}
		briefs := []map[string]any{}
		// Newest first, as ECS lists them.
		for i := len(s.sds) - 1; i >= 0; i-- {
			d := s.sds[i]
			if c := epoch(d.createdAt); c < after || c > before {
				continue
			}
			if len(statuses) > 0 && !slices.Contains(statuses, any(d.status)) {
				continue
			}
			b := map[string]any{
				"serviceDeploymentArn": d.arn, "serviceArn": s.serviceArn(), "clusterArn": s.clusterArn(),
				"targetServiceRevisionArn": d.targetRev, "status": d.status, "createdAt": epoch(d.createdAt),
			}
			if d.reason != "" {
				b["statusReason"] = d.reason
			}
			briefs = append(briefs, b)
		}
		return map[string]any{"serviceDeployments": briefs}, "", ""
	case "DescribeServiceDeployments":
		arns, _ := in["serviceDeploymentArns"].([]any)
		if len(arns) == 0 || len(arns) > 20 {
			return nil, "InvalidParameterException", "serviceDeploymentArns must name 1 to 20 service deployments."
		}
		out, failures := []map[string]any{}, []map[string]any{}
		for _, a := range arns {
			arn, _ := a.(string)
			d := s.findServiceDeployment(arn)
			if d == nil {
				failures = append(failures, map[string]any{"arn": arn, "reason": "MISSING"})
				continue
			}
			out = append(out, s.serviceDeploymentJSON(d))
		}
		return map[string]any{"serviceDeployments": out, "failures": failures}, "", ""
	case "StopServiceDeployment":
		s.stops = append(s.stops, in)
		d := s.findServiceDeployment(str(in, "serviceDeploymentArn"))
		if d == nil {
			return nil, "ServiceDeploymentNotFoundException", "The service deployment does not exist."
		}
		if st := str(in, "stopType"); st != "ROLLBACK" && st != "ABORT" {
			return nil, "InvalidParameterException", "stopType must be ROLLBACK or ABORT."
		}
		if d.status != SDInProgress && d.status != SDPending {
			return nil, "ConflictException", "The service deployment is " + d.status + " and cannot be stopped."
		}
		now := s.clock.Now()
		d.frames = slices.Clone(d.frames[:d.applied])
		reason := "Service deployment rolled back because of a request to stop it with ROLLBACK."
		d.frames = append(d.frames, rollbackFrames(now.Sub(d.start), cmp.Or(s.opts.RollbackTakes, 30*time.Second), reason, nil, s.opts.RollbackFails)...)
		s.advanceServiceDeployments()
		return map[string]any{"serviceDeploymentArn": d.arn}, "", ""
	}
	return nil, "UnknownOperationException", "ecsfake does not implement " + op
}

func (s *Server) serviceArn() string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, account, s.opts.Cluster, s.opts.Service)
}

func (s *Server) serviceDeploymentJSON(d *svcDeployment) map[string]any {
	m := map[string]any{
		"serviceDeploymentArn": d.arn, "serviceArn": s.serviceArn(), "clusterArn": s.clusterArn(),
		"createdAt": epoch(d.createdAt), "startedAt": epoch(d.createdAt), "updatedAt": epoch(d.updatedAt),
		"status": d.status, "deploymentConfiguration": s.deploymentConfigurationJSON(),
		"targetServiceRevision": map[string]any{
			"arn": d.targetRev, "requestedTaskCount": s.opts.DesiredCount,
			"requestedProductionTrafficWeight": d.prod, "requestedTestTrafficWeight": d.test,
		},
	}
	if d.stage != "" {
		m["lifecycleStage"] = d.stage
	}
	if d.reason != "" {
		m["statusReason"] = d.reason
	}
	if d.sourceRev != "" {
		m["sourceServiceRevisions"] = []map[string]any{{"arn": d.sourceRev, "requestedProductionTrafficWeight": 100 - d.prod}}
	}
	if !d.finishedAt.IsZero() {
		m["finishedAt"] = epoch(d.finishedAt)
	}
	if !d.rollbackStartedAt.IsZero() {
		m["rollback"] = map[string]any{"reason": d.reason, "startedAt": epoch(d.rollbackStartedAt), "serviceRevisionArn": d.sourceRev}
	}
	if len(s.opts.Alarms) > 0 {
		a := map[string]any{"alarmNames": s.opts.Alarms, "status": "MONITORING"}
		if len(d.alarms) > 0 {
			a["status"], a["triggeredAlarmNames"] = "TRIGGERED", d.alarms
		}
		m["alarms"] = a
	}
	return m
}

// deploymentConfigurationJSON is the service's deploymentConfiguration, with
// the strategy's settings.
func (s *Server) deploymentConfigurationJSON() map[string]any {
	c := map[string]any{
		"deploymentCircuitBreaker": map[string]any{"enable": true, "rollback": true},
		"maximumPercent":           200, "minimumHealthyPercent": 100,
	}
	o := s.opts
	if o.Strategy != "" {
		c["strategy"] = o.Strategy
	}
	if o.BakeTimeMinutes > 0 {
		c["bakeTimeInMinutes"] = o.BakeTimeMinutes
	}
	if o.Strategy == "CANARY" {
		c["canaryConfiguration"] = map[string]any{"canaryPercent": o.CanaryPercent, "canaryBakeTimeInMinutes": o.StepMinutes}
	}
	if o.Strategy == "LINEAR" {
		c["linearConfiguration"] = map[string]any{"stepPercent": o.LinearPercent, "stepBakeTimeInMinutes": o.StepMinutes}
	}
	if len(o.Alarms) > 0 {
		c["alarms"] = map[string]any{"alarmNames": o.Alarms, "enable": true, "rollback": true}
	}
	return c
}

// strategyJSON adds the deployment controller and configuration to a
// service's JSON.
func (s *Server) strategyJSON(svc map[string]any) {
	svc["deploymentConfiguration"] = s.deploymentConfigurationJSON()
	if s.opts.DeploymentController != "" {
		svc["deploymentController"] = map[string]any{"type": s.opts.DeploymentController}
	} else {
		svc["deploymentController"] = map[string]any{"type": "ECS"}
	}
}

// Stops returns the StopServiceDeployment requests, as decoded JSON.
func (s *Server) Stops() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.stops)
}

// ServiceDeploymentStatus returns the status of the latest service
// deployment (as of its last look: frames apply on calls) and when ECS
// began rolling it back (zero if it did not); empty before any.
func (s *Server) ServiceDeploymentStatus() (status string, rollbackAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.sds) == 0 {
		return "", time.Time{}
	}
	d := s.sds[len(s.sds)-1]
	return d.status, d.rollbackStartedAt
}
