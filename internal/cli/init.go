package cli

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	ucli "github.com/urfave/cli/v2"

	"github.com/graviton-cd/graviton-cd/internal/atomicfile"
	"github.com/graviton-cd/graviton-cd/internal/awsx"
	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/configfile"
)

func initCommand() *ucli.Command {
	str := func(name, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Usage: usage, EnvVars: envVars(name)}
	}
	return &ucli.Command{
		Name:  "init",
		Usage: "write a commented graviton-cd.hcl to start from, or one that describes a running ECS service",
		Description: "Without --from-service: a starter file with the stack's main settings and every other provision\n" +
			"setting as a comment, at its default. With --from-service CLUSTER/SERVICE (and --region): the\n" +
			"service's task definition read as ecspresso's init does: image, container name and port, cpu, memory,\n" +
			"network mode, environment and secrets (their ARNs; never a value), and the desired count.\n" +
			"An existing file is left alone unless --force is given (exit 2).",
		Flags: []ucli.Flag{
			str("config", "the file to write (default "+configfile.DefaultName+")"),
			&ucli.BoolFlag{Name: "force", Usage: "replace the file if it exists", EnvVars: envVars("force")},
			str("from-service", "CLUSTER/SERVICE: describe this running ECS service (cluster name or ARN)"),
			str("container", "with --from-service: the container the stack runs (default: the only one, else the one with a port)"),
			str("name", "stack name written in the file (default: with --from-service the service's name, else my-app)"),
			str("endpoint-url", "AWS endpoint of a local emulator such as moto (default AWS_ENDPOINT_URL)"),
		},
		Action: runInit,
	}
}

// initResult is init's --output json result.
type initResult struct {
	Path        string   `json:"path"`
	FromService *string  `json:"from_service"`
	Attributes  []string `json:"attributes"` // the attributes written uncommented, in file order
}

func runInit(c *ucli.Context) error {
	env, err := newRunEnv(c)
	if err != nil {
		return err
	}
	path := cmp.Or(c.String("config"), configfile.DefaultName)
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return config.Usagef("config", "%s is a directory: name the file to write", path)
		}
		if !c.Bool("force") {
			return config.Usagef("force", "%s exists: init leaves it as it is; give --force to replace it, or --config to write elsewhere", path)
		}
	}
	if fi, err := os.Stat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return config.Usagef("config", "%s: directory %s does not exist", path, filepath.Dir(path))
	}
	region := cmp.Or(env.region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	cs := newConfigSchema()
	var (
		sections []configfile.BlockEntries
		from     *string
	)
	if svc := c.String("from-service"); svc != "" {
		from = &svc
		req, err := initServiceRequest(c, svc, region)
		if err != nil {
			return err
		}
		cfg, err := awsx.Load(c.Context, awsx.Options{Region: req.region, EndpointURL: req.endpoint})
		if err != nil {
			return err
		}
		d, err := describeForInit(c.Context, awsx.NewECS(cfg), req)
		if err != nil {
			return err
		}
		sections, err = serviceFile(cs, d)
		if err != nil {
			return err
		}
	} else {
		name := cmp.Or(c.String("name"), "my-app")
		if _, err := config.ValidateStackRef(config.ProvisionInput{Name: name, Region: cmp.Or(region, "us-east-1")}); err != nil {
			return err
		}
		sections = starterFile(cs, name, cmp.Or(region, "us-east-1"))
	}
	header := []string{
		"graviton-cd.hcl: the stack and the app, read by provision, deploy, smoke-test, status and destroy " +
			"(from the working directory, or --config FILE). Each attribute is a flag with _ for -: the top level " +
			"holds provision's flags (graviton-cd provision --help), each block a command's own. A flag on the " +
			"command line, or its GRAVITON_CD_ variable, wins over the file. See docs/config-file.md.",
	}
	if from != nil {
		header = append(header, "", "Written by graviton-cd init --from-service "+*from+".")
	}
	data, err := configfile.Write(header, sections)
	if err != nil {
		return err
	}
	// What init writes must read back: a flag init does not know how to say
	// would show here, not in the user's next provision.
	if _, err := configfile.Parse(path, data, cs.schema); err != nil {
		return fmt.Errorf("init wrote a file it cannot read back (a bug; please report it): %w", err)
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return err
	}
	res := initResult{Path: path, FromService: from, Attributes: []string{}}
	for _, sec := range sections {
		for _, e := range sec.Entries {
			if !e.Commented {
				res.Attributes = append(res.Attributes, strings.TrimPrefix(sec.Block+".", ".")+e.Attr.Name)
			}
		}
	}
	text := fmt.Sprintf("wrote %s: review it, then run graviton-cd provision", path)
	if from != nil {
		text = fmt.Sprintf("wrote %s from service %s: review it, then run graviton-cd provision", path, *from)
	}
	return env.result(text, res)
}

