/**
 * The features of one run: a windowed list (smooth with 16384 features) sortable by density,
 * kurtosis and Laplace fit; for the selected feature the histogram of its activations with
 * the fitted Laplacian, the fit figures, the atom (bars, or an image for image patches) and
 * the rows that activate it most, labels marked. Keys: up/down or k/j.
 */
import { memo, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react';
import type { FeatureDetail, FeatureSummary, RunSummary } from '../../../shared/contract';
import { Chart } from '../components/Chart';
import { Empty, ErrorMessage, Loading, MarkedLabel, Stat } from '../components/common';
import { RunSelect } from '../components/runs';
import { VirtualList } from '../components/VirtualList';
import * as atomFigure from '../figures/atom';
import * as featureHistogram from '../figures/featureHistogram';
import { formatNumber, formatPercent } from '../format';
import { useApi, useLoad } from '../hooks/api';
import { completedRuns, datasetById, useWorkspace } from '../hooks/workspace';
import { formatRoute, numberParam } from '../routes';
import {
  FEATURE_SORT_KEYS,
  FEATURE_SORT_LABELS,
  sortFeatures,
  type FeatureSortKey,
  type SortOrder,
} from '../tables';
import type { ViewProps } from './props';

const ROW_HEIGHT_PX = 30;

export function FeaturesView({ params, navigate }: ViewProps) {
  const api = useApi();
  const { runs, datasets } = useWorkspace();
  const completed = completedRuns(runs.value);
  const runId = numberParam(params, 'run') ?? completed[0]?.id ?? null;
  const run = (runs.value ?? []).find((item) => item.id === runId) ?? null;
  const dataset = datasetById(datasets.value, run?.datasetId ?? null);

  const features = useLoad(
    () => (runId === null ? null : api.listFeatures(runId)),
    `features:${runId}`,
  );
  const [order, setOrder] = useState<SortOrder<FeatureSortKey>>({
    key: 'index',
    direction: 'ascending',
  });
  const sorted = useMemo(() => sortFeatures(features.value ?? [], order), [features.value, order]);
  const positions = useMemo(() => {
    const map = new Map<number, number>();
    sorted.forEach((feature, position) => map.set(feature.index, position));
    return map;
  }, [sorted]);

  const [selected, setSelected] = useState<number | null>(numberParam(params, 'feature'));
  useEffect(() => {
    if (selected === null && sorted.length > 0) setSelected(sorted[0]?.index ?? null);
  }, [sorted, selected]);
  // The selection lives in the address too, replaced rather than pushed: keys move fast.
  useEffect(() => {
    if (runId === null || selected === null) return;
    window.history.replaceState(
      null,
      '',
      formatRoute('features', { run: runId, feature: selected }),
    );
  }, [runId, selected]);

  if (runs.value !== null && completed.length === 0) {
    return (
      <div className="view">
        <header className="view-header">
          <h1>Features</h1>
        </header>
        <Empty>
          No completed run yet. <a href="#/new-run">Start one</a>; its features appear here when it
          finishes.
        </Empty>
      </div>
    );
  }

  return (
    <div className="view features-view">
      <header className="view-header">
        <h1>Features</h1>
        <RunSelect
          runs={completed}
          value={runId}
          onChange={(id) => {
            setSelected(null);
            navigate('features', { run: id ?? undefined });
          }}
          label="Run"
          testId="features-run-select"
        />
      </header>
      <ErrorMessage error={features.error} />
      <div className="features-layout">
        <section className="panel feature-list-panel">
          <div className="toolbar">
            <label className="inline-field">
              <span>Sort by</span>
              <select
                value={order.key}
                onChange={(event) =>
                  setOrder({
                    key: event.target.value as FeatureSortKey,
                    direction:
                      event.target.value === 'index' || event.target.value === 'ks'
                        ? 'ascending'
                        : 'descending',
                  })
                }
                data-testid="feature-sort"
              >
                {FEATURE_SORT_KEYS.map((key) => (
                  <option key={key} value={key}>
                    {FEATURE_SORT_LABELS[key]}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              className="quiet"
              title="Reverse the order"
              onClick={() =>
                setOrder((current) => ({
                  ...current,
                  direction: current.direction === 'ascending' ? 'descending' : 'ascending',
                }))
              }
            >
              {order.direction === 'ascending' ? '▲' : '▼'}
            </button>
            <span className="muted small">{sorted.length.toLocaleString('en-US')} features</span>
          </div>
          <div className="feature-row feature-row-header" aria-hidden="true">
            <span>#</span>
            <span>density</span>
            <span>kurtosis</span>
            <span>KS</span>
          </div>
          {features.value === null && features.loading ? <Loading what="features" /> : null}
          <VirtualList
            count={sorted.length}
            rowHeightPx={ROW_HEIGHT_PX}
            selected={selected === null ? null : (positions.get(selected) ?? null)}
            onSelect={(position) => setSelected(sorted[position]?.index ?? null)}
            renderRow={(position) => <FeatureRow feature={sorted[position] as FeatureSummary} />}
            label="Features"
            testId="feature-list"
            autoFocus
          />
          <p className="muted small key-hint">↑ ↓ or k j to move · Page Up/Down · Home/End</p>
        </section>
        <section className="panel feature-detail-panel">
          {runId !== null && selected !== null ? (
            <FeatureDetailView
              runId={runId}
              feature={selected}
              neighbours={neighbours(sorted, positions, selected)}
              run={run}
              imageShape={dataset?.imageShape ?? null}
            />
          ) : null}
        </section>
      </div>
    </div>
  );
}

function neighbours(
  sorted: readonly FeatureSummary[],
  positions: Map<number, number>,
  feature: number,
): number[] {
  const position = positions.get(feature);
  if (position === undefined) return [];
  return [sorted[position + 1]?.index, sorted[position - 1]?.index].filter(
    (index): index is number => index !== undefined,
  );
}

function FeatureRow({ feature }: { feature: FeatureSummary }) {
  return (
    <div className="feature-row">
      <span className="number">{feature.index}</span>
      <span className="number density-cell">
        <span
          className="density-bar"
          style={{ width: `${Math.min(100, Math.sqrt(feature.density) * 100)}%` }}
        />
        <span className="density-text">{formatPercent(feature.density, 2)}</span>
      </span>
      <span className="number">{formatNumber(feature.kurtosis)}</span>
      <span className="number">{formatNumber(feature.laplace?.ksDistance)}</span>
    </div>
  );
}

interface DetailProps {
  runId: number;
  feature: number;
  neighbours: number[];
  run: RunSummary | null;
  imageShape: [number, number] | null;
}

/** Loads a feature's detail through a per-run cache, prefetching the neighbours in the list. */
function useFeatureDetail(runId: number, feature: number, neighbourFeatures: number[]) {
  const api = useApi();
  const cache = useRef(new Map<string, Promise<FeatureDetail>>());
  const [state, setState] = useState<{ detail: FeatureDetail | null; error: Error | null }>({
    detail: null,
    error: null,
  });
  const fetchDetail = (index: number): Promise<FeatureDetail> => {
    const key = `${runId}:${index}`;
    let promise = cache.current.get(key);
    if (!promise) {
      promise = api.getFeature(runId, index);
      promise.catch(() => cache.current.delete(key));
      cache.current.set(key, promise);
    }
    return promise;
  };
  useEffect(() => {
    let current = true;
    fetchDetail(feature).then(
      (detail) => {
        if (!current) return;
        setState({ detail, error: null });
        for (const neighbour of neighbourFeatures)
          void fetchDetail(neighbour).catch(() => undefined);
      },
      (error: unknown) => current && setState({ detail: null, error: error as Error }),
    );
    return () => {
      current = false;
    };
  }, [runId, feature]); // neighbours follow the feature
  return state;
}

function FeatureDetailView({
  runId,
  feature,
  neighbours: neighbourFeatures,
  run,
  imageShape,
}: DetailProps) {
  const { detail, error } = useFeatureDetail(runId, feature, neighbourFeatures);
  const [logY, setLogY] = useState(false);
  const deferredDetail = useDeferredValue(detail);
  const histogramFigure = useMemo(
    () =>
      detail
        ? featureHistogram.toFigure({ histogram: detail.histogram, laplace: detail.laplace, logY })
        : null,
    [detail, logY],
  );
  if (error) return <ErrorMessage error={error} />;
  if (!detail || !histogramFigure || !deferredDetail)
    return <Loading what={`feature ${feature}`} />;
  const fit = detail.laplace;
  const approximate = run?.method.startsWith('ica') ? 'MAP codes' : 'encoder activations';

  return (
    <div className="feature-detail" data-testid="feature-detail" data-feature={detail.index}>
      <div className="detail-header">
        <h2>Feature {detail.index}</h2>
        <label className="toggle">
          <input
            type="checkbox"
            checked={logY}
            onChange={(event) => setLogY(event.target.checked)}
            data-testid="log-y"
          />{' '}
          log scale
        </label>
      </div>
      <div className="stats-row">
        <Stat label="density" value={formatPercent(detail.density, 2)} />
        <Stat label="mean" value={formatNumber(detail.mean)} />
        <Stat label="max" value={formatNumber(detail.max)} />
        <Stat label="kurtosis" value={formatNumber(detail.kurtosis)} />
        <Stat label="atom norm" value={formatNumber(detail.atomNorm)} />
      </div>
      <h3>Activations ({approximate}, non-zero)</h3>
      <div data-testid="feature-histogram" data-feature={detail.index}>
        {detail.histogram.counts.some((count) => count > 0) ? (
          <Chart
            figure={histogramFigure}
            name={`run-${runId}-feature-${detail.index}-histogram`}
            height={260}
          />
        ) : (
          <p className="empty">
            No non-zero activation on the evaluation rows: a dead feature, nothing to fit.
          </p>
        )}
      </div>
      <div className="fit-figures" data-testid="fit-figures">
        <span>
          {fit.kind === 'two-sided'
            ? 'Two-sided Laplace'
            : 'One-sided (exponential) fit of the non-zero values'}
          : location {formatNumber(fit.location)}, scale b {formatNumber(fit.scale)}
        </span>
        <span title="Kolmogorov-Smirnov distance between the values and the fitted law: 0 is a perfect fit">
          KS {formatNumber(fit.ksDistance)}
        </span>
        <span title="Mean log-likelihood ratio per value, fitted Laplacian against a Gaussian of equal variance: positive favours Laplace">
          LLR vs Gauss {formatNumber(fit.logLikelihoodRatio)}
        </span>
        {detail.quantiles.length > 0 ? (
          <span className="muted">
            quantiles{' '}
            {detail.quantiles
              .map((quantile) => `${quantile.q}: ${formatNumber(quantile.value)}`)
              .join(' · ')}
          </span>
        ) : null}
      </div>
      <AtomAndExamples runId={runId} detail={deferredDetail} imageShape={imageShape} />
    </div>
  );
}

/**
 * The atom and the top rows: drawn from a deferred copy of the detail, so that moving
 * through the list redraws the histogram first and these a moment later.
 */
const AtomAndExamples = memo(function AtomAndExamples({
  runId,
  detail: shown,
  imageShape,
}: {
  runId: number;
  detail: FeatureDetail;
  imageShape: [number, number] | null;
}) {
  return (
    <div className="split">
      <div className="half">
        <h3>Atom{imageShape ? ` (${imageShape.join(' × ')} image)` : ''}</h3>
        <Chart
          figure={atomFigure.toFigure({ atom: shown.atom, imageShape })}
          name={`run-${runId}-feature-${shown.index}-atom`}
          height={imageShape ? 260 : 220}
          testId="atom-chart"
          maxWidthPx={imageShape ? 380 : undefined}
        />
      </div>
      <div className="half">
        <h3>Top-activating rows</h3>
        <table className="table compact" data-testid="top-examples">
          <thead>
            <tr>
              <th className="number">Row</th>
              <th className="number">Value</th>
              <th>Label</th>
            </tr>
          </thead>
          <tbody>
            {shown.topExamples.map((example) => (
              <tr key={example.row}>
                <td className="number">{example.row}</td>
                <td className="number">{formatNumber(example.value)}</td>
                <td>
                  <MarkedLabel label={example.label} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
});
