// workroute's identifier encoding (the `workroute formula eval` input) to formulon's.
'use strict';

const NUMERIC = new Set(['number', 'currency', 'percent']);

function toFormulon(spec) {
  const type = spec.type;
  const value = spec.value === undefined ? null : spec.value;
  const options = {};
  if (spec.length !== undefined) options.length = spec.length;
  if (spec.scale !== undefined) options.scale = spec.scale;
  if (type === 'percent') {
    // formulon has no percent type. In a Salesforce formula a percent field is a
    // fraction (10% is 0.1), so formulon gets the value Salesforce's engine sees.
    const scale = (spec.scale === undefined ? 0 : spec.scale) + 2;
    const fraction = value === null ? null : Number((value / 100).toFixed(scale));
    return { type: 'literal', dataType: 'number', value: fraction, options: { length: 18, scale } };
  }
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

module.exports = { toFormulon };
