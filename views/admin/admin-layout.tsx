/**
 * Admin page shell: wide layout, navigation and sign-out when signed in. No scripts anywhere (strict CSP);
 * every value goes through Hono JSX, which escapes text and attributes. Tables turn into stacked cards on
 * narrow screens (each cell labelled through `data-label`).
 */
import { createContext, useContext, type Child } from 'hono/jsx';

/** Who is signed in, for the header (set by src/admin/page.ts from the session); undefined on the sign-in page. */
export const SignedInAs = createContext<string | undefined>(undefined);

const STYLE = `
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#57606a;--bg:#f6f8fa;--card:#fff;--line:#d0d7de;--accent:#0969da;--danger:#cf222e;--warn:#9a6700;--ok:#1a7f37}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--card:#161b22;--line:#30363d;--accent:#4493f8;--danger:#f85149;--warn:#d29922;--ok:#3fb950}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header.top{background:var(--card);border-bottom:1px solid var(--line)}
header.top .bar{max-width:90rem;margin:0 auto;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center}
header.top .brand{font-weight:700;margin-right:auto}
nav ul{list-style:none;display:flex;flex-wrap:wrap;gap:.25rem 1rem;margin:0;padding:0}
nav a{color:var(--fg);text-decoration:none;padding:.4rem .2rem;display:inline-block;border-bottom:2px solid transparent}
nav a[aria-current=page]{border-bottom-color:var(--accent);font-weight:600}
main{max-width:90rem;margin:1.25rem auto;padding:0 1rem}
h1{font-size:1.35rem;margin:0 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .75rem}
a{color:var(--accent)}code{font-size:.88em;overflow-wrap:anywhere}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1rem 1.25rem;margin-bottom:1rem}
.narrow{max-width:30rem;margin:3rem auto}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem 1rem;align-items:flex-end}
form.filters .field{display:flex;flex-direction:column;gap:.2rem;min-width:10rem;flex:1 1 10rem}
label{font-size:.85rem;color:var(--muted)}
input,select{font:inherit;padding:.45rem .6rem;border:1px solid var(--line);border-radius:6px;background:var(--bg);color:var(--fg);min-height:40px;width:100%}
button,.button{font:inherit;padding:.45rem 1rem;border-radius:6px;border:1px solid var(--line);background:var(--card);color:var(--fg);cursor:pointer;min-height:40px;text-decoration:none;display:inline-flex;align-items:center}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}
button.danger{background:var(--danger);border-color:var(--danger);color:#fff}
button.link{background:none;border:none;color:var(--fg);padding:.4rem .2rem;min-height:0}
button:focus-visible,a:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
form.inline{display:inline}
.table-wrap{overflow-x:auto}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:10px}
caption{text-align:left;padding:.5rem 0;color:var(--muted)}
th,td{text-align:left;vertical-align:top;padding:.55rem .7rem;border-bottom:1px solid var(--line)}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);white-space:nowrap}
td{overflow-wrap:anywhere}
.muted{color:var(--muted);font-size:.88rem}.small{font-size:.85rem}
.badge{display:inline-block;font-size:.75rem;border:1px solid var(--line);border-radius:999px;padding:0 .5rem;white-space:nowrap}
.ok{color:var(--ok)}.warn{color:var(--warn)}.danger-text{color:var(--danger)}
.notice{border-left:4px solid var(--ok);background:var(--card);padding:.6rem 1rem;margin-bottom:1rem}
.error{border-left:4px solid var(--danger);background:var(--card);padding:.6rem 1rem;margin-bottom:1rem}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.4rem 1.25rem;margin:0}dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
ol.timeline{list-style:none;margin:0;padding:0;border-left:2px solid var(--line)}
ol.timeline li{position:relative;padding:.25rem 0 .9rem 1rem}
ol.timeline li::before{content:"";position:absolute;left:-6px;top:.7rem;width:10px;height:10px;border-radius:50%;background:var(--accent)}
ol.timeline li.failure::before{background:var(--danger)}
pre{margin:.25rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.82rem;color:var(--muted)}
dl.detail{display:flex;flex-wrap:wrap;gap:.1rem 1rem;margin:.2rem 0 0;font-size:.85rem}dl.detail div{display:flex;gap:.35rem}dl.detail dt{color:var(--muted)}dl.detail dd{font-family:ui-monospace,monospace;font-size:.8rem}
.pager{display:flex;gap:1rem;align-items:center;margin:1rem 0;flex-wrap:wrap}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}
.sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0,0,0,0);border:0}
@media (max-width:760px){
  dl.fields{grid-template-columns:1fr}dd{margin-bottom:.4rem}
  table.responsive,table.responsive tbody,table.responsive tr,table.responsive td,table.responsive caption{display:block;width:100%}
  table.responsive{border:none;background:none}
  table.responsive tr{background:var(--card);border:1px solid var(--line);border-radius:10px;margin-bottom:.75rem}
  table.responsive thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0,0,0,0)}
  table.responsive tr{padding:.4rem 0}
  table.responsive td{border:none;padding:.25rem .7rem;display:grid;grid-template-columns:7.5rem minmax(0,1fr);gap:.5rem;justify-items:start}
  table.responsive td::before{content:attr(data-label);font-size:.8rem;color:var(--muted);text-transform:uppercase}
}
`;

export type AdminSection = 'grants' | 'people' | 'clients' | 'events' | 'activity' | 'tools';

export function AdminLayout(props: { title: string; nonce: string; csrf?: string | undefined; active?: AdminSection; children: Child }) {
  const link = (section: AdminSection, label: string) => (
    <li>
      <a href={`/admin/${section}`} aria-current={props.active === section ? 'page' : undefined}>
        {label}
      </a>
    </li>
  );
  const who = useContext(SignedInAs);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{props.title} · keyhole admin</title>
        <style nonce={props.nonce}>{STYLE}</style>
      </head>
      <body>
        <header class="top">
          <div class="bar">
            <span class="brand">keyhole admin</span>
            {props.csrf !== undefined ? (
              <>
                <nav aria-label="Admin sections">
                  <ul>
                    {link('grants', 'Grants')}
                    {link('people', 'People')}
                    {link('clients', 'Clients')}
                    {link('events', 'Events')}
                    {link('activity', 'Activity')}
                    {link('tools', 'Tools')}
                  </ul>
                </nav>
                {who !== undefined ? (
                  <span class="muted" data-testid="signed-in-as">
                    Signed in as <strong>{who}</strong>
                  </span>
                ) : null}
                <form method="post" action="/admin/logout" class="inline">
                  <input type="hidden" name="csrf" value={props.csrf} />
                  <button type="submit" class="link">
                    Sign out
                  </button>
                </form>
              </>
            ) : null}
          </div>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}
