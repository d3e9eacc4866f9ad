/**
 * Dense kernels on row-major Float64Array matrices, written for V8: contiguous inner loops
 * unrolled by four, no allocation inside loops. ICA's inference and learning are built from
 * these; tfjs is not used here because its wasm backend is slow for transposed operands and
 * every product in this module is naturally "row times row" (a dot of two contiguous rows).
 *
 * Shapes are given as `rows x columns`; every matrix is row-major.
 */

/** Dot product of `length` elements of `a` from `aOffset` and `b` from `bOffset`. */
export function dot(
  a: Float64Array,
  aOffset: number,
  b: Float64Array,
  bOffset: number,
  length: number,
): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    s0 += a[aOffset + i]! * b[bOffset + i]!;
    s1 += a[aOffset + i + 1]! * b[bOffset + i + 1]!;
    s2 += a[aOffset + i + 2]! * b[bOffset + i + 2]!;
    s3 += a[aOffset + i + 3]! * b[bOffset + i + 3]!;
  }
  for (; i < length; i++) s0 += a[aOffset + i]! * b[bOffset + i]!;
  return s0 + s1 + (s2 + s3);
}

/** y[yOffset..] += scale * x[xOffset..] over `length` elements. */
export function axpy(
  scale: number,
  x: Float64Array,
  xOffset: number,
  y: Float64Array,
  yOffset: number,
  length: number,
): void {
  let i = 0;
  for (; i + 4 <= length; i += 4) {
    y[yOffset + i] = y[yOffset + i]! + scale * x[xOffset + i]!;
    y[yOffset + i + 1] = y[yOffset + i + 1]! + scale * x[xOffset + i + 1]!;
    y[yOffset + i + 2] = y[yOffset + i + 2]! + scale * x[xOffset + i + 2]!;
    y[yOffset + i + 3] = y[yOffset + i + 3]! + scale * x[xOffset + i + 3]!;
  }
  for (; i < length; i++) y[yOffset + i] = y[yOffset + i]! + scale * x[xOffset + i]!;
}

/**
 * out (n x m) = X (n x k) times Y^T, with Y given as m x k: every entry is a dot of two
 * contiguous rows. Computed in 2 x 4 tiles (two rows of X against four of Y, eight sums in
 * registers: six loads per eight multiply-adds where a plain dot needs sixteen), measured
 * about twice as fast as a dot per entry; the tiles run over a block of Y rows that stays in
 * cache while X streams.
 */
export function multiplyTransposed(
  x: Float64Array,
  n: number,
  y: Float64Array,
  m: number,
  k: number,
  out: Float64Array = new Float64Array(n * m),
): Float64Array {
  return product(x, n, y, m, k, out, false);
}

/** multiplyTransposed; with `upper`, tiles wholly below the diagonal are skipped. */
function product(
  x: Float64Array,
  n: number,
  y: Float64Array,
  m: number,
  k: number,
  out: Float64Array,
  upper: boolean,
): Float64Array {
  const block = Math.max(4, 4 * Math.floor(8192 / Math.max(1, 4 * k)));
  for (let j0 = 0; j0 < m; j0 += block) {
    const j1 = Math.min(m, j0 + block);
    for (let i = 0; i < n; i += 2) {
      const pair = i + 1 < n;
      for (let j = j0; j < j1; j += 4) {
        if (upper && j + 3 < i) continue;
        if (pair && j + 4 <= j1) tile(x, i, y, j, k, out, m);
        else edge(x, i, pair ? i + 2 : i + 1, y, j, Math.min(j + 4, j1), k, out, m);
      }
    }
  }
  return out;
}

