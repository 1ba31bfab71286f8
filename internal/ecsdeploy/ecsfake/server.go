// Package ecsfake is an in-process ECS endpoint for tests: an httptest server
// that speaks the ECS JSON 1.1 protocol (X-Amz-Target
// AmazonEC2ContainerServiceV20141113.*, application/x-amz-json-1.1, __type
// errors) well enough for the real aws-sdk-go-v2 client, and plays scripted
// rollouts on a virtual Clock. It also answers CloudWatch Logs GetLogEvents.
package ecsfake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	ecsTargetPrefix  = "AmazonEC2ContainerServiceV20141113."
	logsTargetPrefix = "Logs_20140328."
	contentType      = "application/x-amz-json-1.1"
	region           = "us-east-1"
	account          = "123456789012"
)

// Options seed a Server with one cluster, one service and its task definition.
type Options struct {
	Cluster      string
	Service      string
	DesiredCount int
	// TaskDefinition is the service's task definition as ECS JSON (the
	// RegisterTaskDefinition request shape, camelCase keys).
	TaskDefinition map[string]any
	// Tags of the task definition, as [{"key":..,"value":..}].
	Tags []map[string]string
	// Rollouts are played in order, one per UpdateService call. An update
	// beyond them stays IN_PROGRESS for ever.
	Rollouts [][]Frame
	Faults   []Fault
	// LogLines answer GetLogEvents; with none it answers ResourceNotFoundException.
	LogLines []string
	// Missing starts without the service.
	Missing bool
	// ServiceStatus is the service's status at the start; empty means ACTIVE.
	ServiceStatus string
	// PriorRevisions are registered before TaskDefinition, as revisions 1..n
	// of their families (the service runs TaskDefinition).
	PriorRevisions []map[string]any
	// Tasks are played in order, one per RunTask call; beyond them a task
	// runs until StopTask.
	Tasks []TaskScript
	// Network is the service's networkConfiguration (ECS JSON), and
	// CapacityProviderStrategy its strategy; without one it has launch type EC2.
	Network                  map[string]any
	CapacityProviderStrategy []map[string]any
}

// Call is one request the server answered (or failed on purpose).
type Call struct {
	Op string
	At time.Time
}

// Server is a scripted ECS endpoint. Use URL as the client's BaseEndpoint.
type Server struct {
	URL     string
	clock   *Clock
	http    *httptest.Server
	closing chan struct{} // closed when the test ends: hung calls let go

	mu          sync.Mutex
	opts        Options
	calls       []Call
	perOp       map[string]int
	taskDefs    map[string]map[string]any
	tdTags      map[string][]map[string]string
	revisions   map[string]int
	registered  []map[string]any
	updates     []map[string]any
	logRequests []map[string]any
	svc         *service
	nextID      int
	tasks       tasksState
}

type service struct {
	status      string
	taskDef     string
	desired     int
	deployments []*deployment
	events      []event
	stopped     []stoppedTask

	rolloutStart time.Time
	frames       []Frame
	applied      int
	newDep       *deployment
	prior        []*deployment
	rollbackDep  *deployment
	updates      int
}

type deployment struct {
	id, status, taskDef, rollout, reason string
	desired, running, pending, failed    int
	createdAt, updatedAt                 time.Time
}

type event struct {
	id, msg string
	at      time.Time
}

type stoppedTask struct {
	StoppedTask
	arn, startedBy, taskDef string
	at                      time.Time
}

// New starts a Server on 127.0.0.1 and closes it when the test ends.
func New(t testing.TB, clock *Clock, o Options) *Server {
	t.Helper()
	s := &Server{clock: clock, opts: o, closing: make(chan struct{}), perOp: map[string]int{}, taskDefs: map[string]map[string]any{},
		tdTags: map[string][]map[string]string{}, revisions: map[string]int{}}
	for _, prior := range o.PriorRevisions {
		c := map[string]any{}
		maps.Copy(c, prior)
		s.register(c, nil)
	}
	td := map[string]any{}
	maps.Copy(td, o.TaskDefinition)
	arn := s.register(td, o.Tags)
	if !o.Missing {
		now := clock.Now()
		s.svc = &service{status: cmp.Or(o.ServiceStatus, "ACTIVE"), taskDef: arn, desired: o.DesiredCount}
		s.svc.deployments = []*deployment{{id: s.newID(), status: "PRIMARY", taskDef: arn, rollout: "COMPLETED",
			desired: o.DesiredCount, running: o.DesiredCount, createdAt: now.Add(-2 * time.Hour), updatedAt: now.Add(-time.Hour)}}
		s.svc.events = []event{{id: "old-1", msg: s.svcMsg("has reached a steady state."), at: now.Add(-time.Hour)}}
	}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.http.URL
	t.Cleanup(func() {
		close(s.closing)
		s.http.Close()
	})
	return s
}

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Calls returns how many times op was called, failed calls included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perOp[op]
}

