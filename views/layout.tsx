/** Shared page shell. Every value is rendered through Hono JSX, which escapes text and attributes. */
import type { Child } from 'hono/jsx';

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f6f8fa;--card:#fff;--line:#d0d7de;--accent:#0969da;--danger:#cf222e;--warn:#9a6700}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#161b22;--line:#30363d;--accent:#4493f8;--danger:#f85149;--warn:#d29922}}
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem}
h1{font-size:1.35rem;margin:0 0 1rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1rem;margin:1rem 0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
ul.scopes{padding-left:1.2rem}code{font-size:.9em;overflow-wrap:anywhere}.badge{display:inline-block;font-size:.75rem;border:1px solid var(--line);border-radius:999px;padding:0 .5rem;margin-left:.4rem}
.warn{color:var(--warn)}.danger{color:var(--danger)}.actions{display:flex;gap:.75rem;flex-wrap:wrap;margin-top:1.5rem}
button{font:inherit;padding:.6rem 1.2rem;border-radius:8px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;min-height:44px}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.muted{color:var(--muted);font-size:.9rem}footer{margin-top:1rem;text-align:center}
`;

/** `referrer`: pages whose forms post to keyhole use `same-origin`, so that the POST carries keyhole's Origin (not `null`). */
export function Layout(props: { title: string; nonce: string; referrer?: 'no-referrer' | 'same-origin'; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content={props.referrer ?? 'no-referrer'} />
        <title>{props.title} · keyhole</title>
        <style nonce={props.nonce}>{STYLE}</style>
      </head>
      <body>
        <main>
          {props.children}
          <footer class="muted">keyhole — OAuth proxy for MCP servers</footer>
        </main>
      </body>
    </html>
  );
}
