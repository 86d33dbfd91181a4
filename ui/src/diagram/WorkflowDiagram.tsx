// The diagram drawn as one SVG from Baton's own layout (layout.ts): nodes coloured by status,
// a click on a task opens it, the view pans (drag) and zooms (wheel, or the buttons).
import { useEffect, useLayoutEffect, useMemo, useRef, useState, type MouseEvent, type PointerEvent as ReactPointerEvent } from "react";
import { useNavigate } from "react-router-dom";
import type { JsonObject, Workflow } from "../api";
import { layoutWorkflow, type DrawnNode, type Layout, type Point } from "./layout";

export type DiagramProps =
  | { definition: JsonObject; execution?: undefined; onSelectTask?: undefined }
  | { execution: Workflow; definition?: undefined; onSelectTask?: (selected: string) => void };

const MARGIN = 24;
const MIN_ZOOM = 0.2;
const MAX_ZOOM = 2;
// Characters that fit on a node's lines.
const TITLE_CHARACTERS = 26;
const DETAIL_CHARACTERS = 30;
// A press that moves less than this is a click, not a pan.
const CLICK_SLOP = 4;

interface View {
  x: number;
  y: number;
  zoom: number;
}

/** What the diagram shows of an execution changes only when this string does. */
function executionChanges(execution: Workflow): string {
  let changes = `${execution.workflowId}|${execution.status}|${execution.updateTime ?? ""}`;
  for (const task of execution.tasks) changes += `|${task.taskId}:${task.status}:${task.updateTime ?? ""}`;
  return changes;
}

function cut(text: string, characters: number): string {
  return text.length > characters ? `${text.slice(0, characters - 1)}…` : text;
}

function statusClass(status: string | undefined): string {
  return status ? ` s-${status.toLowerCase()}` : "";
}

/** The whole diagram in view across, from its top, never larger than its natural size. */
function fitted(layout: Layout, width: number): View {
  const zoom = Math.min(1, Math.max(MIN_ZOOM, width / (layout.width + 2 * MARGIN)));
  return { x: (width - layout.width * zoom) / 2, y: MARGIN * zoom, zoom };
}

