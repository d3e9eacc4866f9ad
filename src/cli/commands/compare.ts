/** basis compare RUN_A RUN_B: matches two runs' dictionaries atom by atom (|cos|). */
import type { DictionaryComparison } from '../../shared/contract';
import type { Command } from '../command';
import { formatNumber } from '../format';
import { parseRunId, print } from '../output';

export const compareCommand: Command = {
  name: 'compare',
  summary: "compare two runs' dictionaries: best |cos| per atom and one-to-one matches",
  usage: 'basis compare RUN_A RUN_B',
  options: {},
  positionals: { names: ['RUN_A', 'RUN_B'], required: 2 },
  async run(context) {
    const service = context.service();
    const comparison = await service.compareRuns(
      parseRunId(context.positionals[0], 'RUN_A'),
      parseRunId(context.positionals[1], 'RUN_B'),
    );
    print(context, comparison, () => describeComparison(comparison));
  },
};

export function describeComparison(comparison: DictionaryComparison): string {
  const { bestCosineHistogram: histogram } = comparison;
  const total = histogram.counts.reduce((sum, count) => sum + count, 0);
  const above = (level: number): number =>
    histogram.counts.reduce(
      (sum, count, bin) => sum + (histogram.edges[bin]! >= level - 1e-9 ? count : 0),
      0,
    );
  return [
    `run ${comparison.runA} against run ${comparison.runB}:`,
    `  mean best |cos| of run ${comparison.runA}'s atoms: ` +
      `${formatNumber(comparison.meanBestCosine)}`,
    `  atoms of run ${comparison.runA} with a match at |cos| >= 0.9: ${above(0.9)} of ` +
      `${total}; >= 0.7: ${above(0.7)}`,
    `  one-to-one matches at |cos| >= ${comparison.threshold}: ${comparison.matches.length}`,
    `  unmatched: ${comparison.unmatchedA.length} atoms of run ${comparison.runA}, ` +
      `${comparison.unmatchedB.length} of run ${comparison.runB}`,
    `  best matches: ${comparison.matches
      .slice(0, 8)
      .map((match) => `${match.featureA}~${match.featureB} (${formatNumber(match.cosine, 3)})`)
      .join(', ')}`,
  ].join('\n');
}
