/** Redirect URIs registration must refuse (F7): shared by the rule tests and the malformed-input sweep. */

/** Schemes measured as accepted before the fix, plus the other handler schemes. */
export const FORBIDDEN_REDIRECTS = [
  'ftp://files.example.com/cb',
  'ws://127.0.0.1:1234/cb',
  'wss://app.example.com/cb',
  'intent://scan/#Intent;scheme=zxing;end',
  'intent://cb',
  'ms-msdt:/id%20PCWDiagnostic',
  'ms-msdt:cb',
  'ms-settings:privacy',
  'view-source:https://app.example.com/',
  'x:',
  'x:/cb',
  'about:blank',
  'blob:https://app.example.com/uuid',
  'filesystem:https://app.example.com/temporary/x',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'file:///etc/passwd',
  'mailto:a@example.com',
  'chrome-extension://abc/cb',
  'myapp://cb',
];

export const CONTROL_REDIRECTS = [
  'https://app.example.com/c\u0000b',
  'https://app.example.com/c\tb',
  'https://app.example.com/c\nb',
  'https://app.example.com/c\rb',
  '\u0001https://app.example.com/cb',
  'https://app.example.com/cb\u001f',
  'https://app.example.com/c\u007fb',
  'https://app.example.com/c\u0085b',
  'https://app.example.com/c b',
  'https://app.example.com/c\u00a0b',
  'https://app.example.com/c\u2028b',
  'http://127.0.0.1:3334/c\\b',
  ' http://127.0.0.1:3334/cb',
];

export const CSP_INJECTION_REDIRECTS = [
  'https://a;b.example/cb',
  "https://x;script-src-elem'unsafe-inline'.example/cb",
  'https://a%3bb.example/cb',
  'https://a,b.example/cb',
  'cursor://a;script-src/cb',
  'com.example.app://a;b/cb',
];
