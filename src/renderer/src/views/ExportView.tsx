/**
 * Export: a run's dictionary as .npy, as a SAELens folder (cfg.json + safetensors), its
 * feature statistics as CSV, and its charts as PNG images (Plotly's toImage).
 */
import { useRef, useState } from 'react';
import type { ExportFormat, RunSummary } from '../../../shared/contract';
import { isIcaMethod } from '../../../shared/methods';
import { desktopShell } from '../api/transport';
import { Chart, chartToPng, downloadDataUrl } from '../components/Chart';
import { Empty, ErrorMessage, Field } from '../components/common';
import { RunSelect } from '../components/runs';
import * as frontier from '../figures/frontier';
import * as lossCurves from '../figures/lossCurves';
import { useApi, useLoad } from '../hooks/api';
import { completedRuns, useWorkspace } from '../hooks/workspace';
import { numberParam } from '../routes';
import type { ViewProps } from './props';

const FORMATS: { format: ExportFormat; label: string; help: string }[] = [
  {
    format: 'npy',
    label: 'Dictionary (.npy)',
    help: 'The atoms as a features × dimensions float32 array.',
  },
  {
    format: 'saelens',
    label: 'SAELens folder',
    help: 'cfg.json and sae_weights.safetensors, loadable by SAELens 6.',
  },
  {
    format: 'features-csv',
    label: 'Feature statistics (.csv)',
    help: 'One line per feature: density, kurtosis, Laplace fit, …',
  },
];

/** A default output path next to the dataset file. */
export function suggestedPath(run: RunSummary, format: ExportFormat): string {
  const separator = run.datasetPath.includes('\\') && !run.datasetPath.includes('/') ? '\\' : '/';
  const folder = run.datasetPath.slice(0, run.datasetPath.lastIndexOf(separator) + 1);
  const stem = `basis-run-${run.id}-${run.method}`;
  switch (format) {
    case 'npy':
      return `${folder}${stem}.npy`;
    case 'saelens':
      return `${folder}${stem}-saelens`;
    case 'features-csv':
      return `${folder}${stem}-features.csv`;
  }
}

export function ExportView({ params, navigate }: ViewProps) {
  const api = useApi();
  const shell = desktopShell();
  const { runs } = useWorkspace();
  const completed = completedRuns(runs.value);
  const runId = numberParam(params, 'run') ?? completed[0]?.id ?? null;
  const run = completed.find((item) => item.id === runId) ?? null;
  const [format, setFormat] = useState<ExportFormat>('npy');
  const [path, setPath] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [written, setWritten] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const steps = useLoad(
    () => (runId === null ? null : api.getSteps(runId)),
    `export-steps:${runId}`,
  );
  const lossChart = useRef<HTMLDivElement | null>(null);
  const frontierChart = useRef<HTMLDivElement | null>(null);

  if (runs.value !== null && completed.length === 0) {
    return (
      <div className="view">
        <header className="view-header">
          <h1>Export</h1>
        </header>
        <Empty>No completed run to export yet.</Empty>
      </div>
    );
  }

  const outPath = path ?? (run ? suggestedPath(run, format) : '');
  const exportRun = async (): Promise<void> => {
    if (runId === null) return;
    setBusy(true);
    setError(null);
    setWritten(null);
    try {
      setWritten(await api.exportRun(runId, format, outPath));
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  const savePng = async (container: HTMLDivElement | null, name: string): Promise<void> => {
    const graph = container?.querySelector<HTMLElement>('.js-plotly-plot');
    if (graph) downloadDataUrl(await chartToPng(graph), `${name}.png`);
  };

  return (
    <div className="view">
      <header className="view-header">
        <h1>Export</h1>
        <RunSelect
          runs={completed}
          value={runId}
          onChange={(id) => {
            setPath(null);
            setWritten(null);
            navigate('export', { run: id ?? undefined });
          }}
          label="Run"
          testId="export-run-select"
        />
      </header>
      <section className="panel">
        <h2>Dictionary and statistics</h2>
        <div className="format-choices" role="radiogroup" aria-label="Format">
          {FORMATS.map((choice) => (
            <label
              key={choice.format}
              className={`format-choice${format === choice.format ? ' active' : ''}`}
            >
              <input
                type="radio"
                name="format"
                value={choice.format}
                checked={format === choice.format}
                onChange={() => {
                  setFormat(choice.format);
                  setPath(null);
                }}
                data-testid={`format-${choice.format}`}
              />
              <span className="format-label">{choice.label}</span>
              <span className="field-help">{choice.help}</span>
            </label>
          ))}
        </div>
        {run && isIcaMethod(run.method) && format === 'saelens' ? (
          <p className="note warn-note">
            ICA has no feed-forward encoder: the exported encoder is an approximation (the
            pseudo-inverse of the dictionary), and cfg.json says so. The decoder is exact.
          </p>
        ) : null}
        <Field
          label={format === 'saelens' ? 'Output folder' : 'Output file'}
          help="Written to a temporary name, then renamed."
        >
          <div className="with-button">
            <input
              type="text"
              value={outPath}
              onChange={(event) => setPath(event.target.value)}
              spellCheck={false}
              data-testid="export-path"
            />
            {shell ? (
              <button
                type="button"
                onClick={() =>
                  void shell.chooseSavePath(outPath).then((chosen) => {
                    if (chosen) setPath(chosen);
                  })
                }
              >
                Choose…
              </button>
            ) : null}
          </div>
        </Field>
        <button
          type="button"
          className="primary"
          disabled={busy || !run || outPath.trim() === ''}
          onClick={() => void exportRun()}
          data-testid="export-button"
        >
          {busy ? 'Exporting…' : 'Export'}
        </button>
        <ErrorMessage error={error} />
        {written ? (
          <p className="ok" data-testid="export-result">
            Written: <code>{written}</code>
          </p>
        ) : null}
      </section>
      <section className="panel">
        <div className="detail-header">
          <h2>Charts as PNG</h2>
        </div>
        <div className="stack">
          <div className="full" ref={lossChart}>
            <div className="detail-header">
              <h3>Loss curves</h3>
              <button
                type="button"
                onClick={() => void savePng(lossChart.current, `run-${runId}-loss`)}
                data-testid="png-loss"
              >
                Save PNG
              </button>
            </div>
            {steps.value ? (
              <Chart
                figure={lossCurves.toFigure(steps.value)}
                name={`run-${runId}-loss`}
                pngButton={false}
                height={lossCurves.PANEL_ROW_HEIGHT_PX * lossCurves.panelRows(steps.value) + 40}
              />
            ) : null}
          </div>
          <div className="full" ref={frontierChart}>
            <div className="detail-header">
              <h3>Frontier</h3>
              <button
                type="button"
                onClick={() => void savePng(frontierChart.current, 'frontier')}
                data-testid="png-frontier"
              >
                Save PNG
              </button>
            </div>
            <Chart
              figure={frontier.toFigure(runs.value ?? [])}
              name="frontier"
              height={260}
              pngButton={false}
            />
          </div>
        </div>
      </section>
    </div>
  );
}
