import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, NavLink, Route, Routes } from "react-router-dom";
import { api, ApiError, hasToken } from "./api";
import { Definition, Definitions } from "./pages/Definitions";
import { EventHandlers } from "./pages/EventHandlers";
import { Execution } from "./pages/Execution";
import { Executions } from "./pages/Executions";
import { SignIn } from "./pages/SignIn";
import { TaskQueues } from "./pages/TaskQueues";
import "./styles.css";

function App() {
  // A deployment in the "conductor-keys" mode answers 401 until the UI has a token.
  const [needsSignIn, setNeedsSignIn] = useState<boolean | null>(null);
  useEffect(() => {
    api
      .workflowDefs()
      .then(() => setNeedsSignIn(false))
      .catch((e) => setNeedsSignIn(e instanceof ApiError && (e.status === 401 || e.status === 403) && !hasToken()));
  }, []);
  if (needsSignIn === null) return null;
  if (needsSignIn) return <SignIn onSignedIn={() => setNeedsSignIn(false)} />;
  return (
    <BrowserRouter>
      <header className="top">
        <span className="brand">Baton</span>
        <nav>
          <NavLink to="/executions">Executions</NavLink>
          <NavLink to="/definitions">Definitions</NavLink>
          <NavLink to="/events">Event handlers</NavLink>
          <NavLink to="/queues">Task queues</NavLink>
        </nav>
      </header>
      <main>
        <Routes>
          <Route path="/" element={<Navigate to="/executions" replace />} />
          <Route path="/executions" element={<Executions />} />
          <Route path="/execution/:id" element={<Execution />} />
          <Route path="/definitions" element={<Definitions />} />
          <Route path="/definitions/new" element={<Definition creating />} />
          <Route path="/definitions/workflow/:name/:version" element={<Definition />} />
          <Route path="/events" element={<EventHandlers />} />
          <Route path="/queues" element={<TaskQueues />} />
          <Route path="*" element={<p>Nothing here. <NavLink to="/executions">Executions</NavLink></p>} />
        </Routes>
      </main>
    </BrowserRouter>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
