// The diagram library is most of the UI's code: it loads only on pages that draw a diagram.
import { lazy, Suspense } from "react";
import type { DiagramProps } from "./WorkflowDiagram";

const load = () => import("./WorkflowDiagram");
const Diagram = lazy(load);

/** Starts fetching the diagram's code before a page asks for it. */
export function preloadDiagram(): void {
  void load();
}

export function WorkflowDiagram(props: DiagramProps) {
  return (
    <Suspense fallback={<div className="diagram">Drawing…</div>}>
      <Diagram {...props} />
    </Suspense>
  );
}
