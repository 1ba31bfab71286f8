package cli

import (
	"encoding/json"
	"testing"

	"github.com/graviton-cd/graviton-cd/internal/doctor"
)

// TestDoctorAgainstMoto runs doctor --for provision against moto (real STS
// answers), the local stack's Terraform and its provider mirror. moto has
// no IAM policy simulation: the permission check must say it could not
// check, not fail.
func TestDoctorAgainstMoto(t *testing.T) {
	tools := realStack(t)
	code, stdout, stderr := run(t, "--output", "json", "doctor", "--for", "provision", "--terraform-binary", tools.Binary)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var rep doctor.Report
	if err := json.Unmarshal(resultOf(t, stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if ptrString(rep.Account) != "123456789012" || rep.ARN == nil {
		t.Errorf("account %v, arn %v", ptrString(rep.Account), ptrString(rep.ARN))
	}
	status := map[string]doctor.Status{}
	for _, c := range rep.Checks {
		status[c.Name] = c.Status
	}
	want := map[string]doctor.Status{"region": doctor.OK, "endpoints": doctor.OK, "credentials": doctor.OK, "terraform": doctor.OK, "provider": doctor.OK, "permissions": doctor.Note}
	for name, s := range want {
		if status[name] != s {
			t.Errorf("check %s is %q, want %q (%+v)", name, status[name], s, rep.Checks)
		}
	}
	if rep.Terraform == nil || ptrString(rep.Terraform.Binary) != tools.Binary || rep.Terraform.Version == nil || len(rep.Terraform.ProviderVersions) == 0 {
		t.Errorf("terraform %+v", rep.Terraform)
	}
	t.Logf("text:\n%s", func() string {
		_, out, _ := run(t, "doctor", "--for", "provision", "--terraform-binary", tools.Binary)
		return out
	}())
}