// CallLog returns every call in order.
func (s *Server) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Registered returns the RegisterTaskDefinition requests, as decoded JSON.
func (s *Server) Registered() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.registered)
}

// Updates returns the UpdateService requests, as decoded JSON.
func (s *Server) Updates() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates)
}

// LogRequests returns the GetLogEvents requests, as decoded JSON.
func (s *Server) LogRequests() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.logRequests)
}

// RolloutStart returns when the latest UpdateService started its rollout.
func (s *Server) RolloutStart() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.svc == nil {
		return time.Time{}
	}
	return s.svc.rolloutStart
}

// ServiceTaskDefinition returns the task definition the service now runs.
func (s *Server) ServiceTaskDefinition() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.svc == nil {
		return ""
	}
	return s.svc.taskDef
}

func (s *Server) newID() string {
	s.nextID++
	return fmt.Sprintf("ecs-svc/%019d", 1000000000000000000+s.nextID)
}

func (s *Server) svcMsg(m string) string { return "(service " + s.opts.Service + ") " + m }

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	op := ""
	switch {
	case strings.HasPrefix(target, ecsTargetPrefix):
		op = strings.TrimPrefix(target, ecsTargetPrefix)
	case strings.HasPrefix(target, logsTargetPrefix):
		op = strings.TrimPrefix(target, logsTargetPrefix)
	}
	if r.Method != http.MethodPost || op == "" {
		writeError(w, 400, "UnknownOperationException", "expected POST with X-Amz-Target, got "+r.Method+" "+target)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != contentType {
		writeError(w, 400, "SerializationException", "Content-Type "+ct+" is not "+contentType)
		return
	}
	if !strings.Contains(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
		writeError(w, 400, "MissingAuthenticationTokenException", "request is not signed")
		return
	}
	var in map[string]any
	body, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(body, &in); err != nil {
		writeError(w, 400, "SerializationException", err.Error())
		return
	}

	rep, fault := s.answer(op, in)
	switch {
	case fault == nil:
	case fault.Kind == FailAnswer:
		writeError(w, fault.Status, fault.Type, "scripted fault")
		return
	case fault.Kind == FailHang:
		select {
		case <-r.Context().Done(): // the client gave up
		case <-s.closing:
		}
		panic(http.ErrAbortHandler) // close the connection without an answer
	default: // FailReset (acted on), FailResetUnapplied
		resetConnection(w)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Requestid", rep.requestID)
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// reply is a rendered answer.
type reply struct {
	status    int
	body      []byte
	requestID string
}

// answer counts the call and, unless a fault stops it first, acts on it and
// renders the answer. A FailReset fault comes back with the answer it will
// not send.
func (s *Server) answer(op string, in map[string]any) (reply, *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perOp[op]++
	s.calls = append(s.calls, Call{Op: op, At: s.clock.Now()})
	var fault *Fault
	for i, f := range s.opts.Faults {
		if (f.Op == "" || f.Op == op) && s.perOp[op] >= f.From && s.perOp[op] <= f.To {
			fault = &s.opts.Faults[i]
			break
		}
	}
	if fault != nil && fault.Kind != FailReset {
		return reply{}, fault
	}
	s.advance()

	var (
		out    any
		status = http.StatusOK
		errTyp string
		errMsg string
	)
	switch op {
	case "DescribeServices":
		if !s.matchesCluster(str(in, "cluster")) {
			// As ECS: a cluster that does not exist is an error, not a
			// failure entry per service.
			errTyp, errMsg = "ClusterNotFoundException", "Cluster not found."
			break
		}
		out = s.describeServices(in)
	case "DescribeTaskDefinition":
		out, errTyp, errMsg = s.describeTaskDefinition(in)
	case "RegisterTaskDefinition":
		out = s.registerTaskDefinition(in)
	case "UpdateService":
		out, errTyp, errMsg = s.updateService(in)
	case "ListTasks":
		out = s.listTasks(in)
	case "DescribeTasks":
		out = s.describeTasks(in)
	case "GetLogEvents":
		out, errTyp, errMsg = s.getLogEvents(in)
	case "ListTaskDefinitions":
		out = s.listTaskDefinitions(in)
	case "RunTask":
		out, errTyp, errMsg = s.runTaskCall(in)
	case "StopTask":
		out, errTyp, errMsg = s.stopTask(in)
	default:
		status, errTyp, errMsg = http.StatusBadRequest, "UnknownOperationException", "ecsfake does not implement "+op
	}
	if errTyp != "" {
		if status == http.StatusOK {
			status = http.StatusBadRequest
		}
		out = map[string]string{"__type": errTyp, "message": errMsg}
	}
	body, err := json.Marshal(out)
	if err != nil {
		panic(err) // the fake renders only what it built itself
	}
	return reply{status: status, body: body, requestID: fmt.Sprintf("req-%d", len(s.calls))}, fault
}

// resetConnection closes the request's TCP connection with SO_LINGER 0, so
// that the client reads a reset (RST) instead of an answer.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func writeError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// epoch renders a time the way the JSON protocols do: seconds since the epoch.
func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func str(in map[string]any, k string) string {
	v, _ := in[k].(string)
	return v
}

// advance applies the frames of the current rollout that are due.
func (s *Server) advance() {
	v := s.svc
	if v == nil || v.newDep == nil {
		return
	}
	now := s.clock.Now()
	for v.applied < len(v.frames) && !now.Before(v.rolloutStart.Add(v.frames[v.applied].At)) {
		s.apply(v.frames[v.applied], v.rolloutStart.Add(v.frames[v.applied].At))
		v.applied++
	}
}

func (s *Server) apply(f Frame, at time.Time) {
	v := s.svc
	d := v.newDep
	d.running, d.pending, d.failed, d.reason, d.updatedAt = f.Running, f.Pending, f.Failed, f.Reason, at
	d.rollout = cmp.Or(f.Rollout, "IN_PROGRESS")
	if d.rollout == "-" {
		d.rollout = ""
	}
	for _, p := range v.prior {
		p.running = f.PriorRunning
	}
	deps := []*deployment{}
	if f.Rollback != nil {
		if v.rollbackDep == nil {
			prevTD := d.taskDef
			if len(v.prior) > 0 {
				prevTD = v.prior[0].taskDef
			}
			if f.Rollback.TaskDefinition != "" {
				prevTD = f.Rollback.TaskDefinition
			}
			v.rollbackDep = &deployment{id: s.newID(), taskDef: prevTD, desired: v.desired, createdAt: at}
		}
		rb := v.rollbackDep
		rb.status, rb.running, rb.updatedAt = "PRIMARY", f.Rollback.Running, at
		rb.rollout = cmp.Or(f.Rollback.Rollout, "IN_PROGRESS")
		d.status = "ACTIVE"
		v.taskDef = rb.taskDef
		deps = append(deps, rb)
	}
	if !f.NewGone {
		deps = append(deps, d)
	}
	if !f.PriorGone {
		deps = append(deps, v.prior...)
	}
	v.deployments = deps
	switch f.ServiceStatus {
	case "":
	case "MISSING":
		s.svc = nil
		return
	default:
		v.status = f.ServiceStatus
	}
	for _, m := range f.Events {
		v.events = append(v.events, event{id: fmt.Sprintf("ev-%d", len(v.events)+1), msg: s.svcMsg(m), at: at})
	}
	for _, t := range f.Stopped {
		v.stopped = append(v.stopped, stoppedTask{StoppedTask: t, startedBy: d.id, taskDef: d.taskDef, at: at,
			arn: fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", region, account, s.opts.Cluster, t.ID)})
	}
}

func (s *Server) clusterArn() string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, account, s.opts.Cluster)
}

func (s *Server) serviceJSON() map[string]any {
	v := s.svc
	var deps []map[string]any
	running, pending := 0, 0
	for _, d := range v.deployments {
		m := map[string]any{
			"id": d.id, "status": d.status, "taskDefinition": d.taskDef,
			"desiredCount": d.desired, "runningCount": d.running, "pendingCount": d.pending, "failedTasks": d.failed,
			"createdAt": epoch(d.createdAt), "updatedAt": epoch(d.updatedAt), "launchType": "EC2",
		}
		if d.rollout != "" {
			m["rolloutState"] = d.rollout
		}
		if d.reason != "" {
			m["rolloutStateReason"] = d.reason
		}
		deps = append(deps, m)
		running += d.running
		pending += d.pending
	}
	var evs []map[string]any
	for i := len(v.events) - 1; i >= 0 && len(evs) < 100; i-- {
		e := v.events[i]
		evs = append(evs, map[string]any{"id": e.id, "message": e.msg, "createdAt": epoch(e.at)})
	}
	svc := map[string]any{
		"serviceName": s.opts.Service,
		"serviceArn":  fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, account, s.opts.Cluster, s.opts.Service),
		"clusterArn":  s.clusterArn(), "status": v.status, "taskDefinition": v.taskDef,
		"desiredCount": v.desired, "runningCount": running, "pendingCount": pending,
		"deployments": deps, "events": evs,
		"deploymentConfiguration": map[string]any{
			"deploymentCircuitBreaker": map[string]any{"enable": true, "rollback": true},
			"maximumPercent":           200, "minimumHealthyPercent": 100,
		},
	}
	if s.opts.CapacityProviderStrategy != nil {
		svc["capacityProviderStrategy"] = s.opts.CapacityProviderStrategy
	} else {
		svc["launchType"] = "EC2"
	}
	if s.opts.Network != nil {
		svc["networkConfiguration"] = s.opts.Network
	}
	return svc
}

func (s *Server) matchesService(name string) bool {
	return name == s.opts.Service || strings.HasSuffix(name, "/"+s.opts.Service)
}

func (s *Server) matchesCluster(name string) bool {
	return name == "" || name == s.opts.Cluster || name == s.clusterArn()
}

func (s *Server) describeServices(in map[string]any) any {
	var svcs, failures []map[string]any
	names, _ := in["services"].([]any)
	for _, n := range names {
		name, _ := n.(string)
		if s.svc != nil && s.matchesCluster(str(in, "cluster")) && s.matchesService(name) {
			svcs = append(svcs, s.serviceJSON())
			continue
		}
		failures = append(failures, map[string]any{"arn": fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, account, str(in, "cluster"), name), "reason": "MISSING"})
	}
	return map[string]any{"services": emptyIfNil(svcs), "failures": emptyIfNil(failures)}
}

func emptyIfNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}

func (s *Server) register(td map[string]any, tags []map[string]string) string {
	family := str(td, "family")
	s.revisions[family]++
	rev := s.revisions[family]
	arn := fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, account, family, rev)
	delete(td, "tags")
	td["taskDefinitionArn"] = arn
	td["revision"] = rev
	td["status"] = "ACTIVE"
	td["registeredAt"] = epoch(s.clock.Now())
	s.taskDefs[arn] = td
	s.tdTags[arn] = tags
	return arn
}

func (s *Server) lookupTaskDef(ref string) string {
	if _, ok := s.taskDefs[ref]; ok {
		return ref
	}
	for arn := range s.taskDefs {
		if strings.HasSuffix(arn, "/"+ref) {
			return arn
		}
	}
	if rev := s.revisions[ref]; rev > 0 {
		return s.lookupTaskDef(fmt.Sprintf("%s:%d", ref, rev))
	}
	return ""
}

func (s *Server) describeTaskDefinition(in map[string]any) (any, string, string) {
	arn := s.lookupTaskDef(str(in, "taskDefinition"))
	if arn == "" {
		return nil, "ClientException", "Unable to describe task definition."
	}
	out := map[string]any{"taskDefinition": s.taskDefs[arn]}
	if inc, _ := in["include"].([]any); slices.Contains(inc, any("TAGS")) {
		out["tags"] = s.tdTags[arn]
	}
	return out, "", ""
}

