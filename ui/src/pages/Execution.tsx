import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { api, type Json, type JsonObject, type Task, type Workflow } from "../api";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorNote } from "../components/ErrorNote";
import { JsonView } from "../components/JsonView";
import { StatusBadge } from "../components/StatusBadge";
import { usePolling } from "../components/usePolling";
import { WorkflowDiagram } from "../diagram";
import { duration, TERMINAL_WORKFLOW, time } from "../format";

// A running execution is read again this often.
const REFRESH_MS = 2000;
// Task types a person completes from outside (Conductor's UI offers the same).
const UPDATABLE_TYPES = new Set(["WAIT", "HUMAN"]);

type Tab = "tasks" | "io" | "variables" | "json";

export function Execution() {
  const { id = "" } = useParams();
  const navigate = useNavigate();
  const [tab, setTab] = useState<Tab>("tasks");
  const [selected, setSelected] = useState<string | null>(null);
  const { value: workflow, error, reload } = usePolling<Workflow>(
    () => api.workflow(id),
    [id],
    REFRESH_MS,
    (w) => !TERMINAL_WORKFLOW.has(w.status),
  );
  if (error && !workflow) return <ErrorNote error={error} />;
  if (!workflow) return <p>Loading…</p>;

  const act = (action: () => Promise<unknown>) => async () => {
    await action();
    reload();
  };
  const name = workflow.workflowName ?? workflow.workflowType ?? "";
  const version = workflow.workflowVersion ?? workflow.version;
  const terminal = TERMINAL_WORKFLOW.has(workflow.status);
  const task = selected
    ? [...workflow.tasks].reverse().find((t) => t.referenceTaskName === selected || t.taskId === selected)
    : undefined;

  const notReached = selected && !task ? definitionTask(workflow.workflowDefinition, selected) : undefined;

  return (
    <section>
      <h1>
        {name} <span className="muted">v{version}</span> <StatusBadge status={workflow.status} />
      </h1>
      <dl className="facts">
        <dt>Id</dt>
        <dd data-testid="workflow-id">{workflow.workflowId}</dd>
        <dt>Started</dt>
        <dd>{time(workflow.startTime ?? workflow.createTime)}</dd>
        <dt>Ended</dt>
        <dd>{time(workflow.endTime)}</dd>
        <dt>Duration</dt>
        <dd>{duration(workflow.startTime ?? workflow.createTime, workflow.endTime)}</dd>
        {workflow.correlationId && (
          <>
            <dt>Correlation id</dt>
            <dd>{workflow.correlationId}</dd>
          </>
        )}
        {workflow.parentWorkflowId && (
          <>
            <dt>Parent</dt>
            <dd>
              <Link to={`/execution/${encodeURIComponent(workflow.parentWorkflowId)}`}>
                {workflow.parentWorkflowId}
              </Link>
            </dd>
          </>
        )}
        {workflow.reasonForIncompletion && (
          <>
            <dt>Reason</dt>
            <dd className="reason">{workflow.reasonForIncompletion}</dd>
          </>
        )}
      </dl>
      <div className="actions">
        {!terminal && (
          <ConfirmButton
            label="Terminate"
            danger
            question="Terminate this workflow?"
            action={act(() => api.terminate(workflow.workflowId, "Terminated from Baton's UI"))}
          />
        )}
        {workflow.status === "RUNNING" && (
          <ConfirmButton label="Pause" question="Pause this workflow?" action={act(() => api.pause(workflow.workflowId))} />
        )}
        {workflow.status === "PAUSED" && (
          <ConfirmButton label="Resume" question="Resume this workflow?" action={act(() => api.resume(workflow.workflowId))} />
        )}
        {terminal && workflow.status !== "COMPLETED" && (
          <ConfirmButton
            label="Retry"
            question="Retry this workflow from its last failed task?"
            action={act(() => api.retry(workflow.workflowId))}
          />
        )}
        {terminal && (
          <ConfirmButton
            label="Restart"
            question="Restart this workflow from the beginning, with the same input?"
            action={act(() => api.restart(workflow.workflowId))}
          />
        )}
      </div>
      <ErrorNote error={error} />
      <WorkflowDiagram execution={workflow} onSelectTask={setSelected} />
      <nav className="tabs" role="tablist">
        {(
          [
            ["tasks", "Tasks"],
            ["io", "Input and output"],
            ["variables", "Variables"],
            ["json", "JSON"],
          ] as [Tab, string][]
        ).map(([key, label]) => (
          <button key={key} role="tab" aria-selected={tab === key} onClick={() => setTab(key)}>
            {label}
          </button>
        ))}
      </nav>
      {tab === "tasks" && <TaskTable tasks={workflow.tasks} onSelect={setSelected} />}
      {tab === "io" && (
        <div className="columns">
          <div>
            <h3>Input</h3>
            <JsonView value={workflow.input} label="Workflow input" />
          </div>
          <div>
            <h3>Output</h3>
            <JsonView value={workflow.output} label="Workflow output" />
          </div>
        </div>
      )}
      {tab === "variables" && <JsonView value={workflow.variables ?? {}} label="Variables" />}
      {tab === "json" && <JsonView value={workflow as unknown as Json} label="Workflow JSON" />}
      {!task && notReached && (
        <NotReachedPanel
          key={notReached.taskReferenceName as string}
          workflow={workflow}
          definition={notReached}
          onClose={() => setSelected(null)}
          onChanged={reload}
        />
      )}
      {task && (
        <TaskPanel
          key={task.taskId}
          workflow={workflow}
          task={task}
          onClose={() => setSelected(null)}
          onChanged={reload}
          onRerun={(newId) => navigate(`/execution/${encodeURIComponent(newId)}`)}
        />
      )}
    </section>
  );
}

