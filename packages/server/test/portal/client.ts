import type { ApiDeps } from '../../src/api/context.ts';
import { type Harness, startApi } from '../api/harness.ts';

/** A browser-less portal client: keeps its cookies, reads form tokens, posts forms. */
export class PortalClient {
  readonly jar = new Map<string, string>();
  constructor(readonly base: string) {}

  cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = (pair as string).indexOf('=');
      const name = (pair as string).slice(0, eq);
      const value = (pair as string).slice(eq + 1);
      if (value === '' || /Max-Age=0/.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
  }

  async get(path: string): Promise<{ status: number; text: string; res: Response }> {
    const res = await fetch(this.base + path, { headers: { cookie: this.cookie() }, redirect: 'manual' });
    this.keep(res);
    return { status: res.status, text: await res.text(), res };
  }

  async post(
    path: string,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string; res: Response }> {
    const res = await fetch(this.base + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.cookie(), ...headers },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });
    this.keep(res);
    return { status: res.status, text: await res.text(), res };
  }

  /** The form token of a page (the first form's). */
  static token(html: string): string {
    return /name="_csrf" value="([^"]*)"/.exec(html)?.[1] ?? '';
  }

  /** Signs in with the key of a portal link: the sign-in page's token, then the key. */
  async signIn(url: string): Promise<{ status: number; location: string | null }> {
    const page = await this.get('/portal/login');
    const key = url.split('#key=')[1] ?? '';
    const res = await this.post('/portal/login', { _csrf: PortalClient.token(page.text), key });
    return { status: res.status, location: res.res.headers.get('location') };
  }

  async csrf(path: string): Promise<string> {
    return PortalClient.token((await this.get(path)).text);
  }
}

/** The API with the portal, and an application with a sign-in link made with `access`. */
export async function portalWith(over: Partial<ApiDeps> = {}, portal: { frameAncestors?: string[] } = {}) {
  const h: Harness = await startApi({ ...over, publicUrl: over.publicUrl ?? 'http://127.0.0.1' }, { portal });
  return h;
}

export async function customerOf(h: Harness, access: object = {}) {
  const app = (await h.request('POST', '/api/v1/app', { name: 'Portal customer' })).body;
  const granted = await h.request('POST', `/api/v1/auth/app-portal-access/${app.id}`, access);
  return { app, url: granted.body.url as string, token: granted.body.token as string };
}
