// Differential-test oracle: the reference JsonLogic implementation (json-logic-js).
//
// Protocol: every stdin line is a JSON array of cases [[rule, data], ...]; for each line one
// stdout line is written, a JSON array with one entry per case: {"ok": value} or
// {"error": message}. Values JSON cannot carry are tagged: {"$js": "NaN"}, {"$js": "Infinity"},
// {"$js": "-Infinity"}, {"$js": "-0"}, {"$js": "undefined"}, {"$js": "function"}.
"use strict";
const readline = require("readline");
const jsonLogic = require("json-logic-js");

// The "log" operator writes with console.log; keep stdout for the protocol.
console.log = () => {};

function encode(value) {
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $js: "NaN" };
    if (value === Infinity) return { $js: "Infinity" };
    if (value === -Infinity) return { $js: "-Infinity" };
    if (Object.is(value, -0)) return { $js: "-0" };
    return value;
  }
  if (value === undefined) return { $js: "undefined" };
  if (typeof value === "function") return { $js: "function" };
  if (Array.isArray(value)) return value.map(encode);
  if (value !== null && typeof value === "object") {
    const out = {};
    for (const key of Object.keys(value)) out[key] = encode(value[key]);
    return out;
  }
  return value;
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on("line", (line) => {
  if (!line.trim()) return;
  const results = JSON.parse(line).map(([rule, data]) => {
    try {
      return { ok: encode(jsonLogic.apply(rule, data)) };
    } catch (err) {
      return { error: String(err && err.message ? err.message : err) };
    }
  });
  process.stdout.write(JSON.stringify(results) + "\n");
});
