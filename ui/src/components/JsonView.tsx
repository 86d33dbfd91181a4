import type { Json } from "../api";

export function JsonView({ value, label }: { value: Json | undefined; label?: string }) {
  return (
    <pre className="json" aria-label={label}>
      {value === undefined ? "" : JSON.stringify(value, null, 2)}
    </pre>
  );
}
