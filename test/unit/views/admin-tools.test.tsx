import { describe, expect, it } from 'vitest';
import { CallsChart, ToolsPage } from '../../../views/admin/tools.js';
import type { EventRecord } from '../../../src/store/types.js';

const html = (el: unknown) => String(el);

describe('CallsChart', () => {
  it('scales bars to the busiest tool, errors over calls, names escaped in titles', () => {
    const out = html(<CallsChart label="calls" stats={[{ tool: 'a', calls: 4, errors: 1, p50Ms: 1, p95Ms: 2 }, { tool: '<b>', calls: 2, errors: 0, p50Ms: 1, p95Ms: 1 }]} />);
    expect(out).toContain('<title>a: 4 calls, 1 errors</title><text x="0" y="12" font-size="11">a</text><rect x="150" y="2" width="320" height="12" fill="#9aa4b2"></rect><rect x="150" y="2" width="80" height="12" fill="#c0392b"></rect>');
    expect(out).toContain('<title>&lt;b&gt;: 2 calls, 0 errors</title><text x="0" y="30" font-size="11">&lt;b&gt;</text><rect x="150" y="20" width="160"');
    expect(out).not.toContain('<b>');
  });
});

describe('ToolsPage', () => {
  it('shows tool-list drift as a diff and escapes every upstream name', () => {
    const drift: EventRecord = { id: 1, at: 1_767_225_600, type: 'tools.changed', grantId: null, clientId: null, server: 'demo', subject: null, outcome: 'success', detail: { added: ['fresh', '<img src=x>'], removed: ['gone'], changed: ['read'] } };
    const out = html(<ToolsPage nonce="n" csrf="c" server="demo" serverNames={['demo']} listed={{ names: ['<script>x</script>'], at: 0 }} hour={[]} day={[]} failures={[]} drift={[drift]} />);
    expect(out).toContain('<pre class="diff">+ fresh\n+ &lt;img src=x&gt;\n- gone\n~ read</pre>');
    expect(out).toContain('<code>&lt;script&gt;x&lt;/script&gt;</code>');
    expect(out).not.toContain('<img');
    expect(out).not.toContain('<script>x');
  });
});
