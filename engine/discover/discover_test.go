package discover

import (
	"context"
	"strings"
	"testing"
)

func TestLookupHost(t *testing.T) {
	h := LookupHost()
	if h.Cores < 1 || h.MemoryMB <= 0 || h.OS == "" {
		t.Fatalf("host = %+v", h)
	}
}

func TestLookupGPUsNeverFails(t *testing.T) {
	r := LookupGPUs(context.Background())
	if len(r.Devices) == 0 && r.Problem == "" {
		t.Fatal("no GPU and no reason")
	}
}

func TestParseSMI(t *testing.T) {
	r, err := parseSMI("0, NVIDIA H100 80GB HBM3, 81559, 80000, 1559, 550.54.15\n1, NVIDIA L4, 23034, 22000, 1034, 550.54.15\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Devices) != 2 || r.Devices[0].Name != "NVIDIA H100 80GB HBM3" || r.Devices[1].TotalMB != 23034 || r.Driver != "550.54.15" {
		t.Fatalf("%+v", r)
	}
	if _, err := parseSMI("0, only two\n"); err == nil || !strings.Contains(err.Error(), "want 6") {
		t.Fatalf("short row: %v", err)
	}
}

func TestLookupCUDALibrariesNamesEachRole(t *testing.T) {
	libs := LookupCUDALibraries("/nonexistent/libonnxruntime.so")
	if len(libs) != len(cudaLibraries)+2 {
		t.Fatalf("got %d entries", len(libs))
	}
	for _, l := range libs {
		if (l.Found == "") == (l.Error == "") {
			t.Fatalf("%s: exactly one of found/error must be set: %+v", l.Role, l)
		}
	}
}

func TestProcessMemory(t *testing.T) {
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	m := ProcessMemory()
	if m.RSSMB < 64 || m.PeakMB < m.RSSMB {
		t.Fatalf("memory = %+v after touching 64 MB", m)
	}
	_ = buf[len(buf)-1]
}