// starterFile is the stack's main settings at their defaults, every other
// provision flag with a default as a comment, and the deploy and smoke-test
// blocks with their defaults as comments.
func starterFile(cs configSchema, name, region string) []configfile.BlockEntries {
	active := map[string]string{"name": name, "region": region}
	main := []string{"name", "region", "image", "container-port", "cpu", "memory", "desired-count", "health-check-path", "instance-type"}
	top := configfile.BlockEntries{}
	for _, flag := range main {
		a, ok := cs.attrOf(topLevelCommand, flag)
		if !ok {
			continue
		}
		v := cmp.Or(active[flag], cs.defaults[topLevelCommand][flag])
		top.Entries = append(top.Entries, configfile.Entry{Attr: a, Values: []string{v}})
	}
	top.Entries = append(top.Entries, commentedDefaults(cs, topLevelCommand, main)...)
	sections := []configfile.BlockEntries{top}
	for _, command := range []string{"deploy", "smoke-test"} {
		block := configfile.BlockEntries{Block: configfile.AttrName(command),
			Note: fmt.Sprintf("graviton-cd %s's own settings (graviton-cd %s --help); the stack's come from the top level.", command, command)}
		if command == "deploy" {
			if a, ok := cs.attrOf(command, "rollback-on-failure"); ok {
				block.Entries = append(block.Entries, configfile.Entry{Attr: a, Values: []string{"true"}})
			}
		}
		block.Entries = append(block.Entries, commentedDefaults(cs, command, nil)...)
		sections = append(sections, block)
	}
	return sections
}

// commentedDefaults are command's flags that have a default, each as a
// commented line at that default; a block leaves out what the top level says.
func commentedDefaults(cs configSchema, command string, skip []string) []configfile.Entry {
	var out []configfile.Entry
	block := ""
	if command != topLevelCommand {
		block = configfile.AttrName(command)
	}
	for _, sec := range cs.schema {
		if sec.Block != block {
			continue
		}
		for _, a := range sec.Attrs {
			def := cs.defaults[command][a.Flag]
			if def == "" || slices.Contains(skip, a.Flag) || slices.Contains(cs.globals, a.Flag) || a.Kind == configfile.List {
				continue
			}
			if command != topLevelCommand {
				if _, atTop := cs.attrOf(topLevelCommand, a.Flag); atTop && cs.reaches(command, configfile.Setting{Attr: a}) {
					continue
				}
			}
			out = append(out, configfile.Entry{Attr: a, Values: []string{def}, Commented: true})
		}
	}
	return out
}

// initService is what --from-service names, checked before any AWS call.
type initService struct {
	cluster, service, container, name, region, endpoint string
}

