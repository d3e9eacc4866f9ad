/**
 * Past runs: a sortable, filterable table with their metrics, the sparsity-fidelity frontier
 * across runs (ICA and SAE in their own colours), delete with confirmation, and re-run with
 * changes.
 */
import { useMemo, useState } from 'react';
import type { RunSummary } from '../../../shared/contract';
import { Chart } from '../components/Chart';
import { ConfirmDialog, Empty, ErrorMessage, Loading } from '../components/common';
import { FamilyDot, fvuWarning, StatusBadge } from '../components/runs';
import * as frontier from '../figures/frontier';
import { baseName, formatDuration, formatInteger, formatNumber } from '../format';
import { useApi } from '../hooks/api';
import { useWorkspace } from '../hooks/workspace';
import { sparsityField, sparsityValue } from '../knobs';
import { filterRuns, sortRuns, toggleOrder, type RunSortKey, type SortOrder } from '../tables';
import type { ViewProps } from './props';

const COLUMNS: { key: RunSortKey; label: string; title: string; numeric: boolean }[] = [
  { key: 'id', label: 'Run', title: 'Run number', numeric: true },
  { key: 'method', label: 'Method', title: 'Training method', numeric: false },
  { key: 'status', label: 'Status', title: 'Run status', numeric: false },
  { key: 'features', label: 'Features', title: 'Dictionary size', numeric: true },
  { key: 'sparsity', label: 'Sparsity', title: 'alpha, l1, k or L0 coefficient', numeric: true },
  { key: 'l0', label: 'L0', title: 'Active features per row', numeric: true },
  {
    key: 'explainedVariance',
    label: 'Expl. var.',
    title: 'Explained variance, 1 − FVU',
    numeric: true,
  },
  { key: 'mse', label: 'MSE', title: 'Mean squared error per dimension', numeric: true },
  {
    key: 'bitsPerDimension',
    label: 'Bits/dim',
    title: 'Coding cost under the Laplacian model',
    numeric: true,
  },
  {
    key: 'deadFeatures',
    label: 'Dead',
    title: 'Features never active on evaluation rows',
    numeric: true,
  },
  { key: 'elapsed', label: 'Time', title: 'Training time', numeric: true },
];

