// How times, durations and statuses read on every page.

export function time(value: string | number | undefined | null): string {
  if (value === undefined || value === null || value === "" || value === 0) return "";
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace("T", " ").replace("Z", "");
}

export function millis(value: string | number | undefined | null): number | undefined {
  if (value === undefined || value === null || value === "" || value === 0) return undefined;
  const ms = typeof value === "number" ? value : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function duration(start?: number, end?: number): string {
  if (!start) return "";
  const ms = (end || Date.now()) - start;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const WORKFLOW_STATUSES = [
  "RUNNING",
  "COMPLETED",
  "FAILED",
  "TIMED_OUT",
  "TERMINATED",
  "PAUSED",
] as const;

export const TERMINAL_WORKFLOW = new Set(["COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"]);