func (s *Server) registerTaskDefinition(in map[string]any) any {
	s.registered = append(s.registered, in)
	td := map[string]any{}
	maps.Copy(td, in)
	var tags []map[string]string
	if raw, ok := in["tags"].([]any); ok {
		for _, t := range raw {
			m, _ := t.(map[string]any)
			tags = append(tags, map[string]string{"key": str(m, "key"), "value": str(m, "value")})
		}
	}
	arn := s.register(td, tags)
	return map[string]any{"taskDefinition": s.taskDefs[arn], "tags": tags}
}

func (s *Server) updateService(in map[string]any) (any, string, string) {
	s.updates = append(s.updates, in)
	if !s.matchesCluster(str(in, "cluster")) {
		return nil, "ClusterNotFoundException", "Cluster not found."
	}
	if s.svc == nil || !s.matchesService(str(in, "service")) {
		return nil, "ServiceNotFoundException", "Service not found."
	}
	v := s.svc
	if v.status != "ACTIVE" {
		return nil, "ServiceNotActiveException", "Service was not ACTIVE."
	}
	changed := false
	if ref := str(in, "taskDefinition"); ref != "" {
		arn := s.lookupTaskDef(ref)
		if arn == "" {
			return nil, "ClientException", "TaskDefinition not found."
		}
		changed = arn != v.taskDef
		v.taskDef = arn
	}
	if dc, ok := in["desiredCount"].(float64); ok {
		v.desired = int(dc)
	}
	if force, _ := in["forceNewDeployment"].(bool); !changed && !force && len(v.deployments) > 0 {
		// As ECS: the same task definition without forceNewDeployment starts
		// no deployment (so repeating an update is harmless); the PRIMARY one
		// takes the desired count.
		for _, d := range v.deployments {
			if d.status == "PRIMARY" {
				d.desired = v.desired
			}
		}
		return map[string]any{"service": s.serviceJSON()}, "", ""
	}
	now := s.clock.Now()
	for _, d := range v.deployments {
		d.status = "ACTIVE"
	}
	v.prior = slices.Clone(v.deployments)
	v.newDep = &deployment{id: s.newID(), status: "PRIMARY", taskDef: v.taskDef, rollout: "IN_PROGRESS", desired: v.desired, createdAt: now, updatedAt: now}
	v.deployments = append([]*deployment{v.newDep}, v.prior...)
	v.rolloutStart, v.applied, v.rollbackDep = now, 0, nil
	v.frames = nil
	if v.updates < len(s.opts.Rollouts) {
		v.frames = s.opts.Rollouts[v.updates]
	}
	v.updates++
	s.advance()
	if s.svc == nil {
		return nil, "ServiceNotFoundException", "Service not found."
	}
	return map[string]any{"service": s.serviceJSON()}, "", ""
}

