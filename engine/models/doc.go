// Package models finds, downloads, imports and verifies the model folders
// Diptych runs: SDXL base and refiner ONNX exports and Janus-Pro six-graph
// exports. It knows nothing of the UI or the gallery.
//
//   - Detect recognises a folder (SDXL base, SDXL refiner, Janus-Pro 1B/7B
//     with its dtype variants) and names each component's files; Check
//     verifies the graphs' inputs and outputs (names, element types, widths)
//     without loading weights.
//   - Catalog lists the known models. SDXL base 1.0 and Janus-Pro-1B are
//     pinned to commit ids taken from published references
//     (stabilityai/stable-diffusion-xl-base-1.0@462165984030d82259a11f4367a4eed129e94a7b,
//     onnx-community/Janus-Pro-1B-ONNX@04efdf2e36cb07a034b0d94f7322356b292f0418,
//     with the LFS SHA-256 of the six default Janus graphs). The export
//     recipes (SDXL refiner, Janus-Pro-7B) start from upstream checkpoints at
//     revision "main" until someone with network access pins them.
//   - Hub and Downloader fetch files from the Hugging Face Hub (HF_ENDPOINT,
//     HF_TOKEN): resumable across restarts (.part files with a JSON range
//     state), several connections per large file, stall detection, retries
//     with backoff, a free-space check, SHA-256 (or git blob id)
//     verification, and a staging folder renamed into place when complete.
//   - Store keeps the registry (models.json under DefaultDir), imports
//     folders in place, verifies them against their manifest, removes them,
//     and runs export recipes.
//   - InstallRuntime installs an ONNX Runtime GPU release archive into the
//     library folder. Its SHA-256 must be supplied: it could not be taken
//     from GitHub where this code was written.
package models
