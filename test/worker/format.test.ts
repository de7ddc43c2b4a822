import { describe, expect, it } from "vitest";
import { pythonFloat, utcTimestamp } from "../../src/tokens/format";

describe("pythonFloat prints as Python's repr(float)", () => {
  it.each([
    [86400, "86400.0"],
    [2592000, "2592000.0"],
    [0.5, "0.5"],
    [300.5, "300.5"],
    [1, "1.0"],
    [0.1, "0.1"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1e16, "1e+16"],
    [123456789012345.6, "123456789012345.6"],
    [1.5e17, "1.5e+17"],
    [0, "0.0"],
  ])("%s -> %s", (value, expected) => {
    expect(pythonFloat(value)).toBe(expected);
  });
});

describe("utcTimestamp", () => {
  it("writes YYYY-MM-DDTHH:MM:SSUTC", () => {
    expect(utcTimestamp(1669735449)).toBe("2022-11-29T15:24:09UTC");
    expect(utcTimestamp(0)).toBe("1970-01-01T00:00:00UTC");
  });
});
