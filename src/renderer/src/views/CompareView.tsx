/**
 * Compare two runs' dictionaries: every atom of A matched to B by |cos|, the histogram of
 * best matches, the one-to-one pairs, and the features left unmatched; a pair's atoms side
 * by side.
 */
import { useState } from 'react';
import type { FeatureMatch } from '../../../shared/contract';
import { Chart } from '../components/Chart';
import { Empty, ErrorMessage, Loading, Stat } from '../components/common';
import { RunSelect } from '../components/runs';
import { VirtualList } from '../components/VirtualList';
import * as atomFigure from '../figures/atom';
import * as histogramBars from '../figures/histogramBars';
import { formatInteger, formatNumber } from '../format';
import { useApi, useLoad } from '../hooks/api';
import { completedRuns, datasetById, useWorkspace } from '../hooks/workspace';
import { numberParam } from '../routes';
import type { ViewProps } from './props';

const LISTED_UNMATCHED = 300;

export function CompareView({ params, navigate }: ViewProps) {
  const api = useApi();
  const { runs, datasets } = useWorkspace();
  const completed = completedRuns(runs.value);
  const runAId = numberParam(params, 'runA') ?? completed[1]?.id ?? null;
  const runA = completed.find((run) => run.id === runAId) ?? null;
  const candidatesB = completed.filter(
    (run) => run.id !== runAId && run.datasetId === runA?.datasetId,
  );
  const runBId = numberParam(params, 'runB') ?? candidatesB[0]?.id ?? null;
  const dataset = datasetById(datasets.value, runA?.datasetId ?? null);

  const comparison = useLoad(
    () => (runAId !== null && runBId !== null ? api.compareRuns(runAId, runBId) : null),
    `compare:${runAId}:${runBId}`,
  );
  const [selectedPair, setSelectedPair] = useState<number | null>(0);

  if (runs.value !== null && completed.length < 2) {
    return (
      <div className="view">
        <header className="view-header">
          <h1>Compare</h1>
        </header>
        <Empty>Comparing needs two completed runs on the same dataset.</Empty>
      </div>
    );
  }

  const value = comparison.value;
  const pair: FeatureMatch | null =
    value && selectedPair !== null ? (value.matches[selectedPair] ?? null) : null;

  return (
    <div className="view">
      <header className="view-header">
        <h1>Compare dictionaries</h1>
        <div className="toolbar">
          <RunSelect
            runs={completed}
            value={runAId}
            onChange={(id) => navigate('compare', { runA: id ?? undefined })}
            label="Run A"
            testId="compare-run-a"
          />
          <RunSelect
            runs={candidatesB}
            value={runBId}
            onChange={(id) =>
              navigate('compare', { runA: runAId ?? undefined, runB: id ?? undefined })
            }
            label="Run B"
            testId="compare-run-b"
          />
        </div>
      </header>
      <ErrorMessage error={comparison.error} />
      {comparison.loading && !value ? <Loading what="the comparison" /> : null}
      {value ? (
        <>
          <section className="panel" data-testid="comparison">
            <div className="stats-row">
              <Stat
                label="mean best |cos| of A's atoms"
                value={formatNumber(value.meanBestCosine)}
              />
              <Stat
                label="matched pairs"
                value={formatInteger(
                  value.matches.filter((match) => Math.abs(match.cosine) >= value.threshold).length,
                )}
              />
              <Stat
                label={`unmatched in A (|cos| < ${value.threshold})`}
                value={formatInteger(value.unmatchedA.length)}
              />
              <Stat label="unmatched in B" value={formatInteger(value.unmatchedB.length)} />
            </div>
            <Chart
              testId="compare-histogram"
              name={`compare-${value.runA}-${value.runB}`}
              height={260}
              figure={histogramBars.toFigure({
                histogram: value.bestCosineHistogram,
                xTitle: `best |cos| of each atom of #${value.runA} over #${value.runB}`,
                markerAt: { x: value.threshold, label: `threshold ${value.threshold}` },
              })}
            />
          </section>
          <div className="split">
            <section className="panel narrow">
              <h2>Pairs</h2>
              <p className="note">One-to-one, greedy by |cos|, best first.</p>
              <div className="feature-row pair-row feature-row-header" aria-hidden="true">
                <span>A</span>
                <span>B</span>
                <span>|cos|</span>
              </div>
              {value.matches.length === 0 ? (
                <p className="note">No pair reaches |cos| ≥ {value.threshold}.</p>
              ) : (
                <VirtualList
                  count={value.matches.length}
                  rowHeightPx={28}
                  selected={selectedPair}
                  onSelect={setSelectedPair}
                  label="Matched pairs"
                  testId="pair-list"
                  maxHeightPx={520}
                  renderRow={(index) => {
                    const match = value.matches[index] as FeatureMatch;
                    return (
                      <div
                        className={
                          'feature-row pair-row' +
                          (Math.abs(match.cosine) < value.threshold ? ' below' : '')
                        }
                      >
                        <span className="number">{match.featureA}</span>
                        <span className="number">{match.featureB}</span>
                        <span className="number">{formatNumber(Math.abs(match.cosine))}</span>
                      </div>
                    );
                  }}
                />
              )}
            </section>
            <section className="panel wide">
              {pair ? (
                <PairAtoms
                  runA={value.runA}
                  runB={value.runB}
                  pair={pair}
                  imageShape={dataset?.imageShape ?? null}
                />
              ) : null}
              <h3>Unmatched in A ({value.unmatchedA.length})</h3>
              <FeatureChips
                features={value.unmatchedA}
                onOpen={(feature) => navigate('features', { run: value.runA, feature })}
              />
              <h3>Unmatched in B ({value.unmatchedB.length})</h3>
              <FeatureChips
                features={value.unmatchedB}
                onOpen={(feature) => navigate('features', { run: value.runB, feature })}
              />
            </section>
          </div>
        </>
      ) : null}
    </div>
  );
}

