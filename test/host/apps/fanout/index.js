import * as df from "durable-functions";

// 1,500 activities fanned out through 15 sub-orchestrations of 100 (the shape the pipeline uses for chapters).
df.app.activity("Chapter", { handler: (i) => ({ chapter: i, ok: true }) });

df.app.orchestration("Batch", function* (context) {
  const { from, count } = context.df.getInput();
  const tasks = [];
  for (let i = from; i < from + count; i++) tasks.push(context.df.callActivity("Chapter", i));
  const results = yield context.df.Task.all(tasks);
  return results.filter((r) => r.ok).length;
});

df.app.orchestration("Book", function* (context) {
  const { chapters, batches } = context.df.getInput();
  const size = Math.ceil(chapters / batches);
  const tasks = [];
  for (let k = 0; k < batches; k++) {
    const from = k * size;
    const count = Math.min(size, chapters - from);
    tasks.push(context.df.callSubOrchestrator("Batch", { from, count }, `${context.df.instanceId}:b${k}`));
  }
  const done = yield context.df.Task.all(tasks);
  return { activities: done.reduce((a, b) => a + b, 0) };
});
