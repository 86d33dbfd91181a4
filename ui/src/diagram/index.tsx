// The one place the pages take their diagram from: Baton's own SVG diagram (WorkflowDiagram.tsx
// over layout.ts), small enough to ship in the main chunk.
export { default as WorkflowDiagram, type DiagramProps } from "./WorkflowDiagram";