export function RunsView({ navigate }: ViewProps) {
  const api = useApi();
  const { runs, datasets } = useWorkspace();
  const [order, setOrder] = useState<SortOrder<RunSortKey>>({ key: 'id', direction: 'descending' });
  const [query, setQuery] = useState('');
  const [family, setFamily] = useState<'all' | 'ica' | 'sae'>('all');
  const [toDelete, setToDelete] = useState<RunSummary | null>(null);
  const [error, setError] = useState<Error | null>(null);

  // One dataset at a time by default: metrics of different datasets do not compare.
  const datasetIds = useMemo(
    () => [...new Set((runs.value ?? []).map((run) => run.datasetId))],
    [runs.value],
  );
  const latestDataset = [...(runs.value ?? [])].sort((a, b) => b.id - a.id)[0]?.datasetId ?? null;
  const [datasetChoice, setDatasetChoice] = useState<number | 'all' | null>(null);
  const datasetFilter = datasetChoice ?? latestDataset ?? 'all';

  const shown = useMemo(() => {
    const byFamily = (runs.value ?? []).filter(
      (run) =>
        (datasetFilter === 'all' || run.datasetId === datasetFilter) &&
        (family === 'all' ||
          (family === 'ica' ? run.method.startsWith('ica') : run.method.startsWith('sae'))),
    );
    return sortRuns(filterRuns(byFamily, query), order);
  }, [runs.value, query, family, order, datasetFilter]);
  const datasetPaths = new Map((datasets.value ?? []).map((dataset) => [dataset.id, dataset.path]));
  const showDatasetColumn = datasetFilter === 'all';

  const remove = async (run: RunSummary): Promise<void> => {
    setToDelete(null);
    try {
      await api.deleteRun(run.id);
      runs.reload();
    } catch (caught) {
      setError(caught as Error);
    }
  };

  return (
    <div className="view">
      <header className="view-header">
        <h1>Runs</h1>
        <p className="lede">
          Every run recorded in the database, with the metrics of its evaluation pass.
        </p>
      </header>
      <ErrorMessage error={runs.error ?? error} />
      {runs.value === null ? <Loading what="runs" /> : null}
      {runs.value !== null && runs.value.length === 0 ? (
        <Empty>
          No runs yet. <a href="#/new-run">Start one</a>.
        </Empty>
      ) : null}
      {runs.value !== null && runs.value.length > 0 ? (
        <>
          <section className="panel">
            <h2>Sparsity against fidelity</h2>
            <p className="note">
              Up and to the left is better: fewer active features per row, more variance explained.
              Dotted lines join each family&apos;s best runs. Click a point to open its features.
            </p>
            <Chart
              figure={frontier.toFigure(shown)}
              name="frontier"
              height={320}
              testId="frontier-chart"
              onPointClick={(runId) =>
                typeof runId === 'number' && navigate('features', { run: runId })
              }
            />
          </section>
          <section className="panel">
            <div className="toolbar">
              <label className="inline-field">
                <span>Dataset</span>
                <select
                  value={String(datasetFilter)}
                  onChange={(event) =>
                    setDatasetChoice(
                      event.target.value === 'all' ? 'all' : Number(event.target.value),
                    )
                  }
                  data-testid="runs-dataset"
                >
                  <option value="all">all datasets</option>
                  {datasetIds.map((id) => (
                    <option key={id} value={id}>
                      {baseName(datasetPaths.get(id) ?? `dataset ${id}`)}
                    </option>
                  ))}
                </select>
              </label>
              <input
                type="search"
                placeholder="Filter: method, status, dataset, #id"
                value={query}
                onChange={(event) => setQuery(event.target.value)}
                data-testid="runs-filter"
              />
              <div className="segmented" role="group" aria-label="Family">
                {(['all', 'ica', 'sae'] as const).map((value) => (
                  <button
                    key={value}
                    type="button"
                    className={family === value ? 'active' : ''}
                    onClick={() => setFamily(value)}
                  >
                    {value === 'all' ? 'All' : value.toUpperCase()}
                  </button>
                ))}
              </div>
              <span className="muted small">
                {shown.length} of {runs.value.length} runs
              </span>
            </div>
            <div className="table-scroll">
              <table className="table runs-table" data-testid="runs-table">
                <thead>
                  <tr>
                    {COLUMNS.map((column) => (
                      <th
                        key={column.key}
                        className={`${column.numeric ? 'number ' : ''}sortable`}
                        title={column.title}
                        aria-sort={order.key === column.key ? order.direction : 'none'}
                        onClick={() => setOrder((current) => toggleOrder(current, column.key))}
                      >
                        {column.label}
                        {order.key === column.key
                          ? order.direction === 'ascending'
                            ? ' ▲'
                            : ' ▼'
                          : ''}
                      </th>
                    ))}
                    {showDatasetColumn ? <th>Dataset</th> : null}
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {shown.map((run) => (
                    <RunRow
                      key={run.id}
                      run={run}
                      navigate={navigate}
                      onDelete={() => setToDelete(run)}
                      showDataset={showDatasetColumn}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      ) : null}
      {toDelete ? (
        <ConfirmDialog
          title={`Delete run #${toDelete.id}?`}
          message={`Its dictionary, metrics and feature statistics are removed from the database. This cannot be undone.`}
          confirmLabel="Delete"
          onConfirm={() => void remove(toDelete)}
          onCancel={() => setToDelete(null)}
        />
      ) : null}
    </div>
  );
}

function RunRow({
  run,
  navigate,
  onDelete,
  showDataset,
}: {
  run: RunSummary;
  navigate: ViewProps['navigate'];
  onDelete: () => void;
  showDataset: boolean;
}) {
  const metrics = run.metrics;
  const warn = fvuWarning(metrics);
  const field = sparsityField(run.method);
  return (
    <tr data-testid={`run-row-${run.id}`}>
      <td className="number">#{run.id}</td>
      <td>
        <FamilyDot run={run} /> {run.method}
      </td>
      <td>
        <StatusBadge status={run.status} />
      </td>
      <td className="number">{formatInteger(run.config.features)}</td>
      <td className="number" title={field ?? ''}>
        {field ? `${field} ${formatNumber(sparsityValue(run.config))}` : '—'}
      </td>
      <td className="number">{formatNumber(metrics?.l0)}</td>
      <td className={`number${warn ? ' warn' : ''}`} title={warn ?? undefined}>
        {formatNumber(metrics?.explainedVariance)}
      </td>
      <td className="number">{formatNumber(metrics?.mse)}</td>
      <td className="number">{formatNumber(metrics?.bitsPerDimension)}</td>
      <td className="number">{formatInteger(metrics?.deadFeatures)}</td>
      <td className="number">
        {formatDuration(run.elapsedMs === null ? null : run.elapsedMs / 1000)}
      </td>
      {showDataset ? (
        <td className="dataset-cell" title={run.datasetPath}>
          {baseName(run.datasetPath)}
        </td>
      ) : null}
      <td className="row-actions">
        {run.status === 'completed' ? (
          <button
            type="button"
            className="quiet"
            onClick={() => navigate('features', { run: run.id })}
          >
            Features
          </button>
        ) : (
          <button type="button" className="quiet" onClick={() => navigate('live', { run: run.id })}>
            Progress
          </button>
        )}
        <button
          type="button"
          className="quiet"
          onClick={() => navigate('new-run', { from: run.id })}
          data-testid={`rerun-${run.id}`}
        >
          Re-run
        </button>
        <button
          type="button"
          className="quiet danger-text"
          onClick={onDelete}
          data-testid={`delete-${run.id}`}
        >
          Delete
        </button>
      </td>
    </tr>
  );
}
