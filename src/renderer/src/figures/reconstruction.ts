/**
 * One row against its reconstructions: the original as a grey line, each run's
 * reconstruction over it in its family colour (or images side by side for image patches).
 */
import { atomImage } from './atom';
import { axis, baseLayout, COLORS, SERIES, type Figure } from './theme';

export interface ReconstructionSeries {
  name: string;
  values: readonly number[];
  family: 'ICA' | 'SAE';
}

export interface ReconstructionInput {
  original: readonly number[];
  reconstructions: readonly ReconstructionSeries[];
  imageShape: readonly [number, number] | null;
}

export function toFigure({ original, reconstructions, imageShape }: ReconstructionInput): Figure {
  const all = [{ name: 'original', values: original }, ...reconstructions];
  const images = imageShape ? all.map((series) => atomImage(series.values, imageShape)) : [];
  if (imageShape && images.every((image) => image !== null)) {
    // One heatmap per series, side by side on a shared colour range.
    const limit = Math.max(1e-12, ...all.flatMap((series) => series.values.map(Math.abs)));
    const gap = 0.04;
    const width = (1 - gap * (all.length - 1)) / all.length;
    const layout = baseLayout({ showlegend: false, margin: { l: 16, r: 16, t: 36, b: 16 } });
    const data: Figure['data'] = [];
    all.forEach((series, index) => {
      const suffix = index === 0 ? '' : String(index + 1);
      data.push({
        type: 'heatmap',
        z: images[index] as number[][],
        zmin: -limit,
        zmax: limit,
        colorscale: 'RdBu',
        reversescale: true,
        showscale: index === all.length - 1,
        xaxis: `x${suffix}`,
        yaxis: `y${suffix}`,
        hovertemplate: `${series.name}: %{z:.3g}<extra></extra>`,
      });
      const domainStart = index * (width + gap);
      const common = { showgrid: false, zeroline: false, showticklabels: false };
      (layout as Record<string, unknown>)[`xaxis${suffix}`] = {
        ...common,
        domain: [domainStart, domainStart + width],
        anchor: `y${suffix}`,
        constrain: 'domain',
      };
      (layout as Record<string, unknown>)[`yaxis${suffix}`] = {
        ...common,
        autorange: 'reversed',
        anchor: `x${suffix}`,
        scaleanchor: `x${suffix}`,
        constrain: 'domain',
      };
      layout.annotations = [
        ...(layout.annotations ?? []),
        {
          text: series.name,
          x: domainStart + width / 2,
          xref: 'paper',
          y: 1.02,
          yref: 'paper',
          showarrow: false,
          yanchor: 'bottom',
        },
      ];
    });
    return { data, layout };
  }

  const dimensions = original.map((_, dimension) => dimension);
  let icaIndex = 0;
  let saeIndex = 0;
  return {
    data: [
      {
        type: 'scatter',
        mode: 'lines',
        name: 'original',
        x: dimensions,
        y: [...original],
        line: { color: COLORS.muted, width: 3 },
      },
      ...reconstructions.map((series) => {
        const familyIndex = series.family === 'ICA' ? icaIndex++ : saeIndex++;
        const base = series.family === 'ICA' ? COLORS.ica : COLORS.sae;
        return {
          type: 'scatter' as const,
          mode: 'lines' as const,
          name: series.name,
          x: dimensions,
          y: [...series.values],
          line: {
            color: familyIndex === 0 ? base : (SERIES[(familyIndex + 2) % SERIES.length] as string),
            width: 1.5,
          },
        };
      }),
    ],
    layout: baseLayout({ xaxis: axis('input dimension'), yaxis: axis('value') }),
  };
}
