package ownership

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/graviton-cd/graviton-cd/internal/config"
	"github.com/graviton-cd/graviton-cd/internal/hclgen"
)

// Unresolved is an address that provision will not decide for the user.
type Unresolved struct {
	Address string
	Why     string // "2 carry this stack's identity and Name tag demo-public-0: subnet-0a, subnet-0b"
}

// String is "aws_subnet.public[0]: 2 carry …".
func (u Unresolved) String() string { return u.Address + ": " + u.Why }

// unresolvedErr lists the unresolved addresses (exit 1: nothing was created,
// but the input was not wrong either; the account holds what it should not).
func (r Result) unresolvedErr() error {
	if len(r.Unresolved) == 0 {
		return nil
	}
	lines := make([]string, len(r.Unresolved))
	for i, u := range r.Unresolved {
		lines[i] = "  " + u.String()
	}
	return fmt.Errorf("%d resource(s) of this stack were found in AWS but cannot be imported without guessing, so nothing was imported or created:\n%s\n"+
		"Two or more carrying the stack's identity most likely come from a run that was killed and a later one that created them again: keep the one in use "+
		"and delete the others (in the AWS console, filter by the tag %s). One without the identity is not this stack's: delete it. Then rerun",
		len(r.Unresolved), strings.Join(lines, "\n"), config.StackIDTagKey)
}

// candidate is one resource in AWS that may be an unnamed resource's orphan.
type candidate struct {
	id       string // as the state records it (the resource's id attribute)
	importID string // as the provider's importer takes it
}

// checkUnnamed looks up each of in.Unnamed that the state lacks. Only
// resources that carry this stack's identity count (an association, which
// carries no tags, counts when both its ends are this stack's). A resource
// whose ID the state holds under another address is the state's, not an
// orphan. With no identity yet nothing can be proven, so nothing is looked up.
func (c *Checker) checkUnnamed(ctx context.Context, in Input, res *Result) error {
	if in.StackID == "" || len(in.Unnamed) == 0 {
		return nil
	}
	known := map[string]string{} // address → ID: the state's, then the imports'
	held := map[string]bool{}    // IDs the state holds
	for addr, id := range in.InState {
		known[addr] = id
		if id != "" {
			held[id] = true
		}
	}
	for _, im := range res.Imports {
		known[im.Address] = im.ID // the load balancer's ARN, for its listener
	}
	for _, r := range in.Unnamed {
		if _, ok := in.InState[r.Address]; ok {
			continue
		}
		var (
			found []candidate
			err   error
		)
		switch {
		case r.NameTag != "":
			found, err = c.tagged(ctx, r.Type, r.NameTag, in.StackID)
		case r.Subnet != "":
			found, err = c.association(ctx, known[r.Subnet], known[r.RouteTable])
		case r.LoadBalancer != "":
			var stranger string
			found, stranger, err = c.listener(ctx, known[r.LoadBalancer], r.Port, in.StackID)
			if err == nil && stranger != "" {
				res.Unresolved = append(res.Unresolved, Unresolved{r.Address, fmt.Sprintf(
					"the stack's load balancer has a listener on port %d (%s) that does not carry this stack's identity", r.Port, stranger)})
				continue
			}
		default:
			return fmt.Errorf("no lookup for %s: hclgen.UnnamedResources says nothing that recognises it", r.Address)
		}
		if err != nil {
			return fmt.Errorf("check whether %s was left in AWS by an earlier run: %w", r.Address, err)
		}
		found = slices.DeleteFunc(found, func(f candidate) bool { return held[f.id] })
		switch len(found) {
		case 0:
			continue
		case 1:
			res.Imports = append(res.Imports, Import{
				NamedResource: hclgen.NamedResource{Address: r.Address, Kind: r.Type, Name: r.NameTag},
				ID:            found[0].importID,
			})
			known[r.Address] = found[0].id
			held[found[0].id] = true
		default:
			ids := make([]string, len(found))
			for i, f := range found {
				ids[i] = f.id
			}
			res.Unresolved = append(res.Unresolved, Unresolved{r.Address, fmt.Sprintf(
				"%d %s carry this stack's identity%s: %s", len(found), r.Type, recognisedBy(r), strings.Join(ids, ", "))})
		}
	}
	return nil
}

func recognisedBy(r hclgen.UnnamedResource) string {
	switch {
	case r.NameTag != "":
		return " and Name tag " + r.NameTag
	case r.Subnet != "":
		return " and join " + r.Subnet + " and " + r.RouteTable
	}
	return fmt.Sprintf(" on port %d of %s", r.Port, r.LoadBalancer)
}

// identityFilters ask EC2 for resources tagged with this stack's identity
// and name. The answer is checked again (carriesIdentity), since an emulator may
// ignore tag filters on some calls (moto does on DescribeNatGateways).
func identityFilters(stackID, name string) []ec2types.Filter {
	return []ec2types.Filter{
		{Name: aws.String("tag:" + config.StackIDTagKey), Values: []string{stackID}},
		{Name: aws.String("tag:Name"), Values: []string{name}},
	}
}

// carriesIdentity reports whether an EC2 resource's tags carry this stack's identity
// and the Name the module gives it.
func carriesIdentity(tags []ec2types.Tag, stackID, name string) bool {
	var id, n bool
	for _, t := range tags {
		switch aws.ToString(t.Key) {
		case config.StackIDTagKey:
			id = aws.ToString(t.Value) == stackID
		case "Name":
			n = aws.ToString(t.Value) == name
		}
	}
	return id && n
}