function path(points: Point[]): string {
  return points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x},${y}`).join(" ");
}

function Node({
  node,
  onSelect,
  onOpenChild,
}: {
  node: DrawnNode;
  onSelect?: (selected: string) => void;
  onOpenChild: (id: string) => void;
}) {
  const className = `node node-${node.kind}${statusClass(node.status)}`;
  if (node.kind === "start" || node.kind === "end") {
    const r = node.width / 2;
    return (
      <g className={className} transform={`translate(${node.x},${node.y})`}>
        <circle cx={r} cy={r} r={r} />
        <text x={r} y={r + 4} textAnchor="middle">
          {node.kind}
        </text>
      </g>
    );
  }
  const selectable = onSelect !== undefined && node.selects !== undefined;
  const childHref = node.childId ? `/execution/${encodeURIComponent(node.childId)}` : undefined;
  // Cut short to fit, in full on hover.
  const title = cut(node.title, TITLE_CHARACTERS);
  const detail = cut(node.detail, childHref ? DETAIL_CHARACTERS - 8 : DETAIL_CHARACTERS);
  return (
    <g
      className={className + (selectable ? " selectable" : "")}
      transform={`translate(${node.x},${node.y})`}
      data-task={node.reference}
      data-status={node.status}
      tabIndex={selectable ? 0 : undefined}
      onClick={selectable ? () => onSelect(node.selects as string) : undefined}
      onKeyDown={
        selectable
          ? (event) => {
              if (event.key === "Enter" || event.key === " ") onSelect(node.selects as string);
            }
          : undefined
      }
    >
      {(title !== node.title || detail !== node.detail) && <title>{`${node.title}\n${node.detail}`}</title>}
      <rect width={node.width} height={node.height} rx={6} />
      <text className="title" x={10} y={19}>
        {title}
      </text>
      <text className="detail" x={10} y={36}>
        {detail}
      </text>
      {childHref && (
        <a
          href={childHref}
          aria-label="Open the sub-workflow"
          onClick={(event: MouseEvent) => {
            event.preventDefault();
            event.stopPropagation();
            onOpenChild(childHref);
          }}
        >
          <text className="child" x={node.width - 10} y={36} textAnchor="end">
            child ›
          </text>
        </a>
      )}
    </g>
  );
}

export default function WorkflowDiagram(props: DiagramProps) {
  const { execution, definition } = props;
  const navigate = useNavigate();
  // A running execution is read again every few seconds: it is laid out again only when a
  // task has changed, not on every read.
  const changes = execution ? executionChanges(execution) : "";
  const layout = useMemo(
    () => (execution ? layoutWorkflow(execution.workflowDefinition, execution) : layoutWorkflow(definition)),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [changes, definition],
  );
  const container = useRef<HTMLDivElement>(null);
  const [view, setView] = useState<View>({ x: MARGIN, y: MARGIN, zoom: 1 });
  // Until the reader pans or zooms, a new layout is fitted to the width again.
  const moved = useRef(false);
  const dragged = useRef(false);

  useLayoutEffect(() => {
    const element = container.current;
    if (element && !moved.current) setView(fitted(layout, element.clientWidth));
  }, [layout]);

  // The wheel zooms about the pointer; React's own wheel listener is passive, this one is not.
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const onWheel = (event: WheelEvent) => {
      event.preventDefault();
      moved.current = true;
      const box = element.getBoundingClientRect();
      const px = event.clientX - box.left;
      const py = event.clientY - box.top;
      setView((v) => {
        const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.zoom * Math.exp(-event.deltaY * 0.0015)));
        const ratio = zoom / v.zoom;
        return { zoom, x: px - (px - v.x) * ratio, y: py - (py - v.y) * ratio };
      });
    };
    element.addEventListener("wheel", onWheel, { passive: false });
    return () => element.removeEventListener("wheel", onWheel);
  }, []);

  const startPan = (event: ReactPointerEvent) => {
    if (event.button !== 0) return;
    const start = { x: event.clientX, y: event.clientY, view };
    dragged.current = false;
    const onMove = (move: PointerEvent) => {
      const dx = move.clientX - start.x;
      const dy = move.clientY - start.y;
      if (!dragged.current && Math.hypot(dx, dy) < CLICK_SLOP) return;
      dragged.current = moved.current = true;
      setView({ ...start.view, x: start.view.x + dx, y: start.view.y + dy });
    };
    const onUp = () => {
      window.removeEventListener("pointermove", onMove);
      window.removeEventListener("pointerup", onUp);
      // The click that ends a pan comes after this: forget the pan only once it has passed.
      window.setTimeout(() => (dragged.current = false));
    };
    window.addEventListener("pointermove", onMove);
    window.addEventListener("pointerup", onUp);
  };

  const zoomBy = (factor: number) => {
    const element = container.current;
    if (!element) return;
    moved.current = true;
    const px = element.clientWidth / 2;
    const py = element.clientHeight / 2;
    setView((v) => {
      const zoom = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.zoom * factor));
      const ratio = zoom / v.zoom;
      return { zoom, x: px - (px - v.x) * ratio, y: py - (py - v.y) * ratio };
    });
  };
  const select = props.onSelectTask
    ? (selected: string) => {
        // The end of a pan is no click on the node under the pointer.
        if (!dragged.current) props.onSelectTask?.(selected);
      }
    : undefined;

  return (
    <div className="diagram" data-testid="diagram" ref={container}>
      <div className="diagram-tools">
        <button type="button" aria-label="Zoom in" onClick={() => zoomBy(1.25)}>
          +
        </button>
        <button type="button" aria-label="Zoom out" onClick={() => zoomBy(0.8)}>
          −
        </button>
        <button
          type="button"
          aria-label="Fit the diagram"
          onClick={() => {
            moved.current = false;
            if (container.current) setView(fitted(layout, container.current.clientWidth));
          }}
        >
          ⤢
        </button>
      </div>
      <svg className="diagram-canvas" onPointerDown={startPan} role="img" aria-label="Workflow diagram">
        <defs>
          <marker id="diagram-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L8,4 L0,8 z" />
          </marker>
        </defs>
        <g transform={`translate(${view.x},${view.y}) scale(${view.zoom})`}>
          {layout.frames.map((frame) => (
            <rect
              key={frame.reference}
              className="loop-frame"
              data-loop={frame.reference}
              x={frame.x}
              y={frame.y}
              width={frame.width}
              height={frame.height}
              rx={10}
            />
          ))}
          {layout.edges.map((edge, i) => (
            <path
              key={i}
              className={edge.off ? "edge off" : "edge"}
              d={path(edge.points)}
              markerEnd={edge.joins ? undefined : "url(#diagram-arrow)"}
            />
          ))}
          {layout.labels.map((label, i) => (
            <text
              key={i}
              className={`case${label.taken ? " taken" : ""}${label.off ? " off" : ""}`}
              data-case={label.text}
              data-taken={label.taken ? "true" : undefined}
              x={label.x}
              y={label.y}
            >
              {label.text}
            </text>
          ))}
          {layout.nodes.map((node, i) => (
            <Node key={node.reference ?? `${node.kind}-${i}`} node={node} onSelect={select} onOpenChild={navigate} />
          ))}
        </g>
      </svg>
    </div>
  );
}
