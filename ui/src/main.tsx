import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Navigate, NavLink, Route, Routes } from "react-router-dom";
import { whenSignInNeeded } from "./api";
import { Definition, Definitions } from "./pages/Definitions";
import { EventHandlers } from "./pages/EventHandlers";
import { Execution } from "./pages/Execution";
import { Executions } from "./pages/Executions";
import { SignIn } from "./pages/SignIn";
import { TaskDefinition } from "./pages/TaskDefinition";
import { TaskQueues } from "./pages/TaskQueues";
import "./styles.css";

function App() {
  // A deployment in the "conductor-keys" mode answers 401 until the UI has a token.
  const [needsSignIn, setNeedsSignIn] = useState(false);
  // Signing in remounts the pages, so that they read again what was refused.
  const [signIns, setSignIns] = useState(0);
  useEffect(() => whenSignInNeeded(() => setNeedsSignIn(true)), []);
  if (needsSignIn) {
    return (
      <SignIn
        onSignedIn={() => {
          setNeedsSignIn(false);
          setSignIns((n) => n + 1);
        }}
      />
    );
  }
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
      <main key={signIns}>
        <Routes>
          <Route path="/" element={<Navigate to="/executions" replace />} />
          <Route path="/executions" element={<Executions />} />
          <Route path="/execution/:id" element={<Execution />} />
          <Route path="/definitions" element={<Definitions />} />
          <Route path="/definitions/new" element={<Definition creating />} />
          <Route path="/definitions/workflow/:name/:version" element={<Definition />} />
          <Route path="/definitions/new-task" element={<TaskDefinition creating />} />
          <Route path="/definitions/task/:name" element={<TaskDefinition />} />
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
