/** One task queue for all of hookflow's workflows and activities; overridable for tests. */
export const DEFAULT_TASK_QUEUE = 'hookflow';
