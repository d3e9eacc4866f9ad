import type { Navigate } from '../hooks/route';

/** What every view receives: the route's parameters and a way to move to another view. */
export interface ViewProps {
  params: Readonly<Record<string, string>>;
  navigate: Navigate;
}
