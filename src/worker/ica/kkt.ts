/**
 * The KKT residual of one row's lasso codes (spec/overcomplete-ica.md section 2): with
 * g = A^T x - G s, |g_i - alpha sign(s_i)| where s_i != 0 and max(|g_i| - alpha, 0) where
 * s_i = 0. Returns the largest over the row's M codes (absolute, not relative to alpha).
 */
export function maxKkt(s: Float64Array, g: Float64Array, m: number, alpha: number): number {
  let worst = 0;
  for (let j = 0; j < m; j++) {
    const value = s[j]!;
    const gradient = g[j]!;
    const residual =
      value > 0
        ? Math.abs(gradient - alpha)
        : value < 0
          ? Math.abs(gradient + alpha)
          : Math.max(Math.abs(gradient) - alpha, 0);
    // NaN anywhere makes the row fail the test.
    if (!(residual <= worst)) worst = residual;
  }
  return worst;
}
