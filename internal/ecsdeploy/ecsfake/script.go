package ecsfake

import (
	"strconv"
	"time"
)

// Frame is the state of a rollout from At (after the UpdateService that
// started it) until the next frame. Counts replace the previous frame's;
// Events and Stopped tasks are added once, when the frame is reached.
type Frame struct {
	At time.Duration

	// The deployment the UpdateService started.
	Running, Pending, Failed int
	Rollout                  string // IN_PROGRESS (default), COMPLETED or FAILED; "-" for none (no circuit breaker)
	Reason                   string // rolloutStateReason
	NewGone                  bool   // the deployment has vanished from the service

	// The deployments that were there before the update.
	PriorRunning int
	PriorGone    bool // ECS has removed them (as it does once the new one completes)

	// Rollback, when set, is a deployment ECS started on the previous task
	// definition (the circuit breaker): it is PRIMARY, the new one is ACTIVE.
	Rollback *RollbackFrame

	// ServiceStatus changes the service's status: DRAINING, INACTIVE, or
	// MISSING to delete it.
	ServiceStatus string

	Events  []string
	Stopped []StoppedTask
}

// RollbackFrame is the state of another deployment that became PRIMARY: ECS's
// own rollback, or someone else's deploy.
type RollbackFrame struct {
	Running int
	Rollout string // IN_PROGRESS (default) or COMPLETED
	// TaskDefinition it runs; empty means the previous one (ECS's rollback).
	TaskDefinition string
}

// StoppedTask is a task of the new deployment that stopped.
type StoppedTask struct {
	ID         string
	Reason     string // stoppedReason
	StopCode   string
	Containers []StoppedContainer
}

// StoppedContainer is one container of a stopped task.
type StoppedContainer struct {
	Name     string
	Reason   string
	ExitCode *int
}

// FaultKind is how a faulty call fails.
type FaultKind int

const (
	// FailAnswer answers with the Fault's HTTP Status and error Type.
	FailAnswer FaultKind = iota
	// FailReset acts on the request, then resets the TCP connection
	// (SO_LINGER 0) instead of answering: the change is made, the answer is
	// lost, and the client cannot tell which.
	FailReset
	// FailResetUnapplied resets the connection without acting on the
	// request.
	FailResetUnapplied
	// FailHang never answers and does not act on the request: it holds the
	// call until the client gives up (or the server closes).
	FailHang
)

// Fault makes calls From..To (1-based, counting every call of Op, failed ones
// too) fail: with an HTTP status and an error __type, or, by Kind, with a
// reset connection or no answer at all.
type Fault struct {
	Op       string // e.g. DescribeServices; empty matches every operation
	From, To int
	Kind     FaultKind
	Status   int    // FailAnswer only
	Type     string // FailAnswer only
}

// Throttle makes calls from..to of op fail with ThrottlingException (HTTP 400).
func Throttle(op string, from, to int) Fault {
	return Fault{Op: op, From: from, To: to, Status: 400, Type: "ThrottlingException"}
}

// ServerError makes calls from..to of op fail with ServerException (HTTP 500).
func ServerError(op string, from, to int) Fault {
	return Fault{Op: op, From: from, To: to, Status: 500, Type: "ServerException"}
}

// Reset makes calls from..to of op take effect and then reset the
// connection before the answer: the client sees "connection reset by peer".
func Reset(op string, from, to int) Fault {
	return Fault{Op: op, From: from, To: to, Kind: FailReset}
}

// ResetUnapplied makes calls from..to of op reset the connection without
// taking effect.
func ResetUnapplied(op string, from, to int) Fault {
	return Fault{Op: op, From: from, To: to, Kind: FailResetUnapplied}
}

// Hang makes calls from..to of op never answer: each is held until the client
// gives up on it.
func Hang(op string, from, to int) Fault {
	return Fault{Op: op, From: from, To: to, Kind: FailHang}
}

// Happy is a realistic rollout of desired tasks that completes at completeAt:
// tasks start, pass health checks, the old tasks drain, ECS marks it COMPLETED.
func Happy(desired int, completeAt time.Duration) []Frame {
	q := completeAt / 4
	return []Frame{
		{At: 0, PriorRunning: desired},
		{At: q, Pending: desired, PriorRunning: desired, Events: []string{"has started " + strconv.Itoa(desired) + " tasks"}},
		{At: 2 * q, Running: desired, PriorRunning: desired},
		{At: 3 * q, Running: desired, PriorRunning: 0, Events: []string{"has stopped " + strconv.Itoa(desired) + " running tasks"}},
		{At: completeAt, Running: desired, Rollout: "COMPLETED", PriorGone: true, Events: []string{"deployment completed.", "has reached a steady state."}},
	}
}

// CircuitBreaker is a rollout whose tasks fail to start until the deployment
// circuit breaker marks it FAILED at failAt and ECS rolls back, the rollback
// completing rollbackFor later.
func CircuitBreaker(desired int, failAt, rollbackFor time.Duration, stopped StoppedTask) []Frame {
	return []Frame{
		{At: 0, PriorRunning: desired},
		{At: failAt / 3, Pending: 1, PriorRunning: desired},
		{At: failAt / 2, Failed: 1, PriorRunning: desired, Stopped: []StoppedTask{stopped}},
		{At: failAt, Failed: 3, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorRunning: desired,
			Rollback: &RollbackFrame{Running: desired}, Events: []string{"(deployment circuit breaker) rolling back to the previous task definition"}},
		// Once the rollback completes ECS lists only it: the service looks
		// stable, which is what the services-stable waiter takes for success.
		{At: failAt + rollbackFor, Failed: 3, Rollout: "FAILED", Reason: "ECS deployment circuit breaker: tasks failed to start.", PriorGone: true, NewGone: true,
			Rollback: &RollbackFrame{Running: desired, Rollout: "COMPLETED"}, Events: []string{"has reached a steady state."}},
	}
}
