import { useCallback, useEffect, useRef, useState } from "react";

/** Loads `load()` now and again every `everyMs` while `active` says so (a running execution). */
export function usePolling<T>(
  load: () => Promise<T>,
  deps: unknown[],
  everyMs: number,
  active: (value: T) => boolean,
) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const loadRef = useRef(load);
  loadRef.current = load;
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);

  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        const next = await loadRef.current();
        if (cancelled) return;
        setValue(next);
        setError(null);
        if (active(next)) timer = setTimeout(run, everyMs);
      } catch (e) {
        if (!cancelled) setError(e);
      }
    };
    void run();
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { value, error, reload };
}
