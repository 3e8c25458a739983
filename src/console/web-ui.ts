/** Web UI links: one workflow, and a namespace's workflow list filtered by a visibility query. */
export function webUi(base: string, namespace: string) {
  const root = `${base.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows`;
  return {
    workflow: (id: string, runId?: string) =>
      `${root}/${encodeURIComponent(id)}${runId ? `/${encodeURIComponent(runId)}` : ''}`,
    list: (query: string) => `${root}?query=${encodeURIComponent(query)}`,
  };
}