function FeatureChips({
  features,
  onOpen,
}: {
  features: readonly number[];
  onOpen: (feature: number) => void;
}) {
  if (features.length === 0) return <p className="note">None.</p>;
  return (
    <div className="chips">
      {features.slice(0, LISTED_UNMATCHED).map((feature) => (
        <button key={feature} type="button" className="chip" onClick={() => onOpen(feature)}>
          {feature}
        </button>
      ))}
      {features.length > LISTED_UNMATCHED ? (
        <span className="muted small">and {features.length - LISTED_UNMATCHED} more</span>
      ) : null}
    </div>
  );
}

function PairAtoms({
  runA,
  runB,
  pair,
  imageShape,
}: {
  runA: number;
  runB: number;
  pair: FeatureMatch;
  imageShape: [number, number] | null;
}) {
  const api = useApi();
  const atoms = useLoad(
    () => Promise.all([api.getFeature(runA, pair.featureA), api.getFeature(runB, pair.featureB)]),
    `pair:${runA}:${pair.featureA}:${runB}:${pair.featureB}`,
  );
  const [a, b] = atoms.value ?? [];
  return (
    <div>
      <h2>
        Pair: #{runA} feature {pair.featureA} and #{runB} feature {pair.featureB}, cos{' '}
        {formatNumber(pair.cosine)}
      </h2>
      <ErrorMessage error={atoms.error} />
      {a && b ? (
        <div className="pair-atoms">
          <div>
            <Chart
              figure={atomFigure.toFigure({
                atom: a.atom,
                imageShape,
                title: `#${runA} feature ${a.index}`,
              })}
              name={`run-${runA}-atom-${a.index}`}
              height={220}
              maxWidthPx={imageShape ? 340 : undefined}
            />
          </div>
          <div>
            <Chart
              figure={atomFigure.toFigure({
                atom: pair.cosine < 0 ? b.atom.map((value) => -value) : b.atom,
                imageShape,
                title: `#${runB} feature ${b.index}${pair.cosine < 0 ? ' (sign flipped)' : ''}`,
              })}
              name={`run-${runB}-atom-${b.index}`}
              height={220}
              maxWidthPx={imageShape ? 340 : undefined}
            />
          </div>
        </div>
      ) : (
        <Loading what="atoms" />
      )}
    </div>
  );
}
