package ecsdeploy

import (
	"fmt"
	"strings"
	"time"

	"github.com/graviton-cd/graviton-cd/internal/config"
)

// ServiceNotActiveError says the service is missing, DRAINING or INACTIVE, so
// there is nothing to deploy to (or it went away during the deployment).
type ServiceNotActiveError struct {
	Cluster string
	Service string
	Status  string // MISSING, DRAINING or INACTIVE
	// ClusterMissing says the cluster itself does not exist.
	ClusterMissing bool
	// BadInput says the service or cluster was missing before the deploy
	// changed anything: the flags name something that does not exist, which
	// is bad input (exit 2), not a failed deployment.
	BadInput bool
}

// Error says what happened and what to do next.
func (e *ServiceNotActiveError) Error() string {
	if e.ClusterMissing {
		return fmt.Sprintf("cluster %s not found: check --cluster and the region (or run provision first)", e.Cluster)
	}
	if e.Status == "MISSING" {
		return fmt.Sprintf("service %s not found in cluster %s: check --cluster and --service (or run provision first)", e.Service, e.Cluster)
	}
	return fmt.Sprintf("service %s in cluster %s is %s: it is being deleted; run provision to recreate it", e.Service, e.Cluster, e.Status)
}

// Unwrap makes a service or cluster that was missing from the start a
// *config.UsageError, so that the CLI exits 2 with this one message.
func (e *ServiceNotActiveError) Unwrap() error {
	if !e.BadInput {
		return nil
	}
	flag := "service"
	if e.ClusterMissing {
		flag = "cluster"
	}
	return &config.UsageError{Flag: flag, Msg: e.Error()}
}

// DeploymentFailedError says ECS marked the deployment FAILED, for example
// because the deployment circuit breaker tripped.
type DeploymentFailedError struct {
	DeploymentID string
	Reason       string // rolloutStateReason
	// RollbackTaskDefinition is the task definition ECS rolled back to, if the
	// circuit breaker started a rollback.
	RollbackTaskDefinition string
	// StoppedReasons are the distinct reasons the deployment's tasks stopped.
	StoppedReasons []string
}

// Error says what happened and what to do next.
func (e *DeploymentFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "deployment %s failed", e.DeploymentID)
	if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimRight(e.Reason, ". "))
	}
	if e.RollbackTaskDefinition != "" {
		fmt.Fprintf(&b, " (ECS rolled back to %s)", e.RollbackTaskDefinition)
	}
	if len(e.StoppedReasons) > 0 {
		fmt.Fprintf(&b, "; tasks stopped with: %s", strings.Join(e.StoppedReasons, "; "))
	}
	b.WriteString("; read the stopped tasks and service events above, fix the image or task definition, and deploy again")
	return b.String()
}

// DeploymentRolledBackError says another deployment, on a different task
// definition, became PRIMARY before the followed one completed.
type DeploymentRolledBackError struct {
	DeploymentID          string
	PrimaryDeploymentID   string
	PrimaryTaskDefinition string
}

// Error says what happened and what to do next.
func (e *DeploymentRolledBackError) Error() string {
	return fmt.Sprintf("deployment %s was rolled back: deployment %s of %s is now PRIMARY; read the service events above for why", e.DeploymentID, e.PrimaryDeploymentID, e.PrimaryTaskDefinition)
}

// DeploymentSupersededError says another deployment of the same task
// definition replaced the followed one (someone deployed at the same time).
type DeploymentSupersededError struct {
	DeploymentID        string
	PrimaryDeploymentID string
}

// Error says what happened and what to do next.
func (e *DeploymentSupersededError) Error() string {
	return fmt.Sprintf("deployment %s was superseded by deployment %s before it completed: another deploy is running on this service; wait for it and deploy again", e.DeploymentID, e.PrimaryDeploymentID)
}

// DeploymentVanishedError says the followed deployment disappeared from the
// service before it completed.
type DeploymentVanishedError struct {
	DeploymentID string
	LastState    string
}

// Error says what happened and what to do next.
func (e *DeploymentVanishedError) Error() string {
	return fmt.Sprintf("deployment %s disappeared from the service before it completed (last seen: %s): someone changed the service meanwhile; check its events and deploy again", e.DeploymentID, e.LastState)
}

// DeploymentTimeoutError says the deadline passed before a verdict.
type DeploymentTimeoutError struct {
	DeploymentID string
	Timeout      time.Duration
	LastState    string
	// CompletedShort says ECS marked the deployment COMPLETED but it never
	// had every desired task running with none pending; Running, Desired and
	// Pending are its last counts.
	CompletedShort            bool
	Running, Desired, Pending int32
}

// Error says what happened and what to do next.
func (e *DeploymentTimeoutError) Error() string {
	if e.CompletedShort {
		return fmt.Sprintf("deployment %s did not finish within %s: ECS marked it COMPLETED, but %d of %d desired tasks were running (%d pending) when time ran out; "+
			"tasks that stop after they start (read the stopped tasks above) or too little capacity keep it short: fix that, or raise --timeout",
			e.DeploymentID, e.Timeout, e.Running, e.Desired, e.Pending)
	}
	last := strings.TrimPrefix(e.LastState, "deployment "+e.DeploymentID+" ")
	return fmt.Sprintf("deployment %s did not finish within %s (last state: %s): raise --timeout, or read the events above for what blocks it", e.DeploymentID, e.Timeout, last)
}
