/**
 * Datasets: open an activation file (a native dialog under Electron, a path field in a
 * browser), see its shape, type, size and statistics, and preview its labels. The bundled
 * sample is offered while nothing is open.
 */
import { useState } from 'react';
import type { DatasetInfo, OpenOptions } from '../../../shared/contract';
import { desktopShell } from '../api/transport';
import { Chart } from '../components/Chart';
import { ErrorMessage, Field, Loading, MarkedLabel, Stat } from '../components/common';
import * as datasetColumns from '../figures/datasetColumns';
import {
  baseName,
  formatBytes,
  formatInteger,
  formatNumber,
  formatShape,
  formatTimestamp,
} from '../format';
import { useApi, useLoad } from '../hooks/api';
import { datasetById, useWorkspace } from '../hooks/workspace';
import { numberParam } from '../routes';
import type { ViewProps } from './props';

const PREVIEW_ROWS = 12;

export function DatasetsView({ params, navigate }: ViewProps) {
  const { datasets } = useWorkspace();
  const list = datasets.value ?? [];
  const selectedId = numberParam(params, 'dataset') ?? list[list.length - 1]?.id ?? null;
  const selected = datasetById(list, selectedId);

  return (
    <div className="view">
      <header className="view-header">
        <h1>Datasets</h1>
        <p className="lede">
          Activation files: rows are tokens or samples, columns are dimensions.
        </p>
      </header>
      <ErrorMessage error={datasets.error} />
      {datasets.value === null && datasets.loading ? <Loading what="datasets" /> : null}
      {datasets.value !== null && list.length === 0 ? (
        <Welcome
          onOpened={(id) => {
            datasets.reload();
            navigate('datasets', { dataset: id });
          }}
        />
      ) : null}
      <div className="split">
        <section className="panel narrow">
          <h2>Open a file</h2>
          <OpenForm
            onOpened={(dataset) => {
              datasets.reload();
              navigate('datasets', { dataset: dataset.id });
            }}
          />
          {list.length > 0 ? (
            <>
              <h2>Recorded</h2>
              <ul className="dataset-list" data-testid="dataset-list">
                {[...list].reverse().map((dataset) => (
                  <li key={dataset.id}>
                    <a
                      href={`#/datasets?dataset=${dataset.id}`}
                      className={dataset.id === selectedId ? 'active' : ''}
                      title={dataset.path}
                    >
                      <span className="dataset-name">{baseName(dataset.path)}</span>
                      <span className="muted small">
                        {formatShape([dataset.rows, dataset.columns])} · {dataset.dtype}
                      </span>
                    </a>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
        </section>
        {selected ? (
          <section className="panel wide">
            <DatasetDetail
              dataset={selected}
              onNewRun={() => navigate('new-run', { dataset: selected.id })}
            />
          </section>
        ) : null}
      </div>
    </div>
  );
}

function Welcome({ onOpened }: { onOpened: (datasetId: number) => void }) {
  const api = useApi();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const openSample = async (): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      onOpened((await api.openSample()).id);
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="welcome" data-testid="welcome">
      <h2>Welcome to Basis</h2>
      <p>
        Train overcomplete ICA and sparse autoencoders on activations, and compare the features they
        find. Start with the bundled sample, or open one of your own files below.
      </p>
      <button
        type="button"
        className="primary"
        disabled={busy}
        onClick={() => void openSample()}
        data-testid="open-sample"
      >
        {busy ? 'Opening the sample…' : 'Open the bundled sample'}
      </button>
      <ErrorMessage error={error} />
    </div>
  );
}

function OpenForm({ onOpened }: { onOpened: (dataset: DatasetInfo) => void }) {
  const api = useApi();
  const shell = desktopShell();
  const [path, setPath] = useState('');
  const [labels, setLabels] = useState('');
  const [tensor, setTensor] = useState('');
  const [imageSide, setImageSide] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  const open = async (): Promise<void> => {
    setError(null);
    const options: OpenOptions = {};
    if (labels.trim()) options.labels = labels.trim();
    if (tensor.trim()) options.tensor = tensor.trim();
    if (imageSide.trim()) {
      const [height, width] = imageSide.split(/[x×,\s]+/).map(Number);
      if (!Number.isInteger(height) || !Number.isInteger(width) || !height || !width) {
        setError(new Error('image shape: write it as height × width, e.g. 8x8'));
        return;
      }
      options.imageShape = [height, width];
    }
    setBusy(true);
    try {
      onOpened(await api.openDataset(path.trim(), options));
      setPath('');
    } catch (caught) {
      setError(caught as Error);
    } finally {
      setBusy(false);
    }
  };

  const choose = async (kind: 'activations' | 'labels'): Promise<void> => {
    const chosen = await shell?.chooseOpenPath(kind);
    if (chosen) (kind === 'activations' ? setPath : setLabels)(chosen);
  };

  return (
    <form
      className="open-form"
      onSubmit={(event) => {
        event.preventDefault();
        void open();
      }}
    >
      <Field label="Activation file" help=".npy, .npz, .safetensors, or a folder of shards">
        <div className="with-button">
          <input
            type="text"
            value={path}
            onChange={(event) => setPath(event.target.value)}
            placeholder="/path/to/activations.npy"
            spellCheck={false}
            data-testid="open-path"
          />
          {shell ? (
            <button type="button" onClick={() => void choose('activations')}>
              Choose…
            </button>
          ) : null}
        </div>
      </Field>
      <details>
        <summary>Options</summary>
        <Field label="Labels" help="TSV with a context column, JSONL, or one line per row">
          <div className="with-button">
            <input
              type="text"
              value={labels}
              onChange={(event) => setLabels(event.target.value)}
              spellCheck={false}
            />
            {shell ? (
              <button type="button" onClick={() => void choose('labels')}>
                Choose…
              </button>
            ) : null}
          </div>
        </Field>
        <Field label="Tensor or member" help="Inside a .safetensors or .npz holding several">
          <input
            type="text"
            value={tensor}
            onChange={(event) => setTensor(event.target.value)}
            spellCheck={false}
          />
        </Field>
        <Field
          label="Image patches"
          help="Rows are images of this shape, e.g. 8x8: atoms are drawn as images"
        >
          <input
            type="text"
            value={imageSide}
            onChange={(event) => setImageSide(event.target.value)}
            placeholder="8x8"
          />
        </Field>
      </details>
      <button type="submit" className="primary" disabled={busy || path.trim() === ''}>
        {busy ? 'Reading…' : 'Open'}
      </button>
      {shell ? <p className="note">You can also drop a file onto the window.</p> : null}
      <ErrorMessage error={error} />
    </form>
  );
}

function DatasetDetail({ dataset, onNewRun }: { dataset: DatasetInfo; onNewRun: () => void }) {
  const api = useApi();
  const labels = useLoad(
    () => (dataset.labelsPath ? api.previewLabels(dataset.id, 0, PREVIEW_ROWS) : null),
    `labels:${dataset.id}`,
  );
  const statistics = dataset.statistics;
  return (
    <div data-testid="dataset-detail">
      <div className="detail-header">
        <div>
          <h2 className="title-path" title={dataset.path}>
            {baseName(dataset.path)}
          </h2>
          <p className="muted small path">{dataset.path}</p>
        </div>
        <button
          type="button"
          className="primary"
          onClick={onNewRun}
          data-testid="new-run-on-dataset"
        >
          New run on this dataset
        </button>
      </div>
      <div className="stats-row">
        <Stat label="shape" value={formatShape(dataset.shape)} />
        {dataset.shape.length > 2 ? (
          <Stat label="rows × columns" value={formatShape([dataset.rows, dataset.columns])} />
        ) : null}
        <Stat label="element type" value={dataset.dtype} />
        <Stat
          label="format"
          value={`${dataset.format}${dataset.tensor ? ` · ${dataset.tensor}` : ''}`}
        />
        <Stat label="size" value={formatBytes(dataset.bytes)} />
        <Stat label="mean row norm" value={formatNumber(statistics.meanNorm)} />
        <Stat
          label="non-finite rows"
          value={formatInteger(statistics.nonfiniteRows)}
          warn={
            statistics.nonfiniteRows > 0
              ? `first at rows ${statistics.nonfiniteRowIndices.slice(0, 5).join(', ')}`
              : null
          }
        />
        {dataset.imageShape ? (
          <Stat label="image patches" value={dataset.imageShape.join(' × ')} />
        ) : null}
      </div>
      <h3>Columns</h3>
      <Chart
        figure={datasetColumns.toFigure(statistics)}
        name={`dataset-${dataset.id}-columns`}
        height={240}
      />
      <h3>Labels</h3>
      {dataset.labelsPath ? (
        <>
          <p className="muted small">{dataset.labelsPath}</p>
          <ErrorMessage error={labels.error} />
          <table className="table labels-table" data-testid="label-preview">
            <thead>
              <tr>
                <th className="number">Row</th>
                <th>Label</th>
              </tr>
            </thead>
            <tbody>
              {(labels.value ?? []).map((preview) => (
                <tr key={preview.row}>
                  <td className="number">{preview.row}</td>
                  <td>
                    <MarkedLabel label={preview.label} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p className="note">
          No label file. Open the file again with a label file to see which token each row is.
        </p>
      )}
      <p className="muted small">
        Fingerprint {dataset.fingerprint.slice(0, 16)} · recorded{' '}
        {formatTimestamp(dataset.createdAt)}
      </p>
    </div>
  );
}
