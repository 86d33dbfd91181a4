import { useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import { api, type SearchResult, type WorkflowSummary } from "../api";
import { ErrorNote } from "../components/ErrorNote";
import { StatusBadge } from "../components/StatusBadge";
import { duration, millis, time, WORKFLOW_STATUSES } from "../format";

const PAGE_SIZE = 20;

/** Conductor's search query for the filters on the page (its grammar: `a IN (x,y) AND b>n`). */
export function searchQuery(filters: {
  name: string;
  statuses: string[];
  correlationId: string;
  from: string;
  to: string;
}): string {
  const clauses: string[] = [];
  if (filters.name) clauses.push(`workflowType IN (${filters.name})`);
  if (filters.statuses.length) clauses.push(`status IN (${filters.statuses.join(",")})`);
  if (filters.correlationId) clauses.push(`correlationId IN (${filters.correlationId})`);
  const from = filters.from ? Date.parse(filters.from + "Z") : NaN;
  const to = filters.to ? Date.parse(filters.to + "Z") : NaN;
  if (!Number.isNaN(from)) clauses.push(`startTime>${from}`);
  if (!Number.isNaN(to)) clauses.push(`startTime<${to}`);
  return clauses.join(" AND ");
}

export function Executions() {
  const [params, setParams] = useSearchParams();
  const filters = {
    name: params.get("name") ?? "",
    statuses: params.getAll("status"),
    correlationId: params.get("correlationId") ?? "",
    from: params.get("from") ?? "",
    to: params.get("to") ?? "",
  };
  const freeText = params.get("freeText") ?? "";
  const order = params.get("order") === "ASC" ? "ASC" : "DESC";
  const start = Number(params.get("start") ?? "0") || 0;

  const [names, setNames] = useState<string[]>([]);
  const [result, setResult] = useState<SearchResult<WorkflowSummary> | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [draft, setDraft] = useState({ ...filters, freeText });

  useEffect(() => {
    api
      .workflowDefs()
      .then((defs) => setNames([...new Set(defs.map((d) => String(d.name)))].sort()))
      .catch(() => setNames([]));
  }, []);

  const key = params.toString();
  useEffect(() => {
    setError(null);
    api
      .searchWorkflows({
        start,
        size: PAGE_SIZE,
        sort: `startTime:${order}`,
        freeText: freeText || "*",
        query: searchQuery(filters),
      })
      .then(setResult)
      .catch((e) => {
        setResult(null);
        setError(e);
      });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);

  const apply = (changes: Record<string, string | string[]>) => {
    const next = new URLSearchParams();
    const merged = { ...draft, order, ...changes };
    for (const [k, v] of Object.entries(merged)) {
      if (k === "statuses") (v as string[]).forEach((s) => next.append("status", s));
      else if (v) next.set(k, String(v));
    }
    setParams(next);
  };

  const toggleStatus = (status: string) => {
    const statuses = draft.statuses.includes(status)
      ? draft.statuses.filter((s) => s !== status)
      : [...draft.statuses, status];
    setDraft({ ...draft, statuses });
  };

  const total = result?.totalHits ?? 0;
  return (
    <section>
      <h1>Executions</h1>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          apply({ start: "" });
        }}
      >
        <label>
          Workflow name
          <select
            aria-label="Workflow name"
            value={draft.name}
            onChange={(e) => setDraft({ ...draft, name: e.target.value })}
          >
            <option value="">Any</option>
            {names.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Status</legend>
          {WORKFLOW_STATUSES.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={draft.statuses.includes(s)}
                onChange={() => toggleStatus(s)}
              />
              {s}
            </label>
          ))}
        </fieldset>
        <label>
          Correlation id
          <input
            value={draft.correlationId}
            onChange={(e) => setDraft({ ...draft, correlationId: e.target.value })}
          />
        </label>
        <label>
          Started after (UTC)
          <input
            type="datetime-local"
            value={draft.from}
            onChange={(e) => setDraft({ ...draft, from: e.target.value })}
          />
        </label>
        <label>
          Started before (UTC)
          <input
            type="datetime-local"
            value={draft.to}
            onChange={(e) => setDraft({ ...draft, to: e.target.value })}
          />
        </label>
        <label>
          Free text
          <input
            value={draft.freeText}
            placeholder="an id, a correlation id, a workflow name"
            onChange={(e) => setDraft({ ...draft, freeText: e.target.value })}
          />
        </label>
        <button className="primary" type="submit">
          Search
        </button>
      </form>
      <ErrorNote error={error} />
      {result && (
        <>
          <p className="count">
            {total === 0
              ? "No executions match."
              : `${start + 1}–${Math.min(start + PAGE_SIZE, total)} of ${total}`}
          </p>
          <table className="grid">
            <thead>
              <tr>
                <th>Workflow</th>
                <th>Id</th>
                <th>Status</th>
                <th>
                  <button
                    className="link"
                    onClick={() => apply({ order: order === "DESC" ? "ASC" : "DESC", start: "" })}
                  >
                    Start time {order === "DESC" ? "↓" : "↑"}
                  </button>
                </th>
                <th>End time</th>
                <th>Duration</th>
                <th>Correlation id</th>
              </tr>
            </thead>
            <tbody>
              {result.results.map((w) => (
                <tr key={w.workflowId}>
                  <td>
                    {w.workflowType} <span className="muted">v{w.version}</span>
                  </td>
                  <td>
                    <Link to={`/execution/${encodeURIComponent(w.workflowId)}`}>{w.workflowId}</Link>
                  </td>
                  <td>
                    <StatusBadge status={w.status} />
                  </td>
                  <td>{time(w.startTime)}</td>
                  <td>{time(w.endTime)}</td>
                  <td>{duration(millis(w.startTime), millis(w.endTime))}</td>
                  <td>{w.correlationId}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="pager">
            <button
              disabled={start === 0}
              onClick={() => apply({ start: String(Math.max(0, start - PAGE_SIZE)) })}
            >
              Previous
            </button>
            <button
              disabled={start + PAGE_SIZE >= total}
              onClick={() => apply({ start: String(start + PAGE_SIZE) })}
            >
              Next
            </button>
          </div>
        </>
      )}
    </section>
  );
}
