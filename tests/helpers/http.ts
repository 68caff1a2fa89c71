// HTTP helpers for tests against the stack's main site (prefix wp_): users with application passwords, JSON requests.
import { php, SITE } from './stack';

export const MAIN = 'wp_';

/** Creates (or reuses) a user with `role` and returns a Basic auth header built from a fresh application password. */
export function userAuth(login: string, role: string): string {
  const out = php(
    MAIN,
    `
    $u = get_user_by('login', '${login}');
    $id = $u ? $u->ID : wp_insert_user(array('user_login' => '${login}', 'user_pass' => wp_generate_password(), 'role' => '${role}', 'user_email' => '${login}@example.test'));
    list($pass) = WP_Application_Passwords::create_new_application_password($id, array('name' => 'tests ' . microtime(true)));
    echo $pass;`,
  );
  return 'Basic ' + Buffer.from(`${login}:${out.trim()}`).toString('base64');
}

export async function api(
  path: string,
  init: { method?: string; auth?: string; body?: unknown; headers?: Record<string, string>; raw?: string } = {},
) {
  const res = await fetch(`${SITE}/wp-json${path}`, {
    method: init.method ?? 'GET',
    headers: {
      'content-type': 'application/json',
      ...(init.auth ? { authorization: init.auth } : {}),
      ...(init.headers ?? {}),
    },
    body: init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body)),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
