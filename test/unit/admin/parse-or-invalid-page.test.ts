import { describe, expect, it } from 'vitest';
import { Hono } from 'hono';
import { parseOrInvalidPage } from '../../../src/admin/page.js';
import { parsePage } from '../../../src/admin/filters.js';

function app(parse: (q: URLSearchParams) => unknown): Hono {
  const a = new Hono();
  a.get('/x', (c) => {
    const parsed = parseOrInvalidPage(c, 'csrf-token', () => parse(new URL(c.req.url).searchParams));
    if (parsed instanceof Response) return parsed;
    return c.json({ parsed });
  });
  a.onError((e, c) => c.text(`unhandled ${e.name}`, 500));
  return a;
}

describe('parseOrInvalidPage', () => {
  it('returns what the parser returns', async () => {
    const res = await app((q) => parsePage(q, 50)).request('/x?page=2');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ parsed: { page: 2, limit: 50, offset: 50 } });
  });

  it('answers an AdminInputError with the 400 "Invalid filter" page naming the problem', async () => {
    const res = await app((q) => parsePage(q, 50)).request('/x?page=two');
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain('Invalid filter');
    expect(html).toContain('page must be a whole number');
  });

  it('lets any other error through', async () => {
    const res = await app(() => {
      throw new TypeError('boom');
    }).request('/x');
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('unhandled TypeError');
  });
});
