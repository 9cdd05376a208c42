import { z } from "zod";
import { ErrorFactory, type SpeechError } from "../errors.js";

/** `POST /emulator/faults` body: fail the next `count` matching requests with `status`. */
export const faultSchema = z.object({
  status: z.number().int().min(400).max(599),
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .optional(),
  /** Substring of the request path; default: Speech API and realtime paths only. */
  path: z.string().min(1).optional(),
  count: z.number().int().positive().default(1),
  retryAfterSeconds: z.number().int().nonnegative().optional(),
});
export type Fault = z.infer<typeof faultSchema>;

const SPEECH_PATHS = ["/texttospeech/", "/cognitiveservices/", "/tts/cognitiveservices/"];

export class FaultInjector {
  private faults: Fault[] = [];

  /** `sendRetryAfter` false: injected 429/503s carry no Retry-After (EMULATOR_RETRY_AFTER=off). */
  constructor(private readonly sendRetryAfter = true) {}

  add(fault: Fault): void {
    this.faults.push({ ...fault });
  }

  clear(): void {
    this.faults = [];
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  /** Consumes the first matching fault and returns the error to answer with. */
  take(method: string, path: string): SpeechError | undefined {
    const index = this.faults.findIndex(
      (f) =>
        (!f.method || f.method === method) &&
        (f.path ? path.includes(f.path) : SPEECH_PATHS.some((p) => path.startsWith(p))),
    );
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.count -= 1;
    if (fault.count <= 0) this.faults.splice(index, 1);
    return ErrorFactory.injected(fault.status, fault.retryAfterSeconds, this.sendRetryAfter);
  }
}
