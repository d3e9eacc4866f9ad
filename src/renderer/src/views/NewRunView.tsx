/**
 * New run: choose a dataset and a method, adjust the knobs (each with a one-line
 * explanation), and start. Defaults come from the service's defaultConfig; the form is
 * checked with parseRunConfig before the start button is enabled. Reached with ?from=<run>
 * it starts from that run's configuration ("re-run with changes").
 */
import { useEffect, useMemo, useState } from 'react';
import type { DatasetInfo } from '../../../shared/contract';
import { METHODS, type Method, type RunConfig } from '../../../shared/methods';
import { parseRunConfig } from '../../../shared/runConfig';
import { Empty, ErrorMessage, Field, Loading } from '../components/common';
import { baseName, formatShape } from '../format';
import { useApi, useLoad } from '../hooks/api';
import { datasetById, useWorkspace } from '../hooks/workspace';
import { knobsOf, METHOD_DESCRIPTIONS, type Knob } from '../knobs';
import { numberParam } from '../routes';
import type { ViewProps } from './props';

type FormValues = Record<string, string | boolean>;

function toFormValues(config: RunConfig): FormValues {
  const values: FormValues = {};
  for (const [field, value] of Object.entries(config)) {
    values[field] = typeof value === 'boolean' ? value : String(value);
  }
  return values;
}

/** The configuration the form describes, or the error parseRunConfig gives for it. */
export function checkForm(
  values: FormValues,
  dataset: DatasetInfo,
): { config: RunConfig | null; error: Error | null } {
  try {
    return { config: parseRunConfig(values, dataset.columns), error: null };
  } catch (error) {
    return { config: null, error: error as Error };
  }
}

