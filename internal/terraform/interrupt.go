package terraform

import (
	"context"
	"fmt"
	"time"
)

// What happens when graviton-cd is interrupted (a cancelled job's SIGTERM,
// SIGINT, or --timeout) while terraform runs:
//
//  1. apply and destroy are left alone for up to FinishInFlight, so that a
//     resource being created is created and recorded in state. No signal is
//     sent: terraform-exec's interrupt would reach the provider as
//     StopProvider, and the AWS provider then cancels the context of every
//     call in flight, including a Create whose request AWS has already
//     carried out, so its ID never reaches state (hashicorp/terraform#33358;
//     OpenTofu 1.12's backend/local opWait and tofu.Context.Stop do the same
//     as Terraform's). A run that ends within this time ends normally.
//  2. Then terraform gets one SIGINT (terraform-exec's cmd.Cancel, sent to
//     its process, which stops starting new operations, asks the providers
//     to stop, writes state and releases the lock) and up to
//     GracefulStop-FinishInFlight to exit.
//  3. Then terraform-exec kills it (cmd.WaitDelay).
//
// init, plan, output and the like change nothing in AWS: they get the SIGINT
// at once and the same time to exit.
//
// A SIGKILL of graviton-cd itself (a runner that dies, an OOM kill) kills
// terraform at once (terraform-exec sets Pdeathsig); a resource created in
// that moment is an orphan, which the next provision imports (see
// internal/ownership).

// GracefulStop is the longest an interrupted terraform keeps running before
// it is killed: FinishInFlight unsignalled, then the rest after an interrupt.
const GracefulStop = 90 * time.Second

// FinishInFlight is how long an interrupted apply or destroy runs on before
// terraform is asked to stop.
const FinishInFlight = 60 * time.Second

// stopTimes are the two phases above; tests shorten them.
type stopTimes struct {
	finish time.Duration // unsignalled, apply and destroy only
	exit   time.Duration // after the interrupt, before the kill
}

func defaultStopTimes() stopTimes {
	return stopTimes{finish: FinishInFlight, exit: GracefulStop - FinishInFlight}
}

// setStopTimes applies st to both terraform-exec handles.
func (e *Exec) setStopTimes(st stopTimes) error {
	for _, tf := range []interface{ SetWaitDelay(time.Duration) error }{e.tf, e.quiet} {
		if err := tf.SetWaitDelay(st.exit); err != nil {
			return fmt.Errorf("prepare terraform: %w", err)
		}
	}
	e.stop = st
	return nil
}

// finishInFlight returns the context to run an apply or destroy under: it is
// cancelled (and terraform-exec interrupts terraform) FinishInFlight after
// ctx is, or at once if the returned done is called first. done must be
// called when the command has returned.
func (e *Exec) finishInFlight(ctx context.Context, op string) (context.Context, func()) {
	run, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	finished := make(chan struct{})
	stopWatching := context.AfterFunc(ctx, func() {
		e.log.Printf("interrupted: letting terraform %s finish the operations in flight for up to %s before asking it to stop", op, e.stop.finish)
		t := time.NewTimer(e.stop.finish)
		defer t.Stop()
		select {
		case <-t.C:
			e.log.Printf("interrupting terraform %s; it has %s to save state and release the lock", op, e.stop.exit)
		case <-finished:
		}
		cancel(context.Cause(ctx))
	})
	return run, func() {
		close(finished)
		stopWatching()
		cancel(nil)
	}
}

// changeWorld runs an apply or destroy (run) so that an interrupt lets the
// operations in flight finish. An error of a run that ended on its own is
// terraform's error, even when ctx was cancelled meanwhile.
func (e *Exec) changeWorld(ctx context.Context, op string, run func(context.Context) error) error {
	name := "terraform " + op
	if ctx.Err() != nil {
		return &InterruptedError{Op: name, Err: ctx.Err()}
	}
	runCtx, done := e.finishInFlight(ctx, op)
	err := run(runCtx)
	interrupted := runCtx.Err() != nil
	done()
	switch {
	case err == nil:
		return nil
	case interrupted:
		return wrap(ctx, name, err) // ctx is cancelled: an *InterruptedError saying why
	default:
		return e.uiError(context.WithoutCancel(ctx), name, err)
	}
}
