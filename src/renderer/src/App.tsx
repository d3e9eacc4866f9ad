/**
 * The workbench: a sidebar of views, the view of the current route, and the desktop shell's
 * commands (menu, dropped files) when running under Electron.
 */
import { useCallback, useEffect, useRef, useState, type DragEvent } from 'react';
import type { BasisApi } from '../../shared/contract';
import { desktopShell } from './api/transport';
import { ErrorMessage } from './components/common';
import { ApiContext } from './hooks/api';
import { useRoute } from './hooks/route';
import { useWorkspaceState, WorkspaceContext } from './hooks/workspace';
import { VIEW_TITLES, VIEWS, type View } from './routes';
import { CompareView } from './views/CompareView';
import { DatasetsView } from './views/DatasetsView';
import { ExportView } from './views/ExportView';
import { FeaturesView } from './views/FeaturesView';
import { LiveRunView } from './views/LiveRunView';
import { NewRunView } from './views/NewRunView';
import { ReconstructionsView } from './views/ReconstructionsView';
import { RunsView } from './views/RunsView';

const VIEW_HINTS: Readonly<Record<View, string>> = {
  datasets: 'Activation files',
  'new-run': 'Train ICA or an SAE',
  live: 'Progress and loss',
  runs: 'Metrics and frontier',
  features: 'Browse a dictionary',
  reconstructions: 'Rows against models',
  compare: 'Match two dictionaries',
  export: 'npy, SAELens, CSV, PNG',
};

export function App({ api }: { api: BasisApi }) {
  return (
    <ApiContext.Provider value={api}>
      <Workbench api={api} />
    </ApiContext.Provider>
  );
}

function Workbench({ api }: { api: BasisApi }) {
  const [route, navigate] = useRoute();
  const workspace = useWorkspaceState();
  // Runs and datasets may have changed elsewhere (the CLI, another window): refresh them
  // whenever the route changes.
  const { reload: reloadRuns } = workspace.runs;
  const { reload: reloadDatasetList } = workspace.datasets;
  const query = new URLSearchParams(route.params as Record<string, string>).toString();
  const routeKey = `${route.view}?${query}`;
  useEffect(() => {
    reloadRuns();
    reloadDatasetList();
  }, [routeKey, reloadRuns, reloadDatasetList]);
  const [shellError, setShellError] = useState<Error | null>(null);
  const [dragging, setDragging] = useState(false);
  const shell = desktopShell();

  const reloadDatasets = workspace.datasets.reload;
  const openPath = useCallback(
    async (path: string) => {
      setShellError(null);
      try {
        const dataset = await api.openDataset(path, {});
        reloadDatasets();
        navigate('datasets', { dataset: dataset.id });
      } catch (error) {
        setShellError(error as Error);
      }
    },
    [api, navigate, reloadDatasets],
  );

  // Menu commands from the desktop shell; subscribed once, reading the latest handler.
  const openPathRef = useRef(openPath);
  openPathRef.current = openPath;
  useEffect(() => {
    if (!shell) return;
    return shell.onCommand((command) => {
      if (command.type === 'open-path' && command.path) void openPathRef.current(command.path);
      if (
        command.type === 'navigate' &&
        (VIEWS as readonly string[]).includes(command.view ?? '')
      ) {
        navigate(command.view as View, { dataset: command.datasetId });
      }
    });
  }, [shell, navigate]);

  const onDrop = (event: DragEvent<HTMLDivElement>): void => {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (!file) return;
    if (!shell) {
      setShellError(
        new Error(`a browser cannot tell Basis where ${file.name} lies: type its path in Datasets`),
      );
      return;
    }
    void openPath(shell.pathForFile(file));
  };

  return (
    <WorkspaceContext.Provider value={workspace}>
      <div
        className={`app${dragging ? ' dragging' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <nav className="sidebar" aria-label="Views">
          <div className="brand">
            <span className="brand-mark" aria-hidden="true" />
            Basis
          </div>
          {VIEWS.map((view) => (
            <a
              key={view}
              href={`#/${view}`}
              className={`nav-item${route.view === view ? ' active' : ''}`}
              data-testid={`nav-${view}`}
              aria-current={route.view === view ? 'page' : undefined}
            >
              <span className="nav-title">{VIEW_TITLES[view]}</span>
              <span className="nav-hint">{VIEW_HINTS[view]}</span>
            </a>
          ))}
          <div className="sidebar-footer">{shell ? 'Desktop' : 'Browser mode'}</div>
        </nav>
        <main className="content" data-testid={`view-${route.view}`}>
          <ErrorMessage error={shellError} />
          <CurrentView view={route.view} params={route.params} navigate={navigate} />
        </main>
      </div>
    </WorkspaceContext.Provider>
  );
}

interface ViewProps {
  view: View;
  params: Readonly<Record<string, string>>;
  navigate: ReturnType<typeof useRoute>[1];
}

function CurrentView({ view, params, navigate }: ViewProps) {
  switch (view) {
    case 'datasets':
      return <DatasetsView params={params} navigate={navigate} />;
    case 'new-run':
      return <NewRunView params={params} navigate={navigate} />;
    case 'live':
      return <LiveRunView params={params} navigate={navigate} />;
    case 'runs':
      return <RunsView params={params} navigate={navigate} />;
    case 'features':
      return <FeaturesView params={params} navigate={navigate} />;
    case 'reconstructions':
      return <ReconstructionsView params={params} navigate={navigate} />;
    case 'compare':
      return <CompareView params={params} navigate={navigate} />;
    case 'export':
      return <ExportView params={params} navigate={navigate} />;
  }
}
