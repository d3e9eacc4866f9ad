/**
 * Data fetching for the views: the API in a React context, a hook that loads a value and
 * keeps only the latest answer, and a polling hook for live runs. Components render; these
 * hooks fetch.
 */
import { createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import type { BasisApi } from '../../../shared/contract';

export const ApiContext = createContext<BasisApi | null>(null);

export function useApi(): BasisApi {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside ApiContext: wrap the app in <ApiContext.Provider>');
  return api;
}

export interface Loaded<T> {
  value: T | null;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/**
 * Loads `load()` whenever `key` changes; answers to earlier keys are dropped, so a slow
 * reply never overwrites a newer one. `load` returning null means "nothing to load".
 */
export function useLoad<T>(load: () => Promise<T> | null, key: string): Loaded<T> {
  const [state, setState] = useState<{ value: T | null; error: Error | null; loading: boolean }>({
    value: null,
    error: null,
    loading: false,
  });
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let current = true;
    const promise = loadRef.current();
    if (promise === null) {
      setState({ value: null, error: null, loading: false });
      return;
    }
    setState((previous) => ({ ...previous, loading: true, error: null }));
    promise.then(
      (value) => current && setState({ value, error: null, loading: false }),
      (error: unknown) =>
        current &&
        setState({
          value: null,
          error: error instanceof Error ? error : new Error(String(error)),
          loading: false,
        }),
    );
    return () => {
      current = false;
    };
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, reload };
}

/** Calls `tick` now and every `intervalMs` while `active`; stops on unmount. */
export function usePolling(
  tick: () => Promise<unknown> | void,
  intervalMs: number,
  active: boolean,
): void {
  const tickRef = useRef(tick);
  tickRef.current = tick;
  useEffect(() => {
    if (!active) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loop = async (): Promise<void> => {
      try {
        await tickRef.current();
      } catch {
        // A failed poll is retried at the next interval; the view shows the last error.
      }
      if (!stopped) timer = setTimeout(() => void loop(), intervalMs);
    };
    void loop();
    return () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [intervalMs, active]);
}
