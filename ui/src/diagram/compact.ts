// A static FORK_JOIN of hundreds of branches would take the diagram's layout many seconds:
// the diagram draws the first branches and one node standing for the rest, coloured by the
// worst status among them. (Dynamic forks are drawn collapsed by the library already.)
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

function referencesIn(tasks: Json): string[] {
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
        const standIn = {
          name: `${rest.length} more branches`,
          taskReferenceName: reference,
          type: "SIMPLE",
        };
        copy.forkTasks = [...branches.slice(0, SHOWN_BRANCHES), [standIn]];
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

export function compactDefinition(definition: JsonObject): { definition: JsonObject; hidden: Hidden[] } {
  const tasks = definition.tasks;
  if (!Array.isArray(tasks)) return { definition, hidden: [] };
  const hidden: Hidden[] = [];
  const compacted = compactTasks(tasks, hidden);
  if (hidden.length === 0) return { definition, hidden };
  return { definition: { ...definition, tasks: joinsOnlyDrawn(compacted, hidden) }, hidden };
}

function worstStatus(statuses: string[]): string {
  for (const status of STATUS_ORDER) if (statuses.includes(status)) return status;
  return statuses[0] ?? "SCHEDULED";
}

export function compactExecution(execution: Workflow): Workflow {
  const definition = execution.workflowDefinition;
  if (!definition) return execution;
  const { definition: drawn, hidden } = compactDefinition(definition);
  if (hidden.length === 0) return execution;
  const hiddenReferences = new Set(hidden.flatMap((h) => [...h.references]));
  const kept: Task[] = execution.tasks.filter((t) => !hiddenReferences.has(t.referenceTaskName));
  const standIns: Task[] = hidden.map((h) => {
    const tasks = execution.tasks.filter((t) => h.references.has(t.referenceTaskName));
    const workflowTask = { name: `${h.count} more branches`, taskReferenceName: h.reference, type: "SIMPLE" };
    return {
      taskId: h.reference,
      taskType: "SIMPLE",
      referenceTaskName: h.reference,
      status: worstStatus(tasks.map((t) => t.status)),
      workflowTask,
      inputData: {},
      outputData: { branches: h.count, tasks: tasks.length },
    };
  });
  return { ...execution, workflowDefinition: drawn, tasks: [...kept, ...standIns] };
}
