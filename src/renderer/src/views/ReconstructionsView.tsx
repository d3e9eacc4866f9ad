/**
 * Reconstructions: chosen rows against the reconstructions of one or two runs of the same
 * dataset, the error per row, and the runs' aggregate metrics side by side (FVU above 1
 * flagged as worse than predicting the mean).
 */
import { useMemo, useState } from 'react';
import type { Reconstructions } from '../../../shared/contract';
import { Random } from '../../../shared/random';
import { Chart } from '../components/Chart';
import { Empty, ErrorMessage, Loading, MarkedLabel } from '../components/common';
import { MetricsTable, RunSelect } from '../components/runs';
import * as reconstruction from '../figures/reconstruction';
import { formatInteger, formatNumber } from '../format';
import { useApi, useLoad } from '../hooks/api';
import { completedRuns, datasetById, useWorkspace } from '../hooks/workspace';
import { familyOf } from '../knobs';
import { numberParam } from '../routes';
import type { ViewProps } from './props';

const DEFAULT_ROWS = 8;

/** Parses "3, 17 40" into row indices below `rowCount`, or an error message. */
export function parseRowList(text: string, rowCount: number): number[] | string {
  const parts = text.split(/[\s,;]+/).filter((part) => part !== '');
  if (parts.length === 0) return 'name at least one row';
  const rows: number[] = [];
  for (const part of parts) {
    const row = Number(part);
    if (!Number.isInteger(row) || row < 0 || row >= rowCount)
      return `"${part}" is not a row between 0 and ${rowCount - 1}`;
    if (!rows.includes(row)) rows.push(row);
  }
  return rows;
}

