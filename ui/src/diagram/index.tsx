// The diagram library is most of the UI's code: it loads only on pages that draw a diagram.
import { lazy, Suspense } from "react";
import type { DiagramProps } from "./WorkflowDiagram";

const Diagram = lazy(() => import("./WorkflowDiagram"));

export function WorkflowDiagram(props: DiagramProps) {
  return (
    <Suspense fallback={<div className="diagram">Drawing…</div>}>
      <Diagram {...props} />
    </Suspense>
  );
}
