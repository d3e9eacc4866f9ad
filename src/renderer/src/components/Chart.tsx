/**
 * Draws a Figure with Plotly (react-plotly.js over plotly.js-dist-min) and offers it as a PNG
 * through Plotly's toImage. Figures are built elsewhere, by pure toFigure functions.
 */
import Plotly from 'plotly.js-dist-min';
import createPlotlyComponent from 'react-plotly.js/factory';
import { memo, useRef } from 'react';
import type { Figure } from '../figures/theme';

const Plot = createPlotlyComponent(Plotly);

const CONFIG = {
  displaylogo: false,
  responsive: true,
  modeBarButtonsToRemove: ['lasso2d', 'select2d', 'toImage'] as Plotly.ModeBarDefaultButtons[],
};

export interface ChartProps {
  figure: Figure;
  /** File name of the PNG, without extension. */
  name: string;
  height?: number;
  testId?: string;
  onPointClick?: (customData: unknown) => void;
  /** Show the small PNG button (off where the view offers its own). */
  pngButton?: boolean;
  /** Narrower than the container, e.g. for square images. */
  maxWidthPx?: number;
}

/** Renders the graph as a PNG data URL, at twice the on-screen resolution. */
export async function chartToPng(element: HTMLElement): Promise<string> {
  return Plotly.toImage(element, {
    format: 'png',
    width: element.clientWidth || 800,
    height: element.clientHeight || 400,
    scale: 2,
  } as Plotly.ToImgopts);
}

export function downloadDataUrl(dataUrl: string, fileName: string): void {
  const anchor = document.createElement('a');
  anchor.href = dataUrl;
  anchor.download = fileName;
  document.body.appendChild(anchor);
  anchor.click();
  anchor.remove();
}

export const Chart = memo(function Chart({
  figure,
  name,
  height = 320,
  testId,
  onPointClick,
  pngButton = true,
  maxWidthPx,
}: ChartProps) {
  const graph = useRef<HTMLElement | null>(null);
  const savePng = async (): Promise<void> => {
    if (graph.current) downloadDataUrl(await chartToPng(graph.current), `${name}.png`);
  };
  return (
    <div
      className="chart"
      data-testid={testId}
      data-chart={name}
      style={maxWidthPx === undefined ? undefined : { maxWidth: maxWidthPx }}
    >
      {pngButton ? (
        <button
          type="button"
          className="chart-png quiet"
          title="Save this chart as a PNG image"
          onClick={() => void savePng()}
        >
          PNG
        </button>
      ) : null}
      <Plot
        data={figure.data}
        layout={figure.layout}
        config={CONFIG}
        style={{ width: '100%', height }}
        useResizeHandler
        onInitialized={(_, element) => (graph.current = element as HTMLElement)}
        onUpdate={(_, element) => (graph.current = element as HTMLElement)}
        onClick={(event) => {
          const point = event.points[0];
          if (point && onPointClick) onPointClick(point.customdata);
        }}
      />
    </div>
  );
});
