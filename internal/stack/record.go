package stack

import (
	"context"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
)

// openRecord resolves where the stack's state lives (creating the default
// state bucket, unless p.RenderOnly), reads the stack record and sets
// p.State, p.StackID and p.Ephemeral from it. A stack without a record gets
// a new identity. persisted says the record beside the state is current.
func openRecord(ctx context.Context, deps Deps, p *config.Provision) (st store, rec Settings, persisted bool, err error) {
	var cfg aws.Config
	if p.State.Kind == config.BackendS3 {
		if cfg, err = deps.awsConfig(ctx, awsx.Options{Region: p.Region, EndpointURL: p.EndpointURL}); err != nil {
			return st, rec, false, err
		}
	} else {
		deps.Log.Printf("state is local, in %s: for throwaway stacks only (the default --state-backend s3 keeps it where every job and pipeline finds it)", p.Dir)
	}
	named := p.State.Bucket != ""
	st, exists, err := openStore(ctx, deps, cfg, p.State, p.Dir, !p.RenderOnly)
	if err != nil {
		return st, rec, false, err
	}
	if named && !exists {
		return st, rec, false, config.Usagef("state-bucket", "bucket %s does not exist (or is in another region than --state-region %s): create it, versioned and encrypted, or leave out --state-bucket to use graviton-cd's default bucket", p.State.Bucket, st.state.Region)
	}
	p.State = st.state
	if p.State.Kind == config.BackendS3 {
		deps.Log.Printf("state: %s (S3 lockfile)", st.where())
	}
	rec, found, err := st.readRecord(ctx)
	if err != nil {
		return st, rec, false, err
	}
	raw, err := st.readState(ctx)
	if err != nil {
		return st, rec, false, err
	}
	addrs, err := ManagedAddresses(raw)
	if err != nil {
		return st, rec, false, err
	}
	live := len(addrs) > 0
	persisted = found
	switch {
	case found && rec.Name != p.Name:
		return st, rec, false, config.Usagef("name", "%s records stack %q, not %q: give another --state-key or --dir", st.recordWhere(), rec.Name, p.Name)
	case found && p.Ephemeral && !rec.Ephemeral && live:
		return st, rec, false, config.Usagef("ephemeral", "stack %s was provisioned as long-lived (not --ephemeral), and a failing job's clean-up must never destroy it: drop --ephemeral, or destroy the stack and provision it again with --ephemeral", p.Name)
	case found && p.Ephemeral != rec.Ephemeral:
		deps.Log.Printf("stack %s is now ephemeral=%t (was %t)", p.Name, p.Ephemeral, rec.Ephemeral)
		rec.Ephemeral = p.Ephemeral
		persisted = false
	case !found:
		id, err := newStackID(deps.rand())
		if err != nil {
			return st, rec, false, err
		}
		rec = Settings{Name: p.Name, StackID: id, Ephemeral: p.Ephemeral, Created: deps.now().UTC().Format(time.RFC3339)}
		if live {
			deps.Log.Printf("state of stack %s holds %d resources but no stack record: the stack's identity is now %s", p.Name, len(addrs), id)
		} else {
			deps.Log.Printf("new stack %s: identity %s", p.Name, id)
		}
	}
	rec.Region, rec.EndpointURL, rec.TerraformVersion = p.Region, p.EndpointURL, p.TerraformVersion
	rec.State = locationOf(p.State)
	p.StackID, p.Ephemeral = rec.StackID, rec.Ephemeral
	return st, rec, persisted, nil
}

// recordWhere says where the stack record is, for messages.
func (s store) recordWhere() string {
	if s.s3 == nil {
		return filepath.Join(s.dir, SettingsFile)
	}
	return "s3://" + s.state.Bucket + "/" + RecordKey(s.state.Key)
}
