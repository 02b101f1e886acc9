import { describe, expect, it } from 'vitest';
import { FilterActions, Notice, TableBody } from '../../../views/admin/components.js';

const html = (el: unknown) => String(el);

describe('TableBody', () => {
  it('renders one header cell per column, then the rows', () => {
    const out = html(
      <table>
        <TableBody columns={['User', 'Client']} empty={null}>
          <tr>
            <td>u</td>
            <td>c</td>
          </tr>
        </TableBody>
      </table>,
    );
    expect(out).toBe('<table><thead><tr><th scope="col">User</th><th scope="col">Client</th></tr></thead><tbody><tr><td>u</td><td>c</td></tr></tbody></table>');
  });

  it('renders the empty row across every column', () => {
    const out = html(
      <table>
        <TableBody columns={['Time', 'Type', 'Outcome']} empty="No events match." />
      </table>,
    );
    expect(out).toBe(
      '<table><thead><tr><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Outcome</th></tr></thead><tbody><tr><td colspan="3" class="muted">No events match.</td></tr></tbody></table>',
    );
  });

  it('escapes the texts', () => {
    expect(html(<TableBody columns={['<b>']} empty="<i>none</i>" />)).toContain('&lt;b&gt;</th>');
    expect(html(<TableBody columns={['a']} empty="<i>none</i>" />)).toContain('&lt;i&gt;none&lt;/i&gt;</td>');
  });
});

describe('Notice', () => {
  it('renders the status line, or nothing', () => {
    expect(html(<Notice text="Revoked 2 grants." />)).toBe('<p class="notice" role="status">Revoked 2 grants.</p>');
    expect(html(<div><Notice text={undefined} /></div>)).toBe('<div></div>');
    expect(html(<div><Notice text="" /></div>)).toBe('<div></div>');
  });
});

describe('FilterActions', () => {
  it('renders submit and clear, then any further links', () => {
    expect(html(<FilterActions clearHref="/admin/grants" />)).toBe(
      '<div class="actions"><button type="submit" class="primary">Filter</button><a class="button" href="/admin/grants">Clear</a></div>',
    );
    expect(html(<FilterActions clearHref="/admin/events"><a href="/x">Export</a></FilterActions>)).toBe(
      '<div class="actions"><button type="submit" class="primary">Filter</button><a class="button" href="/admin/events">Clear</a><a href="/x">Export</a></div>',
    );
  });
});
