package config

import (
	"cmp"
	"fmt"
	"strings"
)

// InstanceSpec is what the capacity check needs to know of an instance type.
type InstanceSpec struct {
	VCPUs     int
	MemoryMiB int // installed memory
	ENIs      int // network interfaces the instance can attach
}

// sizeSpec is one size of the regular Graviton families: vCPUs and ENIs.
type sizeSpec struct {
	vcpus, enis int
}

// Source of the ENI counts: Amazon EC2 User Guide, "Elastic network
// interfaces: maximum IP addresses per network interface" (the table
// "Maximum network interfaces" per instance type). Every Graviton family
// below follows one pattern by size, with t4g and a1 as the exceptions
// written out in gravitonSpecs. vCPUs per size are the EC2 instance type
// specifications; memory is vCPUs times the family's GiB per vCPU.
func regularSizes() map[string]sizeSpec {
	return map[string]sizeSpec{
		"medium":     {1, 2},
		"large":      {2, 3},
		"xlarge":     {4, 4},
		"2xlarge":    {8, 4},
		"4xlarge":    {16, 8},
		"8xlarge":    {32, 8},
		"12xlarge":   {48, 8},
		"16xlarge":   {64, 15},
		"24xlarge":   {96, 15},
		"48xlarge":   {192, 15},
		"metal":      {64, 15},
		"metal-24xl": {96, 15},
		"metal-48xl": {192, 15},
	}
}

// gravitonFamilySizes: GiB per vCPU and the sizes each family comes in.
func gravitonFamilySizes() map[string]struct {
	gibPerVCPU int
	sizes      []string
} {
	gen6 := []string{"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"}
	gen8 := []string{"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge", "metal-24xl", "metal-48xl"}
	type fam = struct {
		gibPerVCPU int
		sizes      []string
	}
	return map[string]fam{
		"c6g": {2, gen6}, "c6gd": {2, gen6}, "c6gn": {2, gen6[:len(gen6)-1]}, "c7g": {2, gen6}, "c7gd": {2, gen6}, "c7gn": {2, gen6}, "c8g": {2, gen8},
		"m6g": {4, gen6}, "m6gd": {4, gen6}, "m7g": {4, gen6}, "m7gd": {4, gen6}, "m8g": {4, gen8}, "m8gd": {4, gen8},
		"r6g": {8, gen6}, "r6gd": {8, gen6}, "r7g": {8, gen6}, "r7gd": {8, gen6}, "r8g": {8, gen8},
		"x2gd": {16, gen6},
	}
}

// gravitonSpecs is the table of every instance type the stack accepts.
func gravitonSpecs() map[string]InstanceSpec {
	specs := map[string]InstanceSpec{
		// t4g: 2 vCPUs up to large; ENIs 2 (nano, micro), 3 (small to large), 4 above.
		"t4g.nano":    {2, 512, 2},
		"t4g.micro":   {2, 1024, 2},
		"t4g.small":   {2, 2048, 3},
		"t4g.medium":  {2, 4096, 3},
		"t4g.large":   {2, 8192, 3},
		"t4g.xlarge":  {4, 16384, 4},
		"t4g.2xlarge": {8, 32768, 4},
		// a1: 2 GiB per vCPU, at most 8 ENIs (4xlarge and metal alike).
		"a1.medium":  {1, 2048, 2},
		"a1.large":   {2, 4096, 3},
		"a1.xlarge":  {4, 8192, 4},
		"a1.2xlarge": {8, 16384, 4},
		"a1.4xlarge": {16, 32768, 8},
		"a1.metal":   {16, 32768, 8},
	}
	sizes := regularSizes()
	for family, f := range gravitonFamilySizes() {
		for _, size := range f.sizes {
			s := sizes[size]
			specs[family+"."+size] = InstanceSpec{VCPUs: s.vcpus, MemoryMiB: s.vcpus * f.gibPerVCPU * 1024, ENIs: s.enis}
		}
	}
	return specs
}

// LookupInstanceSpec returns the capacity figures of a Graviton instance type
// the stack accepts.
func LookupInstanceSpec(instanceType string) (InstanceSpec, bool) {
	s, ok := gravitonSpecs()[instanceType]
	return s, ok
}

// Memory the tasks cannot have. The agent registers what the kernel reports
// as MemTotal, about 3% below the installed memory (AWS's example: an
// m4.large, 8192 MiB installed, registers 7985 MiB), and user data sets
// ECS_RESERVED_MEMORY to keep 256 MiB for the ECS agent, Docker, containerd
// and the OS, so a task can never starve them.
const (
	ReservedMemoryMiB     = 256
	kernelMemoryPercent   = 3
	cpuUnitsPerVCPU       = 1024
	deployExtraTaskSlots  = 1 // 200% maximum, 100% minimum: one task beyond desired at least
	instanceENIsForItself = 1 // the instance's primary ENI
)

// RegisteredMemoryMiB is the memory the ECS agent offers tasks on an
// instance with spec s.
func (s InstanceSpec) RegisteredMemoryMiB() int {
	return s.MemoryMiB*(100-kernelMemoryPercent)/100 - ReservedMemoryMiB
}

