/**
 * A dictionary atom: a bar per input dimension, or an image when the dataset's rows are image
 * patches (imageShape), drawn with a diverging scale centred on zero.
 */
import { axis, baseLayout, COLORS, type Figure } from './theme';

export interface AtomInput {
  atom: readonly number[];
  imageShape: readonly [number, number] | null;
  title?: string;
}

/** Rows of the image, row-major, or null when the shape does not fit the atom. */
export function atomImage(
  atom: readonly number[],
  imageShape: readonly [number, number],
): number[][] | null {
  const [height, width] = imageShape;
  if (height * width !== atom.length) return null;
  return Array.from({ length: height }, (_, row) => atom.slice(row * width, (row + 1) * width));
}

export function toFigure({ atom, imageShape, title }: AtomInput): Figure {
  const image = imageShape ? atomImage(atom, imageShape) : null;
  if (image) {
    const limit = Math.max(1e-12, ...atom.map((value) => Math.abs(value)));
    return {
      data: [
        {
          type: 'heatmap',
          z: image,
          zmin: -limit,
          zmax: limit,
          colorscale: 'RdBu',
          reversescale: true,
          showscale: true,
          hovertemplate: 'row %{y}, column %{x}: %{z:.3g}<extra></extra>',
        },
      ],
      layout: baseLayout({
        showlegend: false,
        ...(title ? { title: { text: title, font: { size: 13 } } } : {}),
        xaxis: axis('', { showgrid: false, zeroline: false, constrain: 'domain' }),
        yaxis: axis('', {
          showgrid: false,
          zeroline: false,
          autorange: 'reversed',
          scaleanchor: 'x',
          constrain: 'domain',
        }),
      }),
    };
  }
  return {
    data: [
      {
        type: 'bar',
        x: atom.map((_, dimension) => dimension),
        y: [...atom],
        marker: { color: atom.map((value) => (value >= 0 ? COLORS.sae : COLORS.ica)) },
        hovertemplate: 'dimension %{x}: %{y:.3g}<extra></extra>',
      },
    ],
    layout: baseLayout({
      showlegend: false,
      bargap: 0.1,
      ...(title ? { title: { text: title, font: { size: 13 } } } : {}),
      xaxis: axis('input dimension'),
      yaxis: axis('weight'),
    }),
  };
}
