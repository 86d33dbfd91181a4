// Baton's own layout of a Conductor workflow: a definition is structured (sequences, forks,
// switch cases, loop bodies), so each part is laid out from its children's sizes in one pass
// over the structure, with no general graph layout. An execution adds each task's status, the
// case a SWITCH took, a loop's iterations and the branches a dynamic fork started.
import type { Json, JsonObject, Task, Workflow } from "../api";

export const NODE_WIDTH = 200;
export const NODE_HEIGHT = 46;
const TERMINAL_SIZE = 28;
const ROW_GAP = 44;
const COLUMN_GAP = 28;
const EMPTY_WIDTH = 70;
const LOOP_PADDING = 18;
const LOOP_HEADER = 14;
// A fork wider than this draws its first branches and one node standing for the rest.
export const MAX_DRAWN_BRANCHES = 12;
const SHOWN_BRANCHES = MAX_DRAWN_BRANCHES - 1;
// The status a node standing for many tasks shows: the first of these found among them.
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

export type Point = [number, number];

export interface DrawnNode {
  kind: "task" | "rest" | "placeholder" | "start" | "end";
  /** The task's reference in the definition (`data-task`); none for start, end, placeholders. */
  reference?: string;
  title: string;
  detail: string;
  status?: string;
  /** What a click on the node selects: the task's id when it ran, else its reference. */
  selects?: string;
  /** A sub-workflow's child execution. */
  childId?: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DrawnEdge {
  points: Point[];
  /** Into, through or out of a case its SWITCH did not take. */
  off: boolean;
  /** Ends where other edges meet, not at a node: drawn without an arrow. */
  joins?: boolean;
}

/** A SWITCH case's name over its column. */
export interface DrawnLabel {
  text: string;
  x: number;
  y: number;
  /** The case the SWITCH took, or (`off`) one it did not take. */
  taken: boolean;
  off: boolean;
}

export interface DrawnFrame {
  reference: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Layout {
  nodes: DrawnNode[];
  edges: DrawnEdge[];
  labels: DrawnLabel[];
  frames: DrawnFrame[];
  width: number;
  height: number;
}

/** Where a part is left, and whether that is out of a case not taken. */
interface Exit {
  at: Point;
  off: boolean;
}

/** A laid-out part: entered at (entryX, 0), left from each of its exits, drawn at an offset;
 * `off` when it sits in a case not taken. */
interface Piece {
  width: number;
  height: number;
  entryX: number;
  exits: Exit[];
  place(dx: number, dy: number, out: Layout, off: boolean): void;
}

/** What the layout knows of an execution. */
interface Run {
  /** The latest instance of each task, by its reference in the definition. */
  byDefinition: Map<string, Task>;
  /** Each task by its own reference (a loop's `<reference>__<iteration>`). */
  byReference: Map<string, Task>;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asTasks(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function definitionReference(task: Task): string {
  const workflowTask = task.workflowTask;
  const drawnAs = isObject(workflowTask) ? workflowTask.taskReferenceName : undefined;
  return typeof drawnAs === "string" ? drawnAs : task.referenceTaskName;
}

function runOf(execution: Workflow | undefined): Run | undefined {
  if (!execution) return undefined;
  const byDefinition = new Map<string, Task>();
  const byReference = new Map<string, Task>();
  for (const task of execution.tasks) {
    byDefinition.set(definitionReference(task), task);
    byReference.set(task.referenceTaskName, task);
  }
  return { byDefinition, byReference };
}

export function worstStatus(statuses: Iterable<string>): string | undefined {
  const found = new Set(statuses);
  for (const status of STATUS_ORDER) if (found.has(status)) return status;
  return found.values().next().value;
}

/** Every task reference in a part of a definition, nested ones included. */
export function referencesIn(tasks: Json | undefined): string[] {
  const found: string[] = [];
  const visit = (value: Json | undefined) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (isObject(value)) {
      if (typeof value.taskReferenceName === "string") found.push(value.taskReferenceName);
      Object.values(value).forEach(visit);
    }
  };
  visit(tasks);
  return found;
}

function nodePiece(make: (x: number, y: number) => DrawnNode, width = NODE_WIDTH, height = NODE_HEIGHT): Piece {
  return {
    width,
    height,
    entryX: width / 2,
    exits: [{ at: [width / 2, height], off: false }],
    place(dx, dy, out) {
      out.nodes.push(make(dx, dy));
    },
  };
}

/** An orthogonal edge: down from `from`, across just above `to`, down into it. */
function edge(from: Point, to: Point, off: boolean): DrawnEdge {
  if (from[0] === to[0]) return { points: [from, to], off };
  const across = to[1] - ROW_GAP / 2;
  return { points: [from, [from[0], across], [to[0], across], to], off };
}

function shifted(exit: Exit, dx: number, dy: number, off = false): Exit {
  return { at: [exit.at[0] + dx, exit.at[1] + dy], off: exit.off || off };
}

function sequence(pieces: Piece[]): Piece {
  if (pieces.length === 0) {
    const middle = EMPTY_WIDTH / 2;
    return { width: EMPTY_WIDTH, height: 0, entryX: middle, exits: [{ at: [middle, 0], off: false }], place() {} };
  }
  const width = Math.max(...pieces.map((p) => p.width));
  const offsets: Point[] = [];
  let y = 0;
  for (const piece of pieces) {
    offsets.push([(width - piece.width) / 2, y]);
    y += piece.height + ROW_GAP;
  }
  const height = y - ROW_GAP;
  const last = pieces.length - 1;
  return {
    width,
    height,
    entryX: offsets[0][0] + pieces[0].entryX,
    exits: pieces[last].exits.map((exit) => shifted(exit, ...offsets[last])),
    place(dx, dy, out, off) {
      pieces.forEach((piece, i) => {
        const [ox, oy] = offsets[i];
        piece.place(dx + ox, dy + oy, out, off);
        const next = pieces[i + 1];
        if (!next) return;
        const [nx, ny] = offsets[i + 1];
        const entry: Point = [dx + nx + next.entryX, dy + ny];
        for (const exit of piece.exits) {
          const from = shifted(exit, dx + ox, dy + oy, off);
          out.edges.push(edge(from.at, entry, from.off));
        }
      });
    },
  };
}

interface Column {
  piece: Piece;
  label?: string;
  /** The case taken, or (`off`) a case not taken, once the SWITCH has chosen. */
  taken: boolean;
  off: boolean;
}

/** A node over columns side by side (a fork's branches, a switch's cases), left by each
 * column's exits. */
function branching(head: Piece, columns: Column[]): Piece {
  const columnsWidth = columns.reduce((sum, c) => sum + c.piece.width, 0) + COLUMN_GAP * (columns.length - 1);
  const width = Math.max(head.width, columnsWidth);
  const headX = (width - head.width) / 2;
  const top = head.height + ROW_GAP;
  const lefts: number[] = [];
  let x = (width - columnsWidth) / 2;
  for (const column of columns) {
    lefts.push(x);
    x += column.piece.width + COLUMN_GAP;
  }
  return {
    width,
    height: top + Math.max(0, ...columns.map((c) => c.piece.height)),
    entryX: headX + head.entryX,
    exits: columns.flatMap((c, i) => c.piece.exits.map((exit) => shifted(exit, lefts[i], top, c.off))),
    place(dx, dy, out, off) {
      head.place(dx + headX, dy, out, off);
      const [hx, hy] = head.exits[0].at;
      columns.forEach((column, i) => {
        const entry: Point = [dx + lefts[i] + column.piece.entryX, dy + top];
        const columnOff = off || column.off;
        out.edges.push(edge([dx + headX + hx, dy + hy], entry, columnOff));
        if (column.label !== undefined) {
          out.labels.push({ text: column.label, x: entry[0] + 5, y: entry[1] - 6, taken: column.taken, off: columnOff });
        }
        column.piece.place(dx + lefts[i], dy + top, out, columnOff);
      });
    },
  };
}

/** A DO_WHILE: its node and body in a frame, the body's end leading back to the node. */
function loop(head: Piece, body: Piece, reference: string): Piece {
  const inner = Math.max(head.width, body.width);
  const width = inner + 2 * LOOP_PADDING;
  const headX = (width - head.width) / 2;
  const bodyX = (width - body.width) / 2;
  const bodyY = LOOP_HEADER + head.height + ROW_GAP;
  const backY = bodyY + body.height + ROW_GAP / 2;
  const height = backY + LOOP_PADDING;
  const centre = width / 2;
  return {
    width,
    height,
    entryX: headX + head.entryX,
    exits: [{ at: [centre, height], off: false }],
    place(dx, dy, out, off) {
      out.frames.push({ reference, x: dx, y: dy, width, height });
      head.place(dx + headX, dy + LOOP_HEADER, out, off);
      body.place(dx + bodyX, dy + bodyY, out, off);
      const [hx, hy] = head.exits[0].at;
      out.edges.push(edge([dx + headX + hx, dy + LOOP_HEADER + hy], [dx + bodyX + body.entryX, dy + bodyY], off));
      const back: Point = [dx + centre, dy + backY];
      for (const exit of body.exits) {
        const from = shifted(exit, dx + bodyX, dy + bodyY, off);
        out.edges.push({ points: [from.at, [from.at[0], back[1]], back], off: from.off, joins: true });
      }
      // Back up the frame's right side into the loop's node: the next iteration.
      const side = dx + width - LOOP_PADDING / 2;
      const headMiddle = dy + LOOP_HEADER + head.height / 2;
      out.edges.push({
        points: [back, [side, back[1]], [side, headMiddle], [dx + headX + head.width, headMiddle]],
        off,
      });
      out.edges.push({ points: [back, [back[0], dy + height]], off, joins: true });
    },
  };
}

function describe(definition: JsonObject, task: Task | undefined): string {
  const type = String(definition.type ?? "SIMPLE");
  const name = String(definition.name ?? "");
  const parts = [type];
  if (name && name !== definition.taskReferenceName && type !== name) parts.push(name);
  if (type === "DO_WHILE" && task?.iteration) parts.push(`${task.iteration} iteration${task.iteration === 1 ? "" : "s"}`);
  if (type === "SUB_WORKFLOW" && !task && isObject(definition.subWorkflowParam)) {
    const child = definition.subWorkflowParam.name;
    if (typeof child === "string") parts.push(child);
  }
  return parts.join(" · ");
}

function childOf(task: Task | undefined): string | undefined {
  if (!task) return undefined;
  const child = task.subWorkflowId ?? task.outputData?.subWorkflowId;
  return typeof child === "string" && child ? child : undefined;
}

function taskNode(definition: JsonObject, task: Task | undefined): Piece {
  const reference = String(definition.taskReferenceName ?? definition.name ?? "");
  return nodePiece((x, y) => ({
    kind: "task",
    reference,
    title: reference,
    detail: describe(definition, task),
    status: task?.status,
    selects: task?.taskId ?? reference,
    childId: childOf(task),
    x,
    y,
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
  }));
}

function restNode(reference: string, count: number, statuses: string[]): Piece {
  const byStatus = new Map<string, number>();
  for (const status of statuses) byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  const detail = [...byStatus].map(([status, n]) => `${n} ${status}`).join(", ");
  return nodePiece((x, y) => ({
    kind: "rest",
    reference,
    title: `${count} more branches`,
    detail: detail || `${count} branches`,
    status: worstStatus(statuses),
    x,
    y,
    width: NODE_WIDTH,
    height: NODE_HEIGHT,
  }));
}

function placeholderNode(title: string): Piece {
  return nodePiece((x, y) => ({ kind: "placeholder", title, detail: "", x, y, width: NODE_WIDTH, height: NODE_HEIGHT }));
}

function column(piece: Piece, label?: string, taken = false, off = false): Column {
  return { piece, label, taken, off };
}

/** A fork's branches: the first ones, and one node for the rest when there are many. */
function forkColumns<B>(
  forkReference: string,
  branches: B[],
  draw: (branch: B) => Piece,
  statusesOf: (hidden: B[]) => string[],
): Column[] {
  if (branches.length <= MAX_DRAWN_BRANCHES) return branches.map((b) => column(draw(b)));
  const hidden = branches.slice(SHOWN_BRANCHES);
  const rest = restNode(`${forkReference}__${hidden.length}_more_branches`, hidden.length, statusesOf(hidden));
  return [...branches.slice(0, SHOWN_BRANCHES).map((b) => column(draw(b))), column(rest)];
}

/** The case a SWITCH (or DECISION) took, from its output. */
function takenCase(task: Task | undefined, cases: string[]): string | undefined {
  const output = task?.outputData;
  if (!output) return undefined;
  const listed = output.evaluationResult ?? output.caseOutput;
  const value = Array.isArray(listed) ? listed[0] : output.selectedCase;
  if (value === undefined || value === null) return undefined;
  return cases.includes(String(value)) ? String(value) : DEFAULT_CASE;
}

// The default case's key among the cases' names, which no case name can be.
const DEFAULT_CASE = "\u0000default";

function taskPiece(definition: JsonObject, run: Run | undefined): Piece {
  const reference = String(definition.taskReferenceName ?? "");
  const task = run?.byDefinition.get(reference);
  const head = taskNode(definition, task);
  const statusOf = (ref: string) => run?.byDefinition.get(ref)?.status;
  switch (definition.type) {
    case "FORK_JOIN": {
      const branches = Array.isArray(definition.forkTasks) ? definition.forkTasks.map(asTasks) : [];
      const columns = forkColumns(
        reference,
        branches,
        (branch) => sequenceOf(branch, run),
        (hidden) => referencesIn(hidden).flatMap((ref) => statusOf(ref) ?? []),
      );
      return branching(head, columns);
    }
    case "FORK_JOIN_DYNAMIC": {
      const started = task?.inputData?.forkedTasks;
      if (!run || !Array.isArray(started)) return branching(head, [column(placeholderNode("dynamic branches"))]);
      const branchTask = (ref: string) => run.byReference.get(ref) ?? run.byDefinition.get(ref);
      const columns = forkColumns(
        reference,
        started.map(String),
        (ref) => {
          const branch = branchTask(ref);
          const drawnAs = isObject(branch?.workflowTask) ? branch.workflowTask : undefined;
          return taskNode(drawnAs ?? { name: ref, taskReferenceName: ref, type: branch?.taskType ?? "SIMPLE" }, branch);
        },
        (hidden) => hidden.flatMap((ref) => branchTask(ref)?.status ?? []),
      );
      return branching(head, columns);
    }
    case "SWITCH":
    case "DECISION": {
      const cases = isObject(definition.decisionCases) ? definition.decisionCases : {};
      const names = Object.keys(cases);
      const taken = takenCase(task, names);
      const caseColumn = (name: string, label: string, tasks: Json | undefined) =>
        column(sequenceOf(asTasks(tasks), run), label, taken === name, taken !== undefined && taken !== name);
      const columns = names.map((name) => caseColumn(name, name, cases[name]));
      columns.push(caseColumn(DEFAULT_CASE, "default", definition.defaultCase));
      return branching(head, columns);
    }
    case "DO_WHILE":
      return loop(head, sequenceOf(asTasks(definition.loopOver), run), reference);
    default:
      return head;
  }
}

function sequenceOf(tasks: JsonObject[], run: Run | undefined): Piece {
  return sequence(tasks.map((task) => taskPiece(task, run)));
}

function terminal(kind: "start" | "end", status?: string): Piece {
  return nodePiece(
    (x, y) => ({ kind, title: kind, detail: "", status, x, y, width: TERMINAL_SIZE, height: TERMINAL_SIZE }),
    TERMINAL_SIZE,
    TERMINAL_SIZE,
  );
}

/** The diagram of a definition, or of an execution (its definition with its tasks' states). */
export function layoutWorkflow(definition: JsonObject | undefined, execution?: Workflow): Layout {
  const run = runOf(execution);
  const ended = execution?.status === "COMPLETED" ? "COMPLETED" : undefined;
  const whole = sequence([
    terminal("start", execution ? "COMPLETED" : undefined),
    sequenceOf(asTasks(definition?.tasks), run),
    terminal("end", ended),
  ]);
  const out: Layout = { nodes: [], edges: [], labels: [], frames: [], width: whole.width, height: whole.height };
  whole.place(0, 0, out, false);
  return out;
}