/** The task of the definition with this reference, wherever it sits (forks, cases, loops). */
function definitionTask(definition: JsonObject | undefined, reference: string): JsonObject | undefined {
  const search = (value: Json | undefined): JsonObject | undefined => {
    if (Array.isArray(value)) {
      for (const item of value) {
        const found = search(item);
        if (found) return found;
      }
    } else if (value && typeof value === "object") {
      if (value.taskReferenceName === reference) return value;
      for (const key of ["forkTasks", "loopOver", "defaultCase", "decisionCases"]) {
        const nested = value[key];
        const found = search(nested && typeof nested === "object" && !Array.isArray(nested) ? Object.values(nested) : nested);
        if (found) return found;
      }
    }
    return undefined;
  };
  return search(definition?.tasks);
}

/** A task the workflow has not reached: Conductor skips only such a task, so that the
 * workflow passes over it when it gets there. */
function NotReachedPanel({
  workflow,
  definition,
  onClose,
  onChanged,
}: {
  workflow: Workflow;
  definition: JsonObject;
  onClose: () => void;
  onChanged: () => void;
}) {
  const reference = String(definition.taskReferenceName);
  return (
    <aside className="panel" aria-label={`Task ${reference}`}>
      <header>
        <h2>
          {reference} <span className="muted">not reached yet</span>
        </h2>
        <button onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <dl className="facts">
        <dt>Name</dt>
        <dd>{String(definition.name ?? "")}</dd>
        <dt>Type</dt>
        <dd>{String(definition.type ?? "SIMPLE")}</dd>
      </dl>
      <JsonView value={definition} label="Task definition in the workflow" />
      {workflow.status === "RUNNING" && (
        <div className="actions">
          <ConfirmButton
            label="Skip"
            question={`Skip ${reference} when the workflow reaches it?`}
            action={async () => {
              await api.skipTask(workflow.workflowId, reference);
              onChanged();
            }}
          />
        </div>
      )}
    </aside>
  );
}

// The task list shows this many tasks at a time: a wide fork's thousand rows would cost the
// page more than its diagram.
const TASKS_PER_PAGE = 100;

function TaskTable({ tasks, onSelect }: { tasks: Task[]; onSelect: (taskId: string) => void }) {
  const [first, setFirst] = useState(0);
  const shown = tasks.slice(first, first + TASKS_PER_PAGE);
  return (
    <>
    {tasks.length > TASKS_PER_PAGE && (
      <p className="pager">
        {first + 1}–{first + shown.length} of {tasks.length}{" "}
        <button disabled={first === 0} onClick={() => setFirst(Math.max(0, first - TASKS_PER_PAGE))}>
          Previous tasks
        </button>
        <button disabled={first + TASKS_PER_PAGE >= tasks.length} onClick={() => setFirst(first + TASKS_PER_PAGE)}>
          Next tasks
        </button>
      </p>
    )}
    <table className="grid" aria-label="Tasks">
      <thead>
        <tr>
          <th>#</th>
          <th>Reference</th>
          <th>Type</th>
          <th>Status</th>
          <th>Scheduled</th>
          <th>Start</th>
          <th>End</th>
          <th>Duration</th>
          <th>Retries</th>
          <th>Worker</th>
        </tr>
      </thead>
      <tbody>
        {shown.map((t) => (
          <tr key={t.taskId} data-task={t.referenceTaskName}>
            <td>{t.seq}</td>
            <td>
              <button className="link" onClick={() => onSelect(t.taskId)}>
                {t.referenceTaskName}
              </button>
              {t.subWorkflowId && (
                <>
                  {" "}
                  <Link to={`/execution/${encodeURIComponent(t.subWorkflowId)}`} title={t.subWorkflowId}>
                    sub-workflow
                  </Link>
                </>
              )}
            </td>
            <td>{t.taskType}</td>
            <td>
              <StatusBadge status={t.status} />
            </td>
            <td>{time(t.scheduledTime)}</td>
            <td>{time(t.startTime)}</td>
            <td>{time(t.endTime)}</td>
            <td>{duration(t.startTime, t.endTime || undefined)}</td>
            <td>{t.retryCount ?? 0}</td>
            <td>{t.workerId}</td>
          </tr>
        ))}
      </tbody>
    </table>
    </>
  );
}

