import { useCallback, useEffect, useState } from "react";
import { api, type Json, type JsonObject } from "../api";
import { ErrorNote } from "../components/ErrorNote";
import { JsonView } from "../components/JsonView";
import { time } from "../format";

export function EventHandlers() {
  const [handlers, setHandlers] = useState<JsonObject[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const load = useCallback(() => {
    api.eventHandlers().then(setHandlers).catch(setError);
  }, []);
  useEffect(load, [load]);
  const handler = handlers?.find((h) => h.name === selected);
  return (
    <section>
      <h1>Event handlers</h1>
      <ErrorNote error={error} />
      <table className="grid" aria-label="Event handlers">
        <thead>
          <tr>
            <th>Name</th>
            <th>Event</th>
            <th>Active</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {(handlers ?? []).map((h) => (
            <tr key={String(h.name)}>
              <td>
                <button className="link" onClick={() => setSelected(String(h.name))}>
                  {String(h.name)}
                </button>
              </td>
              <td>
                <code>{String(h.event)}</code>
              </td>
              <td>{h.active ? "yes" : "no"}</td>
              <td>{Array.isArray(h.actions) ? h.actions.map((a) => (a as JsonObject).action).join(", ") : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {handler && <HandlerPanel key={String(handler.name)} handler={handler} onChanged={load} />}
    </section>
  );
}

function HandlerPanel({ handler, onChanged }: { handler: JsonObject; onChanged: () => void }) {
  const [text, setText] = useState(JSON.stringify(handler, null, 2));
  const [editing, setEditing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [executions, setExecutions] = useState<JsonObject[] | null>(null);
  useEffect(() => {
    api.eventExecutions(String(handler.name)).then(setExecutions).catch(() => setExecutions([]));
  }, [handler.name]);
  const put = async (value: Json) => {
    setError(null);
    try {
      await api.updateEventHandler(value);
      setEditing(false);
      onChanged();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <aside className="panel wide" aria-label={`Event handler ${String(handler.name)}`}>
      <h2>{String(handler.name)}</h2>
      <div className="actions">
        <button onClick={() => put({ ...handler, active: !handler.active })}>
          {handler.active ? "Deactivate" : "Activate"}
        </button>
        {!editing && <button onClick={() => setEditing(true)}>Edit</button>}
      </div>
      {editing ? (
        <>
          <textarea className="editor" aria-label="Event handler JSON" value={text} onChange={(e) => setText(e.target.value)} rows={20} spellCheck={false} />
          <button
            className="primary"
            onClick={() => {
              try {
                void put(JSON.parse(text) as Json);
              } catch (e) {
                setError(new Error(`The text is not JSON: ${e instanceof Error ? e.message : e}`));
              }
            }}
          >
            Save
          </button>
          <button onClick={() => setEditing(false)}>Cancel</button>
        </>
      ) : (
        <JsonView value={handler} label="Event handler JSON" />
      )}
      <ErrorNote error={error} />
      <h3>Executions</h3>
      {executions === null ? (
        <p>Loading…</p>
      ) : executions.length === 0 ? (
        <p>None yet.</p>
      ) : (
        <table className="grid" aria-label="Event executions">
          <thead>
            <tr>
              <th>Message</th>
              <th>Action</th>
              <th>Status</th>
              <th>Created</th>
              <th>Output</th>
            </tr>
          </thead>
          <tbody>
            {executions.map((e, i) => (
              <tr key={`${String(e.id ?? i)}`}>
                <td>{String(e.messageId ?? "")}</td>
                <td>{String(e.action ?? "")}</td>
                <td>{String(e.status ?? "")}</td>
                <td>{time(e.created as number | undefined)}</td>
                <td>
                  <JsonView value={e.output ?? {}} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </aside>
  );
}
