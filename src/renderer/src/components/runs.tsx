/** Run pickers and metric tables shared by several views. */
import type { RunMetrics, RunSummary } from '../../../shared/contract';
import { baseName, formatInteger, formatNumber } from '../format';
import { familyOf, sparsityField, sparsityValue } from '../knobs';

export function runLabel(run: RunSummary): string {
  const field = sparsityField(run.method);
  const sparsity = field ? ` ${field} ${formatNumber(sparsityValue(run.config))}` : '';
  return `#${run.id} ${run.method} · ${run.config.features} features${sparsity} · ${baseName(run.datasetPath)}`;
}

export function StatusBadge({ status }: { status: RunSummary['status'] }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function FamilyDot({ run }: { run: RunSummary }) {
  const family = familyOf(run.method);
  return (
    <span className={`family-dot ${family.toLowerCase()}`} title={family} aria-label={family} />
  );
}

export interface RunSelectProps {
  runs: readonly RunSummary[];
  value: number | null;
  onChange: (runId: number | null) => void;
  label: string;
  allowNone?: boolean;
  testId?: string;
}

export function RunSelect({ runs, value, onChange, label, allowNone, testId }: RunSelectProps) {
  return (
    <label className="inline-field">
      <span>{label}</span>
      <select
        data-testid={testId}
        value={value ?? ''}
        onChange={(event) =>
          onChange(event.target.value === '' ? null : Number(event.target.value))
        }
      >
        {allowNone || value === null ? (
          <option value="">{allowNone ? 'none' : 'choose a run'}</option>
        ) : null}
        {runs.map((run) => (
          <option key={run.id} value={run.id}>
            {runLabel(run)}
          </option>
        ))}
      </select>
    </label>
  );
}

/** FVU above 1: the reconstruction is worse than predicting the mean row (spec/sae.md). */
export function fvuWarning(metrics: RunMetrics | null | undefined): string | null {
  return metrics && Number.isFinite(metrics.fvu) && metrics.fvu > 1
    ? 'FVU > 1: worse than predicting the mean'
    : null;
}

const METRIC_ROWS: { label: string; value: (metrics: RunMetrics) => string; help: string }[] = [
  { label: 'Explained variance', value: (m) => formatNumber(m.explainedVariance), help: '1 − FVU' },
  { label: 'FVU', value: (m) => formatNumber(m.fvu), help: 'Σ‖x − x̂‖² / Σ‖x − mean‖²' },
  { label: 'MSE', value: (m) => formatNumber(m.mse), help: 'mean ‖x − x̂‖² / d' },
  { label: 'L0', value: (m) => formatNumber(m.l0), help: 'active features per row' },
  { label: 'L1', value: (m) => formatNumber(m.l1), help: 'mean Σ|f| per row' },
  { label: 'Cosine', value: (m) => formatNumber(m.cosine), help: 'cos(x, x̂)' },
  {
    label: 'Relative norm',
    value: (m) => formatNumber(m.relativeNorm),
    help: '‖x̂‖ / ‖x‖ (shrinkage below 1)',
  },
  {
    label: 'Dead features',
    value: (m) => formatInteger(m.deadFeatures),
    help: 'never active on evaluation rows',
  },
  {
    label: 'Dense features',
    value: (m) => formatInteger(m.denseFeatures),
    help: 'active on > 10% of rows',
  },
  {
    label: 'Bits per dimension',
    value: (m) => formatNumber(m.bitsPerDimension),
    help: 'coding cost, Laplacian model',
  },
  {
    label: 'KKT residual',
    value: (m) =>
      m.kktResidual === null
        ? '—'
        : `${formatNumber(m.kktResidual)}${m.kktConverged === false ? ' (not converged)' : ''}`,
    help: 'largest, relative to α (ICA)',
  },
  {
    label: 'Evaluation rows',
    value: (m) => formatInteger(m.evaluationRows),
    help: 'held-out rows',
  },
];

/** Metrics of one or more runs side by side; FVU above 1 is flagged. */
export function MetricsTable({ runs }: { runs: readonly RunSummary[] }) {
  return (
    <table className="metrics-table" data-testid="metrics-table">
      <thead>
        <tr>
          <th>Metric</th>
          {runs.map((run) => (
            <th key={run.id} className="number">
              <FamilyDot run={run} /> #{run.id} {run.method}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {METRIC_ROWS.map((row) => (
          <tr key={row.label}>
            <td title={row.help}>
              {row.label}
              <span className="metric-help">{row.help}</span>
            </td>
            {runs.map((run) => {
              const warn = row.label === 'FVU' ? fvuWarning(run.metrics) : null;
              return (
                <td
                  key={run.id}
                  className={`number${warn ? ' warn' : ''}`}
                  title={warn ?? undefined}
                >
                  {run.metrics ? row.value(run.metrics) : '—'}
                  {warn ? <span className="warn-note"> worse than the mean</span> : null}
                </td>
              );
            })}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function densitySummary(metrics: RunMetrics): string {
  return `${formatInteger(metrics.deadFeatures)} dead, ${formatInteger(metrics.denseFeatures)} dense`;
}
