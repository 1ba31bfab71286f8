// Package ecsdeploy ships a new image to an ECS service and follows that exact
// deployment to a verdict: register a task definition revision that changes
// only one container's image, update the service, then poll until the new
// deployment is COMPLETED, FAILED, rolled back, gone or out of time.
//
// # Verdicts
//
// Success is the followed deployment (by the ID UpdateService returned) being
// PRIMARY with rolloutState COMPLETED, or, where ECS gives no rolloutState,
// the only deployment with running == desired. Failure is rolloutState
// FAILED, the deployment disappearing, another deployment becoming PRIMARY
// (on a different task definition: a rollback; on the same: superseded), the
// service going away, or the deadline. Unlike the SDK's ServicesStable waiter
// (and `aws ecs wait services-stable`), a service that is stable again after a
// circuit-breaker rollback is a failure here.
//
// # Polling
//
// One loop drives a fetcher in the copilot-cli stream style (Fetch returns the
// next poll time, whether the verdict is in, and an error) on an injected
// Clock: every second for the first 45 s, then backing off by a quarter per
// poll to every 5 s, so at most 60 DescribeServices calls in the first minute
// and 12 a minute after. Throttling, 5xx answers and network errors are
// retried with sethvargo/go-retry's exponential backoff with jitter (never
// faster than the schedule) and never end a deployment; other errors do at
// once. One deadline covers the deploy; a rollback gets one of its own.
//
// # Progress
//
// Every poll prints only what changed: the deployment's state and counts,
// service events newer than the deployment (once each; "unable to place a
// task" explained as a capacity problem), stopped tasks of the deployment with
// their reasons (once each, looked up only when its failedTasks count rises),
// and at a failure the last lines of the failed task's awslogs stream.
//
// # Emulators
//
// moto takes the new revision but never starts a deployment or progresses a
// rollout. Request.NoWait (the CLI's --no-wait) stops after UpdateService and
// accepts such an answer; without it, a missing deployment is an error that
// says so. The waiting is proven by the protocol-level tests against
// package ecsfake instead.
//
// # Benchmark
//
// BenchmarkFollow plays scripted rollouts through the real SDK client and
// ecsfake on a virtual clock and reports, beside the same timelines judged by
// services-stable semantics (15 s polling), how long after the verdict the
// follow returned, how many DescribeServices calls it made, and whether its
// verdict was right:
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/ecsdeploy/
package ecsdeploy
