/** The current route from the location hash, and navigation that updates it. */
import { useCallback, useEffect, useState } from 'react';
import { formatRoute, parseRoute, type Route, type View } from '../routes';

export type Navigate = (view: View, params?: Record<string, string | number | undefined>) => void;

export function useRoute(): [Route, Navigate] {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  const navigate = useCallback<Navigate>((view, params = {}) => {
    window.location.hash = formatRoute(view, params);
  }, []);
  return [route, navigate];
}
