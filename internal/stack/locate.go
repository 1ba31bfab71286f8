package stack

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
)

// Ref names a stack for the steps after provision: by name, region and
// where its state lives.
type Ref struct {
	Name        string
	Region      string
	EndpointURL string
	State       config.StateBackend // S3 with an empty Bucket: the default bucket
	Dir         string              // the stack directory (the state, for local state)
}

// DefaultDir is the stack directory (the local cache of a stack's module,
// plan and outputs) when --dir is not given: one per stack name, so that two
// stacks in one workspace never share one.
func DefaultDir(name string) string {
	return filepath.Join("graviton-cd-stack", name)
}

// RecordKey is the object key of the stack record beside the state:
// graviton-cd/<name>/stack.json for the default state key.
func RecordKey(stateKey string) string {
	if path.Base(stateKey) == "terraform.tfstate" {
		return path.Join(path.Dir(stateKey), SettingsFile)
	}
	return stateKey + "." + SettingsFile
}

// ObjectAPI reads and writes a stack's state and record in S3.
type ObjectAPI interface {
	GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// S3API is the S3 the lifecycle uses: the state bucket and its objects.
type S3API interface {
	StateBucketAPI
	ObjectAPI
}

// store reads a stack's state and record where they live.
type store struct {
	state config.StateBackend
	dir   string
	s3    S3API // nil for local state
}

// openStore resolves the state location (the default bucket's name needs the
// account) and opens it. create makes the default bucket when it is missing;
// otherwise a missing bucket leaves exists false.
func openStore(ctx context.Context, deps Deps, cfg aws.Config, sb config.StateBackend, dir string, create bool) (st store, exists bool, err error) {
	st = store{state: sb, dir: dir}
	if sb.Kind != config.BackendS3 {
		return st, true, nil
	}
	if st.state.Region == "" {
		st.state.Region = cfg.Region
	}
	st.s3 = deps.s3(cfg, st.state.Region)
	if st.state.Bucket == "" {
		account, err := AccountID(ctx, deps.sts(cfg))
		if err != nil {
			return st, false, err
		}
		st.state.Bucket = DefaultStateBucket(account, st.state.Region)
		if create {
			plainHTTP := strings.HasPrefix(aws.ToString(cfg.BaseEndpoint), "http://")
			return st, true, EnsureStateBucket(ctx, st.s3, st.state.Bucket, st.state.Region, plainHTTP, deps.Log)
		}
	}
	exists, err = BucketExists(ctx, st.s3, st.state.Bucket)
	return st, exists, err
}

// where says where the state is, for messages.
func (s store) where() string {
	if s.s3 == nil {
		return filepath.Join(s.dir, "terraform.tfstate")
	}
	return "s3://" + s.state.Bucket + "/" + s.state.Key
}

// readState returns the raw state, or nil when there is none yet.
func (s store) readState(ctx context.Context) ([]byte, error) {
	if s.s3 == nil {
		b, err := os.ReadFile(filepath.Join(s.dir, "terraform.tfstate"))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	return s.get(ctx, s.state.Key)
}

// readRecord returns the stack record, or false when there is none.
func (s store) readRecord(ctx context.Context) (Settings, bool, error) {
	var rec Settings
	if s.s3 == nil {
		b, err := os.ReadFile(filepath.Join(s.dir, SettingsFile))
		if errors.Is(err, os.ErrNotExist) {
			return rec, false, nil
		}
		if err != nil {
			return rec, false, fmt.Errorf("read stack record: %w", err)
		}
		if err := json.Unmarshal(b, &rec); err != nil || rec.Name == "" {
			return rec, false, fmt.Errorf("read stack record %s: not a graviton-cd stack file", filepath.Join(s.dir, SettingsFile))
		}
		return rec, rec.StackID != "", nil
	}
	b, err := s.get(ctx, RecordKey(s.state.Key))
	if err != nil || b == nil {
		return rec, false, err
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Name == "" {
		return rec, false, fmt.Errorf("read stack record s3://%s/%s: not a graviton-cd stack record", s.state.Bucket, RecordKey(s.state.Key))
	}
	return rec, true, nil
}

// writeRecord stores the stack record beside the state (for local state,
// WriteSettings in the stack directory is the record).
func (s store) writeRecord(ctx context.Context, rec Settings) error {
	if s.s3 == nil {
		return WriteSettings(s.dir, rec)
	}
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stack record: %w", err)
	}
	key := RecordKey(s.state.Key)
	_, err = s.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.state.Bucket), Key: aws.String(key), Body: bytes.NewReader(append(b, '\n')),
		ContentType: aws.String("application/json"), ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	if err != nil {
		return fmt.Errorf("write stack record s3://%s/%s: %w", s.state.Bucket, key, err)
	}
	return nil
}

func (s store) get(ctx context.Context, key string) ([]byte, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.state.Bucket), Key: aws.String(key)})
	if err != nil {
		var nk *s3types.NoSuchKey
		if errors.As(err, &nk) || errorCode(err) == "NoSuchKey" || httpStatus(err) == 404 {
			return nil, nil
		}
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.state.Bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("read s3://%s/%s: %w", s.state.Bucket, key, err)
	}
	return b, nil
}

