/**
 * The JSON parse error's reason, exactly as the origin's Python says it: DRF's JSONParser.parse
 * (`json.load(codecs.getreader(encoding)(stream), parse_constant=strict_constant)`) under
 * Debian's /usr/bin/python3 (3.11.2, the C scanner). The fixture was printed by that Python, with
 * rest_framework.utils.json, for each body: [body bytes in hex, str(exc) or null when it parses].
 */
import { describe, expect, it } from "vitest";
import type { Codec } from "../../src/http/charset";
import { pythonJsonError, pythonStreamDecode } from "../../src/http/python-json";
import { app, call } from "../support/harness";

const UTF8: [string, string | null][] = [
  ["7b626164", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["7b", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["5b", "Expecting value: line 1 column 2 (char 1)"],
  ["", "Expecting value: line 1 column 1 (char 0)"],
  ["20", "Expecting value: line 1 column 2 (char 1)"],
  ["200a090d20", "Expecting value: line 2 column 4 (char 5)"],
  ["22616263", "Unterminated string starting at: line 1 column 1 (char 0)"],
  ["7b2261223a202262", "Unterminated string starting at: line 1 column 7 (char 6)"],
  ["22615c", "Unterminated string starting at: line 1 column 1 (char 0)"],
  ["22615c7822", "Invalid \\escape: line 1 column 3 (char 2)"],
  ["22615c75313222", "Invalid \\uXXXX escape: line 1 column 4 (char 3)"],
  ["22615c753132473422", "Invalid \\uXXXX escape: line 1 column 4 (char 3)"],
  ["22615c75313233", "Invalid \\uXXXX escape: line 1 column 4 (char 3)"],
  ["22615c7531323334", "Invalid \\uXXXX escape: line 1 column 4 (char 3)"],
  ["225c75643830305c753132473422", "Invalid \\uXXXX escape: line 1 column 9 (char 8)"],
  ["225c75643830305c755a5a5a5a22", "Invalid \\uXXXX escape: line 1 column 9 (char 8)"],
  ["225c75643830305c", "Unterminated string starting at: line 1 column 1 (char 0)"],
  ["225c75643830305c7522", "Invalid \\uXXXX escape: line 1 column 9 (char 8)"],
  ["2261016222", "Invalid control character at: line 1 column 3 (char 2)"],
  ["22610a6222", "Invalid control character at: line 1 column 3 (char 2)"],
  ["2261096222", "Invalid control character at: line 1 column 3 (char 2)"],
  ["7b22612220317d", "Expecting ':' delimiter: line 1 column 6 (char 5)"],
  ["7b226122", "Expecting ':' delimiter: line 1 column 5 (char 4)"],
  ["7b2261223a", "Expecting value: line 1 column 6 (char 5)"],
  ["7b2261223a2031202262223a20327d", "Expecting ',' delimiter: line 1 column 9 (char 8)"],
  ["5b3120325d", "Expecting ',' delimiter: line 1 column 4 (char 3)"],
  ["7b2261223a20312c7d", "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"],
  ["5b312c5d", "Expecting value: line 1 column 4 (char 3)"],
  ["5b312c205d", "Expecting value: line 1 column 5 (char 4)"],
  ["7b2261223a20312c207d", "Expecting property name enclosed in double quotes: line 1 column 10 (char 9)"],
  ["7b2c7d", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["5b2c5d", "Expecting value: line 1 column 2 (char 1)"],
  ["7b7d2078", "Extra data: line 1 column 4 (char 3)"],
  ["7b7d7b7d", "Extra data: line 1 column 3 (char 2)"],
  ["5b5d205d", "Extra data: line 1 column 4 (char 3)"],
  ["312032", "Extra data: line 1 column 3 (char 2)"],
  ["747275", "Expecting value: line 1 column 1 (char 0)"],
  ["6e756c", "Expecting value: line 1 column 1 (char 0)"],
  ["66616c73", "Expecting value: line 1 column 1 (char 0)"],
  ["747275652066616c7365", "Extra data: line 1 column 6 (char 5)"],
  ["6e756c6c6c", "Extra data: line 1 column 5 (char 4)"],
  ["74", "Expecting value: line 1 column 1 (char 0)"],
  ["7b2261223a207472757d", "Expecting value: line 1 column 7 (char 6)"],
  ["3031", "Extra data: line 1 column 2 (char 1)"],
  ["2d3031", "Extra data: line 1 column 3 (char 2)"],
  ["312e", "Extra data: line 1 column 2 (char 1)"],
  ["2d", "Expecting value: line 1 column 1 (char 0)"],
  ["3165", "Extra data: line 1 column 2 (char 1)"],
  ["31652b", "Extra data: line 1 column 2 (char 1)"],
  ["312e6535", "Extra data: line 1 column 2 (char 1)"],
  ["2e35", "Expecting value: line 1 column 1 (char 0)"],
  ["2b31", "Expecting value: line 1 column 1 (char 0)"],
  ["2d61", "Expecting value: line 1 column 1 (char 0)"],
  ["3145", "Extra data: line 1 column 2 (char 1)"],
  ["5b31655d", "Expecting ',' delimiter: line 1 column 3 (char 2)"],
  ["5b2d5d", "Expecting value: line 1 column 2 (char 1)"],
  ["4e614e", "Out of range float values are not JSON compliant: 'NaN'"],
  ["496e66696e697479", "Out of range float values are not JSON compliant: 'Infinity'"],
  ["2d496e66696e697479", "Out of range float values are not JSON compliant: '-Infinity'"],
  ["7b22757365726e616d65223a204e614e7d", "Out of range float values are not JSON compliant: 'NaN'"],
  ["5b312c20496e66696e6974795d", "Out of range float values are not JSON compliant: 'Infinity'"],
  ["7b2261223a202d496e66696e6974797d", "Out of range float values are not JSON compliant: '-Infinity'"],
  ["4e61", "Expecting value: line 1 column 1 (char 0)"],
  ["2d496e66", "Expecting value: line 1 column 1 (char 0)"],
  ["6e616e", "Expecting value: line 1 column 1 (char 0)"],
  ["5b4e614e", "Out of range float values are not JSON compliant: 'NaN'"],
  ["7b0a20202261223a20312c0a202022622220320a7d", "Expecting ':' delimiter: line 3 column 7 (char 18)"],
  ["0a0a20207b2261223a20787d", "Expecting value: line 3 column 9 (char 10)"],
  ["7b2261223a0a0a0a7d", "Expecting value: line 4 column 1 (char 8)"],
  ["5b0d0a312c0d0a5d", "Expecting value: line 3 column 1 (char 7)"],
  ["7b22c3a9c3a8223a20787d", "Expecting value: line 1 column 8 (char 7)"],
  ["7b22f09f9880223a20787d", "Expecting value: line 1 column 7 (char 6)"],
  ["5b22e282ace282ac222c207d", "Expecting value: line 1 column 8 (char 7)"],
  ["22c3a90ac3a9", "Invalid control character at: line 1 column 3 (char 2)"],
  ["efbbbf7b7d", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"],
  ["efbbbf", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"],
  ["c3a9", "Expecting value: line 1 column 1 (char 0)"],
  ["7b22757365726e616d65223a202275ff227d", "'utf-8' codec can't decode byte 0xff in position 15: invalid start byte"],
  ["ff", "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"],
  ["7b2261223a2022c3227d", "'utf-8' codec can't decode byte 0xc3 in position 7: invalid continuation byte"],
  ["7b2261223a2022c328227d", "'utf-8' codec can't decode byte 0xc3 in position 7: invalid continuation byte"],
  ["7b2261223a2022e282227d", "'utf-8' codec can't decode bytes in position 7-8: invalid continuation byte"],
  ["7b2261223a2022e228a1227d", "'utf-8' codec can't decode byte 0xe2 in position 7: invalid continuation byte"],
  ["7b2261223a2022f09028bc227d", "'utf-8' codec can't decode bytes in position 7-8: invalid continuation byte"],
  ["7b2261223a2022f0908c227d", "'utf-8' codec can't decode bytes in position 7-9: invalid continuation byte"],
  ["c0af", "'utf-8' codec can't decode byte 0xc0 in position 0: invalid start byte"],
  ["c1bf", "'utf-8' codec can't decode byte 0xc1 in position 0: invalid start byte"],
  ["eda080", "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"],
  ["edbfbf", "'utf-8' codec can't decode byte 0xed in position 0: invalid continuation byte"],
  ["f4908080", "'utf-8' codec can't decode byte 0xf4 in position 0: invalid continuation byte"],
  ["f5808080", "'utf-8' codec can't decode byte 0xf5 in position 0: invalid start byte"],
  ["e08080", "'utf-8' codec can't decode byte 0xe0 in position 0: invalid continuation byte"],
  ["e09fbf", "'utf-8' codec can't decode byte 0xe0 in position 0: invalid continuation byte"],
  ["f08fbfbf", "'utf-8' codec can't decode byte 0xf0 in position 0: invalid continuation byte"],
  ["80", "'utf-8' codec can't decode byte 0x80 in position 0: invalid start byte"],
  ["bf", "'utf-8' codec can't decode byte 0xbf in position 0: invalid start byte"],
  ["fe", "'utf-8' codec can't decode byte 0xfe in position 0: invalid start byte"],
  ["f888808080", "'utf-8' codec can't decode byte 0xf8 in position 0: invalid start byte"],
  ["7b7de282", null],
  ["7b7df0908c", null],
  ["7b7dc3", null],
  ["5b315ded", null],
  ["5b315deda0", null],
  ["5b315de080", "'utf-8' codec can't decode byte 0xe0 in position 3: invalid continuation byte"],
  ["5b315df490", "'utf-8' codec can't decode byte 0xf4 in position 3: invalid continuation byte"],
  ["7b2261223a2022e282", "Unterminated string starting at: line 1 column 7 (char 6)"],
  ["5b316539393939395d", null],
];

/** [before, count of "1" digits, after, reason]: Python 3.11's int digit limit (JSON.parse has none). */
const LONG: [string, number, string, string | null][] = [
  ["[", 4300, "]", null],
  [
    "[",
    4301,
    "]",
    "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit",
  ],
  [
    "[-",
    4301,
    "]",
    "Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit",
  ],
  [
    '{"a": ',
    4302,
    "}",
    "Exceeds the limit (4300 digits) for integer string conversion: value has 4302 digits; use sys.set_int_max_str_digits() to increase the limit",
  ],
  ['{"a": 1.', 5000, "}", null],
  ['{"a": "', 5000, '"}', null],
  ['{"a": 1', 4301, "e5}", null],
];

/** [charset, body bytes in hex, reason]. */
const CODECS: [string, string, string | null][] = [
  ["ascii", "7b2261223a2022e9227d", "'ascii' codec can't decode byte 0xe9 in position 7: ordinal not in range(128)"],
  ["ascii", "80", "'ascii' codec can't decode byte 0x80 in position 0: ordinal not in range(128)"],
  ["ascii", "7b626164", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["utf-16", "7b007d00", "UTF-16 stream does not start with BOM"],
  ["utf-16", "fffe7b007d00", null],
  ["utf-16", "fffe7b007800", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["utf-16", "feff007b0078", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["utf-16", "fffe7b007d0000", null],
  ["utf-16", "fffe7b007d0000dc", "'utf-16-le' codec can't decode bytes in position 6-7: illegal encoding"],
  ["utf-16", "fffe5b0000dc5d00", "'utf-16-le' codec can't decode bytes in position 4-5: illegal encoding"],
  ["utf-16", "fffe5b0000d85d00", "'utf-16-le' codec can't decode bytes in position 4-5: illegal UTF-16 surrogate"],
  ["utf-16", "fffe5b005d0000d8", null],
  ["utf-16", "7b", "Expecting value: line 1 column 1 (char 0)"],
  ["utf-16-le", "7b007800", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["utf-16-le", "5b0000dc5d00", "'utf-16-le' codec can't decode bytes in position 2-3: illegal encoding"],
  ["utf-16-le", "5b0000d85d00", "'utf-16-le' codec can't decode bytes in position 2-3: illegal UTF-16 surrogate"],
  ["utf-16-le", "5b005d0000d8", null],
  ["utf-16-le", "5b005d005d", null],
  ["utf-16-le", "fffe7b007d00", "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)"],
  ["utf-16-be", "005bdc00005d", "'utf-16-be' codec can't decode bytes in position 2-3: illegal encoding"],
  ["utf-16-be", "005b005dd800", null],
  ["utf-16-be", "007b0078", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
  ["latin-1", "7b22e9223a20787d", "Expecting value: line 1 column 7 (char 6)"],
];
const CODEC: Record<string, Codec> = {
  "utf-8": "utf_8",
  ascii: "ascii",
  "latin-1": "latin_1",
  "utf-16": "utf_16",
  "utf-16-le": "utf_16_le",
  "utf-16-be": "utf_16_be",
};

const bytesOf = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
const show = (hex: string) => JSON.stringify(new TextDecoder("latin1").decode(bytesOf(hex))).slice(0, 60);

/** Python's reason for a body, or null: the codec's StreamReader, then json.loads. */
function reasonOf(bytes: Uint8Array, codec: Codec): string | null {
  const decoded = pythonStreamDecode(bytes, codec);
  return "reason" in decoded ? decoded.reason : (pythonJsonError(decoded.text) ?? null);
}

const worker = app();
const REFRESH = "/api/org_token/refresh/";

function post(path: string, body: Uint8Array | string, charset?: string) {
  const type = charset === undefined ? "application/json" : `application/json; charset=${charset}`;
  return call(worker, path, { method: "POST", headers: { "Content-Type": type }, body });
}

async function edgeDetail(response: Response): Promise<string | null> {
  const body = await response.json<Record<string, unknown>>();
  if (response.status === 400 && typeof body.detail === "string" && body.detail.startsWith("JSON parse error - ")) {
    return body.detail.slice("JSON parse error - ".length);
  }
  return null;
}

describe("Python's JSON parse error reasons (fixture from Python 3.11)", () => {
  it.each(UTF8.map(([hex, reason]) => [show(hex), hex, reason] as const))("utf-8 %s", (_, hex, reason) => {
    expect(reasonOf(bytesOf(hex), "utf_8")).toBe(reason);
  });

  it.each(CODECS.map(([charset, hex, reason]) => [charset, show(hex), hex, reason] as const))(
    "%s %s",
    (charset, _, hex, reason) => {
      expect(reasonOf(bytesOf(hex), CODEC[charset]!)).toBe(reason);
    },
  );

  it.each(LONG)("%s + %i digits + %s", (before, count, after, reason) => {
    expect(pythonJsonError(before + "1".repeat(count) + after) ?? null).toBe(reason);
  });

  it("every fixture body through the HTTP path: the same reason, or no JSON parse error when Python parses it", async () => {
    type Body = [Uint8Array, string | undefined, string | null];
    const bodies: Body[] = [
      // An empty body is no JSON at all: DRF (and the edge) read it as empty data.
      ...UTF8.filter(([hex]) => hex !== "").map(([hex, reason]): Body => [bytesOf(hex), undefined, reason]),
      ...CODECS.map(([charset, hex, reason]): Body => [bytesOf(hex), charset, reason]),
      ...LONG.map(
        ([before, count, after, reason]): Body => [
          new TextEncoder().encode(before + "1".repeat(count) + after),
          undefined,
          reason,
        ],
      ),
    ];
    for (const [bytes, charset, reason] of bodies) {
      const detail = await edgeDetail(await post(REFRESH, bytes, charset));
      expect({ body: Array.from(bytes.subarray(0, 40)), charset, detail }).toEqual({
        body: Array.from(bytes.subarray(0, 40)),
        charset,
        detail: reason,
      });
    }
  });
});

describe("the login route answers Python's reason", () => {
  it.each([
    ["{bad", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"],
    ['{"username": NaN}', "Out of range float values are not JSON compliant: 'NaN'"],
    [
      new Uint8Array([...new TextEncoder().encode('{"username": '), 0xff, 0x7d]),
      "'utf-8' codec can't decode byte 0xff in position 13: invalid start byte",
    ],
    ['{"username": "u",\n "password": "p"\n "org_name": "o"}', "Expecting ',' delimiter: line 3 column 2 (char 36)"],
  ] as const)("POST /api/org_token/ %s", async (body, reason) => {
    const response = await post("/api/org_token/", body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ detail: `JSON parse error - ${reason}` });
  });

  it("a body Python reads whole once the StreamReader drops an incomplete utf-8 tail is parsed", async () => {
    const body = new Uint8Array([...new TextEncoder().encode('{"refresh": ""}'), 0xe2, 0x82]);
    const response = await post(REFRESH, body);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ refresh: ["This field may not be blank."] });
  });
});
