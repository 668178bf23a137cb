// Reed-Solomon erasure coding compatible with the shards SeaweedFS writes (klauspost/reedsolomon,
// default options): see reed-solomon.ts for the codec, matrix.ts for the encoding matrix, galois.ts for
// the field, kernel.ts and wasm-kernel.ts for the byte loops.

export { EXP, FIELD_POLYNOMIAL, gfDiv, gfInverse, gfMul, gfPow, LOG } from "./galois.js";
export { type GfKernel, referenceKernel } from "./kernel.js";
export { buildEncodingMatrix, type GfMatrix, invertMatrix } from "./matrix.js";
export { MAX_TOTAL_SHARDS, ReedSolomon, type ReedSolomonOptions } from "./reed-solomon.js";
export { defaultKernel, kernelFallbackReason } from "./select-kernel.js";
export { loadWasmKernel, WASM_KERNEL_PATH } from "./wasm-kernel.js";
