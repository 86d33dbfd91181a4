import { useEffect, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router-dom";
import { api, type Json, type JsonObject } from "../api";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNote } from "../components/ErrorNote";
import { JsonView } from "../components/JsonView";
import { WorkflowDiagram } from "../diagram";
import { time } from "../format";

const NEW_DEFINITION = {
  name: "my_workflow",
  description: "",
  version: 1,
  schemaVersion: 2,
  tasks: [{ name: "wait", taskReferenceName: "wait_ref", type: "WAIT", inputParameters: { duration: "10 seconds" } }],
  outputParameters: {},
};

export function Definitions() {
  const [params, setParams] = useSearchParams();
  const kind = params.get("kind") === "tasks" ? "tasks" : "workflows";
  const [workflows, setWorkflows] = useState<JsonObject[] | null>(null);
  const [tasks, setTasks] = useState<JsonObject[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.workflowDefs().then(setWorkflows).catch(setError);
    api.taskDefs().then(setTasks).catch(setError);
  }, []);
  const sorted = [...(workflows ?? [])].sort(
    (a, b) => String(a.name).localeCompare(String(b.name)) || Number(b.version) - Number(a.version),
  );
  return (
    <section>
      <h1>Definitions</h1>
      <nav className="tabs" role="tablist">
        <button role="tab" aria-selected={kind === "workflows"} onClick={() => setParams({})}>
          Workflows
        </button>
        <button role="tab" aria-selected={kind === "tasks"} onClick={() => setParams({ kind: "tasks" })}>
          Tasks
        </button>
      </nav>
      <ErrorNote error={error} />
      {kind === "workflows" && (
        <>
          <p>
            <Link className="button primary" to="/definitions/new">
              New workflow definition
            </Link>
          </p>
          <table className="grid" aria-label="Workflow definitions">
            <thead>
              <tr>
                <th>Name</th>
                <th>Version</th>
                <th>Description</th>
                <th>Tasks</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((d) => (
                <tr key={`${d.name}/${d.version}`}>
                  <td>
                    <Link to={`/definitions/workflow/${encodeURIComponent(String(d.name))}/${d.version}`}>{String(d.name)}</Link>
                  </td>
                  <td>{String(d.version)}</td>
                  <td>{String(d.description ?? "")}</td>
                  <td>{Array.isArray(d.tasks) ? d.tasks.length : 0}</td>
                  <td>{time((d.updateTime ?? d.createTime) as number | undefined)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      {kind === "tasks" && (
        <>
          <p>
            <Link className="button primary" to="/definitions/new-task">
              New task definition
            </Link>
          </p>
          <table className="grid" aria-label="Task definitions">
            <thead>
              <tr>
                <th>Name</th>
                <th>Description</th>
                <th>Retries</th>
                <th>Timeout (s)</th>
                <th>Response timeout (s)</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {[...(tasks ?? [])]
                .sort((a, b) => String(a.name).localeCompare(String(b.name)))
                .map((t) => (
                  <tr key={String(t.name)}>
                    <td>
                      <Link to={`/definitions/task/${encodeURIComponent(String(t.name))}`}>{String(t.name)}</Link>
                    </td>
                    <td>{String(t.description ?? "")}</td>
                    <td>{String(t.retryCount ?? "")}</td>
                    <td>{String(t.timeoutSeconds ?? "")}</td>
                    <td>{String(t.responseTimeoutSeconds ?? "")}</td>
                    <td>{time((t.updateTime ?? t.createTime) as number | undefined)}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}

/** A workflow definition: its diagram and JSON, edited as JSON, and a form to start it. */
export function Definition({ creating = false }: { creating?: boolean }) {
  const { name = "", version } = useParams();
  const navigate = useNavigate();
  const [definition, setDefinition] = useState<JsonObject | null>(creating ? NEW_DEFINITION : null);
  const [text, setText] = useState(creating ? JSON.stringify(NEW_DEFINITION, null, 2) : "");
  const [editing, setEditing] = useState(creating);
  const [error, setError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [input, setInput] = useState("{}");
  const [startError, setStartError] = useState<unknown>(null);

  useEffect(() => {
    if (creating) return;
    api
      .workflowDef(name, version === undefined ? undefined : Number(version))
      .then((d) => {
        setDefinition(d);
        setText(JSON.stringify(d, null, 2));
      })
      .catch(setError);
  }, [name, version, creating]);

  if (error) return <ErrorNote error={error} />;
  if (!definition) return <p>Loading…</p>;

  const save = async () => {
    setSaveError(null);
    setSaved(false);
    let parsed: Json;
    try {
      parsed = JSON.parse(text) as Json;
    } catch (e) {
      setSaveError(new Error(`The text is not JSON: ${e instanceof Error ? e.message : e}`));
      return;
    }
    try {
      if (creating) await api.registerWorkflowDef(parsed);
      else await api.updateWorkflowDefs([parsed]);
      setSaved(true);
      const next = parsed as JsonObject;
      setDefinition(next);
      setEditing(false);
      navigate(`/definitions/workflow/${encodeURIComponent(String(next.name))}/${next.version ?? 1}`);
    } catch (e) {
      setSaveError(e);
    }
  };

  return (
    <section>
      <h1>
        {creating ? "New workflow definition" : String(definition.name)}{" "}
        {!creating && <span className="muted">v{String(definition.version)}</span>}
      </h1>
      {!creating && (
        <p>
          <Link to={`/executions?name=${encodeURIComponent(String(definition.name))}`}>Its executions</Link>
        </p>
      )}
      <div className="columns">
        <div>
          <h3>Definition</h3>
          {editing ? (
            <>
              <textarea
                className="editor"
                aria-label="Definition JSON"
                spellCheck={false}
                value={text}
                onChange={(e) => setText(e.target.value)}
                rows={30}
              />
              <ErrorNote error={saveError} />
              <button className="primary" onClick={save}>
                {creating ? "Register" : "Save"}
              </button>
              {!creating && <button onClick={() => setEditing(false)}>Cancel</button>}
            </>
          ) : (
            <>
              {saved && <p className="ok">Saved.</p>}
              <JsonView value={definition} label="Definition JSON" />
              <button onClick={() => setEditing(true)}>Edit</button>
            </>
          )}
        </div>
        <div>
          <h3>Diagram</h3>
          <WorkflowDiagram definition={definition} />
          {!creating && (
            <div className="start">
              <h3>Start</h3>
              <label className="block">
                Input (JSON)
                <textarea aria-label="Workflow input" value={input} onChange={(e) => setInput(e.target.value)} rows={5} />
              </label>
              <ErrorNote error={startError} />
              <ConfirmButton
                label="Start workflow"
                question={`Start ${String(definition.name)} v${String(definition.version)} with this input?`}
                action={async () => {
                  setStartError(null);
                  try {
                    const id = await api.startWorkflow(String(definition.name), Number(definition.version), JSON.parse(input) as Json);
                    navigate(`/execution/${encodeURIComponent(id)}`);
                  } catch (e) {
                    setStartError(e);
                    throw e;
                  }
                }}
              />
            </div>
          )}
        </div>
      </div>
    </section>
  );
}
