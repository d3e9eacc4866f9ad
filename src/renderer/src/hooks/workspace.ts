/**
 * What several views share: the recorded datasets and runs. The run list refreshes itself
 * every two seconds while a run is queued or running.
 */
import { createContext, useContext, useMemo } from 'react';
import type { DatasetInfo, RunSummary } from '../../../shared/contract';
import { useApi, useLoad, usePolling, type Loaded } from './api';

export interface Workspace {
  datasets: Loaded<DatasetInfo[]>;
  runs: Loaded<RunSummary[]>;
}

export const WorkspaceContext = createContext<Workspace | null>(null);

export function useWorkspace(): Workspace {
  const workspace = useContext(WorkspaceContext);
  if (!workspace) throw new Error('useWorkspace outside WorkspaceContext');
  return workspace;
}

export function useWorkspaceState(): Workspace {
  const api = useApi();
  const datasets = useLoad(() => api.listDatasets(), 'datasets');
  const runs = useLoad(() => api.listRuns(), 'runs');
  const active = (runs.value ?? []).some(
    (run) => run.status === 'running' || run.status === 'queued',
  );
  usePolling(() => runs.reload(), 2000, active);
  return useMemo(() => ({ datasets, runs }), [datasets, runs]);
}

export function datasetById(
  datasets: readonly DatasetInfo[] | null,
  id: number | null,
): DatasetInfo | null {
  if (id === null || !datasets) return null;
  return datasets.find((dataset) => dataset.id === id) ?? null;
}

export function completedRuns(runs: readonly RunSummary[] | null): RunSummary[] {
  return (runs ?? []).filter((run) => run.status === 'completed').sort((a, b) => b.id - a.id);
}
