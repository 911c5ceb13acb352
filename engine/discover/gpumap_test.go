package discover

import (
	"strings"
	"testing"
)

// machine is a 4-GPU box as NVML lists it. NVML's Index order is not the PCI
// bus order here (NVML does not promise it), so index-as-ordinal and
// PCI-order disagree.
var machine = []GPU{
	{Index: 0, Name: "L4", UUID: "GPU-bbbb2222-0000-0000-0000-000000000000", PCIBusID: "00000000:81:00.0"},
	{Index: 1, Name: "H100", UUID: "GPU-aaaa1111-0000-0000-0000-000000000000", PCIBusID: "00000000:17:00.0"},
	{Index: 2, Name: "A100", UUID: "GPU-aaaa9999-0000-0000-0000-000000000000", PCIBusID: "00000000:3B:00.0"},
	{Index: 3, Name: "T4", UUID: "GPU-cccc3333-0000-0000-0000-000000000000", PCIBusID: "00000000:C1:00.0"},
}

func names(gs []GPU) string {
	var out []string
	for _, g := range gs {
		out = append(out, g.Name)
	}
	return strings.Join(out, ",")
}

func TestVisibleGPUs(t *testing.T) {
	for _, c := range []struct {
		env  string
		set  bool
		want string
	}{
		{"", false, "H100,A100,L4,T4"}, // unset: all, in PCI bus order
		{"", true, ""},                 // set but empty: none
		{"0", true, "H100"},
		{"2,0", true, "L4,H100"}, // reordering
		{"3,2,1,0", true, "T4,L4,A100,H100"},
		{" 1 , 3 ", true, "A100,T4"},                             // spaces
		{"1gpu,2ampere", true, "A100,L4"},                        // strtoul: leading digits
		{"+2", true, "L4"},                                       // strtoul accepts a sign
		{"0,2,-1,1", true, "H100,L4"},                            // stops at the invalid entry
		{"1,7,0", true, "A100"},                                  // stops at an index out of range
		{"1,,0", true, "A100"},                                   // an empty entry ends the list
		{"x", true, ""},                                          // not an index
		{"0,1,0", true, ""},                                      // a repeat hides every GPU
		{"1,GPU-bbbb2222", true, "A100"},                         // the first entry fixes the form
		{"GPU-cccc3333-0000-0000-0000-000000000000", true, "T4"}, // full UUID
		{"GPU-bbbb,GPU-aaaa1", true, "L4,H100"},                  // unique prefixes, in the listed order
		{"gpu-cccc", true, ""},                                   // only "GPU-" starts a UUID
		{"GPU-CCCC3333", true, "T4"},                             // the hex digits match in either case
		{"GPU-bbbb,GPU-aaaa,GPU-cccc", true, "L4"},               // ambiguous prefix ends the list
		{"GPU-cccc,GPU-dead,GPU-bbbb", true, "T4"},               // unknown UUID ends the list
		{"GPU-cccc,1", true, "T4"},                               // an index in a UUID list ends it
		{"GPU-cccc,GPU-cccc3333", true, ""},                      // the same GPU twice
		{"MIG-GPU-cccc3333/1/0", true, ""},                       // MIG instances are not resolved
	} {
		if got := names(VisibleGPUs(c.env, c.set, machine)); got != c.want {
			t.Errorf("CUDA_VISIBLE_DEVICES=%q (set %v): visible %q, want %q", c.env, c.set, got, c.want)
		}
	}
}

func TestGPUForCUDA(t *testing.T) {
	// The old lookup took the ordinal as NVML's index: cuda:0 under
	// CUDA_VISIBLE_DEVICES=2 would have read the L4 (index 0), not the
	// A100 the process runs on.
	for _, c := range []struct {
		ordinal int
		env     string
		set     bool
		want    string
	}{
		{0, "", false, "H100"},
		{2, "", false, "L4"},
		{0, "2", true, "L4"},
		{0, "1", true, "A100"},
		{1, "3,1", true, "A100"},
		{0, "GPU-aaaa9", true, "A100"},
		{1, "GPU-cccc,GPU-bbbb2222-0000-0000-0000-000000000000", true, "L4"},
	} {
		g, err := GPUForCUDA(c.ordinal, c.env, c.set, machine)
		if err != nil || g.Name != c.want {
			t.Errorf("cuda:%d with %q: %+v, %v; want %s", c.ordinal, c.env, g, err, c.want)
		}
	}
	for _, c := range []struct {
		ordinal int
		env     string
		set     bool
		msg     string
	}{
		{1, "2", true, `CUDA_VISIBLE_DEVICES="2" shows 1 of the machine's 4 GPUs`},
		{0, "", true, "shows 0 of the machine's 4"},
		{4, "", false, "the machine has 4 GPUs"},
		{-1, "", false, "does not exist"},
	} {
		if _, err := GPUForCUDA(c.ordinal, c.env, c.set, machine); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("cuda:%d with %q: err %v, want %q", c.ordinal, c.env, err, c.msg)
		}
	}
}

func TestPCIOrderNormalizesBusIDs(t *testing.T) {
	gs := []GPU{
		{Index: 0, Name: "b", PCIBusID: "0000:3b:00.0"},     // lspci style
		{Index: 1, Name: "a", PCIBusID: "17:00.0"},          // no domain
		{Index: 2, Name: "d", PCIBusID: "00000001:17:00.0"}, // second domain
		{Index: 3, Name: "c", PCIBusID: "00000000:3B:00.1"}, // NVML style, function 1
	}
	if got := names(pciOrder(gs)); got != "a,b,c,d" {
		t.Fatalf("PCI order %s, want a,b,c,d", got)
	}
	gs[1].PCIBusID = "" // one unknown: NVML's index order
	if got := names(pciOrder(gs)); got != "b,a,d,c" {
		t.Fatalf("order without every bus id %s, want NVML's b,a,d,c", got)
	}
}

func TestAssignCUDAOrdinals(t *testing.T) {
	devs := append([]GPU(nil), machine...)
	assignCUDAOrdinals(devs, "3,1", true)
	want := map[string]int{"L4": -1, "H100": -1, "A100": 1, "T4": 0}
	for _, g := range devs {
		if g.CUDA != want[g.Name] {
			t.Errorf("%s: CUDA ordinal %d, want %d", g.Name, g.CUDA, want[g.Name])
		}
	}
	assignCUDAOrdinals(devs, "", false)
	want = map[string]int{"H100": 0, "A100": 1, "L4": 2, "T4": 3}
	for _, g := range devs {
		if g.CUDA != want[g.Name] {
			t.Errorf("unset: %s: CUDA ordinal %d, want %d", g.Name, g.CUDA, want[g.Name])
		}
	}
}

func TestParseSMIWithIDs(t *testing.T) {
	r, err := parseSMI("0, NVIDIA L4, 23034, 22000, 1034, 550.54.15, GPU-bbbb2222-0000, 00000000:81:00.0\n")
	if err != nil {
		t.Fatal(err)
	}
	if g := r.Devices[0]; g.UUID != "GPU-bbbb2222-0000" || g.PCIBusID != "00000000:81:00.0" || g.TotalMB != 23034 {
		t.Fatalf("%+v", g)
	}
}
