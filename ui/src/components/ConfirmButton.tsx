import { useState, type ReactNode } from "react";

/** A button that asks before it acts, and shows what the action answered. */
export function ConfirmButton({
  label,
  question,
  action,
  children,
  danger = false,
}: {
  label: string;
  question: string;
  action: () => Promise<unknown>;
  children?: ReactNode;
  danger?: boolean;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!asking) {
    return (
      <button className={danger ? "danger" : undefined} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <div className="confirm" role="dialog" aria-label={question}>
      <p>{question}</p>
      {children}
      {error && <p className="error">{error}</p>}
      <button
        className={danger ? "danger" : "primary"}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await action();
            setAsking(false);
          } catch (e) {
            setError(e instanceof Error ? e.message : String(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        Yes, {label.toLowerCase()}
      </button>
      <button onClick={() => setAsking(false)}>Cancel</button>
    </div>
  );
}