export function NewRunView({ params, navigate }: ViewProps) {
  const api = useApi();
  const { datasets, runs } = useWorkspace();
  const fromRunId = numberParam(params, 'from');
  const fromRun =
    fromRunId === null ? null : ((runs.value ?? []).find((run) => run.id === fromRunId) ?? null);
  const list = datasets.value ?? [];
  const datasetId =
    numberParam(params, 'dataset') ?? fromRun?.datasetId ?? list[list.length - 1]?.id ?? null;
  const dataset = datasetById(list, datasetId);
  const [method, setMethod] = useState<Method>(
    (params.method as Method | undefined) ?? fromRun?.method ?? 'ica',
  );

  useEffect(() => {
    if (fromRun) setMethod(fromRun.method);
  }, [fromRun?.id]);

  const defaults = useLoad(
    () => (dataset ? api.defaultConfig(dataset.id, method) : null),
    `defaults:${dataset?.id}:${method}`,
  );
  const [values, setValues] = useState<FormValues | null>(null);
  useEffect(() => {
    if (!defaults.value) return;
    const base =
      fromRun && fromRun.method === method && fromRun.datasetId === dataset?.id
        ? fromRun.config
        : defaults.value;
    setValues(toFormValues(base));
  }, [defaults.value, fromRun?.id]);

  const checked = useMemo(
    () => (values && dataset ? checkForm(values, dataset) : null),
    [values, dataset],
  );
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<Error | null>(null);

  if (datasets.value !== null && list.length === 0) {
    return (
      <div className="view">
        <header className="view-header">
          <h1>New run</h1>
        </header>
        <Empty>
          Open a dataset first. <a href="#/datasets">Datasets</a>
        </Empty>
      </div>
    );
  }

  const start = async (): Promise<void> => {
    if (!checked?.config || !dataset) return;
    setStarting(true);
    setStartError(null);
    try {
      const run = await api.startRun({ datasetId: dataset.id, config: checked.config });
      runs.reload();
      navigate('live', { run: run.id });
    } catch (error) {
      setStartError(error as Error);
    } finally {
      setStarting(false);
    }
  };

  const knobs = values && defaults.value ? knobsOf(defaults.value) : null;
  const setValue = (field: string, value: string | boolean): void =>
    setValues((previous) => (previous ? { ...previous, [field]: value } : previous));

  return (
    <div className="view">
      <header className="view-header">
        <h1>New run</h1>
        <p className="lede">
          {fromRun
            ? `Re-running #${fromRun.id} with changes.`
            : 'Learn a dictionary of features on a dataset.'}
        </p>
      </header>
      <form
        className="panel run-form"
        onSubmit={(event) => {
          event.preventDefault();
          void start();
        }}
      >
        <div className="form-grid">
          <Field label="Dataset">
            <select
              value={dataset?.id ?? ''}
              onChange={(event) => navigate('new-run', { dataset: event.target.value, method })}
              data-testid="run-dataset"
            >
              {list.map((item) => (
                <option key={item.id} value={item.id}>
                  {baseName(item.path)} ({formatShape([item.rows, item.columns])})
                </option>
              ))}
            </select>
          </Field>
          <Field label="Method" help={METHOD_DESCRIPTIONS[method]}>
            <select
              value={method}
              onChange={(event) => setMethod(event.target.value as Method)}
              data-testid="run-method"
            >
              {METHODS.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </Field>
        </div>
        <ErrorMessage error={defaults.error} />
        {!knobs || !values ? (
          defaults.loading ? (
            <Loading what="defaults" />
          ) : null
        ) : (
          <>
            <KnobGrid knobs={knobs.main} values={values} onChange={setValue} />
            <details className="advanced">
              <summary>Advanced ({knobs.advanced.length} settings)</summary>
              <KnobGrid knobs={knobs.advanced} values={values} onChange={setValue} />
            </details>
          </>
        )}
        <div className="form-footer">
          <div className="validation" data-testid="run-validation">
            {checked?.error ? (
              <ErrorMessage error={checked.error} />
            ) : checked?.config ? (
              <span className="ok">Ready to start.</span>
            ) : null}
          </div>
          {values && defaults.value ? (
            <button
              type="button"
              onClick={() => setValues(toFormValues(defaults.value as RunConfig))}
            >
              Reset to defaults
            </button>
          ) : null}
          <button
            type="submit"
            className="primary"
            disabled={!checked?.config || starting}
            data-testid="start-run"
          >
            {starting ? 'Starting…' : 'Start run'}
          </button>
        </div>
        <ErrorMessage error={startError} />
      </form>
    </div>
  );
}

interface KnobGridProps {
  knobs: Knob[];
  values: Record<string, string | boolean>;
  onChange: (field: string, value: string | boolean) => void;
}

function KnobGrid({ knobs, values, onChange }: KnobGridProps) {
  return (
    <div className="form-grid">
      {knobs.map((knob) => (
        <KnobField key={knob.field} knob={knob} value={values[knob.field]} onChange={onChange} />
      ))}
    </div>
  );
}

interface KnobFieldProps {
  knob: Knob;
  value: string | boolean | undefined;
  onChange: (field: string, value: string | boolean) => void;
}

function KnobField({ knob, value, onChange }: KnobFieldProps) {
  const testId = `knob-${knob.field}`;
  if (knob.kind === 'boolean') {
    return (
      <label className="field checkbox-field">
        <span className="field-label">
          <input
            type="checkbox"
            checked={value === true}
            onChange={(event) => onChange(knob.field, event.target.checked)}
            data-testid={testId}
          />{' '}
          {knob.label}
        </span>
        <span className="field-help">{knob.help}</span>
      </label>
    );
  }
  if (knob.kind === 'choice') {
    return (
      <Field label={knob.label} help={knob.help}>
        <select
          value={String(value ?? '')}
          onChange={(event) => onChange(knob.field, event.target.value)}
          data-testid={testId}
        >
          {(knob.choices ?? []).map((choice) => (
            <option key={choice} value={choice}>
              {choice}
            </option>
          ))}
        </select>
      </Field>
    );
  }
  return (
    <Field label={knob.label} help={knob.help}>
      <input
        type="text"
        inputMode={knob.kind === 'integer' ? 'numeric' : 'decimal'}
        value={String(value ?? '')}
        onChange={(event) => onChange(knob.field, event.target.value)}
        data-testid={testId}
        spellCheck={false}
      />
    </Field>
  );
}
