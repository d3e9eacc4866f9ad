/**
 * A run as it trains: progress with an ETA, the loss curves (getSteps polled), the latest
 * loss terms, and cancel. When the run ends, its metrics and links to its features.
 */
import { useEffect, useState } from 'react';
import type { RunProgress, RunSummary, StepRecord } from '../../../shared/contract';
import { Chart } from '../components/Chart';
import { Empty, ErrorMessage, ProgressBar, Stat } from '../components/common';
import { MetricsTable, runLabel, RunSelect, StatusBadge } from '../components/runs';
import * as histogramBars from '../figures/histogramBars';
import * as lossCurves from '../figures/lossCurves';
import { formatBytes, formatDuration, formatInteger, formatNumber, formatPercent } from '../format';
import { useApi, usePolling } from '../hooks/api';
import { useWorkspace } from '../hooks/workspace';
import { numberParam } from '../routes';
import type { ViewProps } from './props';

const PROGRESS_INTERVAL_MS = 500;
const STEPS_INTERVAL_MS = 1000;

function isActive(status: RunSummary['status'] | undefined): boolean {
  return status === 'queued' || status === 'running';
}

export function LiveRunView({ params, navigate }: ViewProps) {
  const api = useApi();
  const { runs } = useWorkspace();
  const list = [...(runs.value ?? [])].sort((a, b) => b.id - a.id);
  const runId =
    numberParam(params, 'run') ??
    list.find((run) => isActive(run.status))?.id ??
    list[0]?.id ??
    null;

  const [progress, setProgress] = useState<RunProgress | null>(null);
  const [steps, setSteps] = useState<StepRecord[]>([]);
  const [run, setRun] = useState<RunSummary | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [loadedFor, setLoadedFor] = useState<number | null>(null);
  const [reloads, setReloads] = useState(0);

  // Reset when the run changes, then poll while it is active.
  if (loadedFor !== runId) {
    setLoadedFor(runId);
    setProgress(null);
    setSteps([]);
    setRun(null);
    setError(null);
  }
  const active = runId !== null && run !== null && isActive(run.status);

  usePolling(
    async () => {
      if (runId === null) return;
      try {
        const [nextProgress, nextRun] = await Promise.all([
          api.getProgress(runId),
          api.getRun(runId),
        ]);
        setProgress(nextProgress);
        setRun(nextRun);
        if (!isActive(nextRun.status)) {
          setSteps(await api.getSteps(runId));
          runs.reload();
        }
      } catch (caught) {
        setError(caught as Error);
      }
    },
    PROGRESS_INTERVAL_MS,
    active,
  );
  usePolling(
    async () => {
      if (runId !== null) setSteps(await api.getSteps(runId));
    },
    STEPS_INTERVAL_MS,
    active,
  );
  // Load the run once when it changes; polling takes over while it is active.
  useEffect(() => {
    if (runId === null) return;
    let current = true;
    Promise.all([api.getRun(runId), api.getSteps(runId)]).then(
      ([nextRun, nextSteps]) => {
        if (!current) return;
        setRun(nextRun);
        setSteps(nextSteps);
      },
      (caught: unknown) => current && setError(caught as Error),
    );
    return () => {
      current = false;
    };
  }, [api, runId, reloads]);

  const cancel = async (): Promise<void> => {
    if (runId === null) return;
    setCancelling(true);
    try {
      await api.cancelRun(runId);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setCancelling(false);
    }
  };

  const totalSteps = progress?.totalSteps ?? run?.config.steps ?? 0;
  const step = progress?.step ?? run?.step ?? 0;
  const latest = progress?.latest ?? steps[steps.length - 1] ?? null;

  return (
    <div className="view">
      <header className="view-header">
        <h1>Live run</h1>
        <RunSelect
          runs={list}
          value={runId}
          onChange={(id) => navigate('live', { run: id ?? undefined })}
          label="Run"
          testId="live-run-select"
        />
      </header>
      {runId === null ? (
        <Empty>
          No runs yet. <a href="#/new-run">Start one</a>.
        </Empty>
      ) : (
        <>
          <ErrorMessage error={error} />
          <section className="panel" data-testid="live-progress">
            <div className="detail-header">
              <h2>{run ? runLabel(run) : `Run #${runId}`}</h2>
              <div className="actions">
                {run ? <StatusBadge status={run.status} /> : null}
                {isActive(run?.status) ? (
                  <button
                    type="button"
                    className="danger"
                    onClick={() => void cancel()}
                    disabled={cancelling}
                    data-testid="cancel-run"
                  >
                    {cancelling ? 'Cancelling…' : 'Cancel'}
                  </button>
                ) : null}
                {run?.status === 'interrupted' || run?.status === 'cancelled' ? (
                  <button
                    type="button"
                    onClick={() =>
                      void api
                        .resumeRun(runId)
                        .then(() => setReloads((count) => count + 1), setError)
                    }
                  >
                    Resume
                  </button>
                ) : null}
              </div>
            </div>
            <ProgressBar
              fraction={totalSteps > 0 ? step / totalSteps : 0}
              label="training progress"
            />
            <div className="stats-row">
              <Stat label="step" value={`${formatInteger(step)} / ${formatInteger(totalSteps)}`} />
              <Stat
                label="progress"
                value={formatPercent(totalSteps > 0 ? step / totalSteps : null, 0)}
              />
              <Stat label="phase" value={progress?.phase ?? run?.status ?? '—'} />
              <Stat
                label="rows / s"
                value={formatInteger(progress?.rowsPerSecond ?? latest?.rowsPerSecond)}
              />
              <Stat
                label="ETA"
                value={isActive(run?.status) ? formatDuration(progress?.etaSeconds) : '—'}
              />
              <Stat
                label="peak memory"
                value={formatBytes(progress?.peakMemoryBytes ?? run?.peakMemoryBytes)}
              />
              <Stat
                label="elapsed"
                value={formatDuration((run?.elapsedMs ?? latest?.elapsedMs ?? NaN) / 1000)}
              />
              {latest
                ? Object.entries(latest.losses).map(([term, value]) => (
                    <Stat key={term} label={term} value={formatNumber(value)} />
                  ))
                : null}
            </div>
            {run?.error ? (
              <ErrorMessage
                error={Object.assign(new Error(run.error.message), { kind: run.error.kind })}
              />
            ) : null}
            {run?.warnings.length ? (
              <ul className="warnings">
                {run.warnings.map((warning) => (
                  <li key={warning}>{warning}</li>
                ))}
              </ul>
            ) : null}
          </section>
          <section className="panel">
            <h2>Loss</h2>
            {steps.length > 0 ? (
              <Chart
                figure={lossCurves.toFigure(steps)}
                name={`run-${runId}-loss`}
                height={lossCurves.PANEL_ROW_HEIGHT_PX * lossCurves.panelRows(steps) + 40}
                testId="loss-chart"
              />
            ) : (
              <p className="note">The first loss values appear after the first logged step.</p>
            )}
          </section>
          {run?.status === 'completed' && run.metrics ? (
            <section className="panel" data-testid="run-metrics">
              <div className="detail-header">
                <h2>Evaluation</h2>
                <div className="actions">
                  <button
                    type="button"
                    className="primary"
                    onClick={() => navigate('features', { run: run.id })}
                    data-testid="open-features"
                  >
                    Open features
                  </button>
                  <button
                    type="button"
                    onClick={() => navigate('reconstructions', { runA: run.id })}
                  >
                    Reconstructions
                  </button>
                </div>
              </div>
              <div className="split">
                <div className="narrow">
                  <MetricsTable runs={[run]} />
                </div>
                <div className="wide">
                  <h3>Feature density</h3>
                  <Chart
                    figure={histogramBars.toFigure({
                      histogram: run.metrics.densityHistogram,
                      xTitle: 'log10 density',
                    })}
                    name={`run-${run.id}-density`}
                    height={260}
                  />
                </div>
              </div>
            </section>
          ) : null}
        </>
      )}
    </div>
  );
}
