// A fork of hundreds of branches would take the diagram's layout many seconds: the diagram
// draws the first branches and one node standing for the rest, coloured by the worst status
// among them. A static FORK_JOIN is compacted in its definition; a FORK_JOIN_DYNAMIC in its
// execution, whose fork task lists the branches it started (`forkedTasks`).
import type { Json, JsonObject, Task, Workflow } from "../api";

export const MAX_DRAWN_BRANCHES = 12;
const SHOWN_BRANCHES = MAX_DRAWN_BRANCHES - 1;
const STATUS_ORDER = [
  "FAILED",
  "FAILED_WITH_TERMINAL_ERROR",
  "TIMED_OUT",
  "CANCELED",
  "IN_PROGRESS",
  "SCHEDULED",
  "SKIPPED",
  "COMPLETED_WITH_ERRORS",
  "COMPLETED",
];

interface Hidden {
  reference: string;
  count: number;
  references: Set<string>;
}

export function referencesIn(tasks: Json): string[] {
  const found: string[] = [];
  const visit = (value: Json) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      if (typeof value.taskReferenceName === "string") found.push(value.taskReferenceName);
      Object.values(value).forEach(visit);
    }
  };
  visit(tasks);
  return found;
}

function compactTasks(tasks: Json[], hidden: Hidden[]): Json[] {
  return tasks.map((task) => {
    if (!task || typeof task !== "object" || Array.isArray(task)) return task;
    const copy: JsonObject = { ...task };
    for (const key of ["loopOver", "defaultCase"]) {
      if (Array.isArray(copy[key])) copy[key] = compactTasks(copy[key] as Json[], hidden);
    }
    if (copy.decisionCases && typeof copy.decisionCases === "object" && !Array.isArray(copy.decisionCases)) {
      copy.decisionCases = Object.fromEntries(
        Object.entries(copy.decisionCases).map(([k, v]) => [k, compactTasks(v as Json[], hidden)]),
      );
    }
    if (Array.isArray(copy.forkTasks)) {
      const branches = (copy.forkTasks as Json[][]).map((b) => compactTasks(b, hidden));
      if (branches.length > MAX_DRAWN_BRANCHES) {
        const rest = branches.slice(SHOWN_BRANCHES);
        const reference = `${String(copy.taskReferenceName)}__${rest.length}_more_branches`;
        hidden.push({ reference, count: rest.length, references: new Set(referencesIn(rest)) });
        copy.forkTasks = [...branches.slice(0, SHOWN_BRANCHES), [standInTask(reference, rest.length)]];
      } else {
        copy.forkTasks = branches;
      }
    }
    return copy;
  });
}

function joinsOnlyDrawn(tasks: Json[], hidden: Hidden[]): Json[] {
  const all = new Map(hidden.flatMap((h) => [...h.references].map((r) => [r, h.reference])));
  const visit = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(visit);
    if (!value || typeof value !== "object") return value;
    const copy: JsonObject = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    if (copy.type === "JOIN" && Array.isArray(copy.joinOn)) {
      const joined = new Set((copy.joinOn as string[]).map((r) => all.get(r) ?? r));
      copy.joinOn = [...joined];
    }
    return copy;
  };
  return tasks.map(visit);
}

/** The library lays a fork's branches out from right to left: handed over in reverse, the
 * first branch is drawn on the left, as Conductor's UI draws it. */
function forksLeftToRight(tasks: Json[]): Json[] {
  const visit = (value: Json): Json => {
    if (Array.isArray(value)) return value.map(visit);
    if (!value || typeof value !== "object") return value;
    const copy: JsonObject = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    if (Array.isArray(copy.forkTasks)) copy.forkTasks = [...copy.forkTasks].reverse();
    return copy;
  };
  return tasks.map(visit);
}

export function compactDefinition(definition: JsonObject): { definition: JsonObject; hidden: Hidden[] } {
  const tasks = definition.tasks;
  if (!Array.isArray(tasks)) return { definition, hidden: [] };
  const hidden: Hidden[] = [];
  const compacted = compactTasks(tasks, hidden);
  const drawn = hidden.length === 0 ? compacted : joinsOnlyDrawn(compacted, hidden);
  return { definition: { ...definition, tasks: forksLeftToRight(drawn) }, hidden };
}

function worstStatus(statuses: string[]): string {
  for (const status of STATUS_ORDER) if (statuses.includes(status)) return status;
  return statuses[0] ?? "SCHEDULED";
}