/** out[i..i+1][j..j+3] = rows i, i+1 of X dotted with rows j..j+3 of Y (all length k). */
function tile(
  x: Float64Array,
  i: number,
  y: Float64Array,
  j: number,
  k: number,
  out: Float64Array,
  m: number,
): void {
  const x0 = i * k;
  const x1 = x0 + k;
  const y0 = j * k;
  const y1 = y0 + k;
  const y2 = y1 + k;
  const y3 = y2 + k;
  let s00 = 0;
  let s01 = 0;
  let s02 = 0;
  let s03 = 0;
  let s10 = 0;
  let s11 = 0;
  let s12 = 0;
  let s13 = 0;
  for (let p = 0; p < k; p++) {
    const a = x[x0 + p]!;
    const b = x[x1 + p]!;
    const c0 = y[y0 + p]!;
    const c1 = y[y1 + p]!;
    const c2 = y[y2 + p]!;
    const c3 = y[y3 + p]!;
    s00 += a * c0;
    s01 += a * c1;
    s02 += a * c2;
    s03 += a * c3;
    s10 += b * c0;
    s11 += b * c1;
    s12 += b * c2;
    s13 += b * c3;
  }
  const o0 = i * m + j;
  const o1 = o0 + m;
  out[o0] = s00;
  out[o0 + 1] = s01;
  out[o0 + 2] = s02;
  out[o0 + 3] = s03;
  out[o1] = s10;
  out[o1 + 1] = s11;
  out[o1 + 2] = s12;
  out[o1 + 3] = s13;
}

/** The ragged edge of multiplyTransposed: rows i0..i1-1 of X against rows j0..j1-1 of Y. */
function edge(
  x: Float64Array,
  i0: number,
  i1: number,
  y: Float64Array,
  j0: number,
  j1: number,
  k: number,
  out: Float64Array,
  m: number,
): void {
  for (let i = i0; i < i1; i++) {
    for (let j = j0; j < j1; j++) out[i * m + j] = dot(x, i * k, y, j * k, k);
  }
}

/** Gram matrix (m x m) of the rows of Y (m x k): G[i][j] = y_i . y_j, filled symmetrically. */
export function gramOfRows(y: Float64Array, m: number, k: number): Float64Array {
  const gram = product(y, m, y, m, k, new Float64Array(m * m), true);
  // Fill the lower triangle from the upper (tiles on the diagonal computed both).
  for (let i = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++) gram[j * m + i] = gram[i * m + j]!;
  }
  return gram;
}

/**
 * Largest eigenvalue of the symmetric positive semi-definite `matrix` (n x n) by power
 * iteration from `vector` (n, updated in place so the next call warm-starts from it).
 * Stops when the Rayleigh quotient moves by less than `tolerance` relative.
 */
export function largestEigenvalue(
  matrix: Float64Array,
  n: number,
  vector: Float64Array,
  tolerance = 1e-6,
  maxIterations = 200,
): number {
  normalise(vector, n);
  const product = new Float64Array(n);
  let estimate = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    for (let i = 0; i < n; i++) product[i] = dot(matrix, i * n, vector, 0, n);
    const next = dot(vector, 0, product, 0, n);
    const norm = Math.sqrt(dot(product, 0, product, 0, n));
    if (norm === 0) return 0;
    for (let i = 0; i < n; i++) vector[i] = product[i]! / norm;
    if (Math.abs(next - estimate) <= tolerance * Math.abs(next)) return Math.max(next, norm);
    estimate = next;
  }
  return estimate;
}

/** Scales `vector` (first n entries) to unit norm; a zero vector becomes e_0. */
export function normalise(vector: Float64Array, n: number): void {
  const norm = Math.sqrt(dot(vector, 0, vector, 0, n));
  if (norm === 0 || !Number.isFinite(norm)) {
    vector.fill(0, 0, n);
    vector[0] = 1;
    return;
  }
  for (let i = 0; i < n; i++) vector[i] = vector[i]! / norm;
}

/**
 * In-place Cholesky factorisation of the symmetric positive definite `matrix` (n x n):
 * the lower triangle becomes L with matrix = L L^T (the upper triangle is left as is).
 * Returns false when a squared pivot is not above `relativePivot` times its diagonal entry
 * (the matrix is not positive definite, or numerically singular at that threshold).
 */
export function choleskyInPlace(matrix: Float64Array, n: number, relativePivot = 0): boolean {
  for (let j = 0; j < n; j++) {
    const original = matrix[j * n + j]!;
    let diagonal = original - dot(matrix, j * n, matrix, j * n, j);
    if (!(diagonal > relativePivot * original)) return false;
    diagonal = Math.sqrt(diagonal);
    matrix[j * n + j] = diagonal;
    for (let i = j + 1; i < n; i++) {
      matrix[i * n + j] = (matrix[i * n + j]! - dot(matrix, i * n, matrix, j * n, j)) / diagonal;
    }
  }
  return true;
}

