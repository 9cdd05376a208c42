// Runs a command as a child and ends it when our parent dies, even by SIGKILL: the parent holds our
// stdin open, so end-of-file on stdin means it is gone. Used for Azurite under `npm start`, so a killed
// stack never leaves an orphan holding ports 10000-10002 or the state directory.
import { spawn } from "node:child_process";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write("usage: node child-guard.mjs <command> [args...]\n");
  process.exit(2);
}
// stderr is relayed rather than inherited: once our parent is gone its pipe is broken, and a child writing
// to it while it shuts down (saving its data) must not die of EPIPE.
const child = spawn(command, args, { stdio: ["ignore", "inherit", "pipe"] });
process.stderr.on("error", () => {});
child.stderr.on("data", (chunk) => {
  if (!process.stderr.destroyed) process.stderr.write(chunk);
});
const stopChild = () => {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
};
process.stdin.on("end", stopChild);
process.stdin.on("error", stopChild);
process.stdin.resume();
for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, stopChild);
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
