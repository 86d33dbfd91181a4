import { useEffect, useState } from "react";
import { api, type PollData } from "../api";
import { ErrorNote } from "../components/ErrorNote";
import { time } from "../format";

export function TaskQueues() {
  const [sizes, setSizes] = useState<Record<string, number> | null>(null);
  const [polls, setPolls] = useState<PollData[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    api.queueSizes().then(setSizes).catch(setError);
    api.pollData().then(setPolls).catch(setError);
  }, []);
  return (
    <section>
      <h1>Task queues</h1>
      <ErrorNote error={error} />
      <h3>Pending tasks</h3>
      <table className="grid" aria-label="Pending tasks">
        <thead>
          <tr>
            <th>Queue (task type, domain)</th>
            <th>Pending</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(sizes ?? {})
            .sort(([a], [b]) => a.localeCompare(b))
            .map(([queue, size]) => (
              <tr key={queue}>
                <td>
                  <code>{queue}</code>
                </td>
                <td>{size}</td>
              </tr>
            ))}
        </tbody>
      </table>
      <h3>Workers</h3>
      <table className="grid" aria-label="Poll data">
        <thead>
          <tr>
            <th>Queue</th>
            <th>Domain</th>
            <th>Worker</th>
            <th>Last poll</th>
          </tr>
        </thead>
        <tbody>
          {(polls ?? []).map((p, i) => (
            <tr key={i}>
              <td>
                <code>{p.queueName}</code>
              </td>
              <td>{p.domain}</td>
              <td>{p.workerId}</td>
              <td>{time(p.lastPollTime)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
