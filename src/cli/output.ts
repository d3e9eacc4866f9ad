/** Printing a command's result: JSON on --json, the human text otherwise. */
import type { RunSummary } from '../shared/contract';
import { inputError } from '../shared/errors';
import type { CommandContext } from './command';
import { formatBytes, formatDuration, formatNumber, table } from './format';

export function print(context: CommandContext, value: unknown, text: () => string): void {
  if (context.json) {
    context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  } else {
    context.stdout.write(`${text()}\n`);
  }
}

/** A run's identity, state and metrics, a few lines. */
export function describeRun(run: RunSummary): string {
  const m = run.metrics;
  const lines = [
    `run ${run.id}: ${run.method}, ${run.config.features} features, ` +
      `${run.status} at step ${run.step}/${run.config.steps}` +
      ` (${formatDuration(run.elapsedMs)}, backend ${run.backend ?? '-'}` +
      (run.peakMemoryBytes === null ? ')' : `, peak memory ${formatBytes(run.peakMemoryBytes)})`),
    `  dataset ${run.datasetPath}`,
  ];
  if (m) {
    lines.push(
      `  explained variance ${formatNumber(m.explainedVariance)}  MSE ${formatNumber(m.mse)}  ` +
        `L0 ${formatNumber(m.l0)}  cosine ${formatNumber(m.cosine)}  relative norm ` +
        `${formatNumber(m.relativeNorm)}`,
      `  bits/dim ${formatNumber(m.bitsPerDimension)}  dead ${m.deadFeatures}  ` +
        `dense ${m.denseFeatures}` +
        (m.kktResidual === null
          ? ''
          : `  KKT residual ${formatNumber(m.kktResidual)} ` +
            `(${m.kktConverged ? 'converged' : 'not converged'})`) +
        `  on ${m.evaluationRows} held-out rows`,
    );
    if (m.fvu > 1) lines.push('  note: FVU > 1, worse than predicting the mean');
  }
  if (run.error) lines.push(`  error: ${run.error.message.split('\n')[0]}`);
  for (const warning of run.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

export function runsTable(runs: RunSummary[]): string {
  if (runs.length === 0)
    return (
      'no runs yet: start one with "basis train FILE --method ica --features N" ' +
      'or "basis demo"'
    );
  return table(
    ['id', 'method', 'features', 'status', 'step', 'EV', 'L0', 'bits/dim', 'time', 'dataset'],
    runs.map((run) => [
      String(run.id),
      run.method,
      String(run.config.features),
      run.status,
      `${run.step}/${run.config.steps}`,
      formatNumber(run.metrics?.explainedVariance, 3),
      formatNumber(run.metrics?.l0, 3),
      formatNumber(run.metrics?.bitsPerDimension, 3),
      formatDuration(run.elapsedMs),
      run.datasetPath.split(/[\\/]/).pop() ?? run.datasetPath,
    ]),
  );
}

export function parseRunId(text: string | undefined, what = 'RUN'): number {
  const id = Number(text);
  if (text === undefined || !Number.isInteger(id) || id < 1) {
    throw inputError(
      `${what} must be a run id (a whole number from "basis runs"), got "${text ?? ''}"`,
    );
  }
  return id;
}