func (s *Server) listTasks(in map[string]any) any {
	arns := []string{}
	if s.svc != nil && str(in, "desiredStatus") == "STOPPED" {
		for _, t := range s.svc.stopped {
			arns = append(arns, t.arn)
		}
	}
	return map[string]any{"taskArns": arns}
}

func (s *Server) describeTasks(in map[string]any) any {
	want, _ := in["tasks"].([]any)
	tasks := []map[string]any{}
	if s.svc != nil {
		for _, t := range s.svc.stopped {
			if !slices.Contains(want, any(t.arn)) {
				continue
			}
			var cs []map[string]any
			for _, c := range t.Containers {
				m := map[string]any{"name": c.Name, "lastStatus": "STOPPED"}
				if c.Reason != "" {
					m["reason"] = c.Reason
				}
				if c.ExitCode != nil {
					m["exitCode"] = *c.ExitCode
				}
				cs = append(cs, m)
			}
			task := map[string]any{
				"taskArn": t.arn, "clusterArn": s.clusterArn(), "taskDefinitionArn": t.taskDef,
				"lastStatus": "STOPPED", "desiredStatus": "STOPPED", "startedBy": t.startedBy,
				"stoppedReason": t.Reason, "stoppedAt": epoch(t.at), "containers": cs,
			}
			if t.StopCode != "" {
				task["stopCode"] = t.StopCode
			}
			tasks = append(tasks, task)
		}
	}
	tasks = append(tasks, s.describeRunTasks(want)...)
	return map[string]any{"tasks": tasks, "failures": []any{}}
}

func (s *Server) getLogEvents(in map[string]any) (any, string, string) {
	s.logRequests = append(s.logRequests, in)
	if len(s.opts.LogLines) == 0 {
		return nil, "ResourceNotFoundException", "The specified log stream does not exist."
	}
	var evs []map[string]any
	t := epoch(s.clock.Now()) * 1000
	for _, l := range s.opts.LogLines {
		evs = append(evs, map[string]any{"timestamp": int64(t), "ingestionTime": int64(t), "message": l})
	}
	return map[string]any{"events": evs, "nextForwardToken": "f/1", "nextBackwardToken": "b/1"}, "", ""
}