// taskSlots is how many tasks of cpu units and memory MiB one instance holds,
// and which resource limits it.
func (s InstanceSpec) taskSlots(networkMode string, cpu, memory int) (slots int, limit string) {
	slots, limit = s.VCPUs*cpuUnitsPerVCPU/cpu, fmt.Sprintf("%d CPU units", s.VCPUs*cpuUnitsPerVCPU)
	if m := s.RegisteredMemoryMiB() / memory; m < slots {
		slots, limit = m, fmt.Sprintf("%d MiB for tasks", s.RegisteredMemoryMiB())
	}
	if networkMode == NetworkModeAWSVPC {
		// Each awsvpc task takes an ENI of its own; no ENI trunking assumed
		// (it needs an account setting and covers only some types).
		if e := s.ENIs - instanceENIsForItself; e <= slots {
			slots, limit = e, fmt.Sprintf("%d ENIs, one for the instance", s.ENIs)
		}
	}
	return max(slots, 0), limit
}

// checkFit checks, before anything is written, that the service's tasks fit:
// each task on one instance, and desired-count plus one during a rolling
// deploy on max-size instances.
func (p *Provision) checkFit() error {
	spec, ok := LookupInstanceSpec(p.InstanceType)
	if !ok {
		return Usagef("instance-type", "graviton-cd has no capacity figures (vCPUs, memory, ENIs) for %s: use a size of %s", p.InstanceType, strings.Join(capacityFamilies(), ", "))
	}
	larger := "a larger --instance-type"
	if t := p.suggestType(1); t != "" {
		larger += " such as " + t
	}
	if p.CPU > spec.VCPUs*cpuUnitsPerVCPU {
		return Usagef("cpu", "a task of %d CPU units does not fit a %s (%d vCPUs = %d units): use --cpu %d or %s",
			p.CPU, p.InstanceType, spec.VCPUs, spec.VCPUs*cpuUnitsPerVCPU, spec.VCPUs*cpuUnitsPerVCPU, larger)
	}
	if p.Memory > spec.RegisteredMemoryMiB() {
		return Usagef("memory", "a task of %d MiB does not fit a %s: of its %d MiB the agent offers tasks %d (%d%% kernel, %d MiB reserved for the agent and OS): use --memory %d or %s",
			p.Memory, p.InstanceType, spec.MemoryMiB, spec.RegisteredMemoryMiB(), kernelMemoryPercent, ReservedMemoryMiB, max(spec.RegisteredMemoryMiB(), 128), larger)
	}
	if p.DesiredCount == 0 {
		return nil
	}
	slots, limit := spec.taskSlots(p.NetworkMode, p.CPU, p.Memory)
	need := p.DesiredCount + deployExtraTaskSlots
	if have := p.MaxSize * slots; have < need {
		fix := []string{}
		if n := (need + slots - 1) / slots; n <= maxInstances {
			fix = append(fix, fmt.Sprintf("--max-size %d", n))
		}
		if t := p.suggestType(need); t != "" {
			fix = append(fix, "--instance-type "+t)
		}
		fix = append(fix, fmt.Sprintf("--desired-count %d", max(p.MaxSize*slots-deployExtraTaskSlots, 0)))
		return Usagef("desired-count", "%d needs %d task slots during a deploy (one beyond the desired count, at 200%% maximum and 100%% minimum healthy); %d × %s give %d (%d %s tasks of %d CPU units and %d MiB each, limited by %s): use %s",
			p.DesiredCount, need, p.MaxSize, p.InstanceType, have, slots, p.NetworkMode, p.CPU, p.Memory, limit, strings.Join(fix, " or "))
	}
	return nil
}

// maxInstances is the largest --max-size the stack accepts.
const maxInstances = 100

// suggestType returns the smallest instance type of the same family (else
// of m7g) on which max-size instances hold need tasks, or "".
func (p *Provision) suggestType(need int) string {
	family, _, _ := strings.Cut(p.InstanceType, ".")
	specs := gravitonSpecs()
	for _, fam := range []string{family, "m7g"} {
		best := ""
		smaller := func(it string, s InstanceSpec) bool {
			if best == "" {
				return true
			}
			b := specs[best]
			return cmp.Or(cmp.Compare(s.VCPUs, b.VCPUs), cmp.Compare(s.MemoryMiB, b.MemoryMiB), cmp.Compare(it, best)) < 0
		}
		for it, s := range specs {
			if !strings.HasPrefix(it, fam+".") || it == p.InstanceType {
				continue
			}
			slots, _ := s.taskSlots(p.NetworkMode, p.CPU, p.Memory)
			if slots >= 1 && p.MaxSize*slots >= need && smaller(it, s) {
				best = it
			}
		}
		if best != "" {
			return best
		}
	}
	return ""
}

// capacityFamilies lists the families of the capacity table, for messages.
func capacityFamilies() []string {
	var out []string
	specs := gravitonSpecs()
	for _, f := range gravitonFamilies() {
		if _, ok := specs[f+".large"]; ok {
			out = append(out, f)
		}
	}
	return out
}
