import { InvalidArgumentError } from "commander";
import { assertProjectId } from "./api.js";

/** Commander argument parsers shared by every command: a bad value is a usage error naming the rule. */
export const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer.");
  return n;
};

export const projectIdArg = (value: string): string => {
  try {
    return assertProjectId(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};
