import { app, trigger } from "@azure/functions";

app.http("Fine", { handler: () => ({ body: "ok" }) });
app.generic("ReadsKafka", {
  trigger: trigger.generic({ type: "kafkaTrigger", topic: "books", brokerList: "localhost:9092" }),
  handler: () => undefined,
});
