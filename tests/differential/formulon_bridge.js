// Reads the JSON lines `workroute formula eval` reads, evaluates each formula with
// formulon, and writes one JSON line per input in workroute's output encoding, so the
// two can be compared value by value. A bad input line gives an error line.
'use strict';
const readline = require('readline');
const path = require('path');
const formulon = require(path.join(__dirname, 'node_modules', 'formulon'));

const NUMERIC = new Set(['number', 'currency', 'percent']);

function toFormulon(spec) {
  const type = spec.type;
  const value = spec.value === undefined ? null : spec.value;
  const options = {};
  if (spec.length !== undefined) options.length = spec.length;
  if (spec.scale !== undefined) options.scale = spec.scale;
  if (NUMERIC.has(type)) {
    return { type: 'literal', dataType: 'number', value, options: { length: 18, scale: 0, ...options } };
  }
  if (type === 'text' || type === 'textarea') {
    return { type: 'literal', dataType: 'text', value, options: { length: 255, ...options } };
  }
  if (type === 'picklist') {
    return { type: 'literal', dataType: 'picklist', value, options: { values: value === null ? [] : [value] } };
  }
  if (type === 'multipicklist') {
    return { type: 'literal', dataType: 'multipicklist', value, options: { values: value || [] } };
  }
  if (type === 'checkbox') return { type: 'literal', dataType: 'checkbox', value, options };
  if (type === 'date') {
    return { type: 'literal', dataType: 'date', value: value === null ? null : new Date(value + 'T00:00:00.000Z'), options };
  }
  if (type === 'datetime') {
    return { type: 'literal', dataType: 'datetime', value: value === null ? null : new Date(value), options };
  }
  if (type === 'time') {
    return { type: 'literal', dataType: 'time', value: value === null ? null : new Date('1970-01-01T' + value + 'Z'), options };
  }
  if (type === 'geolocation') return { type: 'literal', dataType: 'geolocation', value, options };
  throw new Error('unknown identifier type ' + type);
}

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
