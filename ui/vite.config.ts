// The UI is built into dist/, which Baton's runtime serves beside /api on the same port.
// `npm run dev` serves it with hot reload and sends /api to a Baton on BATON_URL.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  plugins: [react()],
  logLevel: "warn",
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    rolldownOptions: {
      checks: { pluginTimings: false },
      // Three chunks, loaded together, so that a profile of the page tells the diagram's time
      // (bench/ui.py) from the pages' and React's.
      output: {
        codeSplitting: {
          groups: [
            { name: "vendor", test: /node_modules/ },
            { name: "diagram", test: /src[\\/]diagram[\\/]/ },
          ],
        },
      },
    },
  },
  server: {
    proxy: { "/api": process.env.BATON_URL ?? "http://127.0.0.1:8080" },
  },
});
