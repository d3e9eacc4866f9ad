/** Small building blocks shared by the views. */
import { useEffect, useRef, type ReactNode } from 'react';
import { isCancelled } from '../../../shared/errors';
import { splitMarkedLabel } from '../format';

export function ErrorMessage({ error }: { error: Error | null | undefined }) {
  if (!error) return null;
  const kind = (error as { kind?: string }).kind;
  if (isCancelled(error)) return <p className="note">Cancelled.</p>;
  return (
    <div className="error" role="alert">
      {kind === 'input' || kind === 'not-found' ? '' : 'Error: '}
      {error.message}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="note loading">Loading {what}…</p>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function ProgressBar({ fraction, label }: { fraction: number; label: string }) {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={Math.round(clamped * 100)}
      aria-label={label}
    >
      <div className="progress-fill" style={{ width: `${clamped * 100}%` }} />
    </div>
  );
}

/** A label with its [[marked]] token highlighted. */
export function MarkedLabel({ label }: { label: string | null }) {
  if (label === null) return <span className="muted">no label</span>;
  return (
    <span className="label-text">
      {splitMarkedLabel(label).map((part, index) =>
        part.marked ? <mark key={index}>{part.text}</mark> : <span key={index}>{part.text}</span>,
      )}
    </span>
  );
}

export interface ConfirmProps {
  title: string;
  message: string;
  confirmLabel: string;
  onConfirm: () => void;
  onCancel: () => void;
}

/** A modal confirmation (in the page, so it behaves the same under Electron and a browser). */
export function ConfirmDialog({ title, message, confirmLabel, onConfirm, onCancel }: ConfirmProps) {
  const cancelButton = useRef<HTMLButtonElement | null>(null);
  useEffect(() => {
    cancelButton.current?.focus();
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') onCancel();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onCancel]);
  return (
    <div className="modal-backdrop" role="presentation" onMouseDown={onCancel}>
      <div
        className="modal"
        role="alertdialog"
        aria-modal="true"
        aria-label={title}
        onMouseDown={(event) => event.stopPropagation()}
      >
        <h3>{title}</h3>
        <p>{message}</p>
        <div className="actions">
          <button type="button" ref={cancelButton} onClick={onCancel}>
            Cancel
          </button>
          <button type="button" className="danger" onClick={onConfirm}>
            {confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}

export function Field({
  label,
  help,
  children,
}: {
  label: string;
  help?: string;
  children: ReactNode;
}) {
  return (
    <label className="field">
      <span className="field-label">{label}</span>
      {children}
      {help ? <span className="field-help">{help}</span> : null}
    </label>
  );
}

export function Stat({
  label,
  value,
  warn,
}: {
  label: string;
  value: ReactNode;
  warn?: string | null;
}) {
  return (
    <div className={`stat${warn ? ' warn' : ''}`} title={warn ?? undefined}>
      <div className="stat-value">{value}</div>
      <div className="stat-label">{label}</div>
      {warn ? <div className="stat-warn">{warn}</div> : null}
    </div>
  );
}
