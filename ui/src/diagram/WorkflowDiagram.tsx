// The one place the UI touches its diagram library (orkes-workflow-visualizer, Apache 2.0):
// replacing the library means replacing this file only.
import { WorkflowVisualizer } from "orkes-workflow-visualizer";
import { useEffect, useMemo, useRef } from "react";
import type { JsonObject, Workflow } from "../api";
import { compactDefinition, compactExecution, referencesIn } from "./compact";

export type DiagramProps =
  | { definition: JsonObject; execution?: undefined; onSelectTask?: undefined }
  | { execution: Workflow; definition?: undefined; onSelectTask?: (reference: string) => void };

/** Picks the reference name out of whatever node the library reports a click on. */
function referenceOf(node: unknown): string | undefined {
  const data = (node as { data?: { task?: { taskReferenceName?: string } } } | undefined)?.data;
  const fromTask = data?.task?.taskReferenceName;
  if (fromTask) return fromTask;
  const id = (node as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? id : undefined;
}

/** Each task's node carries `data-task` and, in an execution, `data-status`, so that pages
 * and tests can find it. */
function markNodes(container: HTMLElement, definition: JsonObject | undefined, execution: Workflow | undefined): void {
  const latest = new Map<string, string>();
  // A loop's tasks are `<reference>__<iteration>`: its node shows the latest iteration's status.
  for (const task of execution?.tasks ?? []) {
    const drawnAs = (task.workflowTask as JsonObject | undefined)?.taskReferenceName;
    latest.set(typeof drawnAs === "string" ? drawnAs : task.referenceTaskName, task.status);
  }
  const known = new Set([...referencesIn(definition?.tasks ?? []), ...latest.keys()]);
  for (const node of container.querySelectorAll<SVGGElement>("g[id]")) {
    // Top-level nodes are `<prefix>-node-<reference>`; the nodes inside a loop, `<reference>`.
    const at = node.id.indexOf("-node-");
    const reference = at >= 0 ? node.id.slice(at + "-node-".length) : node.id;
    if (reference.includes("-port-") || (at < 0 && !known.has(reference))) continue;
    if (node.dataset.task !== reference) node.dataset.task = reference;
    const status = latest.get(reference);
    if (status !== undefined && node.dataset.status !== status) node.dataset.status = status;
  }
}

/** What the diagram shows of an execution changes only when this string does. */
function executionChanges(execution: Workflow): string {
  let changes = `${execution.status}|${execution.updateTime ?? ""}`;
  for (const task of execution.tasks) changes += `|${task.taskId}:${task.status}:${task.updateTime ?? ""}`;
  return changes;
}

export default function WorkflowDiagram(props: DiagramProps) {
  const { execution, definition } = props;
  // A running execution is read again every few seconds: the diagram is laid out again only
  // when a task has changed, not on every read.
  const changes = execution ? executionChanges(execution) : "";
  const data = useMemo(
    () =>
      (execution
        ? compactExecution(execution)
        : compactDefinition(definition as JsonObject).definition) as unknown as Record<string, unknown>,
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [changes, execution?.workflowId, definition],
  );
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const drawn = execution ? (data as unknown as Workflow) : undefined;
    const drawnDefinition = drawn ? drawn.workflowDefinition : (data as unknown as JsonObject);
    markNodes(element, drawnDefinition, drawn);
    // The library lays out asynchronously: mark the nodes again whenever it redraws.
    const observer = new MutationObserver(() => markNodes(element, drawnDefinition, drawn));
    observer.observe(element, { childList: true, subtree: true });
    return () => observer.disconnect();
  }, [execution !== undefined, data]);
  return (
    <div className="diagram" data-testid="diagram" ref={container}>
      <WorkflowVisualizer
        data={data}
        executionMode={execution !== undefined}
        pannable
        zoomable
        zoom={0.55}
        maxHeightOverride
        onClick={(_event, node) => {
          const reference = referenceOf(node);
          if (reference && props.onSelectTask) props.onSelectTask(reference);
        }}
      />
    </div>
  );
}