func initServiceRequest(c *ucli.Context, svc, region string) (initService, error) {
	i := strings.LastIndex(svc, "/")
	if i <= 0 || i == len(svc)-1 {
		return initService{}, config.Usagef("from-service", "%q is not CLUSTER/SERVICE: give the cluster's name (or ARN) and the service's name, such as demo/web", svc)
	}
	r := initService{cluster: svc[:i], service: svc[i+1:], container: c.String("container"), name: c.String("name"),
		region: region, endpoint: cmp.Or(c.String("endpoint-url"), os.Getenv("AWS_ENDPOINT_URL"))}
	if err := awsx.Region(r.region); err != nil {
		return r, err
	}
	if r.region == "" {
		return r, config.Usagef("region", "init --from-service needs the service's region: pass --region or set AWS_REGION")
	}
	if r.endpoint != "" {
		if err := config.CheckEndpoint(r.endpoint); err != nil {
			return r, err
		}
	}
	if r.name != "" {
		if _, err := config.ValidateStackRef(config.ProvisionInput{Name: r.name, Region: r.region}); err != nil {
			return r, err
		}
	}
	return r, nil
}

// initECS is what init --from-service reads of ECS.
type initECS interface {
	DescribeServices(ctx context.Context, in *ecs.DescribeServicesInput, o ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(ctx context.Context, in *ecs.DescribeTaskDefinitionInput, o ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
}

var _ initECS = awsx.ECS{}

// describedService is a service and the container of its task definition
// that the stack runs.
type describedService struct {
	req       initService
	service   ecstypes.Service
	taskDef   ecstypes.TaskDefinition
	container ecstypes.ContainerDefinition
}

func describeForInit(ctx context.Context, api initECS, req initService) (describedService, error) {
	d := describedService{req: req}
	out, err := api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(req.cluster), Services: []string{req.service}})
	if err != nil {
		return d, fmt.Errorf("describe service %s in cluster %s: %w", req.service, req.cluster, err)
	}
	if len(out.Services) == 0 || aws.ToString(out.Services[0].Status) == "INACTIVE" {
		return d, fmt.Errorf("describe service %s in cluster %s: no such active service (check --from-service and --region)", req.service, req.cluster)
	}
	d.service = out.Services[0]
	td, err := api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: d.service.TaskDefinition})
	if err != nil {
		return d, fmt.Errorf("describe task definition %s: %w", aws.ToString(d.service.TaskDefinition), err)
	}
	d.taskDef = *td.TaskDefinition
	d.container, err = pickContainer(d.taskDef.ContainerDefinitions, req.container)
	return d, err
}

// pickContainer is the named container, else the only one, else the only
// one with a port mapping (the one behind the load balancer).
func pickContainer(defs []ecstypes.ContainerDefinition, name string) (ecstypes.ContainerDefinition, error) {
	var names []string
	var withPort []ecstypes.ContainerDefinition
	for _, cd := range defs {
		if name != "" && aws.ToString(cd.Name) == name {
			return cd, nil
		}
		names = append(names, aws.ToString(cd.Name))
		if len(cd.PortMappings) > 0 {
			withPort = append(withPort, cd)
		}
	}
	switch {
	case name != "":
		return ecstypes.ContainerDefinition{}, config.Usagef("container", "the task definition has no container %q: it has %s", name, strings.Join(names, ", "))
	case len(defs) == 1:
		return defs[0], nil
	case len(withPort) == 1:
		return withPort[0], nil
	}
	return ecstypes.ContainerDefinition{}, config.Usagef("container", "the task definition has %d containers (%s): pick one with --container", len(defs), strings.Join(names, ", "))
}

