package config

import (
	"regexp"
	"slices"
	"strings"
)

// gravitonFamilies are the EC2 instance families built on AWS Graviton (arm64).
func gravitonFamilies() []string {
	return []string{
		"a1",
		"c6g", "c6gd", "c6gn", "c7g", "c7gd", "c7gn", "c8g", "c8gd", "c8gn",
		"g5g",
		"hpc7g",
		"i4g", "i8g", "im4gn", "is4gen",
		"m6g", "m6gd", "m7g", "m7gd", "m8g", "m8gd",
		"r6g", "r6gd", "r7g", "r7gd", "r8g", "r8gd",
		"t4g",
		"x2gd", "x8g",
	}
}

// x86Counterpart maps the leading letters of an x86 family to the current
// Graviton family of the same kind, for suggestions.
func x86Counterpart(kind string) (string, bool) {
	g, ok := map[string]string{
		"t": "t4g", "m": "m7g", "c": "c7g", "r": "r7g", "x": "x2gd", "i": "i4g", "g": "g5g",
		"z": "r7g", "d": "im4gn", "h": "im4gn", "p": "g5g", "hpc": "hpc7g", "im": "im4gn", "is": "is4gen",
		"inf": "c7g", "trn": "c7g", "mac": "m7g", "u": "x2gd", "f": "c7g", "vt": "c7g",
	}[kind]
	return g, ok
}

var (
	instanceTypeRE = regexp.MustCompile(`^([a-z][a-z0-9-]*)\.([a-z0-9-]+)$`)
	instanceSizeRE = regexp.MustCompile(`^(nano|micro|small|medium|large|[0-9]*xlarge|metal(-[0-9]+xl)?)$`)
	familyKindRE   = regexp.MustCompile(`^[a-z]+`) // the letters before the generation digit
)

// CheckGravitonInstanceType accepts only Graviton (arm64) instance types, and
// for anything else suggests the nearest Graviton type.
func CheckGravitonInstanceType(it string) error {
	m := instanceTypeRE.FindStringSubmatch(it)
	if m == nil {
		return Usagef("instance-type", "%q is not an EC2 instance type: use FAMILY.SIZE, a Graviton (arm64) type such as %s", it, DefaultInstanceType)
	}
	family, size := m[1], m[2]
	if isGravitonFamily(family) {
		if !instanceSizeRE.MatchString(size) {
			return Usagef("instance-type", "%q has no size %q: use for example %s.large", it, size, family)
		}
		return nil
	}
	return Usagef("instance-type", "%s is not a Graviton (arm64) instance type and the stack runs arm64 images only: use %s instead", it, NearestGravitonType(it))
}

func isGravitonFamily(f string) bool { return slices.Contains(gravitonFamilies(), f) }

// NearestGravitonType suggests the Graviton instance type closest to it: the
// Graviton family of the same kind (t3 → t4g, m5 → m7g, c6i → c7g) in the same
// size, or for an unknown family the Graviton family with the closest name.
func NearestGravitonType(it string) string {
	family, size, ok := strings.Cut(it, ".")
	if !ok || !instanceSizeRE.MatchString(size) {
		size = "large"
	}
	g := nearestGravitonFamily(family)
	switch {
	case g == "t4g" && !slices.Contains([]string{"nano", "micro", "small", "medium", "large", "xlarge", "2xlarge"}, size):
		size = "2xlarge" // t4g stops at 2xlarge
	case g != "t4g" && slices.Contains([]string{"nano", "micro", "small"}, size):
		size = "medium" // only t4g comes smaller than medium
	}
	return g + "." + size
}

// nearestGravitonFamily maps by kind (the letters before the generation
// digit: m5 → m, hpc6a → hpc), else by the closest family name.
func nearestGravitonFamily(family string) string {
	if g, ok := x86Counterpart(familyKindRE.FindString(family)); ok {
		return g
	}
	best, bestDist := "t4g", len(family)+10
	for _, g := range gravitonFamilies() {
		if d := editDistance(family, g); d < bestDist {
			best, bestDist = g, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
