// Reads the JSON lines `workroute formula eval` reads, evaluates each formula with
// formulon, and writes one JSON line per input in workroute's output encoding, so the
// two can be compared value by value. A bad input line gives an error line.
'use strict';
const readline = require('readline');
const path = require('path');
const formulon = require(path.join(__dirname, 'node_modules', 'formulon'));

const { toFormulon } = require(path.join(__dirname, 'formulon_identifiers.js'));

function fromFormulon(result) {
  if (result.type === 'error') return { error: result.message, errorType: result.errorType };
  const v = result.value;
  switch (result.dataType) {
    case 'null': return { type: 'null', value: null };
    case 'number': return { type: 'number', value: v };
    case 'text': return { type: 'text', value: v };
    case 'checkbox': return { type: 'checkbox', value: v };
    case 'date': return { type: 'date', value: v === null ? null : new Date(v).toISOString().slice(0, 10) };
    case 'datetime': return { type: 'datetime', value: v === null ? null : new Date(v).toISOString() };
    case 'time': return { type: 'time', value: v === null ? null : new Date(v).toISOString().slice(11, 23) };
    case 'geolocation': return { type: 'geolocation', value: v };
    default: return { type: result.dataType, value: v };
  }
}

const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on('line', (line) => {
  let out;
  let id;
  try {
    const input = JSON.parse(line);
    id = input.id;
    const identifiers = {};
    for (const [name, spec] of Object.entries(input.identifiers || {})) {
      identifiers[name] = toFormulon(spec);
    }
    out = fromFormulon(formulon.parse(input.formula, identifiers));
  } catch (err) {
    out = { error: String(err && err.message ? err.message : err), errorType: 'BridgeError' };
  }
  if (id !== undefined) out.id = id;
  process.stdout.write(JSON.stringify(out) + '\n');
});
