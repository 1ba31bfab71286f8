package ownership

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbv2types "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
)

// network is the fake account's resources without a fixed name. EC2 answers
// one resource per page, so every lookup must follow NextToken.
type network struct {
	resources []netResource
	assocs    map[string][]assoc           // route table ID → its associations
	listeners map[string][]fakeListener    // load balancer ARN → its listeners
	natFilter bool                         // false: DescribeNatGateways ignores tag filters, as moto does
	tags      map[string]map[string]string // listener ARN → tags
}

type netResource struct {
	typ, id string
	tags    map[string]string
	state   ec2types.NatGatewayState // NAT gateways only
}

type assoc struct{ id, subnet string }

type fakeListener struct {
	arn  string
	port int32
}

func newNetwork() *network {
	return &network{assocs: map[string][]assoc{}, listeners: map[string][]fakeListener{}, tags: map[string]map[string]string{}}
}

func (n *network) add(typ, id string, tags map[string]string) {
	n.resources = append(n.resources, netResource{typ: typ, id: id, tags: tags, state: ec2types.NatGatewayStateAvailable})
}

// tagged is ours() with a Name tag.
func tagged(name string) map[string]string {
	t := ours()
	t["Name"] = name
	return t
}

// matching lists the resources of typ that pass filters (tag:K only).
func (w *world) matching(op, typ string, filters []ec2types.Filter, honour bool) ([]netResource, error) {
	if err := w.call(op, typ); err != nil {
		return nil, err
	}
	var out []netResource
	for _, r := range w.net.resources {
		if r.typ != typ {
			continue
		}
		ok := true
		for _, f := range filters {
			k, isTag := strings.CutPrefix(aws.ToString(f.Name), "tag:")
			if !isTag {
				return nil, apiErr("InvalidParameterValue")
			}
			v, has := r.tags[k]
			if honour && (!has || !slices.Contains(f.Values, v)) {
				ok = false
			}
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// onePage returns the item at token (one per page) and the next token.
func onePage[T any](items []T, token *string) ([]T, *string) {
	i := 0
	if token != nil {
		i, _ = strconv.Atoi(*token)
	}
	if i >= len(items) {
		return nil, nil
	}
	var next *string
	if i+1 < len(items) {
		next = aws.String(strconv.Itoa(i + 1))
	}
	return items[i : i+1], next
}

func ec2Tags(m map[string]string) []ec2types.Tag {
	var ts []ec2types.Tag
	for _, k := range slices.Sorted(maps.Keys(m)) {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return ts
}

func (w *world) DescribeVpcs(_ context.Context, in *ec2.DescribeVpcsInput, _ ...func(*ec2.Options)) (*ec2.DescribeVpcsOutput, error) {
	rs, err := w.matching("DescribeVpcs", "aws_vpc", in.Filters, true)
	if err != nil {
		return nil, err
	}
	rs, next := onePage(rs, in.NextToken)
	out := &ec2.DescribeVpcsOutput{NextToken: next}
	for _, r := range rs {
		out.Vpcs = append(out.Vpcs, ec2types.Vpc{VpcId: aws.String(r.id), Tags: ec2Tags(r.tags)})
	}
	return out, nil
}

func (w *world) DescribeSubnets(_ context.Context, in *ec2.DescribeSubnetsInput, _ ...func(*ec2.Options)) (*ec2.DescribeSubnetsOutput, error) {
	rs, err := w.matching("DescribeSubnets", "aws_subnet", in.Filters, true)
	if err != nil {
		return nil, err
	}
	rs, next := onePage(rs, in.NextToken)
	out := &ec2.DescribeSubnetsOutput{NextToken: next}
	for _, r := range rs {
		out.Subnets = append(out.Subnets, ec2types.Subnet{SubnetId: aws.String(r.id), Tags: ec2Tags(r.tags)})
	}
	return out, nil
}

func (w *world) DescribeInternetGateways(_ context.Context, in *ec2.DescribeInternetGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeInternetGatewaysOutput, error) {
	rs, err := w.matching("DescribeInternetGateways", "aws_internet_gateway", in.Filters, true)
	if err != nil {
		return nil, err
	}
	rs, next := onePage(rs, in.NextToken)
	out := &ec2.DescribeInternetGatewaysOutput{NextToken: next}
	for _, r := range rs {
		out.InternetGateways = append(out.InternetGateways, ec2types.InternetGateway{InternetGatewayId: aws.String(r.id), Tags: ec2Tags(r.tags)})
	}
	return out, nil
}

func (w *world) DescribeRouteTables(_ context.Context, in *ec2.DescribeRouteTablesInput, _ ...func(*ec2.Options)) (*ec2.DescribeRouteTablesOutput, error) {
	rs, err := w.matching("DescribeRouteTables", "aws_route_table", in.Filters, true)
	if err != nil {
		return nil, err
	}
	if len(in.RouteTableIds) > 0 {
		rs = slices.DeleteFunc(rs, func(r netResource) bool { return !slices.Contains(in.RouteTableIds, r.id) })
		if len(rs) == 0 {
			return nil, apiErr("InvalidRouteTableID.NotFound")
		}
	}
	rs, next := onePage(rs, in.NextToken)
	out := &ec2.DescribeRouteTablesOutput{NextToken: next}
	for _, r := range rs {
		t := ec2types.RouteTable{RouteTableId: aws.String(r.id), Tags: ec2Tags(r.tags)}
		for _, a := range w.net.assocs[r.id] {
			t.Associations = append(t.Associations, ec2types.RouteTableAssociation{
				RouteTableAssociationId: aws.String(a.id), SubnetId: aws.String(a.subnet), RouteTableId: aws.String(r.id),
				AssociationState: &ec2types.RouteTableAssociationState{State: ec2types.RouteTableAssociationStateCodeAssociated},
			})
		}
		out.RouteTables = append(out.RouteTables, t)
	}
	return out, nil
}

func (w *world) DescribeAddresses(_ context.Context, in *ec2.DescribeAddressesInput, _ ...func(*ec2.Options)) (*ec2.DescribeAddressesOutput, error) {
	rs, err := w.matching("DescribeAddresses", "aws_eip", in.Filters, true)
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeAddressesOutput{}
	for _, r := range rs {
		out.Addresses = append(out.Addresses, ec2types.Address{AllocationId: aws.String(r.id), Tags: ec2Tags(r.tags)})
	}
	return out, nil
}

func (w *world) DescribeNatGateways(_ context.Context, in *ec2.DescribeNatGatewaysInput, _ ...func(*ec2.Options)) (*ec2.DescribeNatGatewaysOutput, error) {
	rs, err := w.matching("DescribeNatGateways", "aws_nat_gateway", in.Filter, w.net.natFilter)
	if err != nil {
		return nil, err
	}
	rs, next := onePage(rs, in.NextToken)
	out := &ec2.DescribeNatGatewaysOutput{NextToken: next}
	for _, r := range rs {
		out.NatGateways = append(out.NatGateways, ec2types.NatGateway{NatGatewayId: aws.String(r.id), Tags: ec2Tags(r.tags), State: r.state})
	}
	return out, nil
}

func (w *world) DescribeListeners(_ context.Context, in *elbv2.DescribeListenersInput, _ ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error) {
	lb := aws.ToString(in.LoadBalancerArn)
	if err := w.call("DescribeListeners", lb); err != nil {
		return nil, err
	}
	ls, ok := w.net.listeners[lb]
	if !ok {
		return nil, &elbv2types.LoadBalancerNotFoundException{Message: aws.String("One or more load balancers not found")}
	}
	ls, next := onePage(ls, in.Marker)
	out := &elbv2.DescribeListenersOutput{NextMarker: next}
	for _, l := range ls {
		out.Listeners = append(out.Listeners, elbv2types.Listener{ListenerArn: aws.String(l.arn), LoadBalancerArn: aws.String(lb), Port: aws.Int32(l.port)})
	}
	return out, nil
}

const demoLB = arnBase + "loadbalancer/app/demo-alb/1"

// orphanNetwork puts into w the whole network of a --private-subnets stack
// called demo, with its identity, as a killed first apply leaves it, and
// returns the import ID of each address.
func orphanNetwork(w *world) map[string]string {
	n := w.net
	n.add("aws_vpc", "vpc-1", tagged("demo"))
	n.add("aws_internet_gateway", "igw-1", tagged("demo"))
	n.add("aws_eip", "eipalloc-1", tagged("demo-nat"))
	n.add("aws_nat_gateway", "nat-1", tagged("demo"))
	want := map[string]string{
		"aws_vpc.this": "vpc-1", "aws_internet_gateway.this": "igw-1", "aws_eip.nat": "eipalloc-1", "aws_nat_gateway.this": "nat-1",
		"aws_lb.this": demoLB, "aws_lb_listener.http": demoLB + "/listener-80",
	}
	for _, tier := range []string{"public", "private"} {
		rtb := "rtb-" + tier
		n.add("aws_route_table", rtb, tagged("demo-"+tier))
		want["aws_route_table."+tier] = rtb
		for i := range 2 {
			sn := "subnet-" + tier + strconv.Itoa(i)
			n.add("aws_subnet", sn, tagged("demo-"+tier+"-"+strconv.Itoa(i)))
			n.assocs[rtb] = append(n.assocs[rtb], assoc{"rtbassoc-" + tier + strconv.Itoa(i), sn})
			want["aws_subnet."+tier+"["+strconv.Itoa(i)+"]"] = sn
			want["aws_route_table_association."+tier+"["+strconv.Itoa(i)+"]"] = sn + "/" + rtb
		}
	}
	w.loadBalancers["demo-alb"] = ours()
	n.listeners[demoLB] = []fakeListener{{demoLB + "/listener-443", 443}, {demoLB + "/listener-80", 80}}
	n.tags[demoLB+"/listener-80"] = ours()
	return want
}

func privateStack() config.Provision {
	return config.Provision{Name: "demo", Region: "us-east-1", PrivateSubnets: true, StackID: ourID}
}

func unnamedInput(p config.Provision, inState map[string]string) Input {
	return Input{Resources: []hclgen.NamedResource{{Address: "aws_lb.this", Kind: hclgen.KindLoadBalancer, Name: "demo-alb"}},
		Unnamed: hclgen.UnnamedResources(p), StackID: p.StackID, InState: inState}
}

func importsOf(res Result) map[string]string {
	m := map[string]string{}
	for _, im := range res.Imports {
		m[im.Address] = im.ID
	}
	return m
}

// TestCheckImportsOrphanedNetwork: a first apply killed before it wrote any
// state leaves the whole network; every piece is found by its identity and
// Name tag (through every page), the associations by their ends, the
// listener on the imported load balancer by its port, each with the import
// ID the provider takes.
func TestCheckImportsOrphanedNetwork(t *testing.T) {
	w := newWorld()
	want := orphanNetwork(w)
	// moto ignores tag filters on NAT gateways: the check must not trust
	// them. A deleted NAT gateway of the stack and another stack's must not
	// count.
	w.net.resources = append(w.net.resources,
		netResource{typ: "aws_nat_gateway", id: "nat-deleted", tags: tagged("demo"), state: ec2types.NatGatewayStateDeleted},
		netResource{typ: "aws_nat_gateway", id: "nat-other", tags: map[string]string{config.StackIDTagKey: otherID, "Name": "demo"}, state: ec2types.NatGatewayStateAvailable},
	)
	p := privateStack()
	res, err := w.checker().Check(context.Background(), unnamedInput(p, nil))
	if err != nil || res.Err() != nil {
		t.Fatalf("Check = %v, %v", err, res.Err())
	}
	if got := importsOf(res); !maps.Equal(got, want) {
		t.Errorf("imports = %v\nwant      %v", got, want)
	}
	if len(res.Imports) != len(want) {
		t.Errorf("%d imports for %d addresses: one was imported twice", len(res.Imports), len(want))
	}
}

// TestCheckUnnamedAgainstState: what the state holds is not looked up and
// not imported again, under its own address or another; an association is
// found from a route table the state holds and a subnet being imported.
func TestCheckUnnamedAgainstState(t *testing.T) {
	w := newWorld()
	orphanNetwork(w)
	// A second subnet named demo-public-1 whose ID the state holds under
	// aws_subnet.public[0] (as after a rename): the state's, not an orphan,
	// so demo-public-1 is not ambiguous.
	w.net.add("aws_subnet", "subnet-held", tagged("demo-public-1"))
	inState := map[string]string{
		"aws_vpc.this": "vpc-1", "aws_internet_gateway.this": "igw-1", "aws_route_table.public": "rtb-public",
		"aws_subnet.public[0]": "subnet-held", "aws_route_table_association.public[0]": "rtbassoc-x",
		"aws_lb.this": demoLB,
	}
	p := config.Provision{Name: "demo", Region: "us-east-1", StackID: ourID}
	res, err := w.checker().Check(context.Background(), unnamedInput(p, inState))
	if err != nil || res.Err() != nil {
		t.Fatalf("Check = %v, %v", err, res.Err())
	}
	want := map[string]string{
		"aws_subnet.public[1]":                  "subnet-public1",
		"aws_route_table_association.public[1]": "subnet-public1/rtb-public",
		"aws_lb_listener.http":                  demoLB + "/listener-80",
	}
	if got := importsOf(res); !maps.Equal(got, want) {
		t.Errorf("imports = %v\nwant      %v", got, want)
	}
	for _, c := range w.calls {
		if c == "DescribeVpcs aws_vpc" || c == "DescribeInternetGateways aws_internet_gateway" || c == "DescribeLoadBalancers demo-alb" {
			t.Errorf("looked up %q, which the state holds", c)
		}
	}
}

// TestCheckUnnamedNeverGuesses: two resources with this stack's identity
// for one address are refused (exit 1, both listed); resources without the
// identity, or another stack's, are never imported; a listener on the
// stack's load balancer without the identity is refused, not adopted.
func TestCheckUnnamedNeverGuesses(t *testing.T) {
	w := newWorld()
	n := w.net
	n.add("aws_vpc", "vpc-a", tagged("demo"))
	n.add("aws_vpc", "vpc-b", tagged("demo"))
	n.add("aws_internet_gateway", "igw-stranger", map[string]string{"Name": "demo"})
	n.add("aws_internet_gateway", "igw-other", map[string]string{"Name": "demo", config.StackIDTagKey: otherID})
	n.add("aws_subnet", "subnet-misnamed", tagged("demo-public-7"))
	n.listeners[demoLB] = []fakeListener{{demoLB + "/listener-80", 80}}
	n.tags[demoLB+"/listener-80"] = map[string]string{"team": "x"}
	p := config.Provision{Name: "demo", Region: "us-east-1", StackID: ourID}
	res, err := w.checker().Check(context.Background(), unnamedInput(p, map[string]string{"aws_lb.this": demoLB}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imports) != 0 {
		t.Errorf("imported %v", res.Imports)
	}
	var got []string
	for _, u := range res.Unresolved {
		got = append(got, u.String())
	}
	want := []string{
		"aws_vpc.this: 2 aws_vpc carry this stack's identity and Name tag demo: vpc-a, vpc-b",
		"aws_lb_listener.http: the stack's load balancer has a listener on port 80 (" + demoLB + "/listener-80) that does not carry this stack's identity",
	}
	if !slices.Equal(got, want) {
		t.Errorf("unresolved = %q\nwant         %q", got, want)
	}
	err = res.Err()
	if err == nil || config.IsUsage(err) || !strings.Contains(err.Error(), "vpc-a, vpc-b") || !strings.Contains(err.Error(), "delete the others") {
		t.Errorf("Err = %v, want an operation error (exit 1) listing both VPCs and what to do", err)
	}
}

// TestCheckUnnamedLookupsNeedIdentityAndEnds: without an identity nothing is
// looked up; an association whose route table is not the stack's (yet) and
// a listener of a load balancer the stack does not have are not looked up;
// a failed lookup is an error, not absence.
func TestCheckUnnamedLookupsNeedIdentityAndEnds(t *testing.T) {
	w := newWorld()
	orphanNetwork(w)
	delete(w.loadBalancers, "demo-alb")
	w.net.resources = slices.DeleteFunc(w.net.resources, func(r netResource) bool { return r.typ == "aws_route_table" })
	p := privateStack()
	res, err := w.checker().Check(context.Background(), unnamedInput(p, nil))
	if err != nil || res.Err() != nil {
		t.Fatalf("Check = %v, %v", err, res.Err())
	}
	for addr := range importsOf(res) {
		if strings.HasPrefix(addr, "aws_route_table") || addr == "aws_lb_listener.http" {
			t.Errorf("imported %s without both of its ends", addr)
		}
	}
	for _, c := range w.calls {
		if c == "DescribeListeners "+demoLB {
			t.Errorf("looked for listeners of a load balancer the stack does not have")
		}
	}

	w.calls = nil
	p.StackID = ""
	in := unnamedInput(p, nil)
	in.Resources = nil
	if res, err := w.checker().Check(context.Background(), in); err != nil || len(res.Imports) != 0 || len(w.calls) != 0 {
		t.Errorf("without an identity: %+v, %v, calls %q; want nothing looked up", res, err, w.calls)
	}

	for _, op := range []string{"DescribeVpcs", "DescribeSubnets", "DescribeInternetGateways", "DescribeRouteTables", "DescribeAddresses", "DescribeNatGateways", "DescribeListeners"} {
		w := newWorld()
		orphanNetwork(w)
		w.fail[op] = apiErr("UnauthorizedOperation")
		_, err := w.checker().Check(context.Background(), unnamedInput(privateStack(), nil))
		if err == nil || !strings.Contains(err.Error(), "UnauthorizedOperation") || config.IsUsage(err) {
			t.Errorf("Check with %s denied = %v, want the error (exit 1)", op, err)
		}
	}
}