function TaskPanel({
  workflow,
  task,
  onClose,
  onChanged,
  onRerun,
}: {
  workflow: Workflow;
  task: Task;
  onClose: () => void;
  onChanged: () => void;
  onRerun: (workflowId: string) => void;
}) {
  const [tab, setTab] = useState<"summary" | "input" | "output" | "logs" | "json">("summary");
  const [logs, setLogs] = useState<{ log: string; createdTime: number }[] | null>(null);
  const [output, setOutput] = useState("{}");
  const [outputError, setOutputError] = useState<string | null>(null);
  const open = !["COMPLETED", "FAILED", "FAILED_WITH_TERMINAL_ERROR", "CANCELED", "SKIPPED", "TIMED_OUT", "COMPLETED_WITH_ERRORS"].includes(task.status);
  const terminal = TERMINAL_WORKFLOW.has(workflow.status);

  const parsedOutput = (): JsonObject => {
    const value = JSON.parse(output) as Json;
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new Error("The output must be a JSON object");
    }
    return value;
  };
  const update = (status: string) => async () => {
    let value: JsonObject;
    try {
      value = parsedOutput();
      setOutputError(null);
    } catch (e) {
      setOutputError(e instanceof Error ? e.message : String(e));
      throw e;
    }
    await api.updateTask(workflow.workflowId, task.taskId, status, value);
    onChanged();
  };

  return (
    <aside className="panel" aria-label={`Task ${task.referenceTaskName}`}>
      <header>
        <h2>
          {task.referenceTaskName} <StatusBadge status={task.status} />
        </h2>
        <button onClick={onClose} aria-label="Close">
          ×
        </button>
      </header>
      <nav className="tabs" role="tablist">
        {(["summary", "input", "output", "logs", "json"] as const).map((key) => (
          <button
            key={key}
            role="tab"
            aria-selected={tab === key}
            onClick={() => {
              setTab(key);
              if (key === "logs") api.taskLogs(task.taskId).then(setLogs).catch(() => setLogs([]));
            }}
          >
            {key[0].toUpperCase() + key.slice(1)}
          </button>
        ))}
      </nav>
      {tab === "summary" && (
        <dl className="facts">
          <dt>Task id</dt>
          <dd>{task.taskId}</dd>
          <dt>Type</dt>
          <dd>{task.taskType}</dd>
          <dt>Scheduled</dt>
          <dd>{time(task.scheduledTime)}</dd>
          <dt>Started</dt>
          <dd>{time(task.startTime)}</dd>
          <dt>Ended</dt>
          <dd>{time(task.endTime)}</dd>
          <dt>Retries</dt>
          <dd>{task.retryCount ?? 0}</dd>
          <dt>Polls</dt>
          <dd>{task.pollCount ?? 0}</dd>
          {task.workerId && (
            <>
              <dt>Worker</dt>
              <dd>{task.workerId}</dd>
            </>
          )}
          {task.domain && (
            <>
              <dt>Domain</dt>
              <dd>{task.domain}</dd>
            </>
          )}
          {task.subWorkflowId && (
            <>
              <dt>Sub-workflow</dt>
              <dd>
                <Link to={`/execution/${encodeURIComponent(task.subWorkflowId)}`}>{task.subWorkflowId}</Link>
              </dd>
            </>
          )}
          {task.reasonForIncompletion && (
            <>
              <dt>Reason</dt>
              <dd className="reason">{task.reasonForIncompletion}</dd>
            </>
          )}
        </dl>
      )}
      {tab === "input" && <JsonView value={task.inputData ?? {}} label="Task input" />}
      {tab === "output" && <JsonView value={task.outputData ?? {}} label="Task output" />}
      {tab === "logs" &&
        (logs === null ? (
          <p>Loading…</p>
        ) : logs.length === 0 ? (
          <p>No logs.</p>
        ) : (
          <ul className="logs">
            {logs.map((l, i) => (
              <li key={i}>
                <span className="muted">{time(l.createdTime)}</span> {l.log}
              </li>
            ))}
          </ul>
        ))}
      {tab === "json" && <JsonView value={task as unknown as Json} label="Task JSON" />}
      <div className="actions">
        {open && !terminal && UPDATABLE_TYPES.has(task.taskType) && (
          <>
            <label className="block">
              Output (JSON)
              <textarea aria-label="Task output to send" value={output} onChange={(e) => setOutput(e.target.value)} rows={4} />
            </label>
            {outputError && <p className="error">{outputError}</p>}
            <ConfirmButton label="Complete" question={`Complete ${task.referenceTaskName} with this output?`} action={update("COMPLETED")} />
            <ConfirmButton label="Fail" danger question={`Fail ${task.referenceTaskName}?`} action={update("FAILED")} />
          </>
        )}
        {terminal && (
          <ConfirmButton
            label="Rerun from here"
            question={`Rerun this workflow from ${task.referenceTaskName}?`}
            action={async () => {
              const id = await api.rerun(workflow.workflowId, task.taskId);
              onChanged();
              if (id && id !== workflow.workflowId) onRerun(id);
            }}
          />
        )}
      </div>
    </aside>
  );
}