/** Solves L L^T x = b in place in `b` (n), with L the lower triangle from choleskyInPlace. */
export function choleskySolveInPlace(factor: Float64Array, n: number, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    b[i] = (b[i]! - dot(factor, i * n, b, 0, i)) / factor[i * n + i]!;
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i]!;
    for (let k = i + 1; k < n; k++) sum -= factor[k * n + i]! * b[k]!;
    b[i] = sum / factor[i * n + i]!;
  }
}

/** log det of the matrix whose Cholesky factor (lower triangle of `factor`, n x n) is given. */
export function choleskyLogDeterminant(factor: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.log(factor[i * n + i]!);
  return 2 * sum;
}

/** Inverse (n x n) of a symmetric positive definite matrix from its Cholesky factor. */
export function choleskyInverse(factor: Float64Array, n: number): Float64Array {
  const inverse = new Float64Array(n * n);
  const column = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    column.fill(0);
    column[j] = 1;
    choleskySolveInPlace(factor, n, column);
    for (let i = 0; i < n; i++) inverse[i * n + j] = column[i]!;
  }
  return inverse;
}

/**
 * log |det| of a general square matrix (n x n, overwritten) by LU with partial pivoting,
 * and the sign of the determinant. A singular matrix gives -Infinity.
 */
export function logAbsDeterminantInPlace(
  matrix: Float64Array,
  n: number,
): { logAbs: number; sign: number } {
  let logAbs = 0;
  let sign = 1;
  for (let k = 0; k < n; k++) {
    let pivotRow = k;
    let pivotMagnitude = Math.abs(matrix[k * n + k]!);
    for (let i = k + 1; i < n; i++) {
      const magnitude = Math.abs(matrix[i * n + k]!);
      if (magnitude > pivotMagnitude) {
        pivotMagnitude = magnitude;
        pivotRow = i;
      }
    }
    if (pivotMagnitude === 0) return { logAbs: -Infinity, sign: 0 };
    if (pivotRow !== k) {
      sign = -sign;
      for (let j = 0; j < n; j++) {
        const held = matrix[k * n + j]!;
        matrix[k * n + j] = matrix[pivotRow * n + j]!;
        matrix[pivotRow * n + j] = held;
      }
    }
    const pivot = matrix[k * n + k]!;
    if (pivot < 0) sign = -sign;
    logAbs += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const factor = matrix[i * n + k]! / pivot;
      if (factor !== 0) axpy(-factor, matrix, k * n + k + 1, matrix, i * n + k + 1, n - k - 1);
    }
  }
  return { logAbs, sign };
}

/** Inverse of a general square matrix (n x n) by Gauss-Jordan with partial pivoting. */
export function invert(matrix: Float64Array, n: number): Float64Array {
  const work = Float64Array.from(matrix);
  const inverse = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inverse[i * n + i] = 1;
  for (let k = 0; k < n; k++) {
    let pivotRow = k;
    for (let i = k + 1; i < n; i++) {
      if (Math.abs(work[i * n + k]!) > Math.abs(work[pivotRow * n + k]!)) pivotRow = i;
    }
    if (pivotRow !== k) {
      for (let j = 0; j < n; j++) {
        swap(work, k * n + j, pivotRow * n + j);
        swap(inverse, k * n + j, pivotRow * n + j);
      }
    }
    const pivot = work[k * n + k]!;
    for (let j = 0; j < n; j++) {
      work[k * n + j] = work[k * n + j]! / pivot;
      inverse[k * n + j] = inverse[k * n + j]! / pivot;
    }
    for (let i = 0; i < n; i++) {
      if (i === k) continue;
      const factor = work[i * n + k]!;
      if (factor === 0) continue;
      axpy(-factor, work, k * n, work, i * n, n);
      axpy(-factor, inverse, k * n, inverse, i * n, n);
    }
  }
  return inverse;
}

function swap(values: Float64Array, i: number, j: number): void {
  const held = values[i]!;
  values[i] = values[j]!;
  values[j] = held;
}