// serviceFile says the described service as the file's top level.
func serviceFile(cs configSchema, d describedService) ([]configfile.BlockEntries, error) {
	name := cmp.Or(d.req.name, aws.ToString(d.service.ServiceName))
	if _, err := config.ValidateStackRef(config.ProvisionInput{Name: name, Region: d.req.region}); err != nil {
		return nil, fmt.Errorf("the service's name cannot name a stack: give --name: %w", err)
	}
	cd := d.container
	values := []struct {
		flag   string
		values []string
		asMap  bool
		note   string
	}{
		{flag: "name", values: []string{name}},
		{flag: "region", values: []string{d.req.region}},
		{flag: "image", values: []string{aws.ToString(cd.Image)}},
		{flag: "container-name", values: []string{aws.ToString(cd.Name)}},
	}
	add := func(flag string, v string) {
		if v != "" && v != "0" {
			values = append(values, struct {
				flag   string
				values []string
				asMap  bool
				note   string
			}{flag: flag, values: []string{v}})
		}
	}
	if len(cd.PortMappings) > 0 {
		add("container-port", strconv.Itoa(int(aws.ToInt32(cd.PortMappings[0].ContainerPort))))
	}
	// Task-level cpu and memory, else the container's.
	add("cpu", cmp.Or(aws.ToString(d.taskDef.Cpu), nonZero(cd.Cpu)))
	add("memory", cmp.Or(aws.ToString(d.taskDef.Memory), nonZero(aws.ToInt32(cd.Memory)), nonZero(aws.ToInt32(cd.MemoryReservation))))
	add("desired-count", strconv.Itoa(int(d.service.DesiredCount)))
	add("network-mode", string(d.taskDef.NetworkMode))
	env := map[string]string{}
	for _, kv := range cd.Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	secrets := map[string]string{}
	for _, s := range cd.Secrets {
		secrets[aws.ToString(s.Name)] = secretARN(aws.ToString(s.ValueFrom), aws.ToString(d.taskDef.TaskDefinitionArn))
	}
	top := configfile.BlockEntries{}
	for _, v := range values {
		a, ok := cs.attrOf(topLevelCommand, v.flag)
		if !ok {
			continue
		}
		e := configfile.Entry{Attr: a, Values: v.values}
		if a.Kind == configfile.Int {
			n, ok := ecsUnits(v.values[0])
			if !ok {
				// Shown, commented, for the user to settle.
				e.Attr.Kind, e.Commented = configfile.String, true
				e.Note = fmt.Sprintf("the service's %s, which is not a whole number; write it as one", a.Name)
			}
			e.Values = []string{n}
		}
		top.Entries = append(top.Entries, e)
	}
	for _, m := range []struct {
		flag, what string
		items      map[string]string
	}{{"env", "environment", env}, {"secret", "secrets (their ARNs: the values stay in SSM or Secrets Manager)", secrets}} {
		if len(m.items) == 0 {
			continue
		}
		a, ok := cs.attrOf(topLevelCommand, m.flag)
		e := configfile.Entry{Attr: a, Values: configfile.SortedItems(m.items), AsMap: true}
		if !ok || a.Kind != configfile.List {
			// This graviton-cd has no such flag: keep what the service has, as a comment.
			e.Attr = configfile.Attr{Name: configfile.AttrName(m.flag), Kind: configfile.List}
			e.Commented = true
			e.Note = fmt.Sprintf("the service's %s; this graviton-cd has no --%s flag to carry it", m.what, m.flag)
		}
		top.Entries = append(top.Entries, e)
	}
	return []configfile.BlockEntries{top}, nil
}

func nonZero(n int32) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(int(n))
}

// ecsUnits reads a task definition's cpu or memory: a whole number, or
// "N vCPU" (1024 units each) or "N GB" (1024 MiB each), as ECS also accepts.
func ecsUnits(v string) (string, bool) {
	if _, err := strconv.Atoi(v); err == nil {
		return v, true
	}
	f := strings.Fields(strings.ToLower(v))
	if len(f) == 2 && (f[1] == "vcpu" || f[1] == "gb") {
		if x, err := strconv.ParseFloat(f[0], 64); err == nil && x > 0 && x*1024 == float64(int(x*1024)) {
			return strconv.Itoa(int(x * 1024)), true
		}
	}
	return v, false
}

// secretARN is a task definition's valueFrom as an ARN: an SSM parameter
// in the task's own region and account may be named by its name alone.
func secretARN(valueFrom, taskDefARN string) string {
	if strings.HasPrefix(valueFrom, "arn:") {
		return valueFrom
	}
	td, err := arn.Parse(taskDefARN)
	if err != nil {
		return valueFrom
	}
	return arn.ARN{Partition: td.Partition, Service: "ssm", Region: td.Region, AccountID: td.AccountID,
		Resource: "parameter/" + strings.TrimPrefix(valueFrom, "/")}.String()
}