export function ReconstructionsView({ params, navigate }: ViewProps) {
  const api = useApi();
  const { runs, datasets } = useWorkspace();
  const completed = completedRuns(runs.value);
  const runAId = numberParam(params, 'runA') ?? completed[0]?.id ?? null;
  const runA = completed.find((run) => run.id === runAId) ?? null;
  const sameDataset = completed.filter(
    (run) => run.datasetId === runA?.datasetId && run.id !== runAId,
  );
  const runBId = numberParam(params, 'runB');
  const runB = sameDataset.find((run) => run.id === runBId) ?? null;
  const dataset = datasetById(datasets.value, runA?.datasetId ?? null);
  const rowCount = dataset?.rows ?? 0;

  const [seed, setSeed] = useState(1);
  const randomRows = useMemo(() => {
    if (rowCount === 0) return '';
    const random = new Random(seed);
    const rows = new Set<number>();
    while (rows.size < Math.min(DEFAULT_ROWS, rowCount)) rows.add(random.integer(rowCount));
    return [...rows].join(', ');
  }, [rowCount, seed]);
  const [rowText, setRowText] = useState<string | null>(params.rows ?? null);
  const text = rowText ?? randomRows;
  const parsed = rowCount > 0 ? parseRowList(text, rowCount) : 'no dataset';
  const rows = typeof parsed === 'string' ? null : parsed;

  const key = `${runAId}:${runB?.id}:${rows?.join(',')}`;
  const loaded = useLoad(async () => {
    if (runAId === null || rows === null) return [] as Reconstructions[];
    const targets = [runAId, ...(runB ? [runB.id] : [])];
    return Promise.all(targets.map((id) => api.getReconstructions(id, rows)));
  }, key);
  const [selectedRow, setSelectedRow] = useState<number | null>(null);

  if (runs.value !== null && completed.length === 0) {
    return (
      <div className="view">
        <header className="view-header">
          <h1>Reconstructions</h1>
        </header>
        <Empty>No completed run yet.</Empty>
      </div>
    );
  }

  const [reconstructionsA, reconstructionsB] = loaded.value ?? [];
  const shownRow =
    reconstructionsA?.rows.find((row) => row.row === selectedRow) ??
    reconstructionsA?.rows[0] ??
    null;
  const shownRowB = reconstructionsB?.rows.find((row) => row.row === shownRow?.row) ?? null;

  return (
    <div className="view">
      <header className="view-header">
        <h1>Reconstructions</h1>
        <div className="toolbar">
          <RunSelect
            runs={completed}
            value={runAId}
            onChange={(id) => navigate('reconstructions', { runA: id ?? undefined })}
            label="Run A"
            testId="recon-run-a"
          />
          <RunSelect
            runs={sameDataset}
            value={runB?.id ?? null}
            onChange={(id) =>
              navigate('reconstructions', { runA: runAId ?? undefined, runB: id ?? undefined })
            }
            label="Run B"
            allowNone
            testId="recon-run-b"
          />
        </div>
      </header>
      <section className="panel">
        <div className="toolbar">
          <label className="inline-field grow">
            <span>Rows</span>
            <input
              type="text"
              value={text}
              onChange={(event) => setRowText(event.target.value)}
              spellCheck={false}
              data-testid="recon-rows"
            />
          </label>
          <button
            type="button"
            onClick={() => {
              setRowText(null);
              setSeed((value) => value + 1);
            }}
          >
            Random rows
          </button>
          {rowCount > 0 ? <span className="muted small">of {formatInteger(rowCount)}</span> : null}
        </div>
        {typeof parsed === 'string' && rowCount > 0 ? (
          <div className="error">Rows: {parsed}</div>
        ) : null}
        <ErrorMessage error={loaded.error} />
        {loaded.loading && !loaded.value ? <Loading what="reconstructions" /> : null}
        {shownRow ? (
          <div className="split">
            <div className="narrow">
              <table className="table compact" data-testid="recon-rows-table">
                <thead>
                  <tr>
                    <th className="number">Row</th>
                    <th>Label</th>
                    <th className="number" title="Squared error of run A">
                      Error A
                    </th>
                    {reconstructionsB ? (
                      <th className="number" title="Squared error of run B">
                        Error B
                      </th>
                    ) : null}
                    <th className="number" title="Active features, run A">
                      L0 A
                    </th>
                    {reconstructionsB ? <th className="number">L0 B</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {(reconstructionsA?.rows ?? []).map((row) => {
                    const other = reconstructionsB?.rows.find((item) => item.row === row.row);
                    return (
                      <tr
                        key={row.row}
                        className={`clickable${row.row === shownRow.row ? ' selected' : ''}`}
                        onClick={() => setSelectedRow(row.row)}
                      >
                        <td className="number">{row.row}</td>
                        <td className="label-cell">
                          <MarkedLabel label={row.label} />
                        </td>
                        <td className="number">{formatNumber(row.squaredError)}</td>
                        {reconstructionsB ? (
                          <td className="number">{formatNumber(other?.squaredError)}</td>
                        ) : null}
                        <td className="number">{formatInteger(row.activeFeatures)}</td>
                        {reconstructionsB ? (
                          <td className="number">{formatInteger(other?.activeFeatures)}</td>
                        ) : null}
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <div className="wide">
              <h3>
                Row {shownRow.row} {shownRow.label ? <MarkedLabel label={shownRow.label} /> : null}
              </h3>
              <Chart
                testId="recon-chart"
                name={`reconstruction-row-${shownRow.row}`}
                height={300}
                figure={reconstruction.toFigure({
                  original: shownRow.original,
                  imageShape: dataset?.imageShape ?? null,
                  reconstructions: [
                    ...(runA
                      ? [
                          {
                            name: `#${runA.id} ${runA.method}`,
                            values: shownRow.reconstruction,
                            family: familyOf(runA.method),
                          },
                        ]
                      : []),
                    ...(runB && shownRowB
                      ? [
                          {
                            name: `#${runB.id} ${runB.method}`,
                            values: shownRowB.reconstruction,
                            family: familyOf(runB.method),
                          },
                        ]
                      : []),
                  ],
                })}
              />
            </div>
          </div>
        ) : null}
      </section>
      {runA ? (
        <section className="panel">
          <h2>Aggregate metrics</h2>
          <MetricsTable runs={runB ? [runA, runB] : [runA]} />
        </section>
      ) : null}
    </div>
  );
}
