// A small, type-checked use of the generated types: `tsc --noEmit` fails if the schema changes in
// a way that breaks callers. The module "loss-service-api" is the file openapi-typescript writes
// (tsconfig.json maps it to generated/openapi.d.ts; `npm run generate` makes it).
import type { components, paths } from "loss-service-api";

type Sparse = paths["/v1/cross-entropy/sparse"]["post"];
type Categorical = paths["/v1/cross-entropy/categorical"]["post"];
type Binary = paths["/v1/cross-entropy/binary"]["post"];
export type SparseBody = Sparse["requestBody"]["content"]["application/json"];
export type CategoricalBody = Categorical["requestBody"]["content"]["application/json"];
export type BinaryBody = Binary["requestBody"]["content"]["application/json"];
export type LossResult = Sparse["responses"][200]["content"]["application/json"];
export type Problem = Sparse["responses"][422]["content"]["application/problem+json"];
type Tensor = components["schemas"]["Tensor"];

const nested: SparseBody = {
  logits: [
    [2.0, 1.0, 0.1],
    [0.5, 2.5, -1.0],
  ],
  labels: [0, 1],
  reduction: "mean",
};

// Tensor form: little-endian, row-major bytes in base64.
function float32Tensor(values: number[], shape: number[]): Tensor {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  return { dtype: "float32", shape, data: btoa(String.fromCharCode(...bytes)) };
}

const tokens: SparseBody = {
  logits: float32Tensor([0.3, -1.2, 2.0, 1.5, 0.0, -0.7], [1, 2, 3]),
  labels: [[2, -100]],
  ignore_index: -100,
  sample_weight: [[1.0, 1.0]],
  per_example: false,
};

const soft: CategoricalBody = {
  probabilities: [[0.2, 0.8]],
  labels: [[0.0, 1.0]],
  epsilon: 1e-7,
  class_weight: [1.0, 2.0],
};

// Multi-label: one 0/1 label per logit; -1 marks "not annotated"; torch's elementwise view is axis null.
const multiLabel: BinaryBody = {
  logits: [
    [1.0, -1.0, 0.5],
    [0.2, 0.1, -0.3],
  ],
  labels: [
    [1, 0, -1],
    [0, 1, 0],
  ],
  ignore_index: -1,
  pos_weight: [3.0, 0.5, 1.0],
  axis: null,
  focal_gamma: 2.0,
  focal_alpha: 0.25,
};

// @ts-expect-error: pos_weight is a list of numbers, one per label
const badPosWeight: BinaryBody = { logits: [[1, 2]], labels: [[0, 1]], pos_weight: 2 };

// @ts-expect-error: "avg" is not a reduction
const badReduction: SparseBody = { logits: [[1, 2]], labels: [0], reduction: "avg" };
// @ts-expect-error: misspelt or foreign options are not fields (the server rejects them too)
const foreignOption: SparseBody = { logits: [[1, 2]], labels: [0], from_logits: true };

/** Combine chunk answers exactly, as the contract intends: Σ loss_sum / Σ weight_sum. */
export function combinedMean(parts: LossResult[]): number | null {
  const lossSum = parts.reduce((total, part) => total + part.loss_sum, 0);
  const weightSum = parts.reduce((total, part) => total + part.weight_sum, 0);
  return weightSum === 0 ? null : lossSum / weightSum;
}

export function describe(problem: Problem): string {
  const first = problem.errors[0];
  const where = first === undefined ? "" : ` at ${first.pointer}`;
  return `${problem.title} (${problem.code})${where}: ${problem.detail}`;
}

export async function sparseCrossEntropy(baseUrl: string, body: SparseBody): Promise<LossResult> {
  const response = await fetch(`${baseUrl}/v1/cross-entropy/sparse`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    throw new Error(describe((await response.json()) as Problem));
  }
  return (await response.json()) as LossResult;
}

export const examples = { nested, tokens, soft, multiLabel, badReduction, badPosWeight, foreignOption };
