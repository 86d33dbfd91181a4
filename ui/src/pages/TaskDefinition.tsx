import { useEffect, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, ApiError, type Json, type JsonObject } from "../api";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNote } from "../components/ErrorNote";
import { JsonView } from "../components/JsonView";

const NEW_TASK_DEFINITION: JsonObject = {
  name: "my_task",
  description: "",
  retryCount: 3,
  retryLogic: "FIXED",
  retryDelaySeconds: 60,
  timeoutPolicy: "TIME_OUT_WF",
  timeoutSeconds: 3600,
  responseTimeoutSeconds: 600,
  inputKeys: [],
  outputKeys: [],
};

/** Registering goes through the list endpoint, whose errors name the item (`[0].retryCount`):
 * the editor holds one definition, so its errors name the field alone. */
async function registerOne(definition: Json): Promise<void> {
  try {
    await api.registerTaskDefs([definition]);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    const errors = e.validationErrors.map((v) => ({ ...v, path: v.path?.replace(/^\[0\]\.?/, "") }));
    throw new ApiError(e.status, e.message, errors);
  }
}

/** A task definition: its JSON, edited as JSON with Conductor's validation errors next to the
 * text, and deleted after a confirmation. */
export function TaskDefinition({ creating = false }: { creating?: boolean }) {
  const { name = "" } = useParams();
  const navigate = useNavigate();
  const [definition, setDefinition] = useState<JsonObject | null>(creating ? NEW_TASK_DEFINITION : null);
  const [text, setText] = useState(creating ? JSON.stringify(NEW_TASK_DEFINITION, null, 2) : "");
  const [editing, setEditing] = useState(creating);
  const [error, setError] = useState<unknown>(null);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (creating) return;
    setError(null);
    api
      .taskDef(name)
      .then((d) => {
        setDefinition(d);
        setText(JSON.stringify(d, null, 2));
      })
      .catch(setError);
  }, [name, creating]);

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
    const renamed =
      !creating && parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && parsed.name !== name;
    try {
      // A new name is a new definition: the list endpoint registers it, the old one stays.
      if (creating || renamed) await registerOne(parsed);
      else await api.updateTaskDef(parsed);
      // Shown as stored: the API fills in what the text left out.
      const stored = await api.taskDef(String((parsed as JsonObject).name));
      setDefinition(stored);
      setText(JSON.stringify(stored, null, 2));
      setSaved(true);
      setEditing(false);
      if (creating || renamed) navigate(`/definitions/task/${encodeURIComponent(String(stored.name))}`);
    } catch (e) {
      setSaveError(e);
    }
  };

  return (
    <section>
      <h1>{creating ? "New task definition" : String(definition.name)}</h1>
      <p>
        <Link to="/definitions?kind=tasks">All task definitions</Link>
      </p>
      {editing ? (
        <div className="task-editor">
          <textarea
            className="editor"
            aria-label="Task definition JSON"
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
            rows={24}
          />
          <ErrorNote error={saveError} />
          <button className="primary" onClick={save}>
            {creating ? "Register" : "Save"}
          </button>
          {!creating && (
            <button
              onClick={() => {
                setEditing(false);
                setSaveError(null);
                setText(JSON.stringify(definition, null, 2));
              }}
            >
              Cancel
            </button>
          )}
        </div>
      ) : (
        <>
          {saved && <p className="ok">Saved.</p>}
          <JsonView value={definition} label="Task definition JSON" />
          <div className="actions">
            <button onClick={() => setEditing(true)}>Edit</button>
            <ConfirmButton
              label="Delete"
              danger
              question={`Delete the task definition ${String(definition.name)}?`}
              action={async () => {
                await api.deleteTaskDef(String(definition.name));
                navigate("/definitions?kind=tasks");
              }}
            />
          </div>
        </>
      )}
    </section>
  );
}
