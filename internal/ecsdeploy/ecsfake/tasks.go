package ecsfake

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// TaskScript is how one task started with RunTask plays out, on the
// server's clock: PROVISIONING at once, RUNNING from a second later, and
// STOPPED RunFor after the RunTask (unless Forever).
type TaskScript struct {
	RunFor   time.Duration
	Forever  bool // runs until StopTask
	ExitCode int  // the container's exit code once STOPPED
	// NoExitCode leaves exitCode out, as ECS does for a container that never
	// started (CannotPullContainerError).
	NoExitCode    bool
	Reason        string // the container's reason, such as CannotPullContainerError: ...
	StoppedReason string // the task's; default "Essential container in task exited"
	// Failure makes RunTask start nothing and answer this failure reason
	// (such as RESOURCE:MEMORY) instead.
	Failure string
	// ID is the task ID; default a generated 32-hex-digit one.
	ID string
}

// runTask is a task RunTask started.
type runTask struct {
	TaskScript
	arn, taskDef, startedBy, group, container string
	started, stoppedAt                        time.Time
	stopCode, stoppedReason                   string
	stopped                                   bool
	exitCode                                  *int
	request                                   map[string]any
}

// tasksState is what RunTask, StopTask and ListTaskDefinitions need.
type tasksState struct {
	runs     []*runTask
	runReqs  []map[string]any
	stopReqs []map[string]any
	scripts  int
}

// RunTasks returns the RunTask requests, as decoded JSON.
func (s *Server) RunTasks() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tasks.runReqs)
}

// StopTasks returns the StopTask requests, as decoded JSON.
func (s *Server) StopTasks() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tasks.stopReqs)
}

// RegisterRevision registers another revision of a task definition (ECS
// JSON, as Options.TaskDefinition) without changing the service, and
// returns its ARN.
func (s *Server) RegisterRevision(td map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := map[string]any{}
	maps.Copy(c, td)
	return s.register(c, nil)
}

// SetServiceTaskDefinition makes the service run arn, as if a deployment of
// it had completed long ago.
func (s *Server) SetServiceTaskDefinition(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.svc.taskDef = arn
	for _, d := range s.svc.deployments {
		d.taskDef = arn
	}
}

// Deregister marks a revision INACTIVE, as DeregisterTaskDefinition does.
func (s *Server) Deregister(arn string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if td, ok := s.taskDefs[arn]; ok {
		td["status"] = "INACTIVE"
	}
}

// listTaskDefinitions answers familyPrefix, status and sort, in pages of
// maxResults (default 100), as ECS does.
func (s *Server) listTaskDefinitions(in map[string]any) any {
	prefix, status := str(in, "familyPrefix"), cmp.Or(str(in, "status"), "ACTIVE")
	type rev struct {
		family string
		n      int
		arn    string
	}
	var revs []rev
	for arn, td := range s.taskDefs {
		f := str(td, "family")
		if !strings.HasPrefix(f, prefix) || str(td, "status") != status {
			continue
		}
		n, _ := td["revision"].(int)
		revs = append(revs, rev{f, n, arn})
	}
	sort.Slice(revs, func(i, j int) bool {
		if revs[i].family != revs[j].family {
			return revs[i].family < revs[j].family
		}
		return revs[i].n < revs[j].n
	})
	if str(in, "sort") == "DESC" {
		slices.Reverse(revs)
	}
	size := 100
	if m, ok := in["maxResults"].(float64); ok && m > 0 {
		size = int(m)
	}
	from, _ := strconv.Atoi(str(in, "nextToken"))
	from = min(from, len(revs))
	to := min(from+size, len(revs))
	arns := []string{}
	for _, r := range revs[from:to] {
		arns = append(arns, r.arn)
	}
	out := map[string]any{"taskDefinitionArns": arns}
	if to < len(revs) {
		out["nextToken"] = strconv.Itoa(to)
	}
	return out
}

