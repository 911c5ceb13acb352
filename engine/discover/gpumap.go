package discover

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// A process names its GPUs by CUDA ordinal ("cuda:0", "cuda:1", ...), which
// counts only the GPUs CUDA_VISIBLE_DEVICES lets it see, in the order that
// variable lists them. NVML and nvidia-smi number every GPU of the machine
// (their Index). The two agree only when the variable is unset, so a GPU is
// found by its UUID or PCI bus id, never by taking the ordinal as an index.
//
// The rules below are CUDA's, as PyTorch's parser reproduces them:
//   - unset: every GPU, in PCI bus order;
//   - a comma-separated list of indices ("2,0") or of UUIDs, each UUID
//     possibly abbreviated to a unique prefix ("GPU-8932f937"); the first
//     entry decides which form the list uses;
//   - an index reads like strtoul ("1gpu" is 1); the list ends at the first
//     entry that is invalid (negative, out of range, not of the list's form,
//     an unknown or ambiguous UUID, a MIG instance), so "" hides every GPU;
//   - a GPU listed twice hides every GPU.
//
// Indices count GPUs in PCI bus order, which is CUDA's order with
// CUDA_DEVICE_ORDER=PCI_BUS_ID. CUDA's default order puts the fastest GPU
// first; on a machine with different GPU models it may differ, and then only
// UUIDs name a GPU for certain.

// VisibleDevicesEnv is the variable CUDA reads.
const VisibleDevicesEnv = "CUDA_VISIBLE_DEVICES"

// VisibleGPUs returns, in CUDA ordinal order, the GPUs of all that a process
// sees when CUDA_VISIBLE_DEVICES is visible (set is false when it is unset).
// all is the machine's list from NVML or nvidia-smi, with UUIDs and PCI bus
// ids where known.
func VisibleGPUs(visible string, set bool, all []GPU) []GPU {
	order := pciOrder(all)
	if !set {
		return order
	}
	entries := strings.Split(visible, ",")
	uuids := strings.HasPrefix(strings.TrimSpace(entries[0]), "GPU-")
	var out []GPU
	seen := map[int]bool{}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		i := -1
		if uuids {
			i = uuidEntry(order, e)
		} else {
			i = indexEntry(e, len(order))
		}
		if i < 0 {
			break
		}
		if seen[i] {
			return nil
		}
		seen[i] = true
		out = append(out, order[i])
	}
	return out
}

// GPUForCUDA returns the GPU that CUDA ordinal names in a process whose
// CUDA_VISIBLE_DEVICES is visible (set false: unset).
func GPUForCUDA(ordinal int, visible string, set bool, all []GPU) (GPU, error) {
	vis := VisibleGPUs(visible, set, all)
	if ordinal >= 0 && ordinal < len(vis) {
		return vis[ordinal], nil
	}
	if set {
		return GPU{}, fmt.Errorf("CUDA device %d is not visible: %s=%q shows %d of the machine's %d GPUs",
			ordinal, VisibleDevicesEnv, visible, len(vis), len(all))
	}
	return GPU{}, fmt.Errorf("CUDA device %d does not exist: the machine has %d GPUs", ordinal, len(all))
}

// setCUDAOrdinals fills in each GPU's CUDA ordinal in this process.
func setCUDAOrdinals(devs []GPU) {
	visible, set := os.LookupEnv(VisibleDevicesEnv)
	assignCUDAOrdinals(devs, visible, set)
}

func assignCUDAOrdinals(devs []GPU, visible string, set bool) {
	for i := range devs {
		devs[i].CUDA = -1
	}
	for ord, g := range VisibleGPUs(visible, set, devs) {
		for i := range devs {
			if devs[i].Index == g.Index {
				devs[i].CUDA = ord
			}
		}
	}
}

// pciOrder sorts a copy of all by PCI bus id, or by Index when a GPU's bus id
// is unknown.
func pciOrder(all []GPU) []GPU {
	out := append([]GPU(nil), all...)
	byPCI := len(out) > 0
	for _, g := range out {
		byPCI = byPCI && g.PCIBusID != ""
	}
	sort.SliceStable(out, func(i, j int) bool {
		if byPCI {
			return normalizePCI(out[i].PCIBusID) < normalizePCI(out[j].PCIBusID)
		}
		return out[i].Index < out[j].Index
	})
	return out
}

// normalizePCI writes a bus id as "00000000:3b:00.0" (eight-digit domain,
// lower case), whether NVML ("00000000:3B:00.0"), lspci ("0000:3b:00.0") or
// an old driver ("3B:00.0") wrote it.
func normalizePCI(id string) string {
	id = strings.ToLower(strings.TrimSpace(id))
	parts := strings.Split(id, ":")
	switch len(parts) {
	case 2:
		return "00000000:" + id
	case 3:
		if len(parts[0]) < 8 {
			parts[0] = strings.Repeat("0", 8-len(parts[0])) + parts[0]
		}
		return strings.Join(parts, ":")
	}
	return id
}

// indexEntry reads an index entry as strtoul does; -1 when it is invalid or
// not below n.
func indexEntry(e string, n int) int {
	e = strings.TrimPrefix(e, "+")
	end := 0
	for end < len(e) && e[end] >= '0' && e[end] <= '9' {
		end++
	}
	if end == 0 {
		return -1
	}
	i, err := strconv.Atoi(e[:end])
	if err != nil || i >= n {
		return -1
	}
	return i
}

// uuidEntry finds the one GPU whose UUID starts with e; -1 when none or
// several do, or e is not a GPU UUID.
func uuidEntry(order []GPU, e string) int {
	if !strings.HasPrefix(e, "GPU-") {
		return -1
	}
	found := -1
	for i, g := range order {
		if g.UUID != "" && strings.HasPrefix(strings.ToLower(g.UUID), strings.ToLower(e)) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}