/** The branches a dynamic fork started, as the library draws them (`forkedTaskDefs`, which
 * Baton's API leaves out), the first ones only when there are many. */
function compactDynamicForks(tasks: Task[], hidden: Hidden[]): Task[] {
  const latest = new Map<string, Task>();
  for (const task of tasks) latest.set(task.referenceTaskName, task);
  // The library reads the last instance of each fork (a loop runs it again).
  const lastFork = new Map<string, Task>();
  for (const task of tasks) {
    const workflowTask = task.workflowTask as JsonObject | undefined;
    if (workflowTask?.type === "FORK_JOIN_DYNAMIC" && Array.isArray(task.inputData?.forkedTasks)) {
      lastFork.set(task.referenceTaskName, task);
    }
  }
  if (lastFork.size === 0) return tasks;
  const rewritten = new Map<Task, Task>();
  for (const fork of lastFork.values()) {
    const references = (fork.inputData?.forkedTasks as Json[]).map(String);
    const definitionOf = (reference: string): JsonObject =>
      (latest.get(reference)?.workflowTask as JsonObject | undefined) ?? {
        name: reference,
        taskReferenceName: reference,
        type: "SIMPLE",
      };
    let drawn = references;
    const definitions: JsonObject[] = [];
    if (references.length > MAX_DRAWN_BRANCHES) {
      drawn = references.slice(0, SHOWN_BRANCHES);
      const rest = references.slice(SHOWN_BRANCHES);
      const reference = `${fork.referenceTaskName}__${rest.length}_more_branches`;
      hidden.push({ reference, count: rest.length, references: new Set(rest) });
      definitions.push(...drawn.map(definitionOf), standInTask(reference, rest.length));
      drawn = [...drawn, reference];
    } else {
      definitions.push(...drawn.map(definitionOf));
    }
    // In reverse, as static forks' branches (forksLeftToRight).
    const forkedTaskDefs = definitions.reverse();
    rewritten.set(fork, { ...fork, inputData: { ...fork.inputData, forkedTasks: drawn, forkedTaskDefs } });
  }
  return tasks.map((t) => rewritten.get(t) ?? t);
}

function standInTask(reference: string, count: number): JsonObject {
  return { name: `${count} more branches`, taskReferenceName: reference, type: "SIMPLE" };
}

// What the library reads of a task's input and output (the forks' branches, the SWITCH case
// taken, a dynamic sub-workflow's id, a summary): the rest, which can be large (a fork's
// input listing every branch, a JOIN's output holding every branch's), is left out.
const DRAWN_INPUTS = ["forkedTasks", "forkedTaskDefs"];
const DRAWN_OUTPUTS = ["selectedCase", "caseOutput", "subWorkflowId", "summary"];

function picked(data: JsonObject | undefined, keys: string[]): JsonObject {
  const kept: JsonObject = {};
  if (data) for (const key of keys) if (key in data) kept[key] = data[key];
  return kept;
}

function drawnTask(task: Task): Task {
  return { ...task, inputData: picked(task.inputData, DRAWN_INPUTS), outputData: picked(task.outputData, DRAWN_OUTPUTS) };
}

/** The execution as the diagram draws it: wide forks compacted, dynamic forks' branches listed. */
export function compactExecution(execution: Workflow): Workflow {
  const definition = execution.workflowDefinition;
  if (!definition) return execution;
  const { definition: drawn, hidden } = compactDefinition(definition);
  const tasks = compactDynamicForks(execution.tasks, hidden);
  if (hidden.length === 0) return { ...execution, workflowDefinition: drawn, tasks: tasks.map(drawnTask) };
  const hiddenReferences = new Set(hidden.flatMap((h) => [...h.references]));
  const kept: Task[] = tasks.filter((t) => !hiddenReferences.has(t.referenceTaskName));
  const standIns: Task[] = hidden.map((h) => {
    const among = execution.tasks.filter((t) => h.references.has(t.referenceTaskName));
    return {
      taskId: h.reference,
      taskType: "SIMPLE",
      referenceTaskName: h.reference,
      status: worstStatus(among.map((t) => t.status)),
      workflowTask: standInTask(h.reference, h.count),
      inputData: {},
      outputData: { branches: h.count, tasks: among.length },
    };
  });
  return { ...execution, workflowDefinition: drawn, tasks: [...kept.map(drawnTask), ...standIns] };
}