// runTaskCall starts one task by the next TaskScript (beyond them: a task
// that runs until stopped).
func (s *Server) runTaskCall(in map[string]any) (any, string, string) {
	s.tasks.runReqs = append(s.tasks.runReqs, in)
	if !s.matchesCluster(str(in, "cluster")) {
		return nil, "ClusterNotFoundException", "Cluster not found."
	}
	arn := s.lookupTaskDef(str(in, "taskDefinition"))
	if arn == "" {
		return nil, "ClientException", "TaskDefinition not found."
	}
	if _, lt := in["launchType"]; lt && in["capacityProviderStrategy"] != nil {
		return nil, "InvalidParameterException", "Specifying both a launch type and capacity provider strategy is not supported."
	}
	script := TaskScript{Forever: true}
	if s.tasks.scripts < len(s.opts.Tasks) {
		script = s.opts.Tasks[s.tasks.scripts]
	}
	s.tasks.scripts++
	if script.Failure != "" {
		return map[string]any{"tasks": []any{}, "failures": []any{map[string]any{"reason": script.Failure}}}, "", ""
	}
	s.nextID++
	id := cmp.Or(script.ID, fmt.Sprintf("%032x", 0xa11ce0000+s.nextID))
	td := s.taskDefs[arn]
	container := ""
	if defs, _ := td["containerDefinitions"].([]any); len(defs) > 0 {
		c, _ := defs[0].(map[string]any)
		container = str(c, "name")
	}
	if ov, _ := in["overrides"].(map[string]any); ov != nil {
		if cos, _ := ov["containerOverrides"].([]any); len(cos) > 0 {
			co, _ := cos[0].(map[string]any)
			container = cmp.Or(str(co, "name"), container)
		}
	}
	t := &runTask{
		TaskScript: script, arn: fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", region, account, s.opts.Cluster, id),
		taskDef: arn, startedBy: str(in, "startedBy"), group: cmp.Or(str(in, "group"), "family:"+str(td, "family")),
		container: container, started: s.clock.Now(), request: in,
	}
	s.tasks.runs = append(s.tasks.runs, t)
	return map[string]any{"tasks": []any{s.runTaskJSON(t)}, "failures": []any{}}, "", ""
}

// settle stops the tasks whose time has come.
func (s *Server) settle(t *runTask) {
	now := s.clock.Now()
	if t.stopped || t.Forever || now.Before(t.started.Add(t.RunFor)) {
		return
	}
	t.stopped, t.stoppedAt = true, t.started.Add(t.RunFor)
	t.stopCode = "EssentialContainerExited"
	t.stoppedReason = cmp.Or(t.StoppedReason, "Essential container in task exited")
	if !t.NoExitCode {
		code := t.ExitCode
		t.exitCode = &code
	}
	if t.Failure == "" && t.Reason != "" && t.NoExitCode {
		t.stopCode = "TaskFailedToStart"
	}
}

func (s *Server) runTaskJSON(t *runTask) map[string]any {
	s.settle(t)
	now := s.clock.Now()
	last := "PROVISIONING"
	if !now.Before(t.started.Add(time.Second)) {
		last = "RUNNING"
	}
	desired := "RUNNING"
	c := map[string]any{"name": t.container, "lastStatus": last}
	task := map[string]any{
		"taskArn": t.arn, "clusterArn": s.clusterArn(), "taskDefinitionArn": t.taskDef,
		"startedBy": t.startedBy, "group": t.group, "createdAt": epoch(t.started),
		"launchType": "EC2", "overrides": t.request["overrides"],
	}
	if t.stopped {
		last, desired = "STOPPED", "STOPPED"
		c["lastStatus"] = "STOPPED"
		if t.exitCode != nil {
			c["exitCode"] = *t.exitCode
		}
		if t.Reason != "" {
			c["reason"] = t.Reason
		}
		task["stopCode"], task["stoppedReason"], task["stoppedAt"] = t.stopCode, t.stoppedReason, epoch(t.stoppedAt)
	}
	task["lastStatus"], task["desiredStatus"], task["containers"] = last, desired, []any{c}
	return task
}

// stopTask stops a task RunTask started, as a user's StopTask: the
// container gets SIGTERM, then SIGKILL, and exits 137.
func (s *Server) stopTask(in map[string]any) (any, string, string) {
	s.tasks.stopReqs = append(s.tasks.stopReqs, in)
	id := str(in, "task")
	for _, t := range s.tasks.runs {
		if t.arn != id && !strings.HasSuffix(t.arn, "/"+id) {
			continue
		}
		s.settle(t)
		if !t.stopped {
			t.stopped, t.stoppedAt, t.stopCode = true, s.clock.Now(), "UserInitiated"
			t.stoppedReason = cmp.Or(str(in, "reason"), "Task stopped by user")
			code := 137
			t.exitCode = &code
			t.Reason = ""
		}
		return map[string]any{"task": s.runTaskJSON(t)}, "", ""
	}
	return nil, "InvalidParameterException", "The referenced task was not found."
}

// describeRunTasks are the tasks RunTask started that want names.
func (s *Server) describeRunTasks(want []any) []map[string]any {
	var out []map[string]any
	for _, t := range s.tasks.runs {
		id := t.arn[strings.LastIndex(t.arn, "/")+1:]
		if slices.Contains(want, any(t.arn)) || slices.Contains(want, any(id)) {
			out = append(out, s.runTaskJSON(t))
		}
	}
	return out
}