// tagged finds the EC2 resources of one type that carry this stack's
// identity and Name tag. The import ID of each is its EC2 ID (the provider's
// "Import" sections: vpc-…, igw-…, subnet-…, rtb-…, eipalloc-…, nat-…).
func (c *Checker) tagged(ctx context.Context, typ, name, stackID string) ([]candidate, error) {
	filters := identityFilters(stackID, name)
	var ids []string
	add := func(id string, tags []ec2types.Tag) {
		if carriesIdentity(tags, stackID, name) {
			ids = append(ids, id)
		}
	}
	switch typ {
	case "aws_vpc":
		p := ec2.NewDescribeVpcsPaginator(c.EC2, &ec2.DescribeVpcsInput{Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe VPCs: %w", err)
			}
			for _, v := range page.Vpcs {
				add(aws.ToString(v.VpcId), v.Tags)
			}
		}
	case "aws_subnet":
		p := ec2.NewDescribeSubnetsPaginator(c.EC2, &ec2.DescribeSubnetsInput{Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe subnets: %w", err)
			}
			for _, s := range page.Subnets {
				add(aws.ToString(s.SubnetId), s.Tags)
			}
		}
	case "aws_internet_gateway":
		p := ec2.NewDescribeInternetGatewaysPaginator(c.EC2, &ec2.DescribeInternetGatewaysInput{Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe internet gateways: %w", err)
			}
			for _, g := range page.InternetGateways {
				add(aws.ToString(g.InternetGatewayId), g.Tags)
			}
		}
	case "aws_route_table":
		p := ec2.NewDescribeRouteTablesPaginator(c.EC2, &ec2.DescribeRouteTablesInput{Filters: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe route tables: %w", err)
			}
			for _, t := range page.RouteTables {
				add(aws.ToString(t.RouteTableId), t.Tags)
			}
		}
	case "aws_eip":
		out, err := c.EC2.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{Filters: filters}) // not paginated
		if err != nil {
			return nil, fmt.Errorf("describe Elastic IP addresses: %w", err)
		}
		for _, a := range out.Addresses {
			add(aws.ToString(a.AllocationId), a.Tags)
		}
	case "aws_nat_gateway":
		// A deleted NAT gateway stays visible for about an hour, and a
		// failed one until AWS removes it: neither is the stack's to keep.
		p := ec2.NewDescribeNatGatewaysPaginator(c.EC2, &ec2.DescribeNatGatewaysInput{Filter: filters})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe NAT gateways: %w", err)
			}
			for _, g := range page.NatGateways {
				if g.State == ec2types.NatGatewayStatePending || g.State == ec2types.NatGatewayStateAvailable {
					add(aws.ToString(g.NatGatewayId), g.Tags)
				}
			}
		}
	default:
		return nil, fmt.Errorf("no lookup by Name tag for resource type %s", typ)
	}
	cs := make([]candidate, len(ids))
	for i, id := range ids {
		cs[i] = candidate{id: id, importID: id}
	}
	return cs, nil
}

// association finds the association between a subnet and a route table,
// both this stack's (in its state or being imported; "" when neither). The
// provider imports it as "subnet-…/rtb-…"; the state records its rtbassoc-…
// ID.
func (c *Checker) association(ctx context.Context, subnet, routeTable string) ([]candidate, error) {
	if subnet == "" || routeTable == "" {
		return nil, nil
	}
	out, err := c.EC2.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{RouteTableIds: []string{routeTable}})
	if isNotFound(err, "InvalidRouteTableID.NotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe route table %s: %w", routeTable, err)
	}
	var cs []candidate
	for _, t := range out.RouteTables {
		if aws.ToString(t.RouteTableId) != routeTable {
			continue
		}
		for _, a := range t.Associations {
			if aws.ToString(a.SubnetId) != subnet {
				continue
			}
			if s := a.AssociationState; s != nil && s.State != ec2types.RouteTableAssociationStateCodeAssociated &&
				s.State != ec2types.RouteTableAssociationStateCodeAssociating {
				continue
			}
			cs = append(cs, candidate{id: aws.ToString(a.RouteTableAssociationId), importID: subnet + "/" + routeTable})
		}
	}
	return cs, nil
}

// listener finds the listeners on port of the stack's load balancer (its
// ARN; "" when the stack has none yet). The provider imports a listener by
// its ARN. A load balancer holds one listener per port, so a listener there
// without this stack's identity is returned as stranger: the stack cannot
// create its own, and must not adopt that one.
func (c *Checker) listener(ctx context.Context, lbARN string, port int, stackID string) (found []candidate, stranger string, err error) {
	if lbARN == "" {
		return nil, "", nil
	}
	var arns []string
	p := elbv2.NewDescribeListenersPaginator(c.ELB, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(lbARN)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if isNotFound(err, "LoadBalancerNotFound") {
			return nil, "", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("describe listeners of %s: %w", lbARN, err)
		}
		for _, l := range page.Listeners {
			if int(aws.ToInt32(l.Port)) == port {
				arns = append(arns, aws.ToString(l.ListenerArn))
			}
		}
	}
	if len(arns) == 0 {
		return nil, "", nil
	}
	out, err := c.ELB.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns})
	if isNotFound(err, "ListenerNotFound") {
		return nil, "", nil // deleted between the two calls
	}
	if err != nil {
		return nil, "", fmt.Errorf("describe tags of the listeners of %s: %w", lbARN, err)
	}
	tagged := map[string]bool{}
	for _, d := range out.TagDescriptions {
		for _, t := range d.Tags {
			if aws.ToString(t.Key) == config.StackIDTagKey && aws.ToString(t.Value) == stackID {
				tagged[aws.ToString(d.ResourceArn)] = true
			}
		}
	}
	for _, arn := range arns {
		if !tagged[arn] {
			return nil, arn, nil
		}
		found = append(found, candidate{id: arn, importID: arn})
	}
	return found, "", nil
}
