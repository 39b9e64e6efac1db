// Parses Mermaid files with Mermaid's own parser (mermaid.parse) under Node, a jsdom window
// standing in for the browser. Usage: node parse.mjs FILE...; exit 1 when one fails.
import { readFileSync } from 'node:fs';
import { JSDOM } from 'jsdom';

const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window;
globalThis.document = dom.window.document;
globalThis.DOMParser = dom.window.DOMParser;
globalThis.Element = dom.window.Element;
globalThis.HTMLElement = dom.window.HTMLElement;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

let failed = 0;
for (const file of process.argv.slice(2)) {
  const text = readFileSync(file, 'utf8');
  try {
    const result = await mermaid.parse(text);
    if (!result || result.diagramType !== 'flowchart-v2') {
      throw new Error(`parsed as ${result && result.diagramType}, not a flowchart`);
    }
    console.log(`ok ${file}`);
  } catch (e) {
    failed += 1;
    console.log(`FAIL ${file}: ${e.message || e}`);
  }
}
process.exit(failed ? 1 : 0);
