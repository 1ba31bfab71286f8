// Package ecsdeploy ships a new image to an ECS service and follows that exact
// deployment to a verdict: register a task definition revision that changes
// only one container's image, update the service, then poll until the new
// deployment is COMPLETED, FAILED, rolled back, gone or out of time.
//
// # Verdicts
//
// Success is the followed deployment (by the ID UpdateService returned) being
// PRIMARY with rolloutState COMPLETED and every desired task running (running
// == desired, none pending), or, where ECS gives no rolloutState, the only
// deployment with running == desired and none pending. COMPLETED with fewer
// tasks keeps the wait going (ECS keeps the state when tasks stop later and
// are replaced; copilot-cli's streamer likewise wants both), and a timeout
// then says so with the counts. Failure is rolloutState
// FAILED, the deployment disappearing, another deployment becoming PRIMARY
// (on a different task definition: a rollback; on the same: superseded), the
// service going away, or the deadline. Unlike the SDK's ServicesStable waiter
// (and `aws ecs wait services-stable`), a service that is stable again after a
// circuit-breaker rollback is a failure here.
//
// A service or cluster that does not exist when deploy first looks, before
// it changed anything, is bad input (a *ServiceNotActiveError that unwraps
// to a *config.UsageError, exit 2), not a failed deployment; so is
// Request.NoWait with RollbackOnFailure, refused by Validate.
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
// # Faults and the retry budget
//
// Every AWS call has a deadline of its own, Deployer.CallTimeout (5 s by
// default): a call that hangs costs one attempt, not the deploy's --timeout,
// and its "no answer within 5s" is retried like a reset connection. The
// SDK's retryer is off for the calls deploy retries itself
// (DescribeServices, DescribeTaskDefinition, RegisterTaskDefinition,
// UpdateService), so retries are not multiplied (the standard retryer's 3
// attempts, up to 20 s apart, inside each of ours) and none is hidden. The
// combined budget is then:
//
//   - one call: one HTTP attempt, at most CallTimeout;
//   - before the service is updated: throttling and 5xx answers are retried
//     until the deadline, backing off from 1 s to 10 s (±20%); failures with
//     no answer at all (reset, refused, timed out) at most 5 times in a row,
//     about 6 × 5 s + 25 s ≈ 55 s, then the deploy fails naming
//     --endpoint-url and the network;
//   - while following: a failed poll is retried at the later of the schedule
//     and the same backoff, with no count limit, until the deadline, which
//     it overruns by at most one CallTimeout;
//   - best-effort looks (stopped tasks, log tails) keep the SDK's retries,
//     all inside one CallTimeout, and are not retried by deploy.
//
// Repeating a call whose answer was lost is safe for the reads and for
// UpdateService: with the same task definition ECS starts no second
// deployment and answers with the one already started (with
// --force-new-deployment a repeat starts fresh tasks once more, and the
// deployment in the last answer is the one followed). RegisterTaskDefinition
// is not idempotent: after a failure that may have taken effect (no answer,
// a reset, a 5xx; not throttling) deploy first looks at the family's latest
// revision and, if it is newer than the service's and exactly the revision
// being registered, uses it instead of registering a second one. The
// revision deployed and reported is always one ECS answered for.
//
// # Progress
//
// Every poll prints only what changed: the deployment's state and counts,
// service events newer than the deployment (once each; "unable to place a
// task" explained as a capacity problem), stopped tasks of the deployment with
// their reasons (once each, looked up only when its failedTasks count rises),
// and at a failure the last lines of the failed task's awslogs stream.
// While nothing changes it prints a heartbeat a minute after the last line,
// and every minute after ("still waiting: 1/2 running, 1 pending; 4m10s of
// 15m"), waking between polls for it rather than polling more.
//
// # Blue/green, canary and linear services
//
// A service whose deploymentConfiguration.strategy is BLUE_GREEN, CANARY or
// LINEAR is judged on its service deployment (strategy.go), not on
// deployments[]: deploy finds the one its UpdateService started
// (ListServiceDeployments, by the target revision's number), follows it with
// DescribeServiceDeployments at most every 2 s, prints the lifecycle stage
// and traffic share on change, and calls SUCCESSFUL success and STOPPED or
// any ROLLBACK_* status failure, following ECS's rollback to its end. The
// default timeout grows by the bake and traffic steps. Request.Verify runs
// once test traffic reaches the new revision; a failure, or a timeout with
// RollbackOnFailure, is StopServiceDeployment with ROLLBACK, never another
// UpdateService. Services with the CODE_DEPLOY or EXTERNAL controller are
// refused before any change.
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
//
// BenchmarkVerifyRollback measures, on a blue/green service, the time from a
// failed check to the rollback request against waiting for the bake and
// deploying the old revision again.
package ecsdeploy
