// The UI is a client of Conductor's REST API, like any SDK: everything it shows comes from /api.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Conductor's error body, `{status, message, instance, retryable}`, with validation errors. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly validationErrors: { path?: string; message?: string; invalidValue?: Json }[] = [],
  ) {
    super(message);
  }
}

// In the "conductor-keys" mode the UI signs in with a key id and secret; the token is kept in
// memory only (a reload asks again), as the README explains.
let token: string | null = null;

export function setToken(value: string | null): void {
  token = value;
}

export function hasToken(): boolean {
  return token !== null;
}

// The pages call the API at once; the first answer that asks for credentials (and none are
// held) brings up the sign-in, rather than a probe that every page would wait on.
let onSignInNeeded: () => void = () => {};

export function whenSignInNeeded(listener: () => void): void {
  onSignInNeeded = listener;
}

type Body = Json | string | undefined;

async function call(method: string, path: string, body?: Body): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json, text/plain" };
  if (body !== undefined) {
    headers["Content-Type"] = typeof body === "string" ? "text/plain" : "application/json";
  }
  if (token) headers["X-Authorization"] = token;
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (!response.ok) {
    if ((response.status === 401 || response.status === 403) && !hasToken()) onSignInNeeded();
    const text = await response.text();
    let message = `${method} /api${path}: ${response.status} ${response.statusText}`;
    let validation: ApiError["validationErrors"] = [];
    try {
      const parsed = JSON.parse(text) as { message?: string; validationErrors?: typeof validation };
      if (parsed.message) message = parsed.message;
      validation = parsed.validationErrors ?? [];
    } catch {
      if (text) message = text;
    }
    throw new ApiError(response.status, message, validation);
  }
  return response;
}

async function json<T>(method: string, path: string, body?: Body): Promise<T> {
  const response = await call(method, path, body);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  if (!text) return undefined as T;
  const type = response.headers.get("Content-Type") ?? "";
  return (type.includes("json") ? JSON.parse(text) : text) as T;
}

const q = encodeURIComponent;

export interface Task {
  taskId: string;
  taskType: string;
  taskDefName?: string;
  referenceTaskName: string;
  status: string;
  seq?: number;
  retryCount?: number;
  pollCount?: number;
  scheduledTime?: number;
  startTime?: number;
  endTime?: number;
  updateTime?: number;
  workerId?: string;
  iteration?: number;
  subWorkflowId?: string;
  reasonForIncompletion?: string;
  inputData?: JsonObject;
  outputData?: JsonObject;
  domain?: string;
  [key: string]: Json | undefined;
}

export interface Workflow {
  workflowId: string;
  workflowName?: string;
  workflowType?: string;
  workflowVersion?: number;
  version?: number;
  status: string;
  correlationId?: string;
  createTime?: number;
  startTime?: number;
  endTime?: number;
  updateTime?: number;
  reasonForIncompletion?: string;
  input?: JsonObject;
  output?: JsonObject;
  variables?: JsonObject;
  parentWorkflowId?: string;
  tasks: Task[];
  workflowDefinition?: JsonObject;
  [key: string]: Json | Task[] | undefined;
}

export interface WorkflowSummary {
  workflowId: string;
  workflowType: string;
  version: number;
  correlationId?: string;
  startTime?: string | number;
  updateTime?: string | number;
  endTime?: string | number;
  status: string;
  executionTime?: number;
  reasonForIncompletion?: string;
}

export interface SearchResult<T> {
  totalHits: number;
  results: T[];
}

export interface SearchRequest {
  start: number;
  size: number;
  sort?: string;
  freeText?: string;
  query?: string;
}

export interface TaskExecLog {
  log: string;
  taskId: string;
  createdTime: number;
}

export interface PollData {
  queueName: string;
  domain?: string;
  workerId?: string;
  lastPollTime?: number;
}

export const api = {
  searchWorkflows: (r: SearchRequest) =>
    json<SearchResult<WorkflowSummary>>(
      "GET",
      `/workflow/search?start=${r.start}&size=${r.size}` +
        (r.sort ? `&sort=${q(r.sort)}` : "") +
        `&freeText=${q(r.freeText || "*")}` +
        (r.query ? `&query=${q(r.query)}` : ""),
    ),
  workflow: (id: string) => json<Workflow>("GET", `/workflow/${q(id)}?includeTasks=true`),
  terminate: (id: string, reason: string) =>
    json<void>("DELETE", `/workflow/${q(id)}?reason=${q(reason)}`),
  pause: (id: string) => json<void>("PUT", `/workflow/${q(id)}/pause`),
  resume: (id: string) => json<void>("PUT", `/workflow/${q(id)}/resume`),
  retry: (id: string) => json<void>("POST", `/workflow/${q(id)}/retry?resumeSubworkflowTasks=false`),
  restart: (id: string) =>
    json<void>("POST", `/workflow/${q(id)}/restart?useLatestDefinitions=false`),
  rerun: (id: string, reRunFromTaskId: string) =>
    json<string>("POST", `/workflow/${q(id)}/rerun`, { reRunFromWorkflowId: id, reRunFromTaskId }),
  skipTask: (id: string, reference: string) =>
    json<void>("PUT", `/workflow/${q(id)}/skiptask/${q(reference)}`, {}),
  updateTask: (workflowId: string, taskId: string, status: string, outputData: JsonObject) =>
    json<string>("POST", "/tasks", { workflowInstanceId: workflowId, taskId, status, outputData }),
  taskLogs: (taskId: string) => json<TaskExecLog[]>("GET", `/tasks/${q(taskId)}/log`),
  workflowDefs: () => json<JsonObject[]>("GET", "/metadata/workflow"),
  workflowDef: (name: string, version?: number) =>
    json<JsonObject>(
      "GET",
      `/metadata/workflow/${q(name)}` + (version !== undefined ? `?version=${version}` : ""),
    ),
  taskDefs: () => json<JsonObject[]>("GET", "/metadata/taskdefs"),
  taskDef: (name: string) => json<JsonObject>("GET", `/metadata/taskdefs/${q(name)}`),
  registerTaskDefs: (definitions: Json[]) => json<void>("POST", "/metadata/taskdefs", definitions),
  updateTaskDef: (definition: Json) => json<void>("PUT", "/metadata/taskdefs", definition),
  deleteTaskDef: (name: string) => json<void>("DELETE", `/metadata/taskdefs/${q(name)}`),
  registerWorkflowDef: (definition: Json) => json<void>("POST", "/metadata/workflow", definition),
  updateWorkflowDefs: (definitions: Json[]) => json<void>("PUT", "/metadata/workflow", definitions),
  startWorkflow: (name: string, version: number | undefined, input: Json) =>
    json<string>(
      "POST",
      `/workflow/${q(name)}` + (version !== undefined ? `?version=${version}` : ""),
      input,
    ),
  eventHandlers: () => json<JsonObject[]>("GET", "/event"),
  updateEventHandler: (handler: Json) => json<void>("PUT", "/event", handler),
  registerEventHandler: (handler: Json) => json<void>("POST", "/event", handler),
  eventExecutions: (name: string) => json<JsonObject[]>("GET", `/event/executions/${q(name)}`),
  queueSizes: () => json<Record<string, number>>("GET", "/tasks/queue/all"),
  pollData: () => json<PollData[]>("GET", "/tasks/queue/polldata/all"),
  token: (keyId: string, keySecret: string) =>
    json<{ token: string }>("POST", "/token", { keyId, keySecret }),
};