// newStackID returns 16 hex digits from r.
func newStackID(r io.Reader) (string, error) {
	b := make([]byte, 8)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("generate stack ID: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Found is a stack found by its name: its outputs and record, read from its
// state without terraform.
type Found struct {
	Outputs   Outputs
	Record    *Settings // nil for a stack provisioned before stack records
	StackID   string
	Ephemeral bool
	State     config.StateBackend // resolved: the default bucket named
	Where     string              // the state's location, for messages
	Addresses []string            // managed resources in the state
}

// Find reads a stack's outputs from its state: the S3 object itself (no
// terraform needed) or the local state file. A stack with no state, or none
// with outputs, is a usage error that says where it looked.
func Find(ctx context.Context, deps Deps, ref Ref) (Found, error) {
	var f Found
	cfg, err := deps.awsConfig(ctx, awsx.Options{Region: ref.Region, EndpointURL: ref.EndpointURL})
	if err != nil {
		return f, err
	}
	st, exists, err := openStore(ctx, deps, cfg, ref.State, ref.Dir, false)
	if err != nil {
		return f, err
	}
	f.State, f.Where = st.state, st.where()
	if !exists {
		return f, config.Usagef("name", "no stack %s in %s: state bucket %s does not exist (check --region, --state-bucket; or provision it first)", ref.Name, cfg.Region, st.state.Bucket)
	}
	raw, err := st.readState(ctx)
	if err != nil {
		return f, err
	}
	outs, err := StateOutputs(raw)
	if err != nil {
		return f, err
	}
	f.Addresses, _ = ManagedAddresses(raw)
	if len(outs) == 0 || len(f.Addresses) == 0 {
		return f, config.Usagef("name", "no stack %s: %s holds no resources (check --name, --region and the state flags, or provision it first)", ref.Name, f.Where)
	}
	f.Outputs = OutputsFrom(outs)
	if f.Outputs.StackName != "" && f.Outputs.StackName != ref.Name {
		return f, config.Usagef("name", "%s holds stack %q, not %q: check --state-key", f.Where, f.Outputs.StackName, ref.Name)
	}
	f.StackID, f.Ephemeral = outs[hclgen.OutputStackID], outs[hclgen.OutputEphemeral] == "true"
	if rec, ok, err := st.readRecord(ctx); err != nil {
		return f, err
	} else if ok {
		f.Record = &rec
		f.StackID, f.Ephemeral = rec.StackID, rec.Ephemeral
	}
	return f, nil
}

// StateOutputs returns the root module's string outputs of a raw state.
func StateOutputs(raw []byte) (map[string]string, error) {
	st, err := parseState(raw)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(st.Outputs))
	for k, o := range st.Outputs {
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			m[k] = s
		}
	}
	return m, nil
}
