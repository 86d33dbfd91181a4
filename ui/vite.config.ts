// The UI is built into dist/, which Baton's runtime serves beside /api on the same port.
// `npm run dev` serves it with hot reload and sends /api to a Baton on BATON_URL.
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  logLevel: "warn",
  base: "/",
  resolve: {
    // The diagram library ships its styles in a file its package exports do not name.
    alias: {
      "visualizer-style": fileURLToPath(
        new URL("node_modules/orkes-workflow-visualizer/dist/style.css", import.meta.url),
      ),
    },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // The diagram library's chunk is large and loads only where a diagram is drawn.
    chunkSizeWarningLimit: 2000,
    rolldownOptions: { checks: { pluginTimings: false } },
  },
  server: {
    proxy: { "/api": process.env.BATON_URL ?? "http://127.0.0.1:8080" },
  },
});
