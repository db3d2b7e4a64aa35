// Times formulon over the same formulas and records as bench/formula.py.
// Input (argv[2]): a JSON file {"formulas": [..], "records": [{name: spec}, ..]} where
// each spec is a workroute identifier ({"type", "value", "scale"?, "length"?}).
// formulon exports no "evaluate a parsed tree" call, so each evaluation parses.
'use strict';
const fs = require('fs');
const path = require('path');
const formulon = require(path.join(__dirname, 'node_modules', 'formulon'));
const { toFormulon } = require(path.join(__dirname, 'formulon_identifiers.js'));

const data = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const records = data.records.map((rec) => {
  const out = {};
  for (const [name, spec] of Object.entries(rec)) out[name] = toFormulon(spec);
  return out;
});
let evaluations = 0;
let errors = 0;
const start = process.hrtime.bigint();
for (const formula of data.formulas) {
  for (const rec of records) {
    const r = formulon.parse(formula, rec);
    if (r.type === 'error') errors += 1;
    evaluations += 1;
  }
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(JSON.stringify({ evaluations, errors, seconds, node: process.version }) + '\n');
