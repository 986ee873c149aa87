// What a filter box has applied: what was typed, once typing paused for `pauseMs`;
// clearing the box applies at once. Shared by the online list and the room directory.
import { useEffect, useState } from "react";

export function useTypedFilter(wanted: string, pauseMs: number): string {
  const [applied, setApplied] = useState("");
  useEffect(() => {
    if (wanted === applied) return;
    const timer = setTimeout(() => setApplied(wanted), wanted ? pauseMs : 0);
    return () => clearTimeout(timer);
  }, [wanted, applied, pauseMs]);
  return applied;
}
